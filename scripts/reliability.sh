#!/usr/bin/env bash
# The reliability suite (issue "Reliability and security under faults, races and hostile
# input, measured"): fault runs, retry budgets, Ctrl-C, races, crashes, partial failures,
# secrets under TF_LOG=trace, TLS, the hostile-input corpus and the fuzz targets. Prints
# one table (faults injected, retries, applies succeeded, orphans, duplicates, bad inputs
# tried/diagnosed, secrets found) and exits non-zero unless every figure is clean.
#
#   scripts/reliability.sh             # full: all Terraform cores, 3 seeds x 200 resources,
#                                      #       30 s of fuzzing per target
#   scripts/reliability.sh --bounded   # CI: newest core, 1 seed x 100 resources, short fuzzing
#
# Figures land in target/reliability/*.json and the table in target/reliability/table.txt.
# cargo-fuzz runs when installed (`cargo install cargo-fuzz`; stable toolchain with
# RUSTC_BOOTSTRAP=1): by default in full mode, with RELIABILITY_CARGO_FUZZ=1 in bounded
# mode (its first build takes minutes); tests/reliability_fuzz.rs runs the same targets on
# the checked-in corpus plus random inputs either way.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

mode=full
case "${1:-}" in
    --bounded) mode=bounded ;;
    "") ;;
    *) echo "usage: $0 [--bounded]" >&2; exit 2 ;;
esac

setup_out="$("$ROOT/scripts/setup.sh")" || { echo "[reliability] setup failed" >&2; exit 1; }
if [ -z "${TERRAFORM_BINARIES:-}" ]; then
    TERRAFORM_BINARIES="$(printf '%s\n' "$setup_out" | sed -n 's/^TERRAFORM_BINARIES=//p' | tail -n1)"
fi
export TERRAFORM_BINARIES CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1

OUT="${CARGO_TARGET_DIR:-$ROOT/target}/reliability"
export RELIABILITY_OUT="$OUT"
rm -rf "$OUT"
mkdir -p "$OUT"

if [ "$mode" = full ]; then
    export RELIABILITY_SCALE=full RELIABILITY_ALL_CORES=1
    export RELIABILITY_FUZZ_SECS="${RELIABILITY_FUZZ_SECS:-30}"
    fuzz_secs="${RELIABILITY_CARGO_FUZZ_SECS:-60}"
    cargo_fuzz="${RELIABILITY_CARGO_FUZZ:-1}"
else
    unset RELIABILITY_SCALE RELIABILITY_ALL_CORES
    export RELIABILITY_FUZZ_SECS="${RELIABILITY_FUZZ_SECS:-3}"
    fuzz_secs="${RELIABILITY_CARGO_FUZZ_SECS:-10}"
    # Building the fuzz crate from scratch takes minutes: opt in with RELIABILITY_CARGO_FUZZ=1.
    cargo_fuzz="${RELIABILITY_CARGO_FUZZ:-0}"
fi
echo "[reliability] mode=$mode TERRAFORM_BINARIES=$TERRAFORM_BINARIES out=$OUT" >&2

rc=0
start=$SECONDS
cargo test --test reliability --test hostile_inputs --test reliability_fuzz --no-fail-fast -- \
    --include-ignored --skip print_table --skip write_seed_corpus --test-threads=2 || rc=1
echo "[reliability] scenarios took $((SECONDS - start)) s" >&2

# Real coverage-guided fuzzing, bounded, when cargo-fuzz is here. New inputs go to a
# scratch dir; the checked-in corpus is only read.
if [ "$cargo_fuzz" != 0 ] && cargo fuzz --version >/dev/null 2>&1; then
    fstart=$SECONDS
    failed=()
    if (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build --sanitizer none -O >"$OUT/cargo-fuzz-build.log" 2>&1); then
        for t in $(cd fuzz && cargo fuzz list); do
            scratch="$(mktemp -d)"
            if ! (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none -O "$t" "$scratch" "corpus/$t" -- \
                -max_total_time="$fuzz_secs" -timeout=10 -rss_limit_mb=4096 >"$OUT/cargo-fuzz-$t.log" 2>&1); then
                failed+=("$t")
                tail -n 40 "$OUT/cargo-fuzz-$t.log" >&2
            fi
            echo "[reliability] cargo fuzz $t: $(grep -Eo 'Done [0-9]+ runs' "$OUT/cargo-fuzz-$t.log" | tail -n1 || true)" >&2
            rm -rf "$scratch"
        done
        json_failures="$(printf '"cargo fuzz found a crash in %s (see fuzz/artifacts)",' "${failed[@]}")"
        [ ${#failed[@]} -eq 0 ] && json_failures=""
        printf '{"scenario":"cargo_fuzz","failures":[%s]}\n' "${json_failures%,}" >"$OUT/cargo_fuzz.json"
        [ ${#failed[@]} -eq 0 ] || rc=1
    else
        echo "[reliability] cargo fuzz build failed; see $OUT/cargo-fuzz-build.log (the fallback test ran the targets)" >&2
        tail -n 20 "$OUT/cargo-fuzz-build.log" >&2
    fi
    echo "[reliability] cargo fuzz took $((SECONDS - fstart)) s" >&2
else
    echo "[reliability] cargo-fuzz skipped (not installed, or bounded mode without RELIABILITY_CARGO_FUZZ=1): the fuzz targets ran through tests/reliability_fuzz.rs" >&2
fi

cargo test --test reliability -- --ignored --exact report::print_table --nocapture --test-threads=1 || rc=1
exit "$rc"
