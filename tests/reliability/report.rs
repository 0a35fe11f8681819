//! Sums the figures the scenarios wrote and prints the suite's table.
use std::collections::BTreeMap;

use crate::common::{out_dir, Figures};

/// Scenarios whose figures must be present for the table to count.
const EXPECTED: &[&str] = &[
    "faults",
    "retry_budget",
    "stop_provider",
    "races",
    "crash",
    "partial_failure",
    "secrets",
    "tls",
    "hostile_inputs",
    "fuzz",
];

fn load() -> BTreeMap<String, Figures> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(out_dir()).into_iter().flatten().flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap_or_default();
        match serde_json::from_str::<Figures>(&text) {
            Ok(f) => {
                out.insert(f.scenario.clone(), f);
            }
            Err(e) => eprintln!("skipping {}: {e}", p.display()),
        }
    }
    out
}

fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "n/a".into()
    } else {
        format!("{:.1}%", 100.0 * a as f64 / b as f64)
    }
}

/// Prints the table and fails unless it shows 100% success, 0 orphans, 0 duplicates, all
/// bad inputs diagnosed, 0 secrets, and every expected scenario reported without failures.
#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh after the scenarios"]
fn print_table() {
    let figs = load();
    let mut t = Figures::new("total");
    for f in figs.values() {
        t.faults_injected += f.faults_injected;
        t.retries += f.retries;
        t.adoptions += f.adoptions;
        t.applies += f.applies;
        t.applies_succeeded += f.applies_succeeded;
        t.orphans += f.orphans;
        t.duplicates += f.duplicates;
        t.bad_inputs_tried += f.bad_inputs_tried;
        t.bad_inputs_diagnosed += f.bad_inputs_diagnosed;
        t.secrets_found += f.secrets_found;
    }
    let mut s = String::new();
    s.push_str("\n=== Reliability suite: per scenario\n");
    s.push_str(&format!(
        "{:<18} {:>7} {:>7} {:>6} {:>9} {:>7} {:>5} {:>9} {:>8} {:>7}  {}\n",
        "scenario",
        "faults",
        "retries",
        "adopt",
        "applies",
        "orphans",
        "dups",
        "bad in",
        "diagnosed",
        "secrets",
        "status"
    ));
    for name in EXPECTED.iter().map(|s| s.to_string()).chain(
        figs.keys()
            .filter(|k| !EXPECTED.contains(&k.as_str()))
            .cloned(),
    ) {
        match figs.get(&name) {
            None => s.push_str(&format!("{name:<18} (no figures: scenario did not run)\n")),
            Some(f) => s.push_str(&format!(
                "{:<18} {:>7} {:>7} {:>6} {:>9} {:>7} {:>5} {:>9} {:>8} {:>7}  {}\n",
                name,
                f.faults_injected,
                f.retries,
                f.adoptions,
                format!("{}/{}", f.applies_succeeded, f.applies),
                f.orphans,
                f.duplicates,
                f.bad_inputs_tried,
                f.bad_inputs_diagnosed,
                f.secrets_found,
                if f.failures.is_empty() {
                    "ok".to_string()
                } else {
                    format!("{} FAILURE(S)", f.failures.len())
                }
            )),
        }
    }
    s.push_str("\n=== Reliability suite: totals\n");
    let rows = [
        ("faults injected", t.faults_injected.to_string()),
        ("retries", t.retries.to_string()),
        ("lost creates adopted", t.adoptions.to_string()),
        (
            "applies succeeded",
            format!(
                "{}/{} ({})",
                t.applies_succeeded,
                t.applies,
                pct(t.applies_succeeded, t.applies)
            ),
        ),
        ("orphans", t.orphans.to_string()),
        ("duplicates", t.duplicates.to_string()),
        ("bad inputs tried", t.bad_inputs_tried.to_string()),
        (
            "bad inputs diagnosed",
            format!(
                "{} ({})",
                t.bad_inputs_diagnosed,
                pct(t.bad_inputs_diagnosed, t.bad_inputs_tried)
            ),
        ),
        ("secrets found", t.secrets_found.to_string()),
    ];
    s.push_str("+----------------------+----------------------+\n");
    for (k, v) in rows {
        s.push_str(&format!("| {k:<20} | {v:>20} |\n"));
    }
    s.push_str("+----------------------+----------------------+\n");
    let mut problems = Vec::new();
    for name in EXPECTED {
        if !figs.contains_key(*name) {
            problems.push(format!("{name}: no figures (scenario did not run)"));
        }
    }
    for f in figs.values() {
        for m in &f.failures {
            problems.push(format!(
                "{}: {}",
                f.scenario,
                m.chars().take(400).collect::<String>()
            ));
        }
    }
    if t.applies_succeeded != t.applies {
        problems.push(format!(
            "applies: {}/{} succeeded",
            t.applies_succeeded, t.applies
        ));
    }
    if t.orphans + t.duplicates + t.secrets_found > 0 {
        problems.push(format!(
            "orphans {} duplicates {} secrets {}",
            t.orphans, t.duplicates, t.secrets_found
        ));
    }
    if t.bad_inputs_diagnosed != t.bad_inputs_tried {
        problems.push(format!(
            "bad inputs: {}/{} diagnosed",
            t.bad_inputs_diagnosed, t.bad_inputs_tried
        ));
    }
    if !problems.is_empty() {
        s.push_str(&format!("\n=== {} problem(s)\n", problems.len()));
        for p in &problems {
            s.push_str(&format!("- {p}\n"));
        }
    }
    println!("{s}");
    std::fs::write(out_dir().join("table.txt"), &s).ok();
    assert!(problems.is_empty(), "the reliability figures are not clean");
}
