//! Selection sets to SQL, through relationships: an object relationship is a nested
//! object (or null), an array relationship a list, each read with the remote table's
//! select permission for the role applied at that level (row filter, columns, limit), as
//! graphql-engine's schema exposes a relationship field only to a role that may select
//! from its remote table (`Hasura/GraphQL/Schema/Select.hs`, `relationshipField`: no
//! select permission on the remote table, no field) and filters it with that permission
//! (`Hasura/RQL/IR/Select.hs`, `AnnObjectSelect`/`AnnRelationSelect` carrying the remote
//! table's permission).
use serde_json::Value;

use super::auth::{Role, Session};
use super::boolexp::{BoolExp, Source};
use super::relations::Relation;
use super::schema::{Column, Schema, Table};
use super::sql::{ident, qualified, Params};
use super::GqlErr;
use crate::graphql_parse::Sel;
use crate::permissions::{PermType, Permission};
use crate::relationships::RelKind;

/// Relationship nesting deeper than this is refused rather than generating a statement
/// PostgreSQL would take long to plan.
const MAX_DEPTH: usize = 16;

/// What every level of a selection needs: the schema and who asks.
#[derive(Clone, Copy)]
pub struct Nest<'a> {
    pub schema: &'a Schema,
    pub session: &'a Session,
}

impl<'a> Nest<'a> {
    /// A role's view of `t` through a relationship: only with a select permission.
    pub fn readable(&self, t: &Table) -> bool {
        match &self.session.role {
            Role::Admin => true,
            // Resolved, so an inherited role reads through its parents' permissions.
            Role::Named(_) => t.perm(self.session, PermType::Select).is_some(),
        }
    }

    /// Bool expressions of a permission over `t`'s row `alias`.
    fn permission_exp(&self, t: &'a Table, alias: &'a str) -> BoolExp<'a> {
        BoolExp {
            schema: self.schema,
            session: self.session,
            table: t,
            alias,
            source: Source::Permission(self.session),
        }
    }

    /// The select permission's row filter of `t` over `alias` (admin: none).
    pub fn select_filter(&self, t: &Table, alias: &str, p: &mut Params) -> Result<String, GqlErr> {
        match t.perm(self.session, PermType::Select) {
            Some(Permission::Select { filter, .. }) => BoolExp {
                schema: self.schema,
                session: self.session,
                table: t,
                alias,
                source: Source::Permission(self.session),
            }
            .compile(filter, "$", p),
            _ => Ok("true".into()),
        }
    }

    fn perm_limit(&self, t: &Table) -> Option<i64> {
        match t.perm(self.session, PermType::Select) {
            Some(Permission::Select { limit, .. }) => *limit,
            _ => None,
        }
    }

    /// `json_build_object(...)` for a selection of `t`'s row `alias`.
    pub fn row_object(
        &self,
        t: &Table,
        alias: &str,
        sels: &[Sel],
        path: &str,
        p: &mut Params,
        depth: usize,
    ) -> Result<String, GqlErr> {
        let type_name = &t.type_name;
        if sels.is_empty() {
            return Err(GqlErr::validation(
                path,
                format!("missing selection set for '{type_name}'"),
            ));
        }
        let visible = t.selectable(self.session);
        let mut pieces = Vec::new();
        for s in sels {
            let key = p.text(Some(s.key.clone()));
            let fpath = format!("{path}.selectionSet.{}", s.name);
            if s.name == "__typename" {
                pieces.push(format!("{key}, {}", p.text(Some(type_name.clone()))));
                continue;
            }
            if let Some(c) = visible.iter().find(|c| c.field == s.name) {
                column_leaf(c, s, &fpath)?;
                let mut value = format!("{}.{}", ident(alias), ident(&c.name));
                // An inherited role sees a value only where a parent granting it does.
                if let Some(f) = t.cell_filter(self.session, &c.name) {
                    let cond = self.permission_exp(t, alias).compile(&f, "$", p)?;
                    value = format!("CASE WHEN {cond} THEN {value} END");
                }
                pieces.push(format!("{key}, {value}"));
                continue;
            }
            if let Some(cf) = t.computed_visible(self.session, &s.name) {
                let call = super::roles::call(cf, t, alias, self.session, p, &fpath)?;
                pieces.push(format!("{key}, {call}"));
                continue;
            }
            // A scalar computed field the role may not select is simply not there.
            let hidden_computed = t
                .computed
                .iter()
                .any(|c| c.field.name == s.name && c.returns_table.is_none());
            match self.schema.relation(t, &s.name) {
                Some((rel, remote)) if self.readable(remote) => {
                    if depth >= MAX_DEPTH {
                        return Err(GqlErr::unsupported(
                            fpath,
                            format!("relationships nested more than {MAX_DEPTH} levels deep"),
                        ));
                    }
                    let sub = self.relationship(rel, remote, alias, s, &fpath, p, depth + 1)?;
                    pieces.push(format!("{key}, {sub}"));
                }
                _ if !hidden_computed
                    && t.meta.relationship_like_names().contains(&s.name)
                    && self.schema.relation(t, &s.name).is_none() =>
                {
                    return Err(GqlErr::unsupported(
                        fpath,
                        format!("computed or remote field '{}'", s.name),
                    ))
                }
                _ => {
                    return Err(GqlErr::field_not_found(
                        &format!("{path}.selectionSet"),
                        &s.name,
                        type_name,
                    ))
                }
            }
        }
        // json_build_object takes at most 100 arguments.
        if pieces.len() > 50 {
            return Err(GqlErr::unsupported(
                path,
                "selecting more than 50 fields of one object",
            ));
        }
        Ok(format!("json_build_object({})", pieces.join(", ")))
    }

    /// The join condition of `rel` between the parent row and the remote row.
    pub fn join(rel: &Relation, parent: &str, remote: &str) -> String {
        let eqs: Vec<String> = rel
            .mapping
            .iter()
            .map(|(l, r)| {
                format!(
                    "{}.{} = {}.{}",
                    ident(remote),
                    ident(r),
                    ident(parent),
                    ident(l)
                )
            })
            .collect();
        if eqs.is_empty() {
            "true".into()
        } else {
            format!("({})", eqs.join(" AND "))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn relationship(
        &self,
        rel: &Relation,
        remote: &Table,
        parent: &str,
        s: &Sel,
        path: &str,
        p: &mut Params,
        depth: usize,
    ) -> Result<String, GqlErr> {
        let a = p.alias();
        let join = Self::join(rel, parent, &a);
        let filter = self.select_filter(remote, &a, p)?;
        let from = qualified(&remote.qt.schema, &remote.qt.name);
        match rel.kind {
            RelKind::Object => {
                if let Some(k) = s.args.keys().next() {
                    return Err(GqlErr::validation(
                        path,
                        format!("'{}' has no argument named '{k}'", s.name),
                    ));
                }
                let obj = self.row_object(remote, &a, &s.children, path, p, depth)?;
                Ok(format!(
                    "(SELECT {obj} FROM {from} AS {} WHERE {join} AND {filter} LIMIT 1)",
                    ident(&a)
                ))
            }
            RelKind::Array => {
                let allowed = ["where", "limit", "offset", "order_by", "distinct_on"];
                if let Some(k) = s.args.keys().find(|k| !allowed.contains(&k.as_str())) {
                    return Err(GqlErr::validation(
                        path,
                        format!("'{}' has no argument named '{k}'", s.name),
                    ));
                }
                let arg = |k: &str| s.args.get(k).filter(|v| !v.is_null());
                let arg_path = |k: &str| format!("{path}.args.{k}");
                if arg("distinct_on").is_some() {
                    return Err(GqlErr::unsupported(arg_path("distinct_on"), "distinct_on"));
                }
                let user = match arg("where") {
                    None => "true".to_string(),
                    Some(w) => BoolExp {
                        schema: self.schema,
                        session: self.session,
                        table: remote,
                        alias: &a,
                        source: Source::Input(remote.selectable(self.session)),
                    }
                    .compile(w, &arg_path("where"), p)?,
                };
                let visible = remote.selectable(self.session);
                let order = order_by(remote, &visible, &a, arg("order_by"), &arg_path("order_by"))?;
                let order_sql = if order.is_empty() {
                    String::new()
                } else {
                    format!(" ORDER BY {}", order.join(", "))
                };
                let limit = match (
                    non_negative(arg("limit"), &arg_path("limit"))?,
                    self.perm_limit(remote),
                ) {
                    (Some(x), Some(y)) => Some(x.min(y)),
                    (x, y) => x.or(y),
                };
                let offset = non_negative(arg("offset"), &arg_path("offset"))?;
                let mut inner = format!(
                    "SELECT * FROM {from} AS {} WHERE {join} AND {filter} AND {user}{order_sql}",
                    ident(&a)
                );
                if let Some(l) = limit {
                    inner.push_str(&format!(
                        " LIMIT {}",
                        p.typed(Some(l.to_string()), "bigint")
                    ));
                }
                if let Some(o) = offset {
                    inner.push_str(&format!(
                        " OFFSET {}",
                        p.typed(Some(o.to_string()), "bigint")
                    ));
                }
                let obj = self.row_object(remote, &a, &s.children, path, p, depth)?;
                Ok(format!(
                    "(SELECT coalesce(json_agg({obj}{order_sql}), '[]'::json) FROM ({inner}) AS {})",
                    ident(&a)
                ))
            }
        }
    }
}

/// A column field takes no arguments and no selection.
fn column_leaf(c: &Column, s: &Sel, path: &str) -> Result<(), GqlErr> {
    if !s.args.is_empty() {
        return Err(GqlErr::unsupported(
            path,
            format!("arguments on column field '{}'", s.name),
        ));
    }
    if !s.children.is_empty() {
        return Err(GqlErr::validation(
            path,
            format!(
                "field '{}' must not have a selection since type '{}' has no subfields",
                s.name, c.scalar
            ),
        ));
    }
    Ok(())
}

pub fn non_negative(v: Option<&Value>, path: &str) -> Result<Option<i64>, GqlErr> {
    let k = path.rsplit('.').next().unwrap_or(path);
    match v {
        None => Ok(None),
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => Ok(n.as_i64()),
        Some(_) => Err(GqlErr::validation(
            path,
            format!("expected a non-negative integer for '{k}'"),
        )),
    }
}

/// `order_by` over the role's visible columns of `t`, on row `alias`.
pub fn order_by(
    t: &Table,
    visible: &[&Column],
    alias: &str,
    ob: Option<&Value>,
    path: &str,
) -> Result<Vec<String>, GqlErr> {
    let Some(ob) = ob else {
        return Ok(vec![]);
    };
    let items: Vec<&Value> = match ob {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let type_name = format!("{}_order_by", t.type_name);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        let Value::Object(m) = item else {
            return Err(GqlErr::validation(
                &ipath,
                format!("expected an object for type '{type_name}'"),
            ));
        };
        for (field, dir) in m {
            let Some(c) = visible.iter().find(|c| &c.field == field) else {
                return Err(GqlErr::field_not_found(&ipath, field, &type_name));
            };
            out.push(format!(
                "{}.{} {}",
                ident(alias),
                ident(&c.name),
                direction(dir, &format!("{ipath}.{field}"))?
            ));
        }
    }
    Ok(out)
}

/// Hasura's asc is nulls last, desc nulls first (PostgreSQL's defaults).
fn direction(dir: &Value, path: &str) -> Result<&'static str, GqlErr> {
    Ok(match dir.as_str() {
        Some("asc") | Some("asc_nulls_last") => "ASC NULLS LAST",
        Some("asc_nulls_first") => "ASC NULLS FIRST",
        Some("desc") | Some("desc_nulls_first") => "DESC NULLS FIRST",
        Some("desc_nulls_last") => "DESC NULLS LAST",
        _ => {
            return Err(GqlErr::validation(
                path,
                format!(
                    "expected one of the values ['asc', 'asc_nulls_first', 'asc_nulls_last', 'desc', 'desc_nulls_first', 'desc_nulls_last'] for type 'order_by', but found {dir}"
                ),
            ))
        }
    })
}
