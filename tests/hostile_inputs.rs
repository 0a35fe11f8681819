//! Hostile and bad input, table-driven: every case in `tests/hostile/*.json` goes through
//! real Terraform (`validate`, then `plan`, then `apply` until one fails) against the
//! emulators.
//!
//! * A bad input (`"expect": "error"`, the default) must end in an error diagnostic that
//!   points at the attribute: Terraform shows the config line of the attribute path the
//!   provider attached (`N: "claims": ...`), or, for a required-but-missing attribute
//!   (`"missing": true`), the diagnostic names it. A provider panic, a schema mismatch or a
//!   successful apply fails the case.
//! * A hostile but legitimate input (`"expect": "verbatim"`: quotes, `--`, unicode, SQL text
//!   in comments or claims) must apply, read back with an empty plan, and destroy.
//! * Either way the emulators prove nothing else changed: Clerk templates, PostgreSQL tables
//!   and Hasura's `resource_version` are as before (beyond the case's `may_create`), and a
//!   table named `victim` survives every case: no input reaches SQL except quoted.
//!
//! Cases whose resource type the Hasura provider does not implement yet (`requires`) are
//! reported as pending, not run. Figures go to `target/reliability/hostile_inputs.json`.
//! `#[ignore]`d like the rest of the reliability suite: `scripts/reliability.sh` runs it.
mod support;

#[path = "reliability/common.rs"]
mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Map, Value};

use common::{cores, hasura_resources_ready, Emus, Figures};
use support::TfOutput;

#[derive(Deserialize, Clone)]
struct CaseFile {
    resource: String,
    #[serde(default)]
    requires: Option<String>,
    #[serde(default)]
    base: Map<String, Value>,
    cases: Vec<Case>,
}

#[derive(Deserialize, Clone, Debug)]
struct Case {
    name: String,
    #[serde(default)]
    attrs: Map<String, Value>,
    #[serde(default)]
    provider: Map<String, Value>,
    #[serde(default)]
    extra: Map<String, Value>,
    #[serde(default)]
    attr: Option<String>,
    #[serde(default)]
    line_contains: Option<String>,
    #[serde(default)]
    missing: bool,
    #[serde(default = "default_expect")]
    expect: String,
    #[serde(default)]
    may_create: Vec<String>,
}

fn default_expect() -> String {
    "error".into()
}

struct Job {
    file: String,
    resource: String,
    base: Map<String, Value>,
    case: Case,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

fn load_corpus() -> Vec<(String, CaseFile)> {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir())
        .expect("tests/hostile")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some("json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let f: CaseFile = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: invalid corpus file: {e}", p.display()));
            (p.file_name().unwrap().to_string_lossy().into_owned(), f)
        })
        .collect()
}

/// The case as a Terraform JSON-syntax config, one attribute per line so Terraform's
/// snippet shows exactly the attribute a diagnostic points at.
fn config(job: &Job) -> String {
    let mut attrs = job.base.clone();
    for (k, v) in &job.case.attrs {
        if v.is_null() {
            attrs.remove(k);
        } else {
            attrs.insert(k.clone(), v.clone());
        }
    }
    let provider_of = |r: &str| r.split('_').next().unwrap_or_default().to_string();
    let mine = provider_of(&job.resource);
    let mut providers = Map::new();
    providers.insert("clerk".into(), json!({}));
    providers.insert(mine.clone(), Value::Object(job.case.provider.clone()));
    let mut resources = Map::new();
    resources.insert(job.resource.clone(), json!({ "t": attrs }));
    for (ty, rs) in &job.case.extra {
        let entry = resources.entry(ty.clone()).or_insert_with(|| json!({}));
        for (n, body) in rs.as_object().into_iter().flatten() {
            entry[n] = body.clone();
        }
    }
    let cfg = json!({
        "terraform": {"required_providers": {
            "clerk": {"source": "clerk-hasura/clerk"},
            "hasura": {"source": "clerk-hasura/hasura"},
        }},
        "provider": providers,
        "resource": resources,
    });
    serde_json::to_string_pretty(&cfg).unwrap()
}

/// What the emulators hold, for "nothing changed" checks.
#[derive(Debug, PartialEq, Clone)]
struct Snapshot {
    templates: BTreeSet<String>,
    template_versions: Vec<(String, i64)>,
    tables: BTreeSet<String>,
    resource_version: Option<i64>,
    env: Vec<(String, String)>,
}

fn snapshot(emus: &Emus) -> Snapshot {
    let ts = emus.c().templates();
    let mut template_versions: Vec<(String, i64)> = ts
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default().to_string(),
                t["updated_at"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    template_versions.sort();
    let (tables, rv) = if emus.has_hasura() {
        let v = emus.sql(
            "SELECT schemaname || '.' || tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema', 'hdb_catalog') ORDER BY 1",
        );
        let tables = v["result"]
            .as_array()
            .map(|rows| {
                rows.iter()
                    .skip(1)
                    .filter_map(|r| r[0].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        (tables, Some(emus.rt.block_on(emus.h().resource_version())))
    } else {
        (BTreeSet::new(), None)
    };
    let env = if emus.has_hasura() {
        emus.env_vars().into_iter().collect()
    } else {
        Vec::new()
    };
    Snapshot {
        templates: template_versions.iter().map(|(n, _)| n.clone()).collect(),
        template_versions,
        tables,
        resource_version: rv,
        env,
    }
}

/// Error blocks of Terraform's human output: (summary line, whole block).
fn error_blocks(out: &str) -> Vec<(String, String)> {
    out.split("Error: ")
        .skip(1)
        .map(|b| {
            let end = b.find("\nWarning: ").unwrap_or(b.len());
            let block = &b[..end];
            (
                block.lines().next().unwrap_or_default().to_string(),
                block.to_string(),
            )
        })
        .collect()
}

/// The source lines Terraform quotes in a diagnostic (`  12:     "claims": "..."`).
fn snippet_lines(block: &str) -> Vec<&str> {
    block
        .lines()
        .filter_map(|l| {
            let t = l.trim_start();
            let (n, rest) = t.split_once(':')?;
            (!n.is_empty() && n.chars().all(|c| c.is_ascii_digit())).then_some(rest)
        })
        .collect()
}

const SCHEMA_MISMATCH: &[&str] = &[
    "Unsupported argument",
    "Invalid resource type",
    "Unsupported block type",
];
const CRASH: &[&str] = &[
    "Provider bug: internal error",
    "Plugin did not respond",
    "The plugin encountered an error",
    "panicked",
    "plugin exited",
];

struct Outcome {
    diagnosed: bool,
    stage: &'static str,
    problems: Vec<String>,
}

fn judge_error(case: &Case, stage: &'static str, out: &TfOutput) -> Outcome {
    let text = out.combined();
    let mut problems = Vec::new();
    for c in CRASH {
        if text.contains(c) {
            problems.push(format!("provider crashed or panicked at {stage} ({c:?})"));
        }
    }
    let attr = case.attr.clone().unwrap_or_default();
    let key = format!("\"{attr}\":");
    let mut diagnosed = false;
    let mut summaries = Vec::new();
    for (summary, block) in error_blocks(&text) {
        summaries.push(summary.clone());
        if SCHEMA_MISMATCH.iter().any(|s| summary.contains(s)) {
            problems.push(format!(
                "schema mismatch, not a diagnosis of the input: {summary}"
            ));
            continue;
        }
        // The attribute's own line, or (for a list element, whose line holds only the
        // value) the element's line under a context naming the attribute.
        let context_names_attr = block.lines().any(|l| {
            l.contains(", in ")
                && l.trim_end()
                    .trim_end_matches(':')
                    .ends_with(&format!(".{attr}"))
        });
        let snippet = snippet_lines(&block).join("\n");
        let points_at = match case.line_contains.as_deref() {
            None => snippet.contains(&key),
            Some(frag) => snippet.contains(frag) && (snippet.contains(&key) || context_names_attr),
        };
        let names_missing = case.missing && block.contains(&format!("`{attr}`"));
        if points_at || names_missing {
            diagnosed = true;
        }
    }
    if !diagnosed {
        let shown: Vec<String> = error_blocks(&text)
            .into_iter()
            .map(|(_, b)| b.chars().take(800).collect())
            .collect();
        problems.push(format!(
            "failed at {stage} but no error points at `{attr}` (errors: {summaries:?}):\nError: {}",
            shown.join("\nError: ")
        ));
    }
    Outcome {
        diagnosed: diagnosed && problems.is_empty(),
        stage,
        problems,
    }
}

/// Runs one case; returns (diagnosed or verbatim ok, problems).
fn run_case(emus: &Emus, tf: &Path, job: &Job) -> (bool, String, Vec<String>) {
    let case = &job.case;
    let wd = emus.workdir(tf);
    wd.remove("main.tf");
    wd.write("main.tf.json", &config(job));
    let before = snapshot(emus);
    let mut problems = Vec::new();
    let mut ok = false;
    let mut stage = "none";

    if case.expect == "verbatim" {
        let out = wd.try_apply();
        if !out.success() {
            problems.push(format!(
                "legitimate hostile value was refused:\n{}",
                out.combined().chars().take(2500).collect::<String>()
            ));
        } else {
            let (code, plan) = wd.plan_exitcode();
            if code != 0 {
                problems.push(format!(
                    "plan after applying it is not empty (exit {code}):\n{}",
                    plan.combined().chars().take(2500).collect::<String>()
                ));
            }
            problems.extend(verify_verbatim(emus, job));
            stage = "apply";
            ok = problems.is_empty();
        }
    } else {
        let steps: [(&'static str, Vec<&str>); 3] = [
            ("validate", vec!["validate"]),
            ("plan", vec!["plan", "-input=false"]),
            ("apply", vec!["apply", "-auto-approve", "-input=false"]),
        ];
        let mut failed = None;
        for (name, args) in steps {
            let out = wd.tf(&args);
            if !out.success() {
                failed = Some((name, out));
                break;
            }
        }
        match failed {
            None => {
                problems.push("bad input accepted: validate, plan and apply all succeeded".into())
            }
            Some((name, out)) => {
                let o = judge_error(case, name, &out);
                stage = o.stage;
                ok = o.diagnosed;
                problems.extend(o.problems);
            }
        }
        // Nothing changed beyond what the case may create.
        let after = snapshot(emus);
        let allowed: BTreeSet<String> = case.may_create.iter().cloned().collect();
        let new_templates: Vec<_> = after
            .templates
            .difference(&before.templates)
            .filter(|n| !allowed.contains(*n))
            .cloned()
            .collect();
        let changed_templates = before
            .template_versions
            .iter()
            .any(|tv| !after.template_versions.contains(tv));
        if !new_templates.is_empty() || changed_templates {
            problems.push(format!(
                "Clerk changed: new {new_templates:?}, existing changed: {changed_templates}"
            ));
        }
        if after.tables != before.tables {
            problems.push(format!(
                "PostgreSQL tables changed: {:?} -> {:?}",
                before.tables, after.tables
            ));
        }
        if after.env != before.env {
            problems.push("Hasura Cloud env vars changed".into());
        }
        if after.resource_version != before.resource_version {
            problems.push(format!(
                "Hasura metadata changed: resource_version {:?} -> {:?}",
                before.resource_version, after.resource_version
            ));
        }
    }
    // Clean up whatever was created (dependencies, verbatim cases): an apply of a config
    // with no resources (the case's own config may no longer even validate).
    if wd.path().join("terraform.tfstate").exists() {
        wd.remove("main.tf.json");
        wd.write(
            "main.tf.json",
            &serde_json::to_string_pretty(&json!({
                "terraform": {"required_providers": {
                    "clerk": {"source": "clerk-hasura/clerk"},
                    "hasura": {"source": "clerk-hasura/hasura"},
                }},
                "provider": {"clerk": {}, "hasura": {}},
            }))
            .unwrap(),
        );
        let st = wd.tf(&["state", "list"]);
        if !st.stdout.trim().is_empty() {
            let d = wd.try_apply();
            if !d.success() {
                problems.push(format!(
                    "cleanup destroy failed:\n{}",
                    d.combined().chars().take(1500).collect::<String>()
                ));
            }
        }
    }
    if emus.has_hasura() && !emus.pg_tables("public").iter().any(|t| t == "victim") {
        problems.push("table `victim` is gone: an input reached SQL unquoted".into());
        emus.sql("CREATE TABLE IF NOT EXISTS public.victim (id int)");
    }
    (ok && problems.is_empty(), stage.to_string(), problems)
}

fn verify_verbatim(emus: &Emus, job: &Job) -> Vec<String> {
    let mut p = Vec::new();
    let mut attrs = job.base.clone();
    attrs.extend(job.case.attrs.clone());
    let name = attrs["name"].as_str().unwrap_or_default().to_string();
    match job.resource.as_str() {
        "clerk_jwt_template" => {
            let ts = emus.c().templates();
            match ts.iter().find(|t| t["name"] == name.as_str()) {
                None => p.push(format!("template {name:?} not stored under its exact name")),
                Some(t) => {
                    let want: Value =
                        serde_json::from_str(attrs["claims"].as_str().unwrap_or("{}")).unwrap();
                    if t["claims"] != want {
                        p.push(format!(
                            "claims not stored verbatim: {} vs {want}",
                            t["claims"]
                        ));
                    }
                }
            }
        }
        "hasura_table" => {
            if !emus.pg_tables("public").contains(&name) {
                p.push(format!("table {name:?} not created under its exact name"));
            }
            if !emus.tracked_tables().iter().any(|(_, n)| *n == name) {
                p.push(format!("table {name:?} not tracked under its exact name"));
            }
        }
        "hasura_source" => {
            let md = emus.metadata();
            let stored = md["sources"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|s| s["name"] == name.as_str());
            if !stored {
                p.push(format!("source {name:?} not stored under its exact name"));
            }
        }
        _ => {}
    }
    p
}

#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn hostile_inputs_are_diagnosed() {
    let corpus = load_corpus();
    let total: usize = corpus.iter().map(|(_, f)| f.cases.len()).sum();
    assert!(
        total >= 40,
        "the corpus must hold at least 40 cases, has {total}"
    );
    let fig = Arc::new(Mutex::new(Figures::new("hostile_inputs")));
    for tf in cores() {
        let ready = hasura_resources_ready(&tf);
        let mut jobs = Vec::new();
        for (file, f) in &corpus {
            if let Some(r) = &f.requires {
                if !ready.contains(r) {
                    eprintln!(
                        "[hostile] {file}: PENDING ({} cases): {r} is not implemented yet",
                        f.cases.len()
                    );
                    continue;
                }
            }
            for c in &f.cases {
                jobs.push(Job {
                    file: file.clone(),
                    resource: f.resource.clone(),
                    base: f.base.clone(),
                    case: c.clone(),
                });
            }
        }
        let need_hasura = jobs.iter().any(|j| j.resource.starts_with("hasura_"));
        let jobs = Arc::new(Mutex::new(jobs));
        let workers: Vec<_> = (0..3)
            .map(|w| {
                let jobs = jobs.clone();
                let fig = fig.clone();
                let tf = tf.clone();
                std::thread::spawn(move || {
                    let emus = if need_hasura {
                        Emus::hasura()
                    } else {
                        Emus::clerk()
                    };
                    if need_hasura {
                        emus.sql("CREATE TABLE public.victim (id int)");
                        // The tracked table the permission cases point at.
                        emus.sql("CREATE TABLE public.perm_target (id int PRIMARY KEY, owner text, title text)");
                        let r = emus.metadata_call(json!({"type": "pg_track_table", "args": {"source": "default", "table": {"schema": "public", "name": "perm_target"}}}));
                        assert!(r.get("error").is_none(), "tracking perm_target: {r}");
                    }
                    loop {
                        let Some(job) = jobs.lock().unwrap().pop() else {
                            break;
                        };
                        let t0 = std::time::Instant::now();
                        let (ok, stage, problems) = run_case(&emus, &tf, &job);
                        let mut f = fig.lock().unwrap();
                        if job.case.expect == "verbatim" {
                            // Legitimate values: counted apart from the bad inputs.
                            f.applies += 1;
                            if ok {
                                f.applies_succeeded += 1;
                            }
                        } else {
                            f.bad_inputs_tried += 1;
                            if ok {
                                f.bad_inputs_diagnosed += 1;
                            }
                        }
                        eprintln!(
                            "[hostile w{w}] {}/{} ({}): {} at {stage} in {:.1}s",
                            job.file,
                            job.case.name,
                            job.case.expect,
                            if ok { "ok" } else { "FAILED" },
                            t0.elapsed().as_secs_f64()
                        );
                        if !problems.is_empty() {
                            f.fail(format!(
                                "{}/{}: {}",
                                job.file,
                                job.case.name,
                                problems.join("\n")
                            ));
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("hostile worker panicked");
        }
    }
    let fig = Arc::try_unwrap(fig).ok().unwrap().into_inner().unwrap();
    fig.finish();
}
