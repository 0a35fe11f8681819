#!/usr/bin/env bash
# Packages both providers in the Terraform registry release layout.
#
#   scripts/package.sh [options] [VERSION]
#
# VERSION defaults to the crate version in Cargo.toml. For each provider NAME (clerk, hasura)
# it writes to the output directory (default: dist/):
#
#   terraform-provider-NAME_VERSION_OS_ARCH.zip      the binary, named terraform-provider-NAME_vVERSION
#   terraform-provider-NAME_VERSION_manifest.json    {"version":1,"metadata":{"protocol_versions":["6.0"]}}
#   terraform-provider-NAME_VERSION_SHA256SUMS       sha256sum lines for the zip(s) and the manifest
#
# The zips are deterministic: fixed entry time (SOURCE_DATE_EPOCH, else the last commit's
# time), fixed mode 0755, no extra fields; the same binary gives the same zip.
#
# Options:
#   --profile PROFILE  cargo profile to build with (default: release; `dev` builds target/debug)
#   --bin-dir DIR      do not build: package the binaries already in DIR
#   --out DIR          output directory (default: dist/ in the repository); stale packages of
#                      the same VERSION are replaced
#   --platform OS_ARCH platform suffix (default: this machine's, e.g. linux_amd64); only the
#                      binaries' real platform makes sense here
#   -h, --help         this text
#
# Prints the paths it wrote, one a line, on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PROVIDERS=(clerk hasura)

log() { printf '[package] %s\n' "$*" >&2; }
die() { printf '[package] ERROR: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

profile="release"
bin_dir=""
out_dir="$ROOT/dist"
platform=""
version=""

while [ $# -gt 0 ]; do
    case "$1" in
        --profile) [ $# -ge 2 ] || die "--profile needs a value"; profile="$2"; shift 2 ;;
        --profile=*) profile="${1#*=}"; shift ;;
        --bin-dir) [ $# -ge 2 ] || die "--bin-dir needs a value"; bin_dir="$2"; shift 2 ;;
        --bin-dir=*) bin_dir="${1#*=}"; shift ;;
        --out) [ $# -ge 2 ] || die "--out needs a value"; out_dir="$2"; shift 2 ;;
        --out=*) out_dir="${1#*=}"; shift ;;
        --platform) [ $# -ge 2 ] || die "--platform needs a value"; platform="$2"; shift 2 ;;
        --platform=*) platform="${1#*=}"; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option $1 (see --help)" ;;
        *)
            [ -z "$version" ] || die "more than one VERSION given: $version, $1"
            version="$1"; shift ;;
    esac
done

command -v python3 >/dev/null 2>&1 || die "python3 is required (it writes the zips)"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is required (coreutils)"

if [ -z "$version" ]; then
    # The first `version = "..."` of the [package] table.
    version="$(awk '
        /^\[/ { in_pkg = ($0 == "[package]") ; next }
        in_pkg && /^version[[:space:]]*=/ { gsub(/^version[[:space:]]*=[[:space:]]*"|".*$/, ""); print; exit }
    ' "$ROOT/Cargo.toml")"
    [ -n "$version" ] || die "cannot read the version from $ROOT/Cargo.toml"
fi
# Terraform wants semver without a leading v.
version="${version#v}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] \
    || die "VERSION must be semver like 1.2.3 or 1.2.3-beta.1, got '$version'"

if [ -z "$platform" ]; then
    case "$(uname -s)" in
        Linux) os=linux ;;
        Darwin) os=darwin ;;
        *) die "unsupported OS $(uname -s); pass --platform" ;;
    esac
    case "$(uname -m)" in
        x86_64|amd64) arch=amd64 ;;
        aarch64|arm64) arch=arm64 ;;
        i?86) arch=386 ;;
        armv7l|armv6l) arch=arm ;;
        *) die "unsupported machine $(uname -m); pass --platform" ;;
    esac
    platform="${os}_${arch}"
fi
[[ "$platform" =~ ^[a-z0-9]+_[a-z0-9]+$ ]] || die "--platform must look like linux_amd64, got '$platform'"

if [ -z "$bin_dir" ]; then
    bins=()
    for p in "${PROVIDERS[@]}"; do bins+=(--bin "terraform-provider-$p"); done
    log "cargo build --profile $profile ${bins[*]}"
    (cd "$ROOT" && cargo build --locked --profile "$profile" "${bins[@]}")
    target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
    case "$profile" in
        dev|test) bin_dir="$target_dir/debug" ;;
        bench) bin_dir="$target_dir/release" ;;
        *) bin_dir="$target_dir/$profile" ;;
    esac
fi
for p in "${PROVIDERS[@]}"; do
    [ -x "$bin_dir/terraform-provider-$p" ] || die "no executable $bin_dir/terraform-provider-$p"
done

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH="$(git -C "$ROOT" log -1 --format=%ct 2>/dev/null || true)"
    [ -n "$SOURCE_DATE_EPOCH" ] || SOURCE_DATE_EPOCH=315532800 # 1980-01-01, zip's epoch
fi
export SOURCE_DATE_EPOCH

mkdir -p "$out_dir"
out_dir="$(cd "$out_dir" && pwd)"

for p in "${PROVIDERS[@]}"; do
    base="terraform-provider-${p}_${version}"
    zip_name="${base}_${platform}.zip"
    manifest_name="${base}_manifest.json"
    sums_name="${base}_SHA256SUMS"
    rm -f "$out_dir/$zip_name" "$out_dir/$manifest_name" "$out_dir/$sums_name"

    log "$zip_name <- $bin_dir/terraform-provider-$p"
    python3 - "$bin_dir/terraform-provider-$p" "$out_dir/$zip_name.tmp" "terraform-provider-${p}_v${version}" <<'PY'
import os, sys, time, zipfile

src, dst, name = sys.argv[1:4]
# Zip timestamps are local-free DOS times from 1980 on; clamp to that range.
epoch = max(int(os.environ["SOURCE_DATE_EPOCH"]), 315532800)
info = zipfile.ZipInfo(name, date_time=time.gmtime(epoch)[:6])
info.create_system = 3  # Unix, so that the mode below is honoured when unpacking
info.external_attr = (0o100755 & 0xFFFF) << 16
info.compress_type = zipfile.ZIP_DEFLATED
with open(src, "rb") as f, zipfile.ZipFile(dst, "w") as z:
    with z.open(info, "w", force_zip64=False) as w:
        while chunk := f.read(1 << 20):
            w.write(chunk)
PY
    mv "$out_dir/$zip_name.tmp" "$out_dir/$zip_name"

    printf '{"version":1,"metadata":{"protocol_versions":["6.0"]}}\n' >"$out_dir/$manifest_name"

    # Every zip of this provider and version in the directory (other platforms packaged
    # earlier into the same --out stay listed), then the manifest; sorted like HashiCorp's.
    (
        cd "$out_dir"
        shopt -s nullglob
        files=("${base}"_*.zip "$manifest_name")
        mapfile -t files < <(printf '%s\n' "${files[@]}" | LC_ALL=C sort)
        sha256sum -- "${files[@]}" >"$sums_name.tmp"
        mv "$sums_name.tmp" "$sums_name"
    )
    printf '%s\n' "$out_dir/$zip_name" "$out_dir/$manifest_name" "$out_dir/$sums_name"
done
log "done: $out_dir (version $version, $platform)"
