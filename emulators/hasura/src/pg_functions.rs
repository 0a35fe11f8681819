//! The SQL functions of the database as computed fields need them: volatility,
//! return type and input arguments (what graphql-engine's
//! `server/src-rsr/function_info.sql` introspection reads from `pg_proc`).
use std::collections::HashMap;

use serde_json::Value;
use tokio_postgres::GenericClient;

/// A PostgreSQL type as a function signature names it.
#[derive(Debug, Clone, PartialEq)]
pub struct PgType {
    pub schema: String,
    pub name: String,
    /// `pg_type.typtype`: `b` base, `c` composite, `d` domain, `e` enum, `p` pseudo...
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct FunctionInfo {
    /// `pg_proc.provolatile`: `i`, `s` or `v`.
    pub volatility: String,
    pub returns_set: bool,
    pub returns: PgType,
    /// Input arguments in order (`IN`, `INOUT`, `VARIADIC`).
    pub args: Vec<(Option<String>, PgType)>,
}

pub type Functions = HashMap<(String, String), Vec<FunctionInfo>>;

/// Every user function of the database, by schema and name (overloads together).
pub async fn load_functions(db: &impl GenericClient) -> Result<Functions, tokio_postgres::Error> {
    let rows = db
        .query(
            "SELECT n.nspname::text, p.proname::text, p.provolatile::text, p.proretset,
                    rn.nspname::text, rt.typname::text, rt.typtype::text,
                    p.proargmodes::text[], p.proargnames::text[],
                    (SELECT coalesce(json_agg(json_build_array(tn.nspname, t.typname, t.typtype::text)
                                              ORDER BY a.i), '[]'::json)
                       FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS a(oid, i)
                       JOIN pg_catalog.pg_type t ON t.oid = a.oid
                       JOIN pg_catalog.pg_namespace tn ON tn.oid = t.typnamespace)
               FROM pg_catalog.pg_proc p
               JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
               JOIN pg_catalog.pg_type rt ON rt.oid = p.prorettype
               JOIN pg_catalog.pg_namespace rn ON rn.oid = rt.typnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'hdb_catalog')
                AND n.nspname NOT LIKE 'pg\\_%'
                AND p.prokind = 'f'",
            &[],
        )
        .await?;
    let mut out: Functions = HashMap::new();
    for r in rows {
        let modes: Option<Vec<String>> = r.get(7);
        let names: Option<Vec<String>> = r.get(8);
        let types: Value = r.get(9);
        // Names cover every argument when there are modes, the inputs otherwise.
        let input_names: Vec<Option<String>> = match (&modes, &names) {
            (Some(modes), Some(names)) => modes
                .iter()
                .zip(names)
                .filter(|(m, _)| matches!(m.as_str(), "i" | "b" | "v"))
                .map(|(_, n)| Some(n.clone()).filter(|n| !n.is_empty()))
                .collect(),
            (None, Some(names)) => names
                .iter()
                .map(|n| Some(n.clone()).filter(|n| !n.is_empty()))
                .collect(),
            (_, None) => vec![],
        };
        let args = types
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
            .map(|(i, t)| {
                let s = |j: usize| t[j].as_str().unwrap_or_default().to_string();
                let ty = PgType {
                    schema: s(0),
                    name: s(1),
                    kind: s(2),
                };
                (input_names.get(i).cloned().flatten(), ty)
            })
            .collect();
        out.entry((r.get(0), r.get(1)))
            .or_default()
            .push(FunctionInfo {
                volatility: r.get(2),
                returns_set: r.get(3),
                returns: PgType {
                    schema: r.get(4),
                    name: r.get(5),
                    kind: r.get(6),
                },
                args,
            });
    }
    Ok(out)
}
