//! Every required attribute of both providers, found by walking their
//! schemas, and an otherwise valid HCL block that leaves one of them null.
use terraform_providers::framework::{AttrType, Attribute, Mode, Nesting, Provider, Type};

/// Sample values the generic ones below would get wrong because a validator
/// refuses them, keyed by `<type>.<attribute>[.<nested attribute>]`. A new
/// required attribute with such a validator fails the "otherwise valid"
/// check of `required::every_required_null_is_refused_at_validate` until it is added.
const SAMPLES: &[(&str, &str)] = &[
    ("clerk_jwt_template.claims", r#"jsonencode({ role = "x" })"#),
    ("hasura_permission.action", r#""delete""#),
    ("hasura_relationship.type", r#""object""#),
    ("clerk_redirect_url.url", r#""https://app.example.com/cb""#),
    (
        "clerk_allowlist_identifier.identifier",
        r#""a@example.com""#,
    ),
    (
        "clerk_blocklist_identifier.identifier",
        r#""b@example.com""#,
    ),
    ("clerk_hasura_jwt_secret.signing_algorithm", r#""HS256""#),
    (
        "hasura_cron_trigger.webhook",
        r#""https://jobs.example.com/run""#,
    ),
    ("hasura_cron_trigger.schedule", r#""*/5 * * * *""#),
    (
        "hasura_query_collection.queries",
        r#"{ q = "query q { users { id } }" }"#,
    ),
    (
        "clerk_hasura_jwt_secret.signing_key",
        r#""0123456789abcdef0123456789abcdef""#,
    ),
    ("hasura_inherited_role.role_set", r#"["user"]"#),
    ("hasura_rest_endpoint.methods", r#"["GET"]"#),
    ("hasura_custom_types.sdl", r#""scalar Email""#),
    ("hasura_action_sdl.sdl", r#""type Mutation { x: Int }""#),
    ("clerk_organization_permission.key", r#""org:posts:edit""#),
    ("clerk_organization_role.key", r#""org:editor""#),
    ("clerk_domain.name", r#""satellite.example.com""#),
    (
        "hasura_remote_schema_permission.schema",
        r#""type Query { hello: String }""#,
    ),
];

/// Optional attributes a block needs to pass its cross-attribute checks with
/// the samples (a delete permission needs a `filter`).
const EXTRA: &[(&str, &str)] = &[
    ("hasura_permission", "filter = jsonencode({})"),
    // An index needs its keys: `columns` or `expressions`.
    ("hasura_index", r#"columns = ["x"]"#),
    (
        "hasura_event_trigger",
        "insert = true\n  webhook = \"https://hooks.example.com/e\"",
    ),
    // An action needs its handler.
    (
        "hasura_action",
        r#"handler = "https://actions.example.com/x""#,
    ),
    // A relationship needs one join.
    ("hasura_relationship", "foreign_key_constraint_on = [\"x\"]"),
    // A remote schema needs `url` or `url_from_env`.
    (
        "hasura_remote_schema",
        "url = \"https://payments.example.com/graphql\"",
    ),
    // A source needs one URL form.
    ("hasura_source", "database_url_from_env = \"DB_URL\""),
];

/// A resource or data source type of either provider.
pub struct Block {
    pub data: bool,
    pub ty: &'static str,
    pub attrs: Vec<Attribute>,
}

impl Block {
    pub fn addr(&self, name: &str) -> String {
        let prefix = if self.data { "data." } else { "" };
        format!("{prefix}{}.{name}", self.ty)
    }

    /// The block in HCL, with `null` at `target` (attribute names from the
    /// block down), every other required attribute at a sample value.
    pub fn hcl(&self, name: &str, target: Option<&[&'static str]>) -> String {
        let kw = if self.data { "data" } else { "resource" };
        let extra = EXTRA
            .iter()
            .filter(|(t, _)| *t == self.ty)
            .map(|(_, l)| format!("{l}\n"))
            .collect::<String>();
        format!(
            "{kw} \"{}\" \"{name}\" {{\n{}{extra}}}\n",
            self.ty,
            body(self.ty, &self.attrs, target)
        )
    }
}

pub fn blocks() -> Vec<Block> {
    fn of(p: &impl Provider, out: &mut Vec<Block>) {
        for r in p.resources() {
            out.push(Block {
                data: false,
                ty: r.type_name(),
                attrs: r.schema().attributes.clone(),
            });
        }
        for d in p.data_sources() {
            out.push(Block {
                data: true,
                ty: d.type_name(),
                attrs: d.schema().attributes.clone(),
            });
        }
    }
    let mut out = Vec::new();
    of(&terraform_providers::hasura::HasuraProvider, &mut out);
    of(&terraform_providers::clerk::ClerkProvider, &mut out);
    out
}

/// One required attribute: its names from the block down, and its path as
/// the diagnostic prints it (`columns[0].name`: the samples put one element
/// in a list, under key `k` in a map).
pub struct Target {
    pub names: Vec<&'static str>,
    pub shown: String,
}

impl Target {
    pub fn block_name(&self) -> String {
        format!("null_{}", self.names.join("_"))
    }
}

pub fn required_targets(attrs: &[Attribute], names: &[&'static str], shown: &str) -> Vec<Target> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.mode != Mode::Computed) {
        let mut n = names.to_vec();
        n.push(a.name);
        let s = match shown {
            "" => a.name.to_string(),
            _ => format!("{shown}.{}", a.name),
        };
        if a.mode == Mode::Required {
            out.push(Target {
                names: n.clone(),
                shown: s.clone(),
            });
        }
        if let AttrType::Nested(nesting, inner) = &a.ty {
            // Set elements have no path of their own: the framework reports
            // against the set.
            let elem = match nesting {
                Nesting::Single | Nesting::Set => s,
                Nesting::List => format!("{s}[0]"),
                Nesting::Map => format!("{s}[\"k\"]"),
            };
            out.extend(required_targets(inner, &n, &elem));
        }
    }
    out
}

/// HCL attribute lines for one object: the required attributes at sample
/// values, `null` at `target`, and the optional attributes leading to it.
pub fn body(key: &str, attrs: &[Attribute], target: Option<&[&'static str]>) -> String {
    let mut out = String::new();
    for a in attrs {
        let rest = target
            .and_then(|t| t.split_first())
            .filter(|(head, _)| **head == a.name)
            .map(|(_, rest)| rest);
        if a.mode != Mode::Required && rest.is_none() {
            continue;
        }
        let key = format!("{key}.{}", a.name);
        let v = match rest {
            Some([]) => "null".to_string(),
            _ => value(&key, a, rest),
        };
        out.push_str(&format!("{} = {v}\n", a.name));
    }
    out
}

pub fn value(key: &str, a: &Attribute, target: Option<&[&'static str]>) -> String {
    match &a.ty {
        AttrType::Plain(t) => sample(key, t),
        AttrType::Nested(nesting, inner) => {
            let obj = format!("{{\n{}}}", body(key, inner, target));
            match nesting {
                Nesting::Single => obj,
                Nesting::List | Nesting::Set => format!("[{obj}]"),
                Nesting::Map => format!("{{ k = {obj} }}"),
            }
        }
    }
}

pub fn sample(key: &str, t: &Type) -> String {
    if let Some((_, v)) = SAMPLES.iter().find(|(k, _)| *k == key) {
        return v.to_string();
    }
    match t {
        Type::String | Type::Dynamic => "\"x\"".into(),
        Type::Number => "1".into(),
        Type::Bool => "true".into(),
        Type::List(e) | Type::Set(e) => format!("[{}]", sample(key, e)),
        Type::Map(e) => format!("{{ k = {} }}", sample(key, e)),
        Type::Object(fields) => {
            let f: Vec<String> = fields
                .iter()
                .map(|(n, t)| format!("{n} = {}", sample(&format!("{key}.{n}"), t)))
                .collect();
            format!("{{ {} }}", f.join(", "))
        }
        Type::Tuple(ts) => {
            let e: Vec<String> = ts.iter().map(|t| sample(key, t)).collect();
            format!("[{}]", e.join(", "))
        }
    }
}
