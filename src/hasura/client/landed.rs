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
/// Export omits defaults (`false`, `[]`, `{}`, null), and may reorder lists
/// (graphql-engine `Hasura/RQL/Types/Metadata/Serialization.hs`). A comment
/// is kept as written, `""` included (`maybeCommentToMaybeOrdPair`).
fn same_entry(args: &PermArgs, entry: &Value) -> bool {
    let entry = PermArgs::deserialize(entry).unwrap_or_default();
    args.comment.0 == entry.comment.0 && normalize(&args.permission) == normalize(&entry.permission)
}

/// Lists exported as configured even when empty: `[]` exposes no root field,
/// absent exposes all (`ARFAllowConfiguredRootFields` in `selPermToOrdJSON`).
const KEPT_WHEN_EMPTY: [&str; 2] = ["query_root_fields", "subscription_root_fields"];

fn normalize(v: &Value) -> Value {
    let Some(o) = v.as_object() else {
        return v.clone();
    };
    let mut out = serde_json::Map::new();
    for (k, x) in o {
        let default = match x {
            Value::Null | Value::Bool(false) => true,
            Value::Array(a) => a.is_empty() && !KEPT_WHEN_EMPTY.contains(&k.as_str()),
            Value::Object(m) => m.is_empty() && k != "filter" && k != "check",
            _ => false,
        };
        if default {
            continue;
        }
        let x = match x.as_array() {
            _ if k == "validate_input" => validate_input_form(x),
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

/// `validate_input` as Hasura stores it: its `ToJSON` writes the parsed
/// defaults back out (`Hasura/RQL/Types/Permission.hs`,
/// `FromJSON (ValidateInputHttpDefinition webhook)`).
fn validate_input_form(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(def) = v.get_mut("definition").and_then(Value::as_object_mut) {
        for (k, d) in [
            ("headers", Value::Array(vec![])),
            ("timeout", Value::from(10)),
            ("forward_client_headers", Value::Bool(false)),
        ] {
            def.entry(k).or_insert(d);
        }
    }
    v
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
        // `[]` root fields expose nothing: not the same as leaving them out.
        let none =
            create(json!({"columns": ["id", "name"], "filter": {}, "query_root_fields": []}));
        assert!(!permission_landed(&x, std::slice::from_ref(&none)));
        let x_none = export(
            json!([{"role": "user", "permission": {"columns": ["id", "name"], "filter": {}, "query_root_fields": []}}]),
        );
        assert!(permission_landed(&x_none, std::slice::from_ref(&none)));
        assert!(!permission_landed(&x_none, std::slice::from_ref(&same)));
        // An empty comment is a comment.
        let mut commented = none.clone();
        commented["args"]["comment"] = json!("");
        assert!(!permission_landed(
            &x_none,
            std::slice::from_ref(&commented)
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
