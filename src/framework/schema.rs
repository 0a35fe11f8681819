//! Schemas: what Terraform sees (`GetProviderSchema`) and what the framework
//! uses to validate, default and plan each attribute.
use std::sync::Arc;

use crate::plugin::cty::{Type, Value};
use crate::plugin::proto::tfplugin6 as pb;

use super::planmod::PlanModifier;
use super::validators::Validator;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    Computed,
    OptionalComputed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

#[derive(Clone)]
pub enum AttrType {
    Plain(Type),
    Nested(Nesting, Vec<Attribute>),
}

/// Decides whether two known values of one attribute mean the same thing
/// (e.g. JSON documents differing only in key order).
pub type SemanticEq = fn(&Value, &Value) -> bool;

#[derive(Clone)]
pub struct Attribute {
    pub name: &'static str,
    pub ty: AttrType,
    pub mode: Mode,
    pub sensitive: bool,
    pub write_only: bool,
    pub description: String,
    pub validators: Vec<Arc<dyn Validator>>,
    pub plan_modifiers: Vec<Arc<dyn PlanModifier>>,
    pub default: Option<Value>,
    pub semantic_eq: Option<SemanticEq>,
}

impl Attribute {
    fn new(name: &'static str, ty: AttrType) -> Self {
        Attribute {
            name,
            ty,
            mode: Mode::Optional,
            sensitive: false,
            write_only: false,
            description: String::new(),
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
            default: None,
            semantic_eq: None,
        }
    }
    pub fn string(name: &'static str) -> Self {
        Self::new(name, AttrType::Plain(Type::String))
    }
    pub fn int(name: &'static str) -> Self {
        Self::new(name, AttrType::Plain(Type::Number))
    }
    pub fn bool(name: &'static str) -> Self {
        Self::new(name, AttrType::Plain(Type::Bool))
    }
    pub fn typed(name: &'static str, ty: Type) -> Self {
        Self::new(name, AttrType::Plain(ty))
    }
    pub fn nested(name: &'static str, nesting: Nesting, attrs: Vec<Attribute>) -> Self {
        Self::new(name, AttrType::Nested(nesting, attrs))
    }
    /// The `id` every resource has: set by create, kept across plans.
    pub fn id(markdown: impl Into<String>) -> Self {
        Self::string("id")
            .computed()
            .plan(super::UseStateForUnknown)
            .describe(markdown)
    }

    fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }
    pub fn required(self) -> Self {
        self.mode(Mode::Required)
    }
    pub fn optional(self) -> Self {
        self.mode(Mode::Optional)
    }
    pub fn computed(self) -> Self {
        self.mode(Mode::Computed)
    }
    pub fn optional_computed(self) -> Self {
        self.mode(Mode::OptionalComputed)
    }
    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
    /// Write-only on cores that support it (>= 1.11): never stored in state.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }
    pub fn describe(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }
    pub fn validate(mut self, v: impl Validator + 'static) -> Self {
        self.validators.push(Arc::new(v));
        self
    }
    pub fn plan(mut self, m: impl PlanModifier + 'static) -> Self {
        self.plan_modifiers.push(Arc::new(m));
        self
    }
    /// A default implies optional+computed: the planned value differs from
    /// the (null) config value, which core only allows for computed attributes.
    pub fn default(mut self, v: impl Into<Value>) -> Self {
        self.default = Some(v.into());
        self.mode = Mode::OptionalComputed;
        self
    }
    /// A default given as a model value (e.g. a nested object's struct),
    /// converted to the attribute's type.
    pub fn default_model<T: serde::Serialize>(self, v: &T) -> Self {
        let ty = self.cty_type();
        let v = super::model::to_cty(v, &ty)
            .unwrap_or_else(|e| panic!("default of {}: {e}", self.name));
        self.default(v)
    }
    pub fn semantic_eq(mut self, f: SemanticEq) -> Self {
        self.semantic_eq = Some(f);
        self
    }

    pub fn is_computed(&self) -> bool {
        matches!(self.mode, Mode::Computed | Mode::OptionalComputed)
    }

    pub fn cty_type(&self) -> Type {
        match &self.ty {
            AttrType::Plain(t) => t.clone(),
            AttrType::Nested(nesting, attrs) => {
                let obj = object_type(attrs);
                match nesting {
                    Nesting::Single => obj,
                    Nesting::List => Type::list(obj),
                    Nesting::Set => Type::set(obj),
                    Nesting::Map => Type::map(obj),
                }
            }
        }
    }

    fn to_proto(&self) -> pb::schema::Attribute {
        let (ty, nested) = match &self.ty {
            AttrType::Plain(t) => (serde_json::to_vec(&t.to_json()).expect("type json"), None),
            AttrType::Nested(nesting, attrs) => (
                Vec::new(),
                Some(pb::schema::Object {
                    attributes: attrs.iter().map(Attribute::to_proto).collect(),
                    nesting: match nesting {
                        Nesting::Single => pb::schema::object::NestingMode::Single,
                        Nesting::List => pb::schema::object::NestingMode::List,
                        Nesting::Set => pb::schema::object::NestingMode::Set,
                        Nesting::Map => pb::schema::object::NestingMode::Map,
                    } as i32,
                }),
            ),
        };
        pb::schema::Attribute {
            name: self.name.to_string(),
            r#type: ty,
            nested_type: nested,
            description: self.description.clone(),
            required: self.mode == Mode::Required,
            optional: matches!(self.mode, Mode::Optional | Mode::OptionalComputed),
            computed: self.is_computed(),
            sensitive: self.sensitive,
            description_kind: pb::StringKind::Markdown as i32,
            deprecated: false,
            write_only: self.write_only,
        }
    }
}

pub fn object_type(attrs: &[Attribute]) -> Type {
    Type::Object(
        attrs
            .iter()
            .map(|a| (a.name.to_string(), a.cty_type()))
            .collect(),
    )
}

#[derive(Clone)]
pub struct Schema {
    pub version: i64,
    pub description: String,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    pub fn new(description: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Schema {
            version: 0,
            description: description.into(),
            attributes,
        }
    }
    pub fn with_version(mut self, v: i64) -> Self {
        self.version = v;
        self
    }
    pub fn cty_type(&self) -> Type {
        object_type(&self.attributes)
    }
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
    pub fn to_proto(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(pb::schema::Block {
                version: self.version,
                attributes: self.attributes.iter().map(Attribute::to_proto).collect(),
                block_types: Vec::new(),
                description: self.description.clone(),
                description_kind: pb::StringKind::Markdown as i32,
                deprecated: false,
            }),
        }
    }
}
