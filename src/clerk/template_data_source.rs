//! The `clerk_jwt_template` data source: an existing template, by `name` or `id`.
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::canonical;
use crate::framework::{
    AttrPath, Attribute, Ctx, DataSource, Diagnostics, IntoDiags, Schema, Value,
};

use super::client::ClerkClient;

pub struct JwtTemplateDataSource;

#[derive(Serialize, Deserialize)]
pub struct Model {
    id: Value<String>,
    name: Value<String>,
    claims: Value<String>,
    lifetime: Value<i64>,
    allowed_clock_skew: Value<i64>,
    custom_signing_key: Value<bool>,
    signing_algorithm: Value<String>,
    created_at: Value<i64>,
    updated_at: Value<i64>,
}

#[async_trait]
impl DataSource for JwtTemplateDataSource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "clerk_jwt_template"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "Looks up an existing JWT template by `name` or `id` (exactly one).",
            vec![
                Attribute::string("id")
                    .optional_computed()
                    .describe("Template id (`jtmp_...`). Set this or `name`."),
                Attribute::string("name")
                    .optional_computed()
                    .describe("Template name. Set this or `id`."),
                Attribute::string("claims")
                    .computed()
                    .describe("Claims as a JSON object string (keys sorted, like `jsonencode`)."),
                Attribute::int("lifetime")
                    .computed()
                    .describe("Token lifetime in seconds."),
                Attribute::int("allowed_clock_skew")
                    .computed()
                    .describe("Allowed clock skew in seconds."),
                Attribute::bool("custom_signing_key")
                    .computed()
                    .describe("Whether a custom signing key is used."),
                Attribute::string("signing_algorithm")
                    .computed()
                    .describe("Signing algorithm."),
                Attribute::int("created_at")
                    .computed()
                    .describe("Creation time, Unix milliseconds."),
                Attribute::int("updated_at")
                    .computed()
                    .describe("Last update time, Unix milliseconds."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        let (id, name) = (&config.id, &config.name);
        if id.is_unknown() || name.is_unknown() {
            return;
        }
        if id.is_null() == name.is_null() {
            diags.add_attr_error(
                AttrPath::attr("name"),
                "Exactly one of `id` or `name`",
                "Set either `id` or `name` to select the template.",
            );
        }
    }

    async fn read(&self, ctx: &Ctx, config: Model) -> Result<Model, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let found = match config.id.as_deref() {
            Some(id) => client.template_by_id(&ctx.cancel, id).await,
            None => {
                let name = config.name.str_or("");
                client.template_by_name(&ctx.cancel, name).await
            }
        }
        .map_err(|e| e.into_diags("Failed to read JWT template"))?;
        let t = found.ok_or_else(|| {
            Diagnostics::error(
                "JWT template not found",
                "No JWT template matches the given `id`/`name`.",
            )
        })?;
        Ok(Model {
            id: t.id.into(),
            name: t.name.into(),
            claims: canonical(&t.claims).into(),
            lifetime: t.lifetime.into(),
            allowed_clock_skew: t.allowed_clock_skew.into(),
            custom_signing_key: t.custom_signing_key.into(),
            signing_algorithm: t.signing_algorithm.into(),
            created_at: t.created_at.into(),
            updated_at: t.updated_at.into(),
        })
    }
}
