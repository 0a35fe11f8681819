#!/usr/bin/env bash
# The README demo: installs what is missing (PostgreSQL, Terraform), builds the providers,
# and runs the whole Clerk + Hasura setup (examples/clerk-hasura) through real Terraform
# against the local emulators, then proves it works. Exits 0 only if every step held.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
"$ROOT/scripts/setup.sh" >/dev/null
echo "==> building the providers and the demo"
cargo build --quiet --bins -p terraform-providers -p demo
exec "$ROOT/target/debug/clerk-hasura-demo" --repo "$ROOT" --providers target/debug --terraform "$(command -v terraform || echo "$ROOT/.cache/terraform/bin/terraform")"
