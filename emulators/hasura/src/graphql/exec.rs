//! Root fields to SQL: select, insert, insert_one and update, each one statement whose
//! result PostgreSQL already renders as JSON (`json_build_object`/`json_agg`), so values
//! come back typed as Hasura returns them (numbers, booleans, ISO timestamps, JSON).

use serde_json::{json, Map, Value};
use tokio_postgres::Transaction;

use super::auth::Session;
use super::boolexp::{session_or_literal, BoolExp, Source};
use super::schema::{Column, RootKind, Schema, Table};
use super::sql::{ident, input_text, qualified, Params};
use super::GqlErr;
use crate::graphql_parse::{OpKind, Operation, Sel};
use crate::permissions::{ColumnSpec, PermType, Permission};

/// Alias of the row in every generated statement.
const ROW: &str = "_t";

pub async fn run(
    tx: &Transaction<'_>,
    schema: &Schema,
    session: &Session,
    op: &Operation,
) -> Result<Value, GqlErr> {
    let mutation = op.kind == OpKind::Mutation;
    let root_type = if mutation {
        "mutation_root"
    } else {
        "query_root"
    };
    let mut data = Map::new();
    for f in &op.fields {
        let path = format!("$.selectionSet.{}", f.name);
        let value = match f.name.as_str() {
            "__typename" => json!(root_type),
            "__schema" | "__type" => return Err(GqlErr::unsupported(&path, "introspection")),
            name => {
                let Some((t, kind)) = schema
                    .root(name)
                    .filter(|(t, k)| k.is_mutation() == mutation && t.exposes(session, *k))
                else {
                    return Err(GqlErr::field_not_found("$.selectionSet", name, root_type));
                };
                let call = Call {
                    tx,
                    t,
                    session,
                    name,
                    args: &f.args,
                    children: &f.children,
                    path: &path,
                };
                match kind {
                    RootKind::Select => call.select().await?,
                    RootKind::Insert => call.insert(false).await?,
                    RootKind::InsertOne => call.insert(true).await?,
                    RootKind::Update => call.update().await?,
                    _ => return Err(GqlErr::unsupported(&path, format!("root field '{name}'"))),
                }
            }
        };
        data.insert(f.key.clone(), value);
    }
    Ok(Value::Object(data))
}

struct Call<'a> {
    tx: &'a Transaction<'a>,
    t: &'a Table,
    session: &'a Session,
    name: &'a str,
    args: &'a Map<String, Value>,
    children: &'a [Sel],
    path: &'a str,
}

fn check_failed() -> GqlErr {
    GqlErr::new(
        "permission-error",
        "$",
        "check constraint of an insert/update permission has failed",
    )
}

impl Call<'_> {
    fn check_args(&self, allowed: &[&str]) -> Result<(), GqlErr> {
        match self.args.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(GqlErr::validation(
                self.path,
                format!("'{}' has no argument named '{k}'", self.name),
            )),
            None => Ok(()),
        }
    }

    fn arg(&self, k: &str) -> Option<&Value> {
        self.args.get(k).filter(|v| !v.is_null())
    }

    fn arg_path(&self, k: &str) -> String {
        format!("{}.args.{k}", self.path)
    }

    fn perm(&self, t: PermType) -> Option<&Permission> {
        self.t.perm(self.session, t)
    }

    fn permission_exp(&self) -> BoolExp<'_> {
        BoolExp {
            table: self.t,
            alias: ROW,
            source: Source::Permission(self.session),
        }
    }

    /// The select permission's filter (admin: none) over `ROW`.
    fn select_filter(&self, p: &mut Params) -> Result<String, GqlErr> {
        match self.perm(PermType::Select) {
            Some(Permission::Select { filter, .. }) => {
                self.permission_exp().compile(filter, "$", p)
            }
            _ => Ok("true".into()),
        }
    }

    /// The user's `where`, restricted to the role's selectable columns.
    fn user_where(&self, p: &mut Params) -> Result<String, GqlErr> {
        match self.arg("where") {
            None => Ok("true".into()),
            Some(w) => BoolExp {
                table: self.t,
                alias: ROW,
                source: Source::Input(self.t.selectable(self.session)),
            }
            .compile(w, &self.arg_path("where"), p),
        }
    }

    /// `json_build_object(...)` over `ROW` for a selection of the table's columns.
    fn row_object(&self, sels: &[Sel], path: &str, p: &mut Params) -> Result<String, GqlErr> {
        let type_name = &self.t.type_name;
        if sels.is_empty() {
            return Err(GqlErr::validation(
                path,
                format!("missing selection set for '{type_name}'"),
            ));
        }
        let visible = self.t.selectable(self.session);
        let mut pieces = Vec::new();
        for s in sels {
            let key = p.text(Some(s.key.clone()));
            if s.name == "__typename" {
                pieces.push(format!("{key}, {}", p.text(Some(type_name.clone()))));
                continue;
            }
            let Some(c) = visible.iter().find(|c| c.field == s.name) else {
                if let Some(cf) = self.t.computed_visible(self.session, &s.name) {
                    let fpath = format!("{path}.selectionSet.{}", s.name);
                    let call = super::roles::call(cf, self.t, ROW, self.session, p, &fpath)?;
                    pieces.push(format!("{key}, {call}"));
                    continue;
                }
                // A scalar computed field the role may not select is simply not there.
                let scalar_cf = self
                    .t
                    .computed
                    .iter()
                    .any(|c| c.field.name == s.name && c.returns_table.is_none());
                if !scalar_cf && self.t.meta.relationship_like_names().contains(&s.name) {
                    return Err(GqlErr::unsupported(
                        format!("{path}.selectionSet.{}", s.name),
                        format!("relationship or computed field '{}'", s.name),
                    ));
                }
                return Err(GqlErr::field_not_found(
                    &format!("{path}.selectionSet"),
                    &s.name,
                    type_name,
                ));
            };
            let fpath = format!("{path}.selectionSet.{}", s.name);
            if !s.args.is_empty() {
                return Err(GqlErr::unsupported(
                    fpath,
                    format!("arguments on column field '{}'", s.name),
                ));
            }
            if !s.children.is_empty() {
                return Err(GqlErr::validation(
                    fpath,
                    format!(
                        "field '{}' must not have a selection since type '{}' has no subfields",
                        s.name, c.scalar
                    ),
                ));
            }
            let mut value = format!("{}.{}", ident(ROW), ident(&c.name));
            // An inherited role sees a value only where a parent granting it does.
            if let Some(f) = self.t.cell_filter(self.session, &c.name) {
                let cond = self.permission_exp().compile(&f, "$", p)?;
                value = format!("CASE WHEN {cond} THEN {value} END");
            }
            pieces.push(format!("{key}, {value}"));
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

    fn order_by(&self) -> Result<Vec<String>, GqlErr> {
        let Some(ob) = self.arg("order_by") else {
            return Ok(vec![]);
        };
        let path = self.arg_path("order_by");
        let items: Vec<&Value> = match ob {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let visible = self.t.selectable(self.session);
        let type_name = format!("{}_order_by", self.t.type_name);
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
                let dir_sql = match dir.as_str() {
                    // Hasura's asc is nulls last, desc nulls first (PostgreSQL's defaults).
                    Some("asc") | Some("asc_nulls_last") => "ASC NULLS LAST",
                    Some("asc_nulls_first") => "ASC NULLS FIRST",
                    Some("desc") | Some("desc_nulls_first") => "DESC NULLS FIRST",
                    Some("desc_nulls_last") => "DESC NULLS LAST",
                    _ => {
                        return Err(GqlErr::validation(
                            format!("{ipath}.{field}"),
                            format!(
                                "expected one of the values ['asc', 'asc_nulls_first', 'asc_nulls_last', 'desc', 'desc_nulls_first', 'desc_nulls_last'] for type 'order_by', but found {dir}"
                            ),
                        ))
                    }
                };
                out.push(format!("{}.{} {dir_sql}", ident(ROW), ident(&c.name)));
            }
        }
        Ok(out)
    }

    fn non_negative(&self, k: &str) -> Result<Option<i64>, GqlErr> {
        match self.arg(k) {
            None => Ok(None),
            Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n >= 0) => Ok(n.as_i64()),
            Some(_) => Err(GqlErr::validation(
                self.arg_path(k),
                format!("expected a non-negative integer for '{k}'"),
            )),
        }
    }

    async fn select(&self) -> Result<Value, GqlErr> {
        self.check_args(&["where", "limit", "offset", "order_by", "distinct_on"])?;
        if self.arg("distinct_on").is_some() {
            return Err(GqlErr::unsupported(
                self.arg_path("distinct_on"),
                "distinct_on",
            ));
        }
        let mut p = Params::default();
        let filter = self.select_filter(&mut p)?;
        let user = self.user_where(&mut p)?;
        let order = self.order_by()?;
        let perm_limit = match self.perm(PermType::Select) {
            Some(Permission::Select { limit, .. }) => *limit,
            _ => None,
        };
        let limit = match (self.non_negative("limit")?, perm_limit) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let offset = self.non_negative("offset")?;
        let obj = self.row_object(self.children, self.path, &mut p)?;
        let order_sql = if order.is_empty() {
            String::new()
        } else {
            format!(" ORDER BY {}", order.join(", "))
        };
        let mut inner = format!(
            "SELECT * FROM {} AS {row} WHERE {filter} AND {user}{order_sql}",
            qualified(&self.t.qt.schema, &self.t.qt.name),
            row = ident(ROW),
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
        // The aggregate repeats the ORDER BY: a subquery's order is not guaranteed to
        // survive into json_agg otherwise.
        let sql = format!(
            "SELECT coalesce(json_agg({obj}{order_sql}), '[]'::json) FROM ({inner}) AS {}",
            ident(ROW)
        );
        let row = self.tx.query_one(&sql, &p.refs()).await?;
        Ok(row.get::<_, Value>(0))
    }

    /// Columns the role may write (admin: all), minus those a preset fills.
    fn writable(
        &self,
        spec: Option<&ColumnSpec>,
        presets: &[(String, Option<String>)],
    ) -> Vec<&Column> {
        let base = match spec {
            Some(s) if self.session.role != super::auth::Role::Admin => self.t.pick(s),
            _ => self.t.columns.iter().collect(),
        };
        base.into_iter()
            .filter(|c| !presets.iter().any(|(n, _)| n == &c.name))
            .collect()
    }

    fn presets(
        &self,
        set: &Option<Map<String, Value>>,
    ) -> Result<Vec<(String, Option<String>)>, GqlErr> {
        let mut out = Vec::new();
        for (col, v) in set.iter().flatten() {
            out.push((col.clone(), session_or_literal(v, self.session, "$")?));
        }
        Ok(out)
    }

    /// The pieces of a mutation response (`affected_rows`, `returning`, `__typename`),
    /// given SQL over `cte` for the returned rows; extra select-list items are appended
    /// to `select` and read back by index.
    fn response_items(
        &self,
        cte: &str,
        select: &mut Vec<String>,
        p: &mut Params,
    ) -> Result<Vec<(String, Item)>, GqlErr> {
        let resp_type = format!("{}_mutation_response", self.t.type_name);
        let mut items = Vec::new();
        for s in self.children {
            let spath = format!("{}.selectionSet.{}", self.path, s.name);
            let item = match s.name.as_str() {
                "__typename" => Item::Literal(json!(resp_type)),
                "affected_rows" => Item::Affected,
                "returning" if self.t.exposes(self.session, RootKind::Select) => {
                    let obj = self.row_object(&s.children, &spath, p)?;
                    let filter = self.select_filter(p)?;
                    select.push(format!(
                        "(SELECT coalesce(json_agg({obj}), '[]'::json) FROM {} AS {} WHERE {filter})",
                        ident(cte),
                        ident(ROW)
                    ));
                    Item::Column(select.len() - 1)
                }
                other => {
                    return Err(GqlErr::field_not_found(
                        &format!("{}.selectionSet", self.path),
                        other,
                        &resp_type,
                    ))
                }
            };
            items.push((s.key.clone(), item));
        }
        Ok(items)
    }

    /// Runs `WITH cte AS (dml) SELECT count, check, extras...`; fails (and so rolls
    /// back the request's transaction) when the permission check is violated.
    async fn run_dml(
        &self,
        cte: &str,
        dml: &str,
        check: &str,
        extras: &[String],
        p: &Params,
    ) -> Result<tokio_postgres::Row, GqlErr> {
        let mut list = vec![
            format!("(SELECT count(*) FROM {})", ident(cte)),
            format!(
                "(SELECT coalesce(bool_and({check}), true) FROM {} AS {})",
                ident(cte),
                ident(ROW)
            ),
        ];
        list.extend(extras.iter().cloned());
        let sql = format!(
            "WITH {} AS ({dml} RETURNING *) SELECT {}",
            ident(cte),
            list.join(", ")
        );
        let row = self.tx.query_one(&sql, &p.refs()).await?;
        if !row.get::<_, bool>(1) {
            return Err(check_failed());
        }
        Ok(row)
    }

    fn assemble(items: Vec<(String, Item)>, row: &tokio_postgres::Row) -> Value {
        let affected: i64 = row.get(0);
        Value::Object(
            items
                .into_iter()
                .map(|(k, it)| {
                    let v = match it {
                        Item::Literal(v) => v,
                        Item::Affected => json!(affected),
                        // Extras start after count and check.
                        Item::Column(i) => row.get::<_, Value>(i + 2),
                    };
                    (k, v)
                })
                .collect(),
        )
    }

    async fn insert(&self, one: bool) -> Result<Value, GqlErr> {
        let list_arg = if one { "object" } else { "objects" };
        self.check_args(&[list_arg, "on_conflict"])?;
        if self.arg("on_conflict").is_some() {
            return Err(GqlErr::unsupported(
                self.arg_path("on_conflict"),
                "on_conflict (upsert)",
            ));
        }
        let objects: Vec<&Map<String, Value>> = match (one, self.arg(list_arg)) {
            (_, None) => {
                return Err(GqlErr::validation(
                    self.path,
                    format!("missing required field '{list_arg}'"),
                ))
            }
            (true, Some(Value::Object(o))) => vec![o],
            (false, Some(Value::Array(a))) => a
                .iter()
                .map(Value::as_object)
                .collect::<Option<_>>()
                .ok_or_else(|| {
                    GqlErr::validation(self.arg_path(list_arg), "expected a list of objects")
                })?,
            (false, Some(Value::Object(o))) => vec![o],
            _ => {
                return Err(GqlErr::validation(
                    self.arg_path(list_arg),
                    "expected an object",
                ))
            }
        };
        let (check, set, columns) = match self.perm(PermType::Insert) {
            Some(Permission::Insert {
                check,
                set,
                columns,
                ..
            }) => (Some(check), set, columns.as_ref()),
            _ => (None, &None, None),
        };
        let presets = self.presets(set)?;
        let writable = self.writable(columns, &presets);
        let input_type = format!("{}_insert_input", self.t.type_name);

        // Row values by column name, user input first, then presets (which win).
        let mut rows: Vec<Vec<(String, Option<String>)>> = Vec::new();
        for (i, obj) in objects.iter().enumerate() {
            let opath = if one {
                self.arg_path("object")
            } else {
                format!("{}[{i}]", self.arg_path("objects"))
            };
            let mut row = Vec::new();
            for (field, v) in *obj {
                let Some(c) = writable.iter().find(|c| &c.field == field) else {
                    return Err(GqlErr::field_not_found(&opath, field, &input_type));
                };
                let text = match v {
                    Value::Null => None,
                    v => Some(input_text(v, c, &format!("{opath}.{field}"))?),
                };
                row.push((c.name.clone(), text));
            }
            row.extend(presets.iter().cloned());
            rows.push(row);
        }

        let mut p = Params::default();
        let mut extras = Vec::new();
        let (items, single) = if one {
            let obj = self.row_object(self.children, self.path, &mut p)?;
            let filter = self.select_filter(&mut p)?;
            extras.push(format!(
                "(SELECT {obj} FROM {} AS {} WHERE {filter} LIMIT 1)",
                ident("_ins"),
                ident(ROW)
            ));
            (vec![], true)
        } else {
            (self.response_items("_ins", &mut extras, &mut p)?, false)
        };
        if rows.is_empty() {
            // Nothing to insert: Hasura answers without touching the database.
            return Ok(Value::Object(
                items
                    .into_iter()
                    .map(|(k, it)| {
                        let v = match it {
                            Item::Literal(v) => v,
                            Item::Affected => json!(0),
                            Item::Column(_) => json!([]),
                        };
                        (k, v)
                    })
                    .collect(),
            ));
        }
        let cols: Vec<&Column> = self
            .t
            .columns
            .iter()
            .filter(|c| rows.iter().any(|r| r.iter().any(|(n, _)| n == &c.name)))
            .collect();
        let target = qualified(&self.t.qt.schema, &self.t.qt.name);
        let dml = if cols.is_empty() {
            if rows.len() > 1 {
                return Err(GqlErr::unsupported(
                    self.path,
                    "inserting several rows that all use only column defaults",
                ));
            }
            format!("INSERT INTO {target} DEFAULT VALUES")
        } else {
            let mut tuples = Vec::new();
            for r in &rows {
                let vals: Vec<String> = cols
                    .iter()
                    .map(|c| match r.iter().rev().find(|(n, _)| n == &c.name) {
                        Some((_, v)) => p.typed(v.clone(), &c.pg_type),
                        None => "DEFAULT".to_string(),
                    })
                    .collect();
                tuples.push(format!("({})", vals.join(", ")));
            }
            format!(
                "INSERT INTO {target} ({}) VALUES {}",
                cols.iter()
                    .map(|c| ident(&c.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                tuples.join(", ")
            )
        };
        let check_sql = match check {
            Some(c) => self.permission_exp().compile(c, "$", &mut p)?,
            None => "true".into(),
        };
        let row = self.run_dml("_ins", &dml, &check_sql, &extras, &p).await?;
        if single {
            return Ok(row.get::<_, Option<Value>>(2).unwrap_or(Value::Null));
        }
        Ok(Self::assemble(items, &row))
    }

    async fn update(&self) -> Result<Value, GqlErr> {
        const JSON_OPS: [&str; 5] = [
            "_append",
            "_prepend",
            "_delete_key",
            "_delete_elem",
            "_delete_at_path",
        ];
        let mut allowed = vec!["where", "_set", "_inc"];
        allowed.extend(JSON_OPS);
        self.check_args(&allowed)?;
        if let Some(op) = JSON_OPS.iter().find(|k| self.arg(k).is_some()) {
            return Err(GqlErr::unsupported(self.arg_path(op), op.to_string()));
        }
        if !self.args.contains_key("where") {
            return Err(GqlErr::validation(
                self.path,
                "missing required field 'where'",
            ));
        }
        let (filter, check, set, columns) = match self.perm(PermType::Update) {
            Some(Permission::Update {
                filter,
                check,
                set,
                columns,
                ..
            }) => (Some(filter), check.as_ref(), set, Some(columns)),
            _ => (None, None, &None, None),
        };
        let presets = self.presets(set)?;
        let writable = self.writable(columns, &presets);
        let mut p = Params::default();
        let mut assignments = Vec::new();
        for (arg, suffix) in [("_set", "set_input"), ("_inc", "inc_input")] {
            let Some(v) = self.arg(arg) else { continue };
            let apath = self.arg_path(arg);
            let input_type = format!("{}_{suffix}", self.t.type_name);
            let Value::Object(m) = v else {
                return Err(GqlErr::validation(
                    apath,
                    format!("expected an object for type '{input_type}'"),
                ));
            };
            for (field, val) in m {
                let Some(c) = writable.iter().find(|c| &c.field == field) else {
                    return Err(GqlErr::field_not_found(&apath, field, &input_type));
                };
                let fpath = format!("{apath}.{field}");
                let text = match val {
                    Value::Null if arg == "_set" => None,
                    v => Some(input_text(v, c, &fpath)?),
                };
                let value = p.typed(text, &c.pg_type);
                assignments.push(if arg == "_set" {
                    format!("{} = {value}", ident(&c.name))
                } else {
                    format!(
                        "{} = {}.{} + {value}",
                        ident(&c.name),
                        ident(ROW),
                        ident(&c.name)
                    )
                });
            }
        }
        for (col, v) in &presets {
            let c = self.t.column_by_name(col).ok_or_else(|| {
                GqlErr::new(
                    "unexpected",
                    "$",
                    format!("preset column '{col}' does not exist"),
                )
            })?;
            assignments.push(format!(
                "{} = {}",
                ident(&c.name),
                p.typed(v.clone(), &c.pg_type)
            ));
        }
        if assignments.is_empty() {
            return Err(GqlErr::validation(
                self.path,
                "at least any one of _set, _inc, _prepend, _append, _delete_key, _delete_elem, _delete_at_path is expected",
            ));
        }
        let perm_filter = match filter {
            Some(f) => self.permission_exp().compile(f, "$", &mut p)?,
            None => "true".into(),
        };
        let user = self.user_where(&mut p)?;
        let mut extras = Vec::new();
        let items = self.response_items("_upd", &mut extras, &mut p)?;
        let check_sql = match check {
            Some(c) => self.permission_exp().compile(c, "$", &mut p)?,
            None => "true".into(),
        };
        let dml = format!(
            "UPDATE {} AS {} SET {} WHERE {perm_filter} AND {user}",
            qualified(&self.t.qt.schema, &self.t.qt.name),
            ident(ROW),
            assignments.join(", ")
        );
        let row = self.run_dml("_upd", &dml, &check_sql, &extras, &p).await?;
        Ok(Self::assemble(items, &row))
    }
}

enum Item {
    Literal(Value),
    Affected,
    Column(usize),
}
