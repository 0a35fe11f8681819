//! The fuzz targets of `fuzz/` without cargo-fuzz: each target runs on its checked-in
//! corpus (`fuzz/corpus/<target>/`), then on mutations of it and random bytes for a
//! bounded time (`RELIABILITY_FUZZ_SECS` per target, default 3). Any panic — including a
//! panic the RPC server caught and turned into a diagnostic — fails the test; the input
//! is saved under `target/reliability/fuzz-failures/`. `#[ignore]`d like the rest of the
//! suite: `scripts/reliability.sh` runs it, and real cargo-fuzz when it can.
#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod targets;

#[path = "reliability/common.rs"]
#[allow(unused_imports)]
mod common;
mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("cty_msgpack", targets::cty_msgpack),
    ("cty_json", targets::cty_json),
    ("json_normalise", targets::json_normalise),
    ("import_ids", targets::import_ids),
    ("rpc_values", targets::rpc_values),
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<_> = std::fs::read_dir(corpus_dir(target))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect()
}

fn mutate(rng: &mut impl Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut v = if seeds.is_empty() || rng.random_bool(0.1) {
        let n = rng.random_range(0..64);
        (0..n).map(|_| rng.random()).collect()
    } else {
        seeds[rng.random_range(0..seeds.len())].clone()
    };
    for _ in 0..rng.random_range(1..5) {
        match rng.random_range(0..6) {
            0 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v[i] ^= 1 << rng.random_range(0..8);
            }
            1 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v[i] = rng.random();
            }
            2 => {
                let i = rng.random_range(0..=v.len());
                let b: u8 = rng.random();
                v.insert(i, b);
            }
            3 if !v.is_empty() => {
                let i = rng.random_range(0..v.len());
                v.truncate(i.max(1));
            }
            4 if !seeds.is_empty() => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let i = rng.random_range(0..=v.len());
                let j = rng.random_range(0..=other.len());
                v.splice(i..i, other[j..].iter().copied());
            }
            _ => {
                // Interesting bytes: msgpack markers, JSON punctuation, quotes.
                let b = *[
                    0xc0, 0xd4, 0xc7, 0xdc, 0xde, b'"', b'{', b'[', b'.', b'\\', 0xff,
                ]
                .get(rng.random_range(0..11))
                .unwrap();
                let i = rng.random_range(0..=v.len());
                v.insert(i, b);
            }
        }
    }
    if v.len() > 4096 {
        v.truncate(4096);
    }
    v
}

fn run_one(name: &str, f: Target, input: &[u8], failures: &mut Vec<String>) {
    let r = catch_unwind(AssertUnwindSafe(|| f(input)));
    if let Err(e) = r {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let dir = common::out_dir().join("fuzz-failures");
        std::fs::create_dir_all(&dir).ok();
        let file = dir.join(format!("{name}-{}", failures.len()));
        std::fs::write(&file, input).ok();
        failures.push(format!(
            "{name}: {} (input {} bytes saved to {})",
            msg.chars().take(300).collect::<String>(),
            input.len(),
            file.display()
        ));
    }
}

#[test]
#[ignore = "reliability suite: run by scripts/reliability.sh"]
fn fuzz_targets_on_corpus_and_random_inputs() {
    let secs: u64 = std::env::var("RELIABILITY_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let seed: u64 = std::env::var("RELIABILITY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    // Caught panics would print a backtrace per input; failures are reported below.
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let mut fig = common::Figures::new("fuzz");
    let mut report = Vec::new();
    for (name, f) in TARGETS {
        let seeds = corpus(name);
        let mut failures = Vec::new();
        if seeds.is_empty() {
            failures.push(format!(
                "{name}: no corpus in {}",
                corpus_dir(name).display()
            ));
        }
        for s in &seeds {
            run_one(name, *f, s, &mut failures);
        }
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ name.len() as u64);
        let start = Instant::now();
        let mut execs = seeds.len();
        while start.elapsed() < Duration::from_secs(secs) && failures.len() < 5 {
            let input = mutate(&mut rng, &seeds);
            run_one(name, *f, &input, &mut failures);
            execs += 1;
        }
        report.push(format!(
            "{name}: {} corpus + {} random inputs, {} failure(s)",
            seeds.len(),
            execs - seeds.len(),
            failures.len()
        ));
        for m in failures {
            fig.fail(m);
        }
    }
    std::panic::set_hook(prev);
    for r in &report {
        eprintln!("[fuzz] {r}");
    }
    fig.finish();
}

/// Regenerates the seed corpus from known-good values (run by hand, then commit
/// `fuzz/corpus`): `cargo test --test reliability_fuzz -- --ignored write_seed_corpus`.
#[test]
#[ignore = "writes fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    use serde_json::json;
    use terraform_providers::plugin::cty::{self, Type};
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let d = corpus_dir(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), bytes).unwrap();
    };
    let samples: Vec<(Type, serde_json::Value)> = vec![
        (Type::String, json!("x'; DROP TABLE t; --")),
        (Type::Number, json!(1.5e300)),
        (Type::Bool, json!(true)),
        (Type::list(Type::String), json!(["a", "b", "ü"])),
        (Type::set(Type::Number), json!([1, 2, 3])),
        (Type::map(Type::Bool), json!({"a": true, "b": false})),
        (
            Type::object([
                ("name", Type::String),
                ("claims", Type::String),
                ("lifetime", Type::Number),
            ]),
            json!({"name": "hasura", "claims": "{\"a\":1}", "lifetime": 60}),
        ),
    ];
    for (i, (ty, j)) in samples.iter().enumerate() {
        let v = cty::from_state_json(j, ty).unwrap();
        // The target picks its type with the first byte; index into its own list.
        let idx = [0u8, 1, 2, 4, 5, 6, 8][i];
        let mut b = vec![idx];
        b.extend(cty::encode(&v, ty));
        write("cty_msgpack", &format!("seed-{i}"), &b);
        let mut b = vec![idx];
        b.extend(serde_json::to_vec(j).unwrap());
        write("cty_json", &format!("seed-{i}"), &b);
    }
    write("cty_msgpack", "unknown-ext", &[3, 0xd4, 0x00, 0x00]);
    write(
        "cty_msgpack",
        "deep-array",
        &[4, 0x91, 0x91, 0x91, 0x91, 0x90],
    );
    for (i, s) in [
        r#"{"b":1,"a":[1,2,{"z":null}]}"#,
        r#"{"https://hasura.io/jwt/claims":{"x-hasura-user-id":"{{user.id}}","x-hasura-allowed-roles":["user"]}}"#,
        r#"[1e308,-0.0,1.0,12345678901234567890]"#,
        r#"{"a":1,"a":2}"#,
        r#""\u0000\ud83d\ude80""#,
        "{",
        "",
    ]
    .iter()
    .enumerate()
    {
        write("json_normalise", &format!("seed-{i}"), s.as_bytes());
    }
    for (i, s) in [
        "default.public.users",
        "public.users",
        "default.\"my.schema\".users",
        "default.public.users.user.select",
        "\"a\"\"b\".c.\"d.e\"",
        "jtmp_2abcDEF",
        "0b8e2f4c-7d0e-4e1a-9a51-3c5a2c1d9f00/HASURA_GRAPHQL_JWT_SECRET",
        "HASURA_GRAPHQL_JWT_SECRET",
        "..",
        "\"unterminated",
        "",
    ]
    .iter()
    .enumerate()
    {
        write("import_ids", &format!("seed-{i}"), s.as_bytes());
    }
    let configs = [
        (
            0u8,
            json!({"name": "t", "claims": "{\"a\":1}", "lifetime": 60}),
        ),
        (
            1u8,
            json!({"name": "users", "columns": [{"name": "id", "type": "integer"}], "primary_key": ["id"]}),
        ),
        (
            3u8,
            json!({"table": "users", "role": "user", "action": "select", "filter": "{\"id\":{\"_eq\":\"X-Hasura-User-Id\"}}", "columns": ["id"]}),
        ),
        (
            5u8,
            json!({"key": "HASURA_GRAPHQL_JWT_SECRET", "value": "{\"type\":\"HS256\",\"key\":\"0123456789abcdef0123456789abcdef\"}"}),
        ),
    ];
    for (a, cfg) in configs {
        for op in 0u8..7 {
            let mut b = vec![a, op | 0x80];
            b.extend(serde_json::to_vec(&cfg).unwrap());
            write("rpc_values", &format!("json-{a}-{op}"), &b);
        }
    }
}
