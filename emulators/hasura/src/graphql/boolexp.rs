//! Boolean expressions (`where` arguments and permission filters/checks) compiled to SQL
//! over one table alias, with every value a bound parameter.
//!
//! The two sources differ the way Hasura's do: a `where` argument is GraphQL input (field
//! names, only the role's selectable columns, values typed by the schema), a permission
//! is metadata (column names, any column, string values naming `X-Hasura-*` session
//! variables resolved from the session).

use serde_json::Value;

use super::auth::Session;
use super::nested::Nest;
use super::relations::Relation;
use super::schema::{Column, Schema, Table};
use super::sql::{ident, input_text, metadata_text, qualified, Params};
use super::GqlErr;

pub enum Source<'a> {
    /// A GraphQL argument; only these columns are visible.
    Input(Vec<&'a Column>),
    Permission(&'a Session),
}

pub struct BoolExp<'a> {
    pub schema: &'a Schema,
    pub session: &'a Session,
    pub table: &'a Table,
    /// SQL alias of the row being tested.
    pub alias: &'a str,
    pub source: Source<'a>,
}

/// Operators Hasura has but the emulator does not implement (PostGIS, ltree, casts).
fn known_unsupported(op: &str) -> bool {
    op.starts_with("_st_")
        || matches!(
            op,
            "_cast"
                | "_ancestor"
                | "_ancestor_any"
                | "_descendant"
                | "_descendant_any"
                | "_matches"
                | "_matches_any"
                | "_matches_fulltext"
                | "_adjacent"
        )
}

/// Metadata may spell the logical operators `$and` etc.
fn norm(k: &str) -> String {
    match k.strip_prefix('$') {
        Some(rest) => format!("_{rest}"),
        None => k.to_string(),
    }
}

impl<'a> BoolExp<'a> {
    fn type_name(&self) -> String {
        format!("{}_bool_exp", self.table.type_name)
    }

    fn is_permission(&self) -> bool {
        matches!(self.source, Source::Permission(_))
    }

    fn column(&self, key: &str) -> Option<&Column> {
        match &self.source {
            Source::Input(cols) => cols.iter().copied().find(|c| c.field == key),
            Source::Permission(_) => self.table.column_by_name(key),
        }
    }

    fn col_sql(&self, c: &Column) -> String {
        format!("{}.{}", ident(self.alias), ident(&c.name))
    }

    pub fn compile(&self, e: &Value, path: &str, p: &mut Params) -> Result<String, GqlErr> {
        let Value::Object(m) = e else {
            return Err(GqlErr::validation(
                path,
                format!("expected an object for type '{}'", self.type_name()),
            ));
        };
        let mut parts = Vec::new();
        for (k, v) in m {
            let kp = format!("{path}.{k}");
            let key = if self.is_permission() {
                norm(k)
            } else {
                k.clone()
            };
            match key.as_str() {
                "_and" | "_or" => {
                    // GraphQL input coercion turns a single object into a one-item list.
                    let items: Vec<&Value> = match v {
                        Value::Array(a) => a.iter().collect(),
                        Value::Object(_) => vec![v],
                        _ => {
                            return Err(GqlErr::validation(
                                &kp,
                                format!("expected a list for type '[{}!]'", self.type_name()),
                            ))
                        }
                    };
                    let subs = items
                        .iter()
                        .enumerate()
                        .map(|(i, x)| self.compile(x, &format!("{kp}[{i}]"), p))
                        .collect::<Result<Vec<_>, _>>()?;
                    parts.push(match (key.as_str(), subs.is_empty()) {
                        ("_and", true) => "true".to_string(),
                        ("_or", true) => "false".to_string(),
                        ("_and", false) => format!("({})", subs.join(" AND ")),
                        _ => format!("({})", subs.join(" OR ")),
                    });
                }
                "_not" => parts.push(format!("(NOT {})", self.compile(v, &kp, p)?)),
                "_exists" if self.is_permission() => parts.push(self.exists(v, &kp, p)?),
                _ => match self.column(&key) {
                    Some(c) => parts.push(self.ops(c, v, &kp, p)?),
                    None => match self.relation(&key) {
                        Some((rel, remote)) => parts.push(self.through(rel, remote, v, &kp, p)?),
                        None if self.is_permission()
                            && self.table.meta.relationship_like_names().contains(&key) =>
                        {
                            return Err(GqlErr::unsupported(
                                &kp,
                                format!("computed or remote field '{key}' in a permission"),
                            ))
                        }
                        None => return Err(GqlErr::field_not_found(path, k, &self.type_name())),
                    },
                },
            }
        }
        Ok(if parts.is_empty() {
            "true".to_string()
        } else {
            format!("({})", parts.join(" AND "))
        })
    }

    /// A relationship of the table, and its remote table: in a `where` argument only
    /// when the role may select from the remote table (else the field is not in the
    /// `<table>_bool_exp` type); in metadata, any that resolves.
    fn relation(&self, key: &str) -> Option<(&'a Relation, &'a Table)> {
        let (rel, remote) = self.schema.relation(self.table, key)?;
        let nest = Nest {
            schema: self.schema,
            session: self.session,
        };
        (self.is_permission() || nest.readable(remote)).then_some((rel, remote))
    }

    /// The same kind of expression, on another table's row `alias`.
    fn on<'b>(&'b self, table: &'b Table, alias: &'b str) -> BoolExp<'b> {
        BoolExp {
            schema: self.schema,
            session: self.session,
            table,
            alias,
            source: match &self.source {
                Source::Input(_) => Source::Input(table.selectable(self.session)),
                Source::Permission(s) => Source::Permission(s),
            },
        }
    }

    /// A condition through a relationship (object or array alike): some related row
    /// satisfies `v`. A `where` argument sees only the rows the role's select
    /// permission on the remote table lets it see; a permission sees every row
    /// (graphql-engine `Hasura/GraphQL/Schema/BoolExp.hs`, `boolExp` on a relationship
    /// field carries the remote table's filter; permissions are built unfiltered in
    /// `Hasura/RQL/DDL/Permission/Internal.hs`).
    fn through(
        &self,
        rel: &Relation,
        remote: &Table,
        v: &Value,
        path: &str,
        p: &mut Params,
    ) -> Result<String, GqlErr> {
        let a = p.alias();
        let join = Nest::join(rel, self.alias, &a);
        let visible = match self.source {
            Source::Input(_) => Nest {
                schema: self.schema,
                session: self.session,
            }
            .select_filter(remote, &a, p)?,
            Source::Permission(_) => "true".into(),
        };
        let cond = self.on(remote, &a).compile(v, path, p)?;
        Ok(format!(
            "EXISTS (SELECT 1 FROM {} AS {} WHERE {join} AND {visible} AND {cond})",
            qualified(&remote.qt.schema, &remote.qt.name),
            ident(&a)
        ))
    }

    /// `_exists`: some row of another tracked table satisfies `_where`.
    fn exists(&self, v: &Value, path: &str, p: &mut Params) -> Result<String, GqlErr> {
        let target = v
            .get("_table")
            .and_then(|t| crate::metadata::QualifiedTable::parse(t).ok())
            .and_then(|t| self.schema.table(&t))
            .ok_or_else(|| GqlErr::validation(path, "_exists on a table that is not tracked"))?;
        let a = p.alias();
        let w = v
            .get("_where")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        let cond = self
            .on(target, &a)
            .compile(&w, &format!("{path}._where"), p)?;
        Ok(format!(
            "EXISTS (SELECT 1 FROM {} AS {} WHERE {cond})",
            qualified(&target.qt.schema, &target.qt.name),
            ident(&a)
        ))
    }

    /// One value for `c`, as a typed parameter.
    fn value(&self, v: &Value, c: &Column, path: &str, p: &mut Params) -> Result<String, GqlErr> {
        let text = match &self.source {
            Source::Input(_) => Some(input_text(v, c, path)?),
            Source::Permission(s) => session_or_literal(v, s, path)?,
        };
        Ok(p.typed(text, &c.pg_type))
    }

    fn ops(&self, c: &Column, v: &Value, path: &str, p: &mut Params) -> Result<String, GqlErr> {
        let cmp_type = format!("{}_comparison_exp", c.scalar);
        // In metadata a plain value is `_eq` (`parseOperations`, same file).
        let eq;
        let v = match v {
            Value::Object(_) => v,
            _ if self.is_permission() => {
                eq = Value::Object([("_eq".to_string(), v.clone())].into_iter().collect());
                &eq
            }
            _ => v,
        };
        let Value::Object(ops) = v else {
            return Err(GqlErr::validation(
                path,
                format!("expected an object for type '{cmp_type}'"),
            ));
        };
        let col = self.col_sql(c);
        let is_text = c.scalar == "String" || c.scalar == "bpchar";
        let is_jsonb = c.scalar == "jsonb";
        let mut parts = Vec::new();
        for (op, arg) in ops {
            // Metadata spells operators `_x` or `$x`, and has aliases the GraphQL schema
            // lacks (`parseOperation`, Hasura/Backends/Postgres/DDL/BoolExp.hs).
            let op_key = match (self.is_permission(), norm(op).as_str()) {
                (true, "_ne") => "_neq".to_string(),
                (true, "_cneq") => "_cne".to_string(),
                (true, n) => n.to_string(),
                (false, _) => op.clone(),
            };
            let op_path = format!("{path}.{op}");
            let binary = |sym: &str, p: &mut Params| -> Result<String, GqlErr> {
                Ok(format!(
                    "({col} {sym} {})",
                    self.value(arg, c, &op_path, p)?
                ))
            };
            let sql = match op_key.as_str() {
                "_eq" => binary("=", p)?,
                "_neq" => binary("<>", p)?,
                "_gt" => binary(">", p)?,
                "_lt" => binary("<", p)?,
                "_gte" => binary(">=", p)?,
                "_lte" => binary("<=", p)?,
                "_like" if is_text => binary("LIKE", p)?,
                "_nlike" if is_text => binary("NOT LIKE", p)?,
                "_ilike" if is_text => binary("ILIKE", p)?,
                "_nilike" if is_text => binary("NOT ILIKE", p)?,
                "_similar" if is_text => binary("SIMILAR TO", p)?,
                "_nsimilar" if is_text => binary("NOT SIMILAR TO", p)?,
                "_regex" if is_text => binary("~", p)?,
                "_nregex" if is_text => binary("!~", p)?,
                "_iregex" if is_text => binary("~*", p)?,
                "_niregex" if is_text => binary("!~*", p)?,
                "_in" | "_nin" => {
                    let positive = self.in_list(c, arg, &op_path, p)?;
                    if op_key == "_in" {
                        positive
                    } else {
                        format!("(NOT {positive})")
                    }
                }
                "_is_null" => match arg {
                    Value::Bool(true) => format!("({col} IS NULL)"),
                    Value::Bool(false) => format!("({col} IS NOT NULL)"),
                    other => {
                        return Err(GqlErr::validation(
                            &op_path,
                            format!(
                                "expected a boolean for type 'Boolean', but found {}",
                                if other.is_null() {
                                    "null"
                                } else {
                                    "another value"
                                }
                            ),
                        ))
                    }
                },
                "_ceq" | "_cne" | "_cgt" | "_clt" | "_cgte" | "_clte" if self.is_permission() => {
                    let other = match arg {
                        Value::String(s) => s.as_str(),
                        Value::Array(a) if a.len() == 1 && a[0].is_string() => {
                            a[0].as_str().unwrap_or_default()
                        }
                        _ => {
                            return Err(GqlErr::unsupported(
                                &op_path,
                                "column comparison across relationships or the root table",
                            ))
                        }
                    };
                    let oc = self.table.column_by_name(other).ok_or_else(|| {
                        GqlErr::validation(&op_path, format!("column '{other}' does not exist"))
                    })?;
                    let sym = match op_key.as_str() {
                        "_ceq" => "=",
                        "_cne" => "<>",
                        "_cgt" => ">",
                        "_clt" => "<",
                        "_cgte" => ">=",
                        _ => "<=",
                    };
                    format!("({col} {sym} {})", self.col_sql(oc))
                }
                "_contains" | "_contained_in" if is_jsonb => {
                    binary(if op_key == "_contains" { "@>" } else { "<@" }, p)?
                }
                "_has_key" if is_jsonb => {
                    let key = self.key_text(arg, &op_path)?;
                    format!("({col} ? {})", p.text(Some(key)))
                }
                "_has_keys_any" | "_has_keys_all" if is_jsonb => {
                    let Value::Array(keys) = arg else {
                        return Err(GqlErr::validation(
                            &op_path,
                            "expected a list for type '[String!]'",
                        ));
                    };
                    let mut elems = Vec::new();
                    for (i, k) in keys.iter().enumerate() {
                        let t = self.key_text(k, &format!("{op_path}[{i}]"))?;
                        elems.push(p.text(Some(t)));
                    }
                    let sym = if op_key == "_has_keys_any" {
                        "?|"
                    } else {
                        "?&"
                    };
                    format!("({col} {sym} ARRAY[{}]::text[])", elems.join(", "))
                }
                other if known_unsupported(other) => {
                    return Err(GqlErr::unsupported(&op_path, format!("operator '{other}'")))
                }
                _ => return Err(GqlErr::field_not_found(path, op, &cmp_type)),
            };
            parts.push(sql);
        }
        Ok(if parts.is_empty() {
            "true".to_string()
        } else {
            format!("({})", parts.join(" AND "))
        })
    }

    fn key_text(&self, v: &Value, path: &str) -> Result<String, GqlErr> {
        match (&self.source, v) {
            (Source::Permission(s), v) => session_or_literal(v, s, path)?
                .ok_or_else(|| GqlErr::validation(path, "unexpected null value for type 'String'")),
            (Source::Input(_), Value::String(s)) => Ok(s.clone()),
            _ => Err(GqlErr::validation(
                path,
                "expected a string for type 'String'",
            )),
        }
    }

    fn in_list(
        &self,
        c: &Column,
        arg: &Value,
        path: &str,
        p: &mut Params,
    ) -> Result<String, GqlErr> {
        let col = self.col_sql(c);
        match (arg, &self.source) {
            (Value::Array(items), _) => {
                if items.is_empty() {
                    return Ok("false".to_string());
                }
                let mut vals = Vec::new();
                for (i, x) in items.iter().enumerate() {
                    vals.push(self.value(x, c, &format!("{path}[{i}]"), p)?);
                }
                Ok(format!("({col} IN ({}))", vals.join(", ")))
            }
            // A session variable holding a PostgreSQL array literal, e.g. "{1,2,3}".
            (Value::String(_), Source::Permission(s)) => {
                let text = session_or_literal(arg, s, path)?;
                Ok(format!("({col} = ANY({}::{}[]))", p.text(text), c.pg_type))
            }
            // GraphQL coerces a single value into a one-item list.
            (single, Source::Input(_)) => {
                Ok(format!("({col} IN ({}))", self.value(single, c, path, p)?))
            }
            _ => Err(GqlErr::validation(
                path,
                format!("expected a list for type '[{}!]'", c.scalar),
            )),
        }
    }
}

/// A metadata value: `"X-Hasura-*"` strings (any case) name session variables.
pub fn session_or_literal(v: &Value, s: &Session, path: &str) -> Result<Option<String>, GqlErr> {
    if let Value::String(name) = v {
        if name.to_ascii_lowercase().starts_with("x-hasura-") {
            return s.var(name).map(|x| Some(x.to_string())).ok_or_else(|| {
                GqlErr::new(
                    "not-found",
                    path,
                    format!(
                        "missing session variable: \"{}\"",
                        name.to_ascii_lowercase()
                    ),
                )
            });
        }
    }
    Ok(metadata_text(v))
}
