//! The `clerk_jwt_template` data source: an existing template, by `name` or `id`.
use async_trait::async_trait;

use crate::framework::{AttrPath, Attribute, Ctx, DataSource, Diagnostics, IntoDiags, Schema};

use super::client::ClerkClient;
use super::jwt_template::Model;

pub struct JwtTemplateDataSource;

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
        Ok(Model::from_api(t, Default::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clerk::client::JwtTemplate;
    use crate::clerk::jwt_template::JwtTemplateResource;
    use crate::framework::model::{from_cty, to_cty};
    use crate::framework::Resource;

    /// The resource's model fits the data source's schema: the signing key
    /// it lacks is left out, and read back as null.
    #[test]
    fn the_data_source_shares_the_resource_model() {
        let t = JwtTemplate {
            id: "jtmp_1".into(),
            name: "hasura".into(),
            claims: serde_json::json!({"b": 1, "a": 2}),
            lifetime: 60,
            allowed_clock_skew: 5,
            custom_signing_key: false,
            signing_algorithm: Some("RS256".into()),
            created_at: 1,
            updated_at: 2,
        };
        let resource = JwtTemplateResource.schema().cty_type();
        let with_key = Model::from_api(t.clone(), ("secret".into(), crate::framework::Known(1)));
        assert!(
            to_cty(&with_key, &resource).is_ok(),
            "the resource keeps its key"
        );
        let ty = JwtTemplateDataSource.schema().cty_type();
        let cty = to_cty(&Model::from_api(t, Default::default()), &ty).unwrap();
        let m: Model = from_cty(&cty).unwrap();
        assert_eq!(m.id.as_deref(), Some("jtmp_1"));
        assert_eq!(m.name.as_deref(), Some("hasura"));
        assert_eq!(to_cty(&m, &ty).unwrap(), cty);
    }
}
