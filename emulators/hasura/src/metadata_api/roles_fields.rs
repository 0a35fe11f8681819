//! The metadata commands of inherited roles and computed fields, on the command
//! context: parse and change in `inherited_roles.rs` / `computed_fields.rs`, then the
//! rebuild every command goes through (`buildSchemaCacheFor`: the command's own object
//! inconsistent is `invalid-configuration`, any other new inconsistency aborts; role
//! cycles abort the build with `cyclic-dependency`).
use serde_json::Value;

use super::{args_obj, source_name, success, table_arg, table_missing, Ctx};
use crate::computed_fields;
use crate::errors::QErr;
use crate::inherited_roles;
use crate::metadata::{Metadata, ObjId};

impl Ctx<'_> {
    pub(super) fn inherited_role(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        let before = self.md.clone();
        let id = if cmd == "add_inherited_role" {
            inherited_roles::add(&mut self.md, cmd, args)?
        } else {
            inherited_roles::drop(&mut self.md, cmd, args)?
        };
        inherited_roles::check_cycles(&self.md)?;
        self.check_new_inconsistencies(&before, &id)?;
        Ok(success())
    }

    pub(super) fn computed_field(&mut self, cmd: &str, args: &Value) -> Result<Value, QErr> {
        let base = cmd.strip_prefix("pg_").unwrap_or(cmd);
        let o = args_obj(cmd, args)?.clone();
        let table = table_arg(cmd, &o)?;
        let source = source_name(cmd, &o)?;
        let before = self.md.clone();
        let src = self.source_mut(&source)?;
        if base == "add_computed_field" {
            let tm = src
                .tables
                .get_mut(&table)
                .ok_or_else(|| table_missing(&table, &source))?;
            let id = computed_fields::add(tm, &source, cmd, &o)?;
            self.check_new_inconsistencies(&before, &id)?;
        } else {
            computed_fields::drop(src, &table, cmd, &o)?;
            self.check_new_inconsistencies(&before, &ObjId::InheritedRole(String::new()))?;
        }
        Ok(success())
    }
}

/// Drops an inconsistent inherited role or computed field (`drop_inconsistent_metadata`).
pub(super) fn remove(md: &mut Metadata, id: &ObjId) {
    match id {
        ObjId::InheritedRole(name) => {
            let args = serde_json::json!({ "role_name": name });
            let _ = inherited_roles::drop(md, "drop_inherited_role", &args);
        }
        ObjId::ComputedField(source, table, name) => {
            if let Some(src) = md.sources.get_mut(source) {
                let args = serde_json::json!({"name": name, "cascade": true});
                if let Some(o) = args.as_object() {
                    let _ = computed_fields::drop(src, table, "drop_computed_field", o);
                }
            }
        }
        _ => {}
    }
}
