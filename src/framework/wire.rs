//! Between the protocol's messages and the framework: dynamic values in and
//! out, diagnostics with the paths Terraform can point at, client
//! capabilities.
use crate::plugin::cty::{self, AttrPath, Step, Type, Value};
use crate::plugin::proto::tfplugin6 as pb;

use super::diag::{Diagnostics, Severity};

pub(super) fn decode_dv(dv: &Option<pb::DynamicValue>, ty: &Type) -> Result<Value, Diagnostics> {
    let Some(dv) = dv else { return Ok(Value::Null) };
    if !dv.msgpack.is_empty() {
        return cty::decode(&dv.msgpack, ty)
            .map_err(|e| Diagnostics::error("Invalid value from Terraform", e.to_string()));
    }
    if !dv.json.is_empty() {
        let j: serde_json::Value = serde_json::from_slice(&dv.json)
            .map_err(|e| Diagnostics::error("Invalid JSON value from Terraform", e.to_string()))?;
        return cty::from_state_json(&j, ty)
            .map_err(|e| Diagnostics::error("Invalid JSON value from Terraform", e.to_string()));
    }
    Ok(Value::Null)
}

pub(super) fn encode_dv(v: &Value, ty: &Type) -> Option<pb::DynamicValue> {
    Some(pb::DynamicValue {
        msgpack: cty::encode(v, ty),
        json: Vec::new(),
    })
}

pub(super) fn to_pb_diags(d: Diagnostics) -> Vec<pb::Diagnostic> {
    d.0.into_iter()
        .map(|d| pb::Diagnostic {
            severity: match d.severity {
                Severity::Error => pb::diagnostic::Severity::Error,
                Severity::Warning => pb::diagnostic::Severity::Warning,
            } as i32,
            summary: d.summary,
            detail: d.detail,
            attribute: d.path.map(|p| path_to_pb(locatable(p))),
        })
        .collect()
}

/// The part of a diagnostic's path Terraform can point at in the source.
/// Core walks a path through blocks only, and these schemas have none: past
/// a nested attribute (`request_transform.url`, `columns[2].name`) it gives
/// up and points at the whole resource block. Cut there, the diagnostic
/// points at the attribute, or at the list element or map entry named next;
/// the detail names the full path.
fn locatable(mut p: AttrPath) -> AttrPath {
    let keep = match p.0.get(1) {
        Some(Step::Index(_) | Step::Key(_)) => 2,
        _ => 1,
    };
    p.0.truncate(keep);
    p
}

pub(super) fn path_to_pb(p: AttrPath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: p
            .0
            .into_iter()
            .map(|s| pb::attribute_path::Step {
                selector: Some(match s {
                    Step::Attr(a) => Selector::AttributeName(a),
                    Step::Key(k) => Selector::ElementKeyString(k),
                    Step::Index(i) => Selector::ElementKeyInt(i),
                }),
            })
            .collect(),
    }
}

/// Whether the core keeps write-only values out of state (Terraform 1.11+).
pub(super) fn write_only_allowed(caps: &Option<pb::ClientCapabilities>) -> bool {
    caps.as_ref()
        .is_some_and(|c| c.write_only_attributes_allowed)
}
