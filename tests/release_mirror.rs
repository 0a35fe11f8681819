//! `scripts/package.sh` produces the Terraform registry release layout, and real Terraform
//! installs the packages from a filesystem mirror (no `dev_overrides`) on every core in
//! TERRAFORM_BINARIES, records their hashes in the lock file, accepts the `zh:` hashes of
//! SHA256SUMS (what a lock file made from a registry release holds), rejects a wrong one,
//! and runs them against the Clerk emulator.
//!
//! The packages are made from the debug binaries this test already has (`--bin-dir`), so no
//! release build runs here; `scripts/package.sh` without `--bin-dir` builds `--release`.
mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use clerk_emulator::ClerkConfig;
use serde_json::{json, Value};
use support::{
    clerk, for_each_terraform, provider_dir, required_providers, CLERK_PROVIDER_BIN,
    HASURA_PROVIDER_BIN,
};

const VERSION: &str = env!("CARGO_PKG_VERSION");
const PROVIDERS: [(&str, &str); 2] = [
    ("clerk", CLERK_PROVIDER_BIN),
    ("hasura", HASURA_PROVIDER_BIN),
];

fn platform() -> String {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    };
    format!("{}_{arch}", std::env::consts::OS)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `scripts/package.sh --bin-dir <this build's bins> --out <out> [args]`.
fn package(out: &Path, args: &[&str]) -> Run {
    let bin_dir = provider_dir(CLERK_PROVIDER_BIN);
    assert_eq!(bin_dir, provider_dir(HASURA_PROVIDER_BIN));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(root.join("scripts/package.sh"));
    cmd.arg("--bin-dir")
        .arg(&bin_dir)
        .arg("--out")
        .arg(out)
        .args(args)
        .env_remove("SOURCE_DATE_EPOCH")
        .current_dir(root);
    run(&mut cmd)
}

fn package_ok(out: &Path, args: &[&str]) {
    let r = package(out, args);
    assert_eq!(
        r.code, 0,
        "scripts/package.sh {args:?} failed:\n{}{}",
        r.stdout, r.stderr
    );
}

fn zip_name(p: &str) -> String {
    format!("terraform-provider-{p}_{VERSION}_{}.zip", platform())
}

fn sums_name(p: &str) -> String {
    format!("terraform-provider-{p}_{VERSION}_SHA256SUMS")
}

fn manifest_name(p: &str) -> String {
    format!("terraform-provider-{p}_{VERSION}_manifest.json")
}

/// sha256 of some bytes, as lowercase hex (coreutils' sha256sum, to stay independent of
/// the code under test).
fn sha256(data: &[u8]) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run sha256sum");
    let mut stdin = child.stdin.take().unwrap();
    let data = data.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    let hex = String::from_utf8(out.stdout).unwrap();
    hex.split_whitespace().next().unwrap().to_string()
}

fn sha256_file(p: &Path) -> String {
    sha256(&std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())))
}

fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Terraform's `h1:` hash (dirhash Hash1) of a package holding just `bin` as `name`.
fn h1_hash(bin: &Path, name: &str) -> String {
    let summary = format!("{}  {name}\n", sha256_file(bin));
    let digest = hex_to_bytes(&sha256(summary.as_bytes()));
    format!(
        "h1:{}",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Entries of a zip: name, unix mode, size, sha256 (read by python3's zipfile).
fn zip_entries(zip: &Path) -> Value {
    let py = r#"
import hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    print(json.dumps([
        {"name": i.filename, "mode": i.external_attr >> 16, "system": i.create_system,
         "size": i.file_size, "sha256": hashlib.sha256(z.read(i)).hexdigest(),
         "date_time": list(i.date_time)}
        for i in z.infolist()]))
"#;
    let r = run(Command::new("python3").arg("-c").arg(py).arg(zip));
    assert_eq!(r.code, 0, "cannot read {}: {}", zip.display(), r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn package_writes_the_registry_release_layout_deterministically() {
    let tmp = tempfile::tempdir().unwrap();
    let out1 = tmp.path().join("dist1");
    let r = package(&out1, &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // Exactly these files, and the script lists them.
    let mut expected: Vec<String> = PROVIDERS
        .iter()
        .flat_map(|(p, _)| [zip_name(p), sums_name(p), manifest_name(p)])
        .collect();
    expected.sort();
    assert_eq!(file_names(&out1), expected);
    let mut listed: Vec<String> = r
        .stdout
        .lines()
        .map(|l| {
            Path::new(l)
                .strip_prefix(&out1)
                .unwrap_or_else(|_| panic!("listed path {l} is not in {}", out1.display()))
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    listed.sort();
    assert_eq!(listed, expected);

    for (p, bin) in PROVIDERS {
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(out1.join(manifest_name(p))).unwrap()).unwrap();
        assert_eq!(
            manifest,
            json!({"version": 1, "metadata": {"protocol_versions": ["6.0"]}})
        );

        // sha256sum format, sorted, over the zip and the manifest.
        let sums = std::fs::read_to_string(out1.join(sums_name(p))).unwrap();
        let want = format!(
            "{}  {}\n{}  {}\n",
            sha256_file(&out1.join(zip_name(p))),
            zip_name(p),
            sha256_file(&out1.join(manifest_name(p))),
            manifest_name(p)
        );
        assert_eq!(sums, want, "{}", sums_name(p));
        let check = run(Command::new("sha256sum")
            .arg("-c")
            .arg(sums_name(p))
            .current_dir(&out1));
        assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);

        // One executable entry, the binary itself, named as Terraform expects.
        let entries = zip_entries(&out1.join(zip_name(p)));
        let entries = entries.as_array().unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        let e = &entries[0];
        assert_eq!(e["name"], format!("terraform-provider-{p}_v{VERSION}"));
        assert_eq!(e["system"], 3, "made on Unix so the mode is honoured");
        assert_eq!(e["mode"], 0o100755, "regular file, rwxr-xr-x");
        assert_eq!(e["sha256"], sha256_file(Path::new(bin)));
    }

    // The same binaries give byte-identical zips; a leading `v` on VERSION is dropped.
    let out2 = tmp.path().join("dist2");
    package_ok(&out2, &[&format!("v{VERSION}")]);
    assert_eq!(file_names(&out2), expected);
    for (p, _) in PROVIDERS {
        for f in [zip_name(p), sums_name(p), manifest_name(p)] {
            assert!(
                std::fs::read(out1.join(&f)).unwrap() == std::fs::read(out2.join(&f)).unwrap(),
                "{f} differs between two runs"
            );
        }
    }

    // Bad input fails with a reason, before building anything.
    let r = package(&tmp.path().join("dist3"), &["not-a-version"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("semver"), "{}", r.stderr);
    let r = package(&tmp.path().join("dist3"), &["--no-such-option"]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("unknown option"), "{}", r.stderr);
    assert!(!tmp.path().join("dist3").exists());
}

/// A packed-layout filesystem mirror of both providers.
fn make_mirror(dist: &Path, mirror: &Path) {
    for (p, _) in PROVIDERS {
        let d = mirror.join("registry.terraform.io/clerk-hasura").join(p);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(dist.join(zip_name(p)), d.join(zip_name(p))).unwrap();
    }
}

fn mirror_cli_config(mirror: &Path) -> String {
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/clerk-hasura/*\"]\n  }}\n}}\n",
        serde_json::to_string(&mirror.to_string_lossy()).unwrap()
    )
}

fn lock_file(hashes: &dyn Fn(&str) -> Vec<String>) -> String {
    let mut s = String::new();
    for (p, _) in PROVIDERS {
        let hs: Vec<String> = hashes(p)
            .iter()
            .map(|h| format!("    \"{h}\",\n"))
            .collect();
        s.push_str(&format!(
            "provider \"registry.terraform.io/clerk-hasura/{p}\" {{\n  version = \"{VERSION}\"\n  hashes = [\n{}  ]\n}}\n\n",
            hs.concat()
        ));
    }
    s
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn zh_from_sums(dist: &Path, p: &str) -> String {
    let sums = std::fs::read_to_string(dist.join(sums_name(p))).unwrap();
    let line = sums
        .lines()
        .find(|l| l.ends_with(&zip_name(p)))
        .unwrap_or_else(|| panic!("{} lists no {}:\n{sums}", sums_name(p), zip_name(p)));
    format!("zh:{}", line.split_whitespace().next().unwrap())
}

#[test]
fn filesystem_mirror_install_apply_and_lock_hashes() {
    let tmp = tempfile::tempdir().unwrap();
    let dist = tmp.path().join("dist");
    package_ok(&dist, &[]);
    let mirror = tmp.path().join("mirror");
    make_mirror(&dist, &mirror);

    for_each_terraform(|tf| {
        let env = clerk::Env::start(ClerkConfig::default());

        let wd = env.workdir(tf);
        // Replace the harness's dev_overrides with the mirror: a real install.
        wd.write("cli.tfrc", &mirror_cli_config(&mirror));
        wd.write(
            "main.tf",
            &format!(
                "{}\nprovider \"clerk\" {{}}\n\nresource \"clerk_jwt_template\" \"hasura\" {{\n  name     = \"hasura\"\n  claims   = jsonencode({{ \"https://hasura.io/jwt/claims\" = {{ \"x-hasura-default-role\" = \"user\" }} }})\n  lifetime = 300\n}}\n",
                required_providers()
            ),
        );

        let init = wd.tf(&["init", "-input=false"]);
        init.assert_success("terraform init from the filesystem mirror");
        for (p, _) in PROVIDERS {
            assert!(
                init.stdout
                    .contains(&format!("Installed clerk-hasura/{p} v{VERSION}")),
                "{}",
                init.stdout
            );
        }
        assert!(
            !init.combined().contains("override"),
            "no dev_overrides may be in effect:\n{}",
            init.combined()
        );
        let lock = std::fs::read_to_string(wd.path().join(".terraform.lock.hcl"))
            .expect("terraform init writes .terraform.lock.hcl");
        for (p, bin) in PROVIDERS {
            assert!(
                lock.contains(&format!(
                    "provider \"registry.terraform.io/clerk-hasura/{p}\" {{\n  version = \"{VERSION}\""
                )),
                "{lock}"
            );
            let h1 = h1_hash(
                Path::new(bin),
                &format!("terraform-provider-{p}_v{VERSION}"),
            );
            assert!(lock.contains(&h1), "lock file lacks {h1} for {p}:\n{lock}");
            let installed: PathBuf = wd
                .path()
                .join(".terraform/providers/registry.terraform.io/clerk-hasura")
                .join(p)
                .join(VERSION)
                .join(platform())
                .join(format!("terraform-provider-{p}_v{VERSION}"));
            assert!(installed.is_file(), "{} missing", installed.display());
        }

        wd.apply();
        let templates = env.templates();
        assert_eq!(templates.len(), 1, "{templates:?}");
        assert_eq!(templates[0]["lifetime"], 300);
        let (code, plan) = wd.plan_exitcode();
        assert_eq!(code, 0, "second plan must be empty:\n{}", plan.combined());

        // A lock file made from a registry release holds the zh: hashes of SHA256SUMS.
        // A wrong one is refused...
        std::fs::remove_dir_all(wd.path().join(".terraform")).unwrap();
        wd.write(
            ".terraform.lock.hcl",
            &lock_file(&|p| {
                let good = zh_from_sums(&dist, p);
                let flipped = if good.ends_with('0') { '1' } else { '0' };
                vec![format!("{}{flipped}", &good[..good.len() - 1])]
            }),
        );
        let bad = wd.tf(&["init", "-input=false"]);
        assert_eq!(
            bad.code,
            1,
            "init must refuse a wrong hash:\n{}",
            bad.combined()
        );
        assert!(
            squash(&bad.combined())
                .contains("doesn't match any of the checksums previously recorded"),
            "{}",
            bad.combined()
        );

        // ...and the real ones are accepted.
        let _ = std::fs::remove_dir_all(wd.path().join(".terraform"));
        wd.write(
            ".terraform.lock.hcl",
            &lock_file(&|p| vec![zh_from_sums(&dist, p)]),
        );
        wd.tf(&["init", "-input=false"])
            .assert_success("terraform init with the zh: hashes from SHA256SUMS");
        let lock = std::fs::read_to_string(wd.path().join(".terraform.lock.hcl")).unwrap();
        for (p, _) in PROVIDERS {
            assert!(lock.contains(&zh_from_sums(&dist, p)), "{lock}");
        }
        let (code, plan) = wd.plan_exitcode();
        assert_eq!(code, 0, "plan after re-install:\n{}", plan.combined());

        wd.destroy();
        assert!(env.templates().is_empty());
    });
}
