//! Proves the acceptance-test harness works on every Terraform core, using only Terraform
//! built-ins (outputs, variables), so it does not depend on the providers being finished.
//! (1.0.3 has no `terraform_data`, so no resources are used.)

mod support;

use std::path::Path;
use std::time::Duration;
use support::{for_each_terraform, terraform_binaries, terraform_version, TfOutput, Workdir};

const OUTPUT_ONLY: &str = "terraform {}\n\noutput \"x\" {\n  value = 1\n}\n";

#[test]
fn every_terraform_binary_runs_version() {
    let bins = terraform_binaries();
    assert!(!bins.is_empty());
    for bin in &bins {
        let v = terraform_version(bin);
        eprintln!("{} -> {v}", bin.display());
        let parts: Vec<&str> = v.split('.').collect();
        assert!(
            parts.len() >= 3 && parts[..2].iter().all(|p| p.parse::<u32>().is_ok()),
            "unexpected version {v:?} from {}",
            bin.display()
        );
        let major_minor = (
            parts[0].parse::<u32>().unwrap(),
            parts[1].parse::<u32>().unwrap(),
        );
        assert!(
            major_minor >= (1, 0),
            "Terraform {v} is older than the oldest supported core 1.0.3"
        );
        // Through a Workdir too: plain `version` (no -no-color) works there.
        let out = Workdir::new(bin).tf(&["version"]);
        out.assert_success("terraform version");
        assert!(
            out.stdout.contains(&format!("Terraform v{v}")),
            "{}",
            out.combined()
        );
    }
    // test.sh runs against two cores; say so when they are configured.
    if let Ok(list) = std::env::var("TERRAFORM_BINARIES") {
        assert_eq!(
            bins.len(),
            list.split(':').filter(|s| !s.trim().is_empty()).count()
        );
    }
}

#[test]
fn cli_config_serves_dev_overrides_for_both_providers() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        let cfg = std::fs::read_to_string(wd.path().join("cli.tfrc")).unwrap();
        for (src, bin) in [
            (support::CLERK_SOURCE, support::CLERK_PROVIDER_BIN),
            (support::HASURA_SOURCE, support::HASURA_PROVIDER_BIN),
        ] {
            assert!(cfg.contains(src), "{cfg}");
            let dir = support::provider_dir(bin);
            assert!(cfg.contains(&*dir.to_string_lossy()), "{cfg}");
            assert!(
                dir.join(Path::new(bin).file_name().unwrap()).is_file(),
                "provider binary {bin} missing"
            );
        }
        wd.write("main.tf", OUTPUT_ONLY);
        // Terraform read our CLI config (and not $HOME's): it warns about the overrides.
        let out = wd.validate();
        out.assert_success("terraform validate");
        assert!(
            out.combined()
                .contains("Provider development overrides are in effect"),
            "{}",
            out.combined()
        );
        assert!(out.combined().contains("clerk-hasura/clerk"));
        assert!(out.combined().contains("clerk-hasura/hasura"));
        // Nothing was written into the real home directory's place: the fake HOME is used.
        assert!(wd.path().join("home").is_dir());
    });
}

#[test]
fn output_only_config_applies_and_show_json_parses() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write("main.tf", OUTPUT_ONLY);
        let out = wd.apply();
        assert!(out.stdout.contains("Apply complete!"), "{}", out.combined());
        assert!(
            !out.stdout.contains('\u{1b}'),
            "-no-color was not passed: {}",
            out.stdout
        );
        let state = wd.state();
        assert_eq!(state["values"]["outputs"]["x"]["value"], 1, "{state:#}");
        assert_eq!(
            state["terraform_version"].as_str(),
            Some(terraform_version(tf).as_str())
        );
        assert_eq!(wd.output("x"), 1);
        assert!(wd.resource_addresses().is_empty());
        wd.destroy();
    });
}

#[test]
fn plan_detailed_exitcode_is_0_then_2_then_1() {
    for_each_terraform(|tf| {
        let wd = Workdir::new(tf);
        wd.write("main.tf", OUTPUT_ONLY);
        let (code, out) = wd.plan_exitcode();
        assert_eq!(
            code,
            2,
            "fresh config must plan changes:\n{}",
            out.combined()
        );
        wd.apply();
        let (code, out) = wd.plan_exitcode();
        assert_eq!(code, 0, "after apply nothing changes:\n{}", out.combined());
        wd.write(
            "main.tf",
            &format!("{OUTPUT_ONLY}\noutput \"y\" {{\n  value = \"added\"\n}}\n"),
        );
        let (code, out) = wd.plan_exitcode();
        assert_eq!(code, 2, "a new output is a change:\n{}", out.combined());
        wd.write("main.tf", "output \"z\" {\n  value = var.missing\n}\n");
        let (code, out) = wd.plan_exitcode();
        assert_eq!(
            code,
            1,
            "an invalid config is an error:\n{}",
            out.combined()
        );
        assert!(out.combined().contains("missing"), "{}", out.combined());
    });
}

#[test]
fn env_reaches_terraform_and_failures_are_reported() {
    for_each_terraform(|tf| {
        let mut wd = Workdir::new(tf);
        wd.env("TF_VAR_greeting", "hello from env");
        wd.write(
            "main.tf",
            "variable \"greeting\" {\n  type = string\n}\n\noutput \"g\" {\n  value = var.greeting\n}\n",
        );
        wd.apply();
        assert_eq!(wd.output("g"), "hello from env");

        // validate reports an error without panicking.
        wd.write("main.tf", "output \"broken\" {\n  valu = 1\n}\n");
        let out: TfOutput = wd.validate();
        assert!(!out.success(), "{}", out.combined());
        assert!(out.combined().contains("valu"), "{}", out.combined());
        // So does import of an address the config lacks.
        wd.write("main.tf", OUTPUT_ONLY);
        let out = wd.import("clerk_user.nope", "user_123");
        assert!(!out.success(), "{}", out.combined());
        // And try_apply of a broken config.
        wd.write("main.tf", "output \"z\" {\n  value = var.missing\n}\n");
        wd.try_apply().assert_failure_contains("missing");
    });
}

#[test]
fn a_hung_command_is_killed_after_the_timeout() {
    // A stand-in "terraform" that never exits (and a child of its own that would keep the
    // pipes open): the harness must kill the process group and fail with a clear message.
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("terraform");
    let pidfile = dir.path().join("grandchild.pid");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nsleep 300 &\necho $! > '{}'\nexec sleep 300\n",
            pidfile.display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let mut wd = Workdir::new(&fake);
    wd.set_timeout(Duration::from_secs(1));
    let started = std::time::Instant::now();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wd.tf(&["apply"])));
    let err = r.expect_err("a hung command must fail the test");
    let msg = err
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(msg.contains("timed out"), "{msg}");
    // The stand-in's own child (like a provider started by Terraform) was killed too.
    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())).unwrap_or_default();
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next())
        .unwrap_or("gone");
    assert!(
        state == "gone" || state == "Z" || state == "X",
        "grandchild {} still running: {stat}",
        pid.trim()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}
