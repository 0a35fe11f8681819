//! `hasura_computed_field`: an SQL function exposed as a field of a tracked
//! table (`add_computed_field`), written through the engine's metadata batcher.
//!
//! graphql-engine `server/src-lib/Hasura/RQL/DDL/ComputedField.hs`:
//! `add_computed_field` inserts into the table's map, replacing a field of the
//! same name, and there is no separate comment command; so any change but the
//! identity (source, schema, table, name) is one `add_computed_field`, atomic,
//! and keeps the permissions that list the field (a drop would refuse them, or
//! with `cascade` drop them). The definition is exported as
//! `{name, definition: {function, table_argument?, session_argument?}, comment?}`
//! (`Hasura/RQL/Types/Metadata/Serialization.hs`).
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as J};

use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, Known, Nesting, Null, Plan, RequiresReplace,
    Resource, Schema, StrCheck, Value,
};

use super::client::metadata::qualified_table;
use super::client::planned::FieldKey;
use super::client::{Engine, Export, HasuraError};
use super::engine;
use super::ident::{already_exists, check_graphql_name, check_name, is_graphql_name};
use super::relationship::Table;
use super::table::keyed::{table_keyed, TableKeyed};
use super::table::on_table::{
    self, dropped, import_id_attribute, no_hint, table_attributes, written, Exported,
    MetadataObject,
};

pub struct ComputedFieldResource;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Function {
    name: Value<String>,
    schema: Value<String>,
}

table_keyed! {
    #[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
    pub struct Model {
        key { name: "" }
        function: Value<Function>,
        table_argument: Value<String>,
        session_argument: Value<String>,
        comment: Value<String>,
    }
}

/// An exported `computed_fields[]` entry.
#[derive(Deserialize)]
pub struct Entry {
    name: String,
    definition: Definition,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Deserialize)]
struct Definition {
    function: FunctionName,
    #[serde(default)]
    table_argument: Option<String>,
    #[serde(default)]
    session_argument: Option<String>,
}

/// `QualifiedFunction`: a bare string (schema `public`) or `{schema, name}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum FunctionName {
    Bare(String),
    Qualified {
        name: String,
        #[serde(default)]
        schema: Option<String>,
    },
}

impl FunctionName {
    fn parts(self) -> (String, String) {
        match self {
            FunctionName::Bare(n) => ("public".into(), n),
            FunctionName::Qualified { name, schema } => {
                (schema.unwrap_or_else(|| "public".into()), name)
            }
        }
    }
}

impl Model {
    fn name(&self) -> &str {
        self.name.str_or("")
    }
    /// The field as the planned-objects registry knows it.
    fn field_key(&self) -> FieldKey {
        let [source, schema, table, name] =
            [self.source(), self.schema(), self.table(), self.name()];
        (source.into(), schema.into(), table.into(), name.into())
    }
    fn function_parts(&self) -> (String, String) {
        let f = self.function.known();
        let schema = f.and_then(|f| f.schema.as_deref()).unwrap_or("public");
        let name = f.and_then(|f| f.name.as_deref()).unwrap_or("");
        (schema.to_string(), name.to_string())
    }

    /// The entry as Hasura would export it once this model is written.
    fn entry(&self) -> J {
        let (fs, fname) = self.function_parts();
        let mut def = Map::new();
        def.insert("function".into(), json!({"name": fname, "schema": fs}));
        if let Some(s) = self.session_argument.as_deref() {
            def.insert("session_argument".into(), json!(s));
        }
        if let Some(t) = self.table_argument.as_deref() {
            def.insert("table_argument".into(), json!(t));
        }
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name()));
        m.insert("definition".into(), J::Object(def));
        if let Some(c) = self.comment.as_deref() {
            m.insert("comment".into(), json!(c));
        }
        J::Object(m)
    }

    fn add_command(&self) -> J {
        let entry = self.entry();
        let mut args = json!({
            "source": self.source(),
            "table": qualified_table(self.schema(), self.table()),
            "name": self.name(),
            "definition": entry["definition"],
        });
        if let Some(c) = self.comment.as_deref() {
            args["comment"] = json!(c);
        }
        json!({"type": "add_computed_field", "args": args})
    }

    fn drop_command(&self) -> J {
        json!({"type": "drop_computed_field", "args": {
            "source": self.source(),
            "table": qualified_table(self.schema(), self.table()),
            "name": self.name(),
        }})
    }

    /// The attribute a rejection from Hasura is about
    /// (`Hasura/Backends/Postgres/DDL/ComputedField.hs` messages).
    fn blamed_attribute(&self, message: &str) -> Option<AttrPath> {
        let quoted = |v: &Value<String>| v.as_deref().map(|a| format!("\"{a}\" "));
        let names = |v: &Value<String>| {
            quoted(v).is_some_and(|q| {
                message.contains(&format!("{q}is not an input argument"))
                    || message.contains(&format!("{q}argument of the function"))
            })
        };
        if names(&self.session_argument) || message.contains("is not of type JSON") {
            return Some(AttrPath::attr("session_argument"));
        }
        if names(&self.table_argument) {
            return Some(AttrPath::attr("table_argument"));
        }
        if message.contains("conflicts with postgres column")
            || message.contains("not valid GraphQL name")
            || message.contains("conflicting definitions for field")
        {
            return Some(AttrPath::attr("name"));
        }
        if message.contains("does not exist in source") {
            return Some(AttrPath::attr("table"));
        }
        [
            "the function",
            "no such function",
            "overloaded",
            "first argument of the function",
        ]
        .iter()
        .any(|m| message.contains(m))
        .then(|| AttrPath::attr("function"))
    }
}

impl Exported for Model {
    type Entry = Entry;

    fn find(export: &Export, m: &Model) -> Result<Option<Entry>, Diagnostics> {
        Ok(exported(export, m))
    }

    /// The model for an exported entry; the function's schema `public` is read
    /// back unset unless the prior spelled it out (an import leaves it unset).
    fn from_entry(e: Entry, prior: &Model) -> Model {
        let (fs, fname) = e.definition.function.parts();
        // Unset means `public`: spelled out only where the prior spelled it.
        let prior_spelled = prior.function.known().is_some_and(|f| f.schema.is_known());
        let schema = if fs == "public" && !prior_spelled {
            Null
        } else {
            Known(fs)
        };
        Model {
            name: Known(e.name),
            function: Known(Function {
                name: Known(fname),
                schema,
            }),
            table_argument: e.definition.table_argument.into(),
            session_argument: e.definition.session_argument.into(),
            comment: e.comment.into(),
            ..Model::key_of(prior)
        }
    }
}

impl MetadataObject for Model {
    const KIND: &'static str = "computed field";

    fn blamed(&self, e: &HasuraError) -> Option<AttrPath> {
        self.blamed_attribute(&e.to_string())
    }
}

/// The exported entry of a computed field; `None` when it (or its table) is absent.
fn exported(export: &Export, m: &Model) -> Option<Entry> {
    let table = export.table(m.source(), m.schema(), m.table())?;
    (exported_fields(table).iter())
        .filter(|(name, _)| name == m.name())
        .find_map(|(_, v)| Entry::deserialize(v).ok())
}

/// An exported table entry's `computed_fields`, each with its name.
pub(super) fn exported_fields(table: &J) -> Vec<(String, J)> {
    #[derive(Default, Deserialize)]
    #[serde(default)]
    struct Fields {
        computed_fields: Vec<J>,
    }
    #[derive(Deserialize)]
    struct Named {
        name: String,
    }
    let fields = Fields::deserialize(table)
        .unwrap_or_default()
        .computed_fields;
    (fields.into_iter())
        .filter_map(|f| Some((Named::deserialize(&f).ok()?.name, f)))
        .collect()
}

/// The export's entry is `want` (comment and definition alike), or absent for `None`.
fn landed(export: &Export, m: &Model, want: Option<&J>) -> bool {
    let got = (export.table(m.source(), m.schema(), m.table()))
        .and_then(|t| exported_fields(t).into_iter().find(|(n, _)| n == m.name()))
        .map(|(_, e)| normalize(e));
    got == want.cloned().map(normalize)
}

/// A function without a schema is `public`'s.
fn normalize(mut e: J) -> J {
    if let Some(f) = e.pointer_mut("/definition/function") {
        if let Ok(t) = Table::deserialize(&*f) {
            *f = json!({"name": t.name, "schema": t.schema});
        }
    }
    e
}

#[async_trait]
impl Resource for ComputedFieldResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "hasura_computed_field"
    }

    fn schema(&self) -> Schema {
        let [source, schema, table] = table_attributes(
            "the table",
            "The tracked table the field is added to.",
            "",
            false,
        );
        Schema::new(
            "A computed field of a tracked table (`add_computed_field`): an existing SQL function that takes the table's row (and optionally the session as JSON) and returns a scalar or a set of a tracked table. The function must not be `VOLATILE` (declare it `STABLE` or `IMMUTABLE`). Changing `source`, `schema`, `table` or `name` replaces it; any other change re-adds it in place in one atomic metadata write, so permissions listing it are kept. Import with `<source>.<schema>.<table>.<name>`, e.g. `default.public.users.full_name`.",
            vec![
                import_id_attribute("<source>.<schema>.<table>.<name>"),
                source,
                schema,
                table,
                Attribute::string("name").required().plan(RequiresReplace).validate(StrCheck("Invalid computed field name", check_graphql_name)).describe("GraphQL name of the field (`[_A-Za-z][_0-9A-Za-z]*`); must not be a column or relationship of the table."),
                Attribute::nested(
                    "function",
                    Nesting::Single,
                    vec![
                        Attribute::string("name").required().describe("Name of the SQL function."),
                        Attribute::string("schema").optional().describe("Schema of the SQL function. Unset means `public`."),
                    ],
                )
                .required()
                .describe("The SQL function computing the field. It must exist (e.g. created by your migrations), not be overloaded, and not be `VOLATILE`."),
                Attribute::string("table_argument").optional().describe("Name of the function argument that takes the table row. Unset means the first argument."),
                Attribute::string("session_argument").optional().describe("Name of a `json`/`jsonb` function argument that receives the Hasura session variables."),
                Attribute::string("comment").optional().describe("Description of the field in GraphQL. Unset lets Hasura use the function's comment; `\"\"` means no description."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        config.check_table_names(diags);
        if let Some(f) = config.function.known() {
            for (attr, v) in [("name", &f.name), ("schema", &f.schema)] {
                if let Some(e) = v.as_deref().and_then(|s| check_name(s).err()) {
                    diags.add_attr_error(
                        AttrPath::attr("function").child(attr),
                        "Invalid function name",
                        format!("`function.{attr}` {e}."),
                    );
                }
            }
        }
        for attr in ["table_argument", "session_argument"] {
            let v = if attr == "table_argument" {
                &config.table_argument
            } else {
                &config.session_argument
            };
            if let Some(e) = v.as_deref().and_then(|s| check_name(s).err()) {
                diags.add_attr_error(
                    AttrPath::attr(attr),
                    "Invalid argument name",
                    format!("`{attr}` {e}."),
                );
            }
        }
        if let (Some(t), Some(s)) = (
            config.table_argument.as_deref(),
            config.session_argument.as_deref(),
        ) {
            if t == s {
                diags.add_attr_error(
                    AttrPath::attr("session_argument"),
                    "Same argument twice",
                    format!("{s:?} cannot take both the table row and the session."),
                );
            }
        }
    }

    async fn modify_plan(&self, ctx: &Ctx, plan: Plan<'_, Model>) {
        let p = &mut *plan.planned;
        p.id = p.planned_id();
        if let (Known(_), Ok(engine)) = (&p.id, engine(ctx)) {
            engine.planned_objects.plan_field(p.field_key(), true);
        }
    }

    async fn plan_destroy(&self, ctx: &Ctx, prior: &Model, _diags: &mut Diagnostics) {
        if let Ok(engine) = engine(ctx) {
            engine.planned_objects.plan_field(prior.field_key(), false);
        }
    }

    async fn create(&self, ctx: &Ctx, m: Model) -> Result<Model, ApplyError<Model>> {
        // Hasura would silently replace an existing field: refuse to take it over.
        if on_table::exists(ctx, &m).await? {
            let (schema, table, name) = (m.schema(), m.table(), m.name());
            let exists = format!("Table {schema}.{table} already has a computed field {name:?}.");
            let summary = "Computed field already exists";
            return Err(already_exists(AttrPath::attr("name"), summary, exists, &m.id()).into());
        }
        write(ctx, &m, "create").await?;
        Ok(m.with_id())
    }

    async fn read(&self, ctx: &Ctx, prior: Model) -> Result<Option<Model>, Diagnostics> {
        on_table::read(ctx, prior).await
    }

    async fn update(&self, ctx: &Ctx, _prior: Model, m: Model) -> Result<Model, ApplyError<Model>> {
        write(ctx, &m, "update").await?;
        Ok(m.with_id())
    }

    async fn delete(&self, ctx: &Ctx, m: Model) -> Result<(), Diagnostics> {
        let engine = engine(ctx)?;
        let key = m.clone();
        let gone = move |x: &Export| landed(x, &key, None);
        dropped(
            &m,
            engine.write_with(&ctx.cancel, vec![m.drop_command()], gone),
        )
        .await
    }

    async fn import(&self, _ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        const FORM: &str = "<source>.<schema>.<table>.<name>";
        const EXAMPLE: &str = "default.public.users.full_name";
        let bad = |why: String| super::ident::bad_import_id(why, FORM, EXAMPLE);
        let [source, schema, table, name]: [String; 4] =
            super::ident::parse_import_id(id, FORM, EXAMPLE, false, 3)?;
        if !is_graphql_name(&name) {
            return Err(bad(format!("{name:?} is not a GraphQL name")));
        }
        Ok(Model::keyed(source, schema, table, name))
    }
}

/// `add_computed_field` through the batcher; the export showing the same entry settles it.
async fn write(ctx: &Ctx, m: &Model, verb: &str) -> Result<(), Diagnostics> {
    let engine = engine(ctx)?;
    let (key, want) = (m.clone(), m.entry());
    let sent = engine.write_with(&ctx.cancel, vec![m.add_command()], move |x| {
        landed(x, &key, Some(&want))
    });
    written(m, verb, sent, no_hint).await
}

/// Whether a computed field of `(source, schema, table)` named `name` exists once
/// the plan is applied: `Some(false)` when known absent, `None` when it cannot tell.
pub(crate) async fn planned_exists(
    engine: &Engine,
    ctx: &Ctx,
    (source, schema, table): (&str, &str, &str),
    name: &str,
) -> Option<bool> {
    let key = (source.into(), schema.into(), table.into(), name.into());
    if let Some(b) = engine.planned_objects.field(&key) {
        return Some(b);
    }
    let export = engine.export(&ctx.cancel).await.ok()?;
    let entry = export.table(source, schema, table)?;
    Some(exported_fields(entry).iter().any(|(n, _)| n == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model {
        Model {
            source: "default".into(),
            schema: "public".into(),
            table: "users".into(),
            name: "full_name".into(),
            function: Known(Function {
                name: "user_full_name".into(),
                schema: Null,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn commands_and_export_round_trip() {
        let mut m = model();
        m.session_argument = "hasura_session".into();
        m.comment = "".into();
        let c = m.add_command();
        assert_eq!(c["type"], "add_computed_field");
        assert_eq!(
            c["args"]["definition"],
            json!({"function": {"name": "user_full_name", "schema": "public"}, "session_argument": "hasura_session"})
        );
        assert_eq!(c["args"]["comment"], "");
        let x = Export::new(
            2,
            json!({"sources": [{"name": "default", "tables": [{"table": {"schema": "public", "name": "users"},
                "computed_fields": [{"name": "full_name", "definition": {"function": "user_full_name", "session_argument": "hasura_session"}, "comment": ""}]}]}]}),
        );
        assert!(landed(&x, &m, Some(&m.entry())));
        assert!(!landed(&x, &m, None));
        let back = Model::from_entry(exported(&x, &m).unwrap(), &m);
        assert_eq!(back.function, m.function);
        assert_eq!(back.comment.as_deref(), Some(""));
        assert_eq!(back.table_argument, Null);
        m.comment = Null;
        assert!(!landed(&x, &m, Some(&m.entry())));
    }

    #[test]
    fn rejections_point_at_the_attribute() {
        let mut m = model();
        m.session_argument = "s".into();
        m.table_argument = "row".into();
        let blame = |msg: &str| m.blamed_attribute(msg);
        assert_eq!(
            blame(
                r#"the computed field "full_name" cannot be added to table "users" because "s" argument of the function "f" is not of type JSON"#
            ),
            Some(AttrPath::attr("session_argument"))
        );
        assert_eq!(
            blame(r#"because "row" is not an input argument of the function "f""#),
            Some(AttrPath::attr("table_argument"))
        );
        assert_eq!(
            blame(r#"in computed field "full_name": no such function exists: "f""#),
            Some(AttrPath::attr("function"))
        );
        assert_eq!(
            blame("Inconsistent object: field definition conflicts with postgres column"),
            Some(AttrPath::attr("name"))
        );
        assert_eq!(blame("HTTP 500"), None);
    }
}
