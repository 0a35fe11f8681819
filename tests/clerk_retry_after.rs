//! Issue 11, point 7: `Retry-After` given as an HTTP date (RFC 9110 §10.2.3)
//! is honoured like delay-seconds. The Clerk emulator answers 429 with an
//! IMF-fixdate; the provider must wait until then (a first wait of seconds,
//! which its own backoff never chooses for a first retry) and converge.
mod support;

use clerk_emulator::ClerkConfig;
use emulator_common::RateLimit;
use support::clerk::Env;
use support::{assert_no_changes, for_each_terraform, required_providers};

/// `wait_ms` of every first retry the provider logged.
fn first_waits(log: &str) -> Vec<u64> {
    log.lines()
        .filter(|l| l.contains("transient failure; retrying") && l.contains("attempt=0"))
        .filter_map(|l| {
            let rest = &l[l.find("wait_ms=")? + "wait_ms=".len()..];
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn a_retry_after_date_is_waited_out() {
    for_each_terraform(|tf| {
        let env = Env::start(ClerkConfig {
            rate_limit: Some(RateLimit {
                requests: 2,
                window_secs: 5,
            }),
            ..ClerkConfig::default()
        });
        env.emu().set_retry_after_dates(true);
        let mut wd = env.workdir(tf);
        wd.env("TF_LOG_PROVIDER", "INFO");
        let mut hcl = format!("{}\nprovider \"clerk\" {{}}\n", required_providers());
        for i in 0..3 {
            hcl.push_str(&format!(
                "resource \"clerk_jwt_template\" \"t{i}\" {{\n  name = \"t{i}\"\n  claims = jsonencode({{ n = {i} }})\n}}\n"
            ));
        }
        wd.write("main.tf", &hcl);
        let apply = wd.apply();
        assert_eq!(env.templates().len(), 3);
        let counters = env.emu().control.counters();
        assert!(
            counters["rate_limited"].as_u64().unwrap_or(0) > 0,
            "the scenario must hit the rate limit: {counters}"
        );
        // Backoff's first wait is at most 200 ms; only the date explains a longer one.
        let waits = first_waits(&apply.combined());
        assert!(
            waits.iter().any(|&w| w >= 1000),
            "no first retry waited for the Retry-After date: {waits:?}"
        );
        env.emu().set_retry_after_dates(false);
        env.emu().control.set_rate_limit(None);
        assert_no_changes(&wd, "after converging");
        wd.destroy();
    });
}
