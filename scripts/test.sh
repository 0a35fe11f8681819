#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, emulator tests and the acceptance tests,
# which drive real Terraform against each core in TERRAFORM_BINARIES (default: the 1.11.x
# core on PATH and the cached 1.0.3 core that scripts/setup.sh installs).
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -E 'test(smoke)'  # extra args go to cargo nextest run (or cargo test)
#
# Uses cargo-nextest when installed, else cargo test. Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

setup_out="$("$ROOT/scripts/setup.sh")"
if [ -z "${TERRAFORM_BINARIES:-}" ]; then
    TERRAFORM_BINARIES="$(printf '%s\n' "$setup_out" | sed -n 's/^TERRAFORM_BINARIES=//p' | tail -n1)"
fi
[ -n "$TERRAFORM_BINARIES" ] || { echo "[test] no Terraform binaries found" >&2; exit 1; }
export TERRAFORM_BINARIES
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
echo "[test] TERRAFORM_BINARIES=$TERRAFORM_BINARIES" >&2

if cargo nextest --version >/dev/null 2>&1; then
    # nextest does not run doctests: run them first so nextest's summary is the last line.
    echo "[test] cargo test --workspace --doc" >&2
    cargo test --workspace --doc
    echo "[test] cargo nextest run --workspace" >&2
    cargo nextest run --workspace --no-fail-fast \
        --tool-config-file "scripts:$ROOT/scripts/nextest.toml" "$@"
else
    echo "[test] cargo-nextest not installed: cargo test --workspace" >&2
    cargo test --workspace --no-fail-fast "$@"
fi
