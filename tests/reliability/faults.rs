//! Apply and destroy many resources while the emulators fail 20% of requests, and the
//! retry budget: bounded, configurable, and cut short by Ctrl-C (StopProvider).
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use emulator_common::{FaultConfig, FaultKind};

use crate::common::*;
use crate::support::{required_providers, TfOutput};

/// How many resources of each type the fault run manages.
struct Mix {
    templates: usize,
    tables: usize,
    permissions: usize,
    env_vars: usize,
}

fn config(mix: &Mix, prefix: &str, hasura: bool, max_retries: u32) -> String {
    let mut s = required_providers();
    s.push_str(&format!(
        "\nprovider \"clerk\" {{\n  max_retries = {max_retries}\n}}\n"
    ));
    if hasura {
        s.push_str(&format!(
            "\nprovider \"hasura\" {{\n  max_retries = {max_retries}\n}}\n"
        ));
    }
    if mix.templates > 0 {
        s.push_str(&format!(
            r#"
resource "clerk_jwt_template" "t" {{
  count    = {n}
  name     = "{prefix}-tmpl-${{count.index}}"
  lifetime = 60 + count.index
  claims = jsonencode({{
    "https://hasura.io/jwt/claims" = {{
      "x-hasura-user-id"       = "{{{{user.id}}}}"
      "x-hasura-default-role"  = "user"
      "x-hasura-allowed-roles" = ["user", "r${{count.index}}"]
    }}
  }})
}}
"#,
            n = mix.templates
        ));
    }
    if mix.tables > 0 {
        s.push_str(&format!(
            r#"
resource "hasura_table" "t" {{
  count = {n}
  name  = "{prefix}_tbl_${{count.index}}"
  columns = [
    {{ name = "id", type = "integer" }},
    {{ name = "title", type = "text", default = "'draft'" }},
    {{ name = "owner", type = "text", nullable = false }},
  ]
  primary_key         = ["id"]
  deletion_protection = false
}}
"#,
            n = mix.tables
        ));
    }
    if mix.permissions > 0 {
        s.push_str(&format!(
            r#"
resource "hasura_permission" "p" {{
  count   = {n}
  table   = hasura_table.t[count.index].name
  role    = "user"
  action  = "select"
  columns = ["id", "title"]
  filter  = jsonencode({{ owner = {{ _eq = "X-Hasura-User-Id" }} }})
}}
"#,
            n = mix.permissions
        ));
    }
    if mix.env_vars > 0 {
        s.push_str(&format!(
            r#"
resource "hasura_env_var" "e" {{
  count = {n}
  key   = "{key}_${{count.index}}"
  value = "value-${{count.index}}"
}}
"#,
            n = mix.env_vars,
            key = prefix.to_uppercase()
        ));
    }
    s
}

/// Tables (by name) carrying a select permission for `role`; one entry per permission.
fn select_permissions(emus: &Emus, role: &str) -> Vec<String> {
    let md = emus.metadata();
    let mut out = Vec::new();
    for src in md["sources"].as_array().into_iter().flatten() {
        for t in src["tables"].as_array().into_iter().flatten() {
            for p in t["select_permissions"].as_array().into_iter().flatten() {
                if p["role"] == role {
                    out.push(t["table"]["name"].as_str().unwrap_or_default().to_string());
                }
            }
        }
    }
    out
}

fn env_keys(emus: &Emus, prefix: &str) -> Vec<String> {
    emus.env_vars()
        .into_keys()
        .filter(|k| k.starts_with(prefix))
        .collect()
}

fn template_names(emus: &Emus) -> Vec<String> {
    emus.c()
        .templates()
        .iter()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

/// Compares what exists with what should: returns (orphans, duplicates) and records
/// every mismatch.
fn compare(
    what: &str,
    actual: &[String],
    expected: &BTreeSet<String>,
    fig: &mut Figures,
) -> (u64, u64) {
    let unique: BTreeSet<String> = actual.iter().cloned().collect();
    let duplicates = (actual.len() - unique.len()) as u64;
    let orphans = unique.difference(expected).count() as u64;
    let missing: Vec<_> = expected.difference(&unique).cloned().collect();
    if duplicates > 0 {
        fig.fail(format!("{what}: {duplicates} duplicate(s)"));
    }
    if orphans > 0 {
        fig.fail(format!(
            "{what}: {orphans} orphan(s): {:?}",
            unique.difference(expected).take(10).collect::<Vec<_>>()
        ));
    }
    if !missing.is_empty() {
        fig.fail(format!(
            "{what}: {} missing: {:?}",
            missing.len(),
            &missing[..missing.len().min(10)]
        ));
    }
    (orphans, duplicates)
}

fn note_run(fig: &mut Figures, what: &str, out: &TfOutput) -> bool {
    fig.applies += 1;
    fig.retries += count_retries(out);
    fig.adoptions += count_adoptions(out);
    let errors = errors_shown(out);
    if out.success() && errors.is_empty() {
        fig.applies_succeeded += 1;
        true
    } else {
        // One line per distinct error: summary and the first line of its detail.
        let mut kinds: std::collections::BTreeMap<String, usize> = Default::default();
        for e in &errors {
            let lines: Vec<&str> = e.lines().filter(|l| !l.trim().is_empty()).collect();
            let detail = lines
                .iter()
                .skip_while(|l| {
                    !l.contains(':') || l.contains(" with ") || l.trim_start().starts_with("on ")
                })
                .find(|l| !l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
                .copied()
                .unwrap_or_default();
            *kinds
                .entry(format!(
                    "{} | {}",
                    lines.first().unwrap_or(&""),
                    detail.trim()
                ))
                .or_default() += 1;
        }
        fig.fail(format!(
            "{what} exit {} with {} error(s) shown to the user:\n{}",
            out.code,
            errors.len(),
            kinds
                .iter()
                .map(|(k, n)| format!("  {n} x {k}"))
                .collect::<Vec<_>>()
                .join("\n")
        ));
        false
    }
}

fn run_fault_round(tf: &Path, seed: u64, scale: usize, fig: &mut Figures) {
    let emus = Emus::hasura();
    let ready = hasura_resources_ready(tf);
    let has = |r: &str| ready.iter().any(|x| x == r);
    let tables = has("hasura_table");
    let total = 100 * scale;
    let mix = Mix {
        templates: if tables { total * 4 / 10 } else { total },
        tables: if tables { total * 3 / 10 } else { 0 },
        permissions: if tables && has("hasura_permission") {
            total / 5
        } else {
            0
        },
        env_vars: if has("hasura_env_var") { total / 10 } else { 0 },
    };
    eprintln!(
        "[faults] seed {seed}: {} templates, {} tables, {} permissions, {} env vars (hasura resources ready: {ready:?})",
        mix.templates, mix.tables, mix.permissions, mix.env_vars
    );
    let prefix = format!("f{seed}");
    let mut wd = emus.workdir(tf);
    wd.env("TF_LOG_PROVIDER", "INFO");
    wd.set_timeout(Duration::from_secs(600));
    wd.write("main.tf", &config(&mix, &prefix, tables, 12));

    emus.set_faults(all_faults(0.2, 20, seed));
    let t0 = Instant::now();
    let out = wd.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]);
    eprintln!("[faults] apply took {:.1} s", t0.elapsed().as_secs_f64());
    let applied = note_run(fig, "apply under faults", &out);
    // Inspect without faults (the checks use the same emulators); count what fired so far.
    fig.faults_injected += emus.faults_injected();
    emus.clear_faults();
    emus.reset_counters();

    // The emulators' state must equal the config, whatever the apply said.
    let want_t: BTreeSet<String> = (0..mix.templates)
        .map(|i| format!("{prefix}-tmpl-{i}"))
        .collect();
    let want_tb: BTreeSet<String> = (0..mix.tables)
        .map(|i| format!("{prefix}_tbl_{i}"))
        .collect();
    let (o, d) = compare(
        "templates after apply",
        &template_names(&emus),
        &want_t,
        fig,
    );
    fig.orphans += o;
    fig.duplicates += d;
    if tables {
        let (o, d) = compare(
            "tables after apply",
            &emus.pg_tables("public"),
            &want_tb,
            fig,
        );
        fig.orphans += o;
        fig.duplicates += d;
        let tracked: Vec<String> = emus
            .tracked_tables()
            .into_iter()
            .filter(|(s, _)| s == "public")
            .map(|(_, n)| n)
            .collect();
        let (o, d) = compare("tracked tables after apply", &tracked, &want_tb, fig);
        fig.orphans += o;
        fig.duplicates += d;
    }
    if mix.permissions > 0 {
        let perms = select_permissions(&emus, "user");
        let want_p: BTreeSet<String> = (0..mix.permissions)
            .map(|i| format!("{prefix}_tbl_{i}"))
            .collect();
        let (o, d) = compare("permissions after apply", &perms, &want_p, fig);
        fig.orphans += o;
        fig.duplicates += d;
    }
    let env_prefix = format!("{}_", prefix.to_uppercase());
    if mix.env_vars > 0 {
        let got = env_keys(&emus, &env_prefix);
        let want_e: BTreeSet<String> = (0..mix.env_vars)
            .map(|i| format!("{env_prefix}{i}"))
            .collect();
        let (o, d) = compare("env vars after apply", &got, &want_e, fig);
        fig.orphans += o;
        fig.duplicates += d;
    }
    if applied {
        // State agrees with the emulators: every resource recorded once, ids real.
        let addrs = wd.resource_addresses();
        let want = mix.templates + mix.tables + mix.permissions + mix.env_vars;
        if addrs.len() != want {
            fig.fail(format!(
                "state holds {} resources, config {want}",
                addrs.len()
            ));
        }
        // A refresh + plan under the same faults sees nothing to do.
        emus.set_faults(all_faults(0.2, 20, seed + 2));
        let (code, plan) = wd.plan_exitcode();
        fig.faults_injected += emus.faults_injected();
        emus.clear_faults();
        emus.reset_counters();
        fig.retries += count_retries(&plan);
        if code != 0 {
            fig.fail(format!(
                "plan after the faulty apply: exit {code}, expected no changes:\n{}",
                plan.combined().chars().take(3000).collect::<String>()
            ));
        }
    } else {
        // Finish the job without faults, so destroy below has a full state to work on.
        let _ = wd.tf(&["apply", "-auto-approve", "-input=false", "-parallelism=10"]);
    }
    emus.set_faults(all_faults(0.2, 20, seed + 1));

    let t0 = Instant::now();
    let out = wd.tf(&[
        "destroy",
        "-auto-approve",
        "-input=false",
        "-parallelism=10",
    ]);
    eprintln!("[faults] destroy took {:.1} s", t0.elapsed().as_secs_f64());
    note_run(fig, "destroy under faults", &out);
    fig.faults_injected += emus.faults_injected();
    emus.clear_faults();

    let (o, d) = compare(
        "templates after destroy",
        &template_names(&emus),
        &BTreeSet::new(),
        fig,
    );
    fig.orphans += o;
    fig.duplicates += d;
    if tables {
        let (o, _) = compare(
            "tables after destroy",
            &emus.pg_tables("public"),
            &BTreeSet::new(),
            fig,
        );
        fig.orphans += o;
        let left = emus.tracked_tables();
        if !left.is_empty() {
            fig.orphans += left.len() as u64;
            fig.fail(format!("tracked tables left after destroy: {left:?}"));
        }
    }
    let left = env_keys(&emus, &env_prefix);
    if !left.is_empty() {
        fig.orphans += left.len() as u64;
        fig.fail(format!("env vars left after destroy: {left:?}"));
    }
    let left = select_permissions(&emus, "user");
    if !left.is_empty() {
        fig.orphans += left.len() as u64;
        fig.fail(format!("permissions left after destroy: {left:?}"));
    }
    if !wd.resource_addresses().is_empty() {
        fig.fail("state not empty after destroy".to_string());
    }
}

/// The issue's main figure: >= 100 resources, 20% of requests failing with every fault
/// kind plus 20 ms latency, apply then destroy. Emulator state must equal the config after
/// apply and be empty after destroy, and no error may reach the user.
#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn apply_and_destroy_under_faults() {
    let _g = heavy_lock();
    let mut fig = Figures::new("faults");
    let seeds: Vec<u64> = if full_scale() {
        vec![11, 12, 13]
    } else {
        vec![11]
    };
    let scale = if full_scale() { 2 } else { 1 };
    for tf in cores() {
        for &seed in &seeds {
            run_fault_round(&tf, seed, scale, &mut fig);
        }
    }
    if fig.faults_injected == 0 {
        fig.fail("no fault was injected: the scenario tested nothing");
    }
    fig.finish();
}

fn one_template(name: &str, provider: &str) -> String {
    format!(
        "{}\nprovider \"clerk\" {{\n{provider}\n}}\n\nresource \"clerk_jwt_template\" \"t\" {{\n  name   = \"{name}\"\n  claims = jsonencode({{ role = \"user\" }})\n}}\n",
        required_providers()
    )
}

fn requests(emus: &Emus, key: &str) -> u64 {
    emus.c().control.requests(key)
}

/// `max_retries` bounds the attempts; `Retry-After` is honoured; `request_timeout` bounds
/// one request; a create answered 503/429 (never acted on) is retried, and the error the
/// user finally sees names the status.
#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn retry_budget_is_bounded_and_configurable() {
    let mut fig = Figures::new("retry_budget");
    for tf in cores() {
        let emus = Emus::clerk();

        // 503 on every request, max_retries = 2: exactly 3 attempts, then an error.
        let wd = emus.workdir(&tf);
        wd.write("main.tf", &one_template("budget", "  max_retries = 2"));
        emus.set_faults(FaultConfig {
            error_rate: 1.0,
            kinds: vec![FaultKind::Status503],
            seed: Some(1),
            ..Default::default()
        });
        let t0 = Instant::now();
        let out = wd.try_apply();
        let took = t0.elapsed();
        fig.faults_injected += faults_in(&emus.c().control.counters());
        let posts = requests(&emus, "POST /v1/jwt_templates");
        if out.success() {
            fig.fail("apply succeeded although every request failed");
        } else if !out.combined().contains("503") {
            fig.fail(format!("error does not name the 503: {}", out.combined()));
        }
        if posts != 3 {
            fig.fail(format!(
                "max_retries = 2 made {posts} POST attempts, want 3"
            ));
        }
        if took > Duration::from_secs(30) {
            fig.fail(format!("2 retries took {took:?}"));
        }
        emus.clear_faults();
        emus.reset_counters();

        // 429 with Retry-After: 1 on every request, max_retries = 1: 2 attempts >= 1 s apart.
        let wd = emus.workdir(&tf);
        wd.write("main.tf", &one_template("ratelimited", "  max_retries = 1"));
        emus.set_faults(FaultConfig {
            error_rate: 1.0,
            kinds: vec![FaultKind::TooManyRequests],
            seed: Some(1),
            ..Default::default()
        });
        let t0 = Instant::now();
        let out = wd.try_apply();
        let took = t0.elapsed();
        fig.faults_injected += faults_in(&emus.c().control.counters());
        let posts = requests(&emus, "POST /v1/jwt_templates");
        if out.success() || posts != 2 {
            fig.fail(format!(
                "429 x max_retries=1: success={} posts={posts} (want failure after 2)",
                out.success()
            ));
        }
        if took < Duration::from_millis(1000) {
            fig.fail(format!(
                "Retry-After: 1 not honoured: whole apply took {took:?}"
            ));
        }
        emus.clear_faults();
        emus.reset_counters();

        // 5 s latency, request_timeout = 1, max_retries = 1: fails fast, says it timed out.
        let wd = emus.workdir(&tf);
        wd.write(
            "main.tf",
            &one_template("slow", "  max_retries = 1\n  request_timeout = 1"),
        );
        emus.set_faults(FaultConfig {
            error_rate: 0.0,
            latency_ms: 5000,
            ..Default::default()
        });
        let t0 = Instant::now();
        let out = wd.try_apply();
        let took = t0.elapsed();
        if out.success() {
            fig.fail("apply succeeded through a 5 s latency with request_timeout = 1");
        } else if !out.combined().contains("timed out") {
            fig.fail(format!("timeout error does not say so: {}", out.combined()));
        }
        if took > Duration::from_secs(25) {
            fig.fail(format!("request_timeout = 1 apply took {took:?}"));
        }
        emus.clear_faults();
        // Nothing landed (the server never got past its latency): no orphan.
        let left = template_names(&emus);
        if !left.is_empty() {
            fig.orphans += left.len() as u64;
            fig.fail(format!("templates left by failed applies: {left:?}"));
        }
    }
    fig.finish();
}

/// Ctrl-C (SIGINT to Terraform's process group) during a create that keeps failing and
/// is retried with long backoff: Terraform sends StopProvider, the provider stops
/// retrying, and everything exits within seconds instead of waiting out the retries.
#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn ctrl_c_stops_retries_promptly() {
    let mut fig = Figures::new("stop_provider");
    for tf in cores() {
        let emus = Emus::clerk();
        let wd = Arc::new({
            let wd = emus.workdir(&tf);
            wd.write("main.tf", &one_template("stopme", "  max_retries = 20"));
            wd
        });
        emus.set_faults(FaultConfig {
            error_rate: 1.0,
            kinds: vec![FaultKind::Status503],
            seed: Some(3),
            ..Default::default()
        });
        let bg = spawn_tf(&wd, &["apply", "-auto-approve", "-input=false"]);
        let started = wait_until(Duration::from_secs(60), || {
            requests(&emus, "POST /v1/jwt_templates") >= 3
        });
        if !started {
            fig.fail("the create was never attempted 3 times");
        }
        // Ctrl-C in a terminal sends SIGINT to the whole foreground group: Terraform and the
        // providers it started (which ignore it; Terraform sends them StopProvider).
        let tf_pids = pids_in(wd.path(), &tf.to_string_lossy());
        let provider_pids = pids_in(wd.path(), "terraform-provider-clerk");
        if tf_pids.is_empty() {
            fig.fail("could not find the terraform process to interrupt");
        }
        let t0 = Instant::now();
        for p in tf_pids.iter().chain(&provider_pids) {
            signal(*p, "INT");
        }
        let done = wait_until(Duration::from_secs(20), || bg.is_finished());
        let took = t0.elapsed();
        fig.faults_injected += faults_in(&emus.c().control.counters());
        if !done {
            fig.fail(format!(
                "terraform still running {took:?} after Ctrl-C (pids {tf_pids:?})"
            ));
            for p in &tf_pids {
                signal(*p, "KILL");
            }
        }
        let out = bg.join();
        if took > Duration::from_secs(10) {
            let all = out.combined();
            fig.fail(format!(
                "Ctrl-C took {took:?} to end the apply; Terraform printed:\n{}",
                &all[all.len().saturating_sub(2500)..]
            ));
        }
        if out.success() {
            fig.fail("apply succeeded although it was interrupted");
        }
        let alive: Vec<u32> = provider_pids
            .iter()
            .copied()
            .filter(|p| Path::new(&format!("/proc/{p}")).exists())
            .collect();
        if !alive.is_empty() {
            fig.fail(format!("provider still running after Ctrl-C: {alive:?}"));
            for p in alive {
                signal(p, "KILL");
            }
        }
        eprintln!(
            "[stop] Terraform {} ended {took:?} after Ctrl-C",
            tf.display()
        );
        emus.clear_faults();
    }
    fig.finish();
}
