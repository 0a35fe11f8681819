//! Rows 2 and 3: `terraform apply` and `terraform plan` (with refresh) of N resources
//! against the emulators, next to N `null_resource`s, with the emulators' request
//! counters, and provider CPU time / peak RSS from the wrappers (see `tf.rs`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use clerk_emulator::{ClerkConfig, ClerkEmulator};
use emulator_common::RateLimit;
use serde_json::Value;

use crate::hasura;
use crate::startup::median;
use crate::tf::{Providers, Run, Workdir};
use crate::{Kind, Opts, Report};

/// Clerk's development-instance limit, enabled in the emulator for every plan.
const CLERK_DEV_LIMIT: RateLimit = RateLimit {
    requests: 100,
    window_secs: 10,
};

fn null_config(n: usize) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    null = {{
      source = "hashicorp/null"
    }}
  }}
}}

resource "null_resource" "r" {{
  count = {n}
  triggers = {{
    i = tostring(count.index)
  }}
}}
"#
    )
}

/// `null_resource`s whose `triggers` carry, instance for instance, the attribute values
/// of another workdir's resources (read from its state). Terraform core decodes,
/// diffs and stores every attribute of every instance, so this is "pure Terraform core
/// cost" for the same data: a ratio against it isolates what the provider adds.
/// The values come from a JSON file decoded once, so evaluating the configuration
/// costs next to nothing.
fn matched_null_config(values: &[BTreeMap<String, String>]) -> (String, String) {
    let tf = r#"terraform {
  required_providers {
    null = {
      source = "hashicorp/null"
    }
  }
}

locals {
  v = jsondecode(file("${path.module}/values.json"))
}

resource "null_resource" "m" {
  count    = length(local.v)
  triggers = local.v[count.index]
}
"#;
    let json = serde_json::to_string(values).expect("values serialise");
    (tf.to_string(), json)
}

/// The matched baseline for `source` (see `matched_null_config`), applied; with the
/// mean number of values per instance.
fn matched_baseline(
    terraform: &Path,
    providers: &Providers,
    source: &Workdir,
) -> anyhow::Result<Option<(Workdir, f64)>> {
    if providers.null.is_none() {
        return Ok(None);
    }
    let values = source.state_values()?;
    anyhow::ensure!(!values.is_empty(), "no resources in the state to match");
    let per = values.iter().map(BTreeMap::len).sum::<usize>() as f64 / values.len() as f64;
    let wd = Workdir::new(terraform, providers)?;
    let (tf, json) = matched_null_config(&values);
    wd.write("main.tf", &tf)?;
    wd.write("values.json", &json)?;
    wd.apply(None).context("matched null_resource apply")?;
    Ok(Some((wd, per)))
}

fn clerk_config(n: usize) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    clerk = {{
      source = "clerk-hasura/clerk"
    }}
  }}
}}

provider "clerk" {{}}

resource "clerk_jwt_template" "t" {{
  count = {n}
  name  = "bench-${{count.index}}"
  claims = jsonencode({{
    "https://hasura.io/jwt/claims" = {{
      "x-hasura-allowed-roles" = ["user"]
      "x-hasura-default-role"  = "user"
      "x-hasura-user-id"       = "{{{{user.id}}}}"
    }}
  }})
}}
"#
    )
}

/// `{"GET /v1/jwt_templates": 2, ...}` from the emulator's counters.
fn requests(counters: &Value) -> BTreeMap<String, u64> {
    counters["requests"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)))
                .collect()
        })
        .unwrap_or_default()
}

fn fmt_requests(r: &BTreeMap<String, u64>, per: Option<usize>) -> String {
    if r.is_empty() {
        return "none".into();
    }
    r.iter()
        .map(|(k, v)| match per {
            Some(n) => format!("`{k}` {:.2}", *v as f64 / n as f64),
            None => format!("`{k}` {v}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

struct Row {
    n: usize,
    what: String,
    apply_s: f64,
    plan_s: f64,
    plan_ratio: Option<f64>,
    /// Plan wall time against `null_resource`s carrying the same values.
    plan_ratio_matched: Option<f64>,
    apply_ratio: Option<f64>,
    plan_requests: String,
    apply_requests_per_resource: String,
    rate_limited: String,
    cpu_s: f64,
    core_cpu_s: f64,
    peak_rss_mb: f64,
    launches: usize,
}

fn core_cpu(runs: &[Run]) -> f64 {
    let mut v: Vec<f64> = runs.iter().map(Run::core_cpu_s).collect();
    median(&mut v)
}

fn provider_usage(runs: &[Run], name: &str) -> (f64, f64, usize) {
    let mut cpu = Vec::new();
    let mut rss: f64 = 0.0;
    let mut launches = 0;
    for r in runs {
        let u = r.usage(name);
        cpu.push(u.cpu_s);
        rss = rss.max(u.peak_rss_kb as f64 / 1024.0);
        launches = launches.max(u.launches);
    }
    (median(&mut cpu), rss, launches)
}

/// A row of a `null_resource` baseline (`apply_s` NaN: not applied as a measurement).
fn baseline_row(n: usize, what: String, apply_s: f64, plan_s: f64, plans: &[Run]) -> Row {
    let (cpu, rss, launches) = provider_usage(plans, "null");
    Row {
        n,
        what,
        apply_s,
        plan_s,
        plan_ratio: None,
        plan_ratio_matched: None,
        apply_ratio: None,
        plan_requests: "-".into(),
        apply_requests_per_resource: "-".into(),
        rate_limited: "-".into(),
        cpu_s: cpu,
        core_cpu_s: core_cpu(plans),
        peak_rss_mb: rss,
        launches,
    }
}

/// The row of the matched `null_resource` baseline.
fn matched_row(n: usize, per: f64, plan_s: f64, plans: &[Run]) -> Row {
    baseline_row(
        n,
        format!("null_resource carrying the same values ({per:.1} per instance)"),
        f64::NAN,
        plan_s,
        plans,
    )
}

/// The plan wall-time target, asserted against both baselines: `null_resource`s
/// with one trigger (the issue's "pure Terraform core cost") and `null_resource`s
/// carrying the same values per instance, which isolates what the provider adds:
/// core's own cost grows with every attribute value of every instance.
fn plan_time_checks(
    report: &mut Report,
    what: &str,
    plan_s: f64,
    null_plan_s: Option<f64>,
    matched: Option<(f64, f64)>,
) {
    match null_plan_s {
        Some(np) => {
            let r = plan_s / np;
            report.check(
                format!("{what}: plan wall time vs null_resource (one trigger)"),
                format!("{r:.2}x ({plan_s:.2} / {np:.2} s)"),
                "≤ 1.3x",
                Kind::Time,
                r <= 1.3,
            );
        }
        None => report.pending(
            &format!("{what}: plan wall time vs null_resource"),
            "≤ 1.3x",
            Kind::Time,
            "Go null provider not available",
        ),
    }
    if let Some((mp, per)) = matched {
        let r = plan_s / mp;
        report.check(
            format!("{what}: plan wall time vs null_resource carrying the same values ({per:.1} per instance)"),
            format!("{r:.2}x ({plan_s:.2} / {mp:.2} s)"),
            "≤ 1.3x",
            Kind::Time,
            r <= 1.3,
        );
    }
}

pub fn run(
    rt: &tokio::runtime::Runtime,
    opts: &Opts,
    terraform: &Path,
    hasura_ready: bool,
    report: &mut Report,
) -> anyhow::Result<()> {
    let providers = Providers {
        bin_dir: opts.bin_dir.clone(),
        null: opts.null.clone(),
    };
    let mut rows: Vec<Row> = Vec::new();
    for &n in &opts.ns {
        eprintln!("[bench] N = {n}");
        // ---- null_resource: pure Terraform core cost.
        let null_wd = match &providers.null {
            Some(_) => {
                let wd = Workdir::new(terraform, &providers)?;
                wd.write("main.tf", &null_config(n))?;
                Some(wd)
            }
            None => None,
        };
        let null_apply = match &null_wd {
            Some(wd) => Some(wd.apply(None).context("null_resource apply")?),
            None => None,
        };

        // ---- Clerk.
        let emu = rt.block_on(ClerkEmulator::start(ClerkConfig::default()))?;
        let mut wd = Workdir::new(terraform, &providers)?;
        wd.env("CLERK_SECRET_KEY", emu.secret_key());
        wd.env("CLERK_API_URL", &emu.api_url());
        wd.write("main.tf", &clerk_config(n))?;
        // Creates are N POSTs whatever the provider does, so the apply runs without the
        // rate limit; every plan below runs with Clerk's development limit on.
        emu.control.reset_counters();
        let clerk_apply = wd.apply(None).context("clerk apply")?;
        let apply_counts = requests(&emu.control.counters());
        anyhow::ensure!(
            emu.templates().len() == n,
            "clerk apply created {} templates, want {n}",
            emu.templates().len()
        );
        emu.control.set_rate_limit(Some(CLERK_DEV_LIMIT));
        let matched = matched_baseline(terraform, &providers, &wd)?;

        // ---- Plans, interleaved so that load changes hit every side alike.
        let mut null_plans = Vec::new();
        let mut matched_plans = Vec::new();
        let mut clerk_plans = Vec::new();
        let mut plan_counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut max_plan_total = 0u64;
        let mut rate_limited = 0u64;
        for _ in 0..opts.plan_reps {
            if let Some(wd) = &null_wd {
                null_plans.push(wd.plan_no_changes().context("null_resource plan")?);
            }
            if let Some((wd, _)) = &matched {
                matched_plans.push(wd.plan_no_changes().context("matched null_resource plan")?);
            }
            emu.control.reset_counters();
            clerk_plans.push(wd.plan_no_changes().context("clerk plan")?);
            let c = emu.control.counters();
            rate_limited += c["rate_limited"].as_u64().unwrap_or(0);
            let r = requests(&c);
            let total: u64 = r.values().sum();
            if total >= max_plan_total {
                max_plan_total = total;
                plan_counts = r;
            }
        }
        rt.block_on(emu.stop());

        let med = |runs: &[Run]| {
            let mut v: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
            median(&mut v)
        };
        let null_plan_s = (!null_plans.is_empty()).then(|| med(&null_plans));
        let matched_plan_s = (!matched_plans.is_empty()).then(|| med(&matched_plans));
        let clerk_plan_s = med(&clerk_plans);
        let null_apply_s = null_apply.as_ref().map(|r| r.wall.as_secs_f64());

        if let (Some(np), Some(na)) = (null_plan_s, null_apply_s) {
            rows.push(baseline_row(
                n,
                "null_resource (Go null provider)".into(),
                na,
                np,
                &null_plans,
            ));
        }
        if let (Some(mp), Some((_, per))) = (matched_plan_s, &matched) {
            rows.push(matched_row(n, *per, mp, &matched_plans));
        }
        let (cpu, rss, launches) = provider_usage(&clerk_plans, "clerk");
        let plan_ratio = null_plan_s.map(|np| clerk_plan_s / np);
        let plan_ratio_matched = matched_plan_s.map(|mp| clerk_plan_s / mp);
        rows.push(Row {
            n,
            what: "clerk_jwt_template".into(),
            apply_s: clerk_apply.wall.as_secs_f64(),
            plan_s: clerk_plan_s,
            plan_ratio,
            plan_ratio_matched,
            apply_ratio: null_apply_s.map(|na| clerk_apply.wall.as_secs_f64() / na),
            plan_requests: fmt_requests(&plan_counts, None),
            apply_requests_per_resource: fmt_requests(&apply_counts, Some(n)),
            rate_limited: rate_limited.to_string(),
            cpu_s: cpu,
            core_cpu_s: core_cpu(&clerk_plans),
            peak_rss_mb: rss,
            launches,
        });

        let limit = n.div_ceil(500) as u64 + 1;
        report.check(
            format!("clerk N={n}: API calls per plan"),
            format!("{max_plan_total} ({})", fmt_requests(&plan_counts, None)),
            &format!("≤ ceil(N/500)+1 = {limit}"),
            Kind::Count,
            max_plan_total <= limit,
        );
        report.check(
            format!("clerk N={n}: 429s during plans (100 req / 10 s limit on)"),
            rate_limited.to_string(),
            "0",
            Kind::Count,
            rate_limited == 0,
        );
        plan_time_checks(
            report,
            &format!("clerk N={n}"),
            clerk_plan_s,
            null_plan_s,
            matched_plan_s.zip(matched.as_ref().map(|(_, per)| *per)),
        );
        if hasura_ready {
            hasura_rows(rt, opts, terraform, &providers, n, &mut rows, report)?;
        } else {
            report.pending(
                &format!("hasura N={n}: metadata exports per plan"),
                "≤ 2",
                Kind::Count,
                "Hasura provider (src/hasura) not landed yet",
            );
            report.pending(
                &format!("hasura N={n}: plan wall time vs null_resource"),
                "≤ 1.3x",
                Kind::Time,
                "Hasura provider (src/hasura) not landed yet",
            );
        }
    }

    println!("## 2. `terraform apply` and `terraform plan` (refresh) of N resources\n");
    println!(
        "Plan figures: median of {} plan(s) per row (interleaved with the null_resource plans); \
         API requests are the worst plan's; provider CPU is user+system time of all provider \
         processes of one plan (median), peak RSS the largest `ru_maxrss` of them.\n",
        opts.plan_reps
    );
    println!("| N | resources | apply | apply vs null | plan | plan vs null (1 trigger) | plan vs null (same values) | API requests per plan | API requests per resource (apply) | 429s in plans | provider CPU per plan | Terraform core CPU per plan | provider peak RSS | provider launches per plan |");
    println!(
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in &rows {
        let ratio = |x: Option<f64>| x.map(|v| format!("{v:.2}x")).unwrap_or("-".into());
        println!(
            "| {} | {} | {} | {} | {:.2} s | {} | {} | {} | {} | {} | {:.2} s | {:.2} s | {:.1} MB | {} |",
            r.n,
            r.what,
            if r.apply_s.is_nan() { "-".to_string() } else { format!("{:.2} s", r.apply_s) },
            ratio(r.apply_ratio),
            r.plan_s,
            ratio(r.plan_ratio),
            ratio(r.plan_ratio_matched),
            r.plan_requests,
            r.apply_requests_per_resource,
            r.rate_limited,
            r.cpu_s,
            r.core_cpu_s,
            r.peak_rss_mb,
            r.launches
        );
    }
    if !hasura_ready {
        for &n in &opts.ns {
            println!(
                "| {n} | hasura_table / hasura_permission / hasura_env_var | pending | | pending | | | pending | pending | | | | | |"
            );
        }
        println!(
            "\nHasura rows pending: the Hasura provider (`src/hasura/`) has not landed; its binary \
             serves an empty schema, so there is nothing to measure yet."
        );
    }
    println!();

    println!("## 3. Writes\n");
    println!("| scenario | figure | target |");
    println!("| --- | --- | --- |");
    if hasura_ready {
        hasura_writes(rt, terraform, &providers, report)?;
    } else {
        println!("| apply 200 `hasura_permission` at -parallelism=10: metadata writes | pending | ≤ N/8 = 25 (`bulk` with `resource_version`) |");
        println!("| apply 20 `hasura_env_var`: Cloud restarts | pending | exactly 1 |");
        let why = "Hasura provider (src/hasura) not landed yet";
        report.pending(
            "hasura: metadata writes for 200 permissions at -parallelism=10",
            "≤ 25",
            Kind::Count,
            why,
        );
        report.pending(
            "hasura: Cloud restarts for 20 env vars",
            "= 1",
            Kind::Count,
            why,
        );
    }
    println!();
    Ok(())
}

/// Plan/apply of N permissions + N env vars on N/20 tables, next to the same number of
/// `null_resource`s.
fn hasura_rows(
    rt: &tokio::runtime::Runtime,
    opts: &Opts,
    terraform: &Path,
    providers: &Providers,
    n: usize,
    rows: &mut Vec<Row>,
    report: &mut Report,
) -> anyhow::Result<()> {
    let tables = hasura::tables_for(n);
    let total = 2 * n + tables;
    let what = format!("{tables} hasura_table + {n} hasura_permission + {n} hasura_env_var");
    let null_wd = match &providers.null {
        Some(_) => {
            let wd = Workdir::new(terraform, providers)?;
            wd.write("main.tf", &null_config(total))?;
            Some(wd)
        }
        None => None,
    };
    let null_apply = match &null_wd {
        Some(wd) => Some(wd.apply(None).context("null_resource apply")?),
        None => None,
    };
    let env = hasura::Env::start(rt)?;
    let wd = env.workdir(terraform, providers)?;
    wd.write("main.tf", &hasura::config(tables, n, n))?;
    env.emu.control.reset_counters();
    let apply = wd.apply(None).context("hasura apply")?;
    let apply_requests = env.requests();
    let apply_ops = env.ops();
    let matched = matched_baseline(terraform, providers, &wd)?;
    let mut null_plans = Vec::new();
    let mut matched_plans = Vec::new();
    let mut plans = Vec::new();
    let mut worst_ops: BTreeMap<String, u64> = BTreeMap::new();
    let mut worst_requests: BTreeMap<String, u64> = BTreeMap::new();
    let mut max_exports = 0u64;
    for _ in 0..opts.plan_reps {
        if let Some(wd) = &null_wd {
            null_plans.push(wd.plan_no_changes().context("null_resource plan")?);
        }
        if let Some((wd, _)) = &matched {
            matched_plans.push(wd.plan_no_changes().context("matched null_resource plan")?);
        }
        env.emu.control.reset_counters();
        plans.push(wd.plan_no_changes().context("hasura plan")?);
        let ops = env.ops();
        let exports = ops.get("metadata:export_metadata").copied().unwrap_or(0);
        if exports >= max_exports {
            max_exports = exports;
            worst_ops = ops;
            worst_requests = env.requests();
        }
    }
    env.stop(rt);
    let med = |runs: &[Run]| {
        let mut v: Vec<f64> = runs.iter().map(|r| r.wall.as_secs_f64()).collect();
        median(&mut v)
    };
    let plan_s = med(&plans);
    let null_plan_s = (!null_plans.is_empty()).then(|| med(&null_plans));
    let matched_plan_s = (!matched_plans.is_empty()).then(|| med(&matched_plans));
    let null_apply_s = null_apply.as_ref().map(|r| r.wall.as_secs_f64());
    if let (Some(np), Some(na)) = (null_plan_s, null_apply_s) {
        rows.push(baseline_row(
            total,
            "null_resource (Go null provider)".into(),
            na,
            np,
            &null_plans,
        ));
    }
    if let (Some(mp), Some((_, per))) = (matched_plan_s, &matched) {
        rows.push(matched_row(total, *per, mp, &matched_plans));
    }
    let (cpu, rss, launches) = provider_usage(&plans, "hasura");
    let plan_ratio = null_plan_s.map(|np| plan_s / np);
    rows.push(Row {
        n: total,
        what: format!("{what} (ops per plan: {})", hasura::fmt_counts(&worst_ops)),
        apply_s: apply.wall.as_secs_f64(),
        plan_s,
        plan_ratio,
        plan_ratio_matched: matched_plan_s.map(|mp| plan_s / mp),
        apply_ratio: null_apply_s.map(|na| apply.wall.as_secs_f64() / na),
        plan_requests: fmt_requests(&worst_requests, None),
        apply_requests_per_resource: format!(
            "{}; ops: {}",
            fmt_requests(&apply_requests, Some(total)),
            hasura::fmt_counts(&apply_ops)
        ),
        rate_limited: "-".into(),
        cpu_s: cpu,
        core_cpu_s: core_cpu(&plans),
        peak_rss_mb: rss,
        launches,
    });
    report.check(
        format!("hasura N={n}: metadata exports per plan"),
        max_exports.to_string(),
        "≤ 2",
        Kind::Count,
        max_exports <= 2,
    );
    plan_time_checks(
        report,
        &format!("hasura N={n} ({total} resources)"),
        plan_s,
        null_plan_s,
        matched_plan_s.zip(matched.as_ref().map(|(_, per)| *per)),
    );
    Ok(())
}

/// 200 permissions at -parallelism=10 (coalesced metadata writes), then 20 env vars
/// (one Cloud restart).
fn hasura_writes(
    rt: &tokio::runtime::Runtime,
    terraform: &Path,
    providers: &Providers,
    report: &mut Report,
) -> anyhow::Result<()> {
    const PERMS: usize = 200;
    const VARS: usize = 20;
    let tables = hasura::tables_for(PERMS);
    let env = hasura::Env::start(rt)?;
    let wd = env.workdir(terraform, providers)?;
    wd.write("main.tf", &hasura::config(tables, 0, 0))?;
    wd.apply(None).context("hasura apply (tables)")?;

    wd.write("main.tf", &hasura::config(tables, PERMS, 0))?;
    env.emu.control.reset_counters();
    wd.apply(Some(10)).context("hasura apply (permissions)")?;
    let ops = env.ops();
    let writes = hasura::metadata_writes(&ops);
    let bulks = ops.get("metadata:bulk").copied().unwrap_or(0);
    println!(
        "| apply {PERMS} `hasura_permission` at -parallelism=10: metadata writes | {writes} ({}) | ≤ N/8 = {} |",
        hasura::fmt_counts(&ops),
        PERMS / 8
    );
    report.check(
        format!("hasura: metadata writes for {PERMS} permissions at -parallelism=10"),
        format!("{writes} ({bulks} bulk)"),
        &format!("≤ {}", PERMS / 8),
        Kind::Count,
        writes <= (PERMS / 8) as u64,
    );

    // Relationships join the same batcher: issue 12 asks for <= 25 writes for 200.
    const RELS: usize = 200;
    let rel_tables = tables.max(2);
    wd.write(
        "main.tf",
        &(hasura::config(rel_tables, PERMS, 0) + &hasura::relationships_block(rel_tables, RELS)),
    )?;
    env.emu.control.reset_counters();
    wd.apply(Some(10)).context("hasura apply (relationships)")?;
    let ops = env.ops();
    let writes = hasura::metadata_writes(&ops);
    println!(
        "| apply {RELS} `hasura_relationship` at -parallelism=10: metadata writes | {writes} ({}) | ≤ 25 |",
        hasura::fmt_counts(&ops)
    );
    report.check(
        format!("hasura: metadata writes for {RELS} relationships at -parallelism=10"),
        format!("{writes}"),
        "≤ 25",
        Kind::Count,
        writes <= 25,
    );
    wd.write("main.tf", &hasura::config(tables, PERMS, 0))?;
    wd.apply(Some(10))
        .context("hasura apply (relationships removed)")?;

    // One `hasura_env_vars` with VARS keys: created, then every value changed.
    for (step, prefix) in [("create", "v1"), ("change every value of", "v2")] {
        wd.write(
            "main.tf",
            &(hasura::config(tables, PERMS, 0) + &hasura::env_vars_block(VARS, prefix)),
        )?;
        env.emu.control.reset_counters();
        wd.apply(None)
            .with_context(|| format!("hasura apply ({step} hasura_env_vars)"))?;
        let ops = env.ops();
        let restarts = ops.get("cloud:restart").copied().unwrap_or(0);
        let vars = rt.block_on(env.emu.env_vars());
        let live = (0..VARS)
            .filter(|i| vars.get(&format!("BENCH_SET_{i}")) == Some(&format!("{prefix}-{i}")))
            .count();
        anyhow::ensure!(live == VARS, "{live} of {VARS} env vars live after {step}");
        println!(
            "| {step} a `hasura_env_vars` of {VARS} keys: Cloud restarts | {restarts} ({}) | exactly 1 |",
            hasura::fmt_counts(&ops)
        );
        report.check(
            format!("hasura: Cloud restarts to {step} {VARS} env vars (`hasura_env_vars`)"),
            restarts.to_string(),
            "= 1",
            Kind::Count,
            restarts == 1,
        );
    }

    // The same number of per-key resources: changes that Terraform sends together are
    // coalesced, but `-parallelism=10` lets only 10 applies run at once, and each must
    // see its restart finish before it reports done, so 20 take two waves.
    wd.write(
        "main.tf",
        &(hasura::config(tables, PERMS, VARS) + &hasura::env_vars_block(VARS, "v2")),
    )?;
    env.emu.control.reset_counters();
    wd.apply(None).context("hasura apply (env vars)")?;
    let ops = env.ops();
    let restarts = ops.get("cloud:restart").copied().unwrap_or(0);
    let vars = rt.block_on(env.emu.env_vars());
    let ours = vars.keys().filter(|k| k.starts_with("BENCH_VAR_")).count();
    anyhow::ensure!(ours == VARS, "{ours} env vars in the emulator, want {VARS}");
    println!(
        "| apply {VARS} separate `hasura_env_var` (default -parallelism=10): Cloud restarts | {restarts} ({}) | reference: one per parallelism wave |",
        hasura::fmt_counts(&ops)
    );
    report.note(
        format!("hasura: Cloud restarts for {VARS} separate `hasura_env_var` resources"),
        restarts.to_string(),
        "one per wave of -parallelism",
        Kind::Count,
        "Terraform runs at most -parallelism applies at once and each waits for its restart; hasura_env_vars sets many keys with one restart",
    );
    env.stop(rt);
    Ok(())
}
