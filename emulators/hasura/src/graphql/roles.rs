//! What an inherited role and a computed field add to a table's GraphQL view: the
//! value of a column some parents of the role do not grant is shown only on the rows
//! of the parents that do (graphql-engine `Hasura/RQL/DDL/Schema/Cache/Permission.hs`,
//! Note [Inherited roles architecture for read queries]: "cell-value nullification"),
//! and a scalar computed field is the SQL function called with the row (and the
//! session as JSON), listed in the role's select permission `computed_fields`
//! (`Hasura/Backends/Postgres/Types/ComputedField.hs`,
//! `fromComputedFieldImplicitArguments`: the row and the session in argument order).
use serde_json::{Map, Value};

use super::auth::{Role, Session};
use super::schema::Table;
use super::sql::{ident, qualified, Params};
use super::GqlErr;
use crate::computed_fields::Resolved;
use crate::permissions::{PermType, Permission};

impl Table {
    /// The row filter under which the role sees `column`'s value, if not every row's.
    pub fn cell_filter(&self, session: &Session, column: &str) -> Option<Value> {
        let Role::Named(role) = &session.role else {
            return None;
        };
        self.grants.get(role)?.cell_filter(column)
    }

    /// A scalar computed field the role may select (admin: any).
    pub fn computed_visible(&self, session: &Session, name: &str) -> Option<&Resolved> {
        let cf = self
            .computed
            .iter()
            .find(|c| c.field.name == name && c.returns_table.is_none())?;
        match self.perm(session, PermType::Select) {
            None if session.role == Role::Admin => Some(cf),
            Some(Permission::Select {
                computed_fields, ..
            }) if computed_fields.iter().any(|c| c == name) => Some(cf),
            _ => None,
        }
    }
}

/// The SQL calling a computed field for the row aliased `row`.
pub fn call(
    cf: &Resolved,
    t: &Table,
    row: &str,
    session: &Session,
    p: &mut Params,
    path: &str,
) -> Result<String, GqlErr> {
    let implicit = 1 + usize::from(cf.session.is_some());
    if cf.arg_count != implicit {
        return Err(GqlErr::unsupported(
            path,
            format!(
                "computed field '{}' whose function takes arguments besides the row and the session",
                cf.field.name
            ),
        ));
    }
    // A whole-row reference of the query's alias, as the table's row type.
    let row_arg = format!("{}::{}", ident(row), qualified(&t.qt.schema, &t.qt.name));
    let mut args = vec![row_arg];
    if let Some((position, ty)) = &cf.session {
        let mut vars: Map<String, Value> = session
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        if let Role::Named(r) = &session.role {
            vars.insert("x-hasura-role".into(), Value::String(r.clone()));
        }
        let json = Value::Object(vars).to_string();
        let arg = p.typed(Some(json), &qualified(&ty.schema, &ty.name));
        if *position < cf.table_position {
            args.insert(0, arg);
        } else {
            args.push(arg);
        }
    }
    let f = &cf.field.function;
    Ok(format!(
        "{}({})",
        qualified(&f.schema, &f.name),
        args.join(", ")
    ))
}
