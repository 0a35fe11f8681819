//! What an export shows of a permission write: the default landed check of
//! [`Engine::write`](super::Engine::write), which tells a write whose answer
//! was lost (or that lost a `resource_version` race) from one still to make.
use serde::Deserialize;
use serde_json::Value;

use super::lenient::Lenient;
use super::metadata::{Export, TableName};

/// A metadata command as the callers build it.
#[derive(Deserialize)]
struct Command {
    #[serde(rename = "type")]
    typ: String,
    #[serde(default)]
    args: Lenient<PermArgs>,
}

/// A permission command's args, and (`permission`, `comment`) an exported
/// permission entry.
#[derive(Default, Deserialize)]
#[serde(default)]
struct PermArgs {
    source: Lenient<String>,
    table: Lenient<TableName>,
    role: Lenient<String>,
    /// The user's own JSON.
    permission: Value,
    comment: Lenient<String>,
}

type PermKey = (String, String, String, String, String);

/// Whether the export already shows the effect of these permission commands
/// (an identical entry for a create, none for a drop). Other commands: false.
pub fn permission_landed(export: &Export, cmds: &[Value]) -> bool {
    let mut want: Vec<(PermKey, Option<PermArgs>)> = Vec::new();
    for c in cmds {
        let Ok(Command { typ, args }) = Command::deserialize(c) else {
            return false;
        };
        let mut args = args.0.unwrap_or_default();
        let (create, action) = match typ
            .strip_suffix("_permission")
            .and_then(|t| t.strip_prefix("pg_"))
        {
            Some(t) => match (t.strip_prefix("create_"), t.strip_prefix("drop_")) {
                (Some(a), _) => (true, a),
                (_, Some(a)) => (false, a),
                _ => return false,
            },
            None => return false,
        };
        let (schema, table) = args.table.0.take().unwrap_or_default().parts();
        let key = (
            args.source.0.clone().unwrap_or_else(|| "default".into()),
            schema,
            table,
            args.role.0.clone().unwrap_or_default(),
            action.to_string(),
        );
        want.retain(|(k, _)| *k != key);
        want.push((key, create.then_some(args)));
    }
    want.iter().all(|((src, sch, tbl, role, act), w)| {
        match (w, export.permission(src, sch, tbl, role, act)) {
            (None, None) => true,
            (Some(args), Some(entry)) => same_entry(args, entry),
            _ => false,
        }
    })
}

/// A create's args and an exported entry describe the same permission.
/// Export omits defaults (`false`, `[]`, `{}`, null), and may reorder lists.
fn same_entry(args: &PermArgs, entry: &Value) -> bool {
    let entry = PermArgs::deserialize(entry).unwrap_or_default();
    let text = |v: &PermArgs| v.comment.0.clone().filter(|s| !s.is_empty());
    text(args) == text(&entry) && normalize(&args.permission) == normalize(&entry.permission)
}

fn normalize(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, x) in o {
        let default = match x {
            Value::Null | Value::Bool(false) => true,
            Value::Array(a) => a.is_empty(),
            Value::Object(m) => m.is_empty() && k != "filter" && k != "check",
            _ => false,
        };
        if default {
            continue;
        }
        let x = match x.as_array() {
            Some(a) if a.iter().all(Value::is_string) => {
                let mut s: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
                s.sort_unstable();
                Value::from(s)
            }
            _ => x.clone(),
        };
        out.insert(k.clone(), x);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn export(perms: Value) -> Export {
        Export::new(
            1,
            json!({"sources": [{"name": "default", "tables": [
                {"table": {"schema": "public", "name": "users"}, "select_permissions": perms}
            ]}]}),
        )
    }

    fn create(perm: Value) -> Value {
        json!({"type": "pg_create_select_permission", "args": {
            "source": "default", "table": {"schema": "public", "name": "users"},
            "role": "user", "permission": perm}})
    }

    fn drop() -> Value {
        json!({"type": "pg_drop_select_permission", "args": {
            "source": "default", "table": {"schema": "public", "name": "users"}, "role": "user"}})
    }

    #[test]
    fn landed_reads_export_rules() {
        let x = export(
            json!([{"role": "user", "permission": {"columns": ["name", "id"], "filter": {}}}]),
        );
        // Defaults omitted on export, lists reordered: still the same permission.
        let same = create(
            json!({"columns": ["id", "name"], "filter": {}, "allow_aggregations": false, "computed_fields": []}),
        );
        assert!(permission_landed(&x, std::slice::from_ref(&same)));
        assert!(permission_landed(&x, &[drop(), same.clone()]));
        assert!(!permission_landed(&x, &[drop()]));
        assert!(!permission_landed(
            &x,
            &[create(json!({"columns": ["id"], "filter": {}}))]
        ));
        let empty = export(json!([]));
        assert!(permission_landed(&empty, &[drop()]));
        assert!(!permission_landed(&empty, std::slice::from_ref(&same)));
        assert!(!permission_landed(
            &x,
            &[json!({"type": "pg_track_table", "args": {}})]
        ));
    }
}
