#!/usr/bin/env bash
# Drift check for a Terraform working directory: does the real infrastructure still match
# the configuration and state?
#
#   drift-check.sh [-chdir=DIR] [PLAN_ARGS...]
#
# Runs `terraform plan -detailed-exitcode -refresh=true -input=false` in DIR (default: the
# current directory, which must already be initialised with `terraform init`), then:
#
#   exit 0  no drift: prints "No drift: ..."
#   exit 2  drift or pending changes: prints a short summary of which resources changed
#           outside of Terraform (the plan's `resource_drift`, where the core provides it)
#           and which resources would change, naming their top-level attributes only.
#           Values are never printed, sensitive or not; sensitive attributes are flagged
#           "(sensitive)". Terraform's own plan output is not shown (it holds values).
#   exit 1  error: prints Terraform's own output (its error) to stderr.
#
# PLAN_ARGS go to `terraform plan` as they are (e.g. -var-file=prod.tfvars -lock=false).
#
# Environment:
#   TERRAFORM           the terraform binary (default: terraform on PATH)
#   DRIFT_SUMMARY_FILE  if set, a Markdown report is appended to this file (e.g.
#                       "$GITHUB_STEP_SUMMARY" in GitHub Actions, or a pull-request
#                       comment): one row per drifted or changing attribute with its old
#                       and new value, sensitive values masked
#   DRIFT_JSON_FILE     if set, the same report as JSON is written to this file
#
# Standard output stays free of values (CI logs are often public); values go only to the
# report files, and never a sensitive one.
#
# Needs bash, python3 (standard library only) and terraform. The saved plan (which holds
# state, including secrets) lives in a private temp dir that is removed on exit.
set -uo pipefail

tf="${TERRAFORM:-terraform}"
export TF_IN_AUTOMATION=1 TF_INPUT=0

if [ $# -gt 0 ] && [[ "$1" == -chdir=* ]]; then
    dir="${1#-chdir=}"
    shift
    cd -- "$dir" || { echo "drift-check: cannot enter $dir" >&2; exit 1; }
fi
command -v python3 >/dev/null 2>&1 || { echo "drift-check: python3 is required" >&2; exit 1; }

tmp="$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/drift-check.XXXXXX")" \
    || { echo "drift-check: cannot create a temp dir" >&2; exit 1; }
trap 'rm -rf -- "$tmp"' EXIT

"$tf" plan -no-color -detailed-exitcode -refresh=true -input=false -out="$tmp/plan" "$@" \
    >"$tmp/plan.log" 2>&1
rc=$?

case "$rc" in
    0)
        msg="No drift: the infrastructure matches the configuration and state."
        echo "$msg"
        if [ -n "${DRIFT_SUMMARY_FILE:-}" ]; then printf '%s\n' "$msg" >>"$DRIFT_SUMMARY_FILE"; fi
        if [ -n "${DRIFT_JSON_FILE:-}" ]; then
            printf '{"drift_reported": true, "changes": []}\n' >"$DRIFT_JSON_FILE"
        fi
        exit 0
        ;;
    2) ;;
    *)
        {
            echo "drift-check: terraform plan failed (exit $rc); Terraform said:"
            cat "$tmp/plan.log"
        } >&2
        exit 1
        ;;
esac

if ! "$tf" show -no-color -json "$tmp/plan" >"$tmp/plan.json" 2>"$tmp/show.log"; then
    {
        echo "drift-check: terraform show -json failed; Terraform said:"
        cat "$tmp/show.log"
    } >&2
    exit 1
fi

if ! python3 - "$tmp/plan.json" "$tmp/report.md" "$tmp/report.json" >"$tmp/summary.txt" 2>"$tmp/summary.err" <<'PY'
"""Summarise `terraform show -json PLAN`: addresses, actions and top-level attribute names.

Never prints a value: only resource addresses, action words and attribute names from the
provider schema (top-level keys, so no map keys, which are data)."""
import json
import sys

with open(sys.argv[1], encoding="utf-8") as f:
    plan = json.load(f)


def has_true(x):
    """True if a before/after_sensitive or after_unknown marker says yes anywhere inside."""
    if x is True:
        return True
    if isinstance(x, dict):
        return any(has_true(v) for v in x.values())
    if isinstance(x, list):
        return any(has_true(v) for v in x)
    return False


def obj(x):
    return x if isinstance(x, dict) else {}


def changed_attrs(change):
    """Top-level attribute names whose value differs between before and after."""
    before, after = obj(change.get("before")), obj(change.get("after"))
    unknown = obj(change.get("after_unknown"))
    sens_b, sens_a = obj(change.get("before_sensitive")), obj(change.get("after_sensitive"))
    replace = {
        p[0] for p in (change.get("replace_paths") or []) if isinstance(p, list) and p and isinstance(p[0], str)
    }
    out = []
    for k in sorted(set(before) | set(after) | set(unknown)):
        is_unknown = has_true(unknown.get(k))
        if not is_unknown and before.get(k) == after.get(k):
            continue
        notes = []
        if has_true(sens_b.get(k)) or has_true(sens_a.get(k)):
            notes.append("sensitive")
        if is_unknown:
            notes.append("known after apply")
        if k in replace:
            notes.append("forces replacement")
        out.append(k + (" (" + ", ".join(notes) + ")" if notes else ""))
    return out


ACTIONS = {
    ("create",): "create",
    ("read",): "read (data source)",
    ("update",): "update in place",
    ("delete",): "destroy",
    ("delete", "create"): "replace (destroy, then create)",
    ("create", "delete"): "replace (create, then destroy)",
    ("forget",): "forget (remove from state)",
}


def action_word(actions):
    return ACTIONS.get(tuple(actions), "/".join(actions) or "unknown")


lines = []
drift = plan.get("resource_drift")
changes = [
    rc
    for rc in plan.get("resource_changes") or []
    if rc.get("change", {}).get("actions") not in (["no-op"], [])
]

if drift is None:
    lines.append("Changed outside of Terraform: not reported by this Terraform version "
                 "(see the planned changes below).")
elif drift:
    lines.append(f"Changed outside of Terraform ({len(drift)}):")
    for d in drift:
        ch = d.get("change", {})
        acts = ch.get("actions") or []
        if acts == ["delete"]:
            lines.append(f"  - {d.get('address')}: deleted outside of Terraform")
            continue
        attrs = changed_attrs(ch)
        lines.append(f"  ~ {d.get('address')}: " + (", ".join(attrs) if attrs else "changed"))
else:
    lines.append("Changed outside of Terraform: nothing.")

if changes:
    lines.append(f"Planned changes ({len(changes)}):")
    for rc in changes:
        ch = rc.get("change", {})
        acts = ch.get("actions") or []
        line = f"  {rc.get('address')}: {action_word(acts)}"
        if "update" in acts or ("delete" in acts and "create" in acts):
            attrs = changed_attrs(ch)
            if attrs:
                line += "; attributes: " + ", ".join(attrs)
        reason = rc.get("action_reason")
        if reason:
            line += f" [{reason}]"
        lines.append(line)
else:
    lines.append("Planned changes to resources: none.")

outputs = sorted(
    name
    for name, oc in (plan.get("output_changes") or {}).items()
    if (oc.get("actions") or ["no-op"]) != ["no-op"]
)
if outputs:
    lines.append("Root outputs that would change: " + ", ".join(outputs))

print("Drift detected: the plan is not empty.")
print("\n".join(lines))

# The report for people and machines: one row per attribute, old and new value.
MASK = "(sensitive)"


def shown(value, sensitive, unknown=False):
    if unknown:
        return "(known after apply)"
    if sensitive:
        return MASK
    return value


def rows(kind, address, change):
    before, after = obj(change.get("before")), obj(change.get("after"))
    unknown = obj(change.get("after_unknown"))
    sens_b, sens_a = obj(change.get("before_sensitive")), obj(change.get("after_sensitive"))
    acts = change.get("actions") or []
    out = []
    for k in sorted(set(before) | set(after) | set(unknown)):
        is_unknown = has_true(unknown.get(k))
        if not is_unknown and before.get(k) == after.get(k) and acts != ["delete"]:
            continue
        if acts == ["delete"] and before.get(k) is None:
            continue
        out.append({
            "kind": kind,
            "address": address,
            "action": action_word(acts) if kind == "planned" else ("deleted" if acts == ["delete"] else "changed"),
            "attribute": k,
            "old": shown(before.get(k), has_true(sens_b.get(k))),
            "new": None if acts == ["delete"] else shown(after.get(k), has_true(sens_a.get(k)), is_unknown),
            "sensitive": has_true(sens_b.get(k)) or has_true(sens_a.get(k)),
        })
    return out


report = []
for d in drift or []:
    report += rows("drift", d.get("address"), d.get("change", {}))
for rc in changes:
    report += rows("planned", rc.get("address"), rc.get("change", {}))


def cell(v, width=60):
    if v is None:
        return "—"
    text = v if isinstance(v, str) and v in (MASK, "(known after apply)") else json.dumps(v, sort_keys=True)
    if len(text) > width:
        text = text[: width - 1] + "…"
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


md = ["### Drift detected", "", "| | resource | attribute | old | new |", "| --- | --- | --- | --- | --- |"]
for r in report:
    what = f"{r['action']} outside Terraform" if r["kind"] == "drift" else r["action"]
    md.append(f"| {what} | `{r['address']}` | `{r['attribute']}` | {cell(r['old'])} | {cell(r['new'])} |")
if drift is None:
    md += ["", "_This Terraform version does not report changes made outside Terraform; the planned changes show them._"]
with open(sys.argv[2], "w", encoding="utf-8") as f:
    f.write("\n".join(md) + "\n")
with open(sys.argv[3], "w", encoding="utf-8") as f:
    json.dump({"drift_reported": drift is not None, "changes": report}, f, indent=2)
PY
then
    {
        echo "drift-check: cannot summarise the plan:"
        cat "$tmp/summary.err"
    } >&2
    exit 1
fi

cat "$tmp/summary.txt"
if [ -n "${DRIFT_SUMMARY_FILE:-}" ]; then cat "$tmp/report.md" >>"$DRIFT_SUMMARY_FILE"; fi
if [ -n "${DRIFT_JSON_FILE:-}" ]; then cp "$tmp/report.json" "$DRIFT_JSON_FILE"; fi
exit 2
