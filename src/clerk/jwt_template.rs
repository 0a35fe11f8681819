//! `clerk_jwt_template`: a JWT template of the instance (POST/GET/PATCH/DELETE `/jwt_templates`).
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::{canonical, json_eq};
use crate::framework::legacy::{decode, encode, LegacyApplyError, LegacyResource, PlanContext};
use crate::framework::IntoDiags;
use crate::framework::{
    Attribute, Ctx, Diagnostics, IntBetween, JsonObject, Schema, StringLen, UseStateForUnknown,
};
use crate::plugin::cty::{AttrPath, Value};
use crate::settle::{settle, Ambiguous, ReadBack, Settle};

use super::claims;
use super::client::{ClerkClient, ClerkError, JwtTemplate, TemplateBody};

pub struct JwtTemplateResource;

const DEFAULT_ALGORITHM: &str = "RS256";

/// JWS algorithms a custom signing key can use (RFC 7518), never `none`.
const SIGNING_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "HS256", "HS384", "HS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA",
];

#[derive(Debug, Default, Serialize, Deserialize)]
struct Model {
    id: Option<String>,
    name: Option<String>,
    claims: Option<String>,
    lifetime: Option<i64>,
    allowed_clock_skew: Option<i64>,
    custom_signing_key: Option<bool>,
    signing_algorithm: Option<String>,
    signing_key: Option<String>,
    created_at: Option<i64>,
    updated_at: Option<i64>,
}

impl Model {
    fn from_api(t: JwtTemplate, signing_key: Option<String>) -> Model {
        Model {
            id: Some(t.id),
            name: Some(t.name),
            claims: Some(canonical(&t.claims)),
            lifetime: Some(t.lifetime),
            allowed_clock_skew: Some(t.allowed_clock_skew),
            custom_signing_key: Some(t.custom_signing_key),
            signing_algorithm: t.signing_algorithm,
            signing_key,
            created_at: Some(t.created_at),
            updated_at: Some(t.updated_at),
        }
    }

    /// The request body: planned values, plus the signing key from config
    /// (write-only, so it is not in the plan on newer cores).
    fn body(&self, config: &Model) -> Result<TemplateBody, Diagnostics> {
        let claims = self.claims.as_deref().unwrap_or("{}");
        let claims: serde_json::Value = serde_json::from_str(claims).map_err(|e| {
            Diagnostics::attr_error(
                AttrPath::attr("claims"),
                "Invalid JSON",
                format!("`claims` is not valid JSON: {e}"),
            )
        })?;
        let custom = self.custom_signing_key.unwrap_or(false);
        Ok(TemplateBody {
            name: self.name.clone().unwrap_or_default(),
            claims,
            lifetime: self.lifetime.unwrap_or(60),
            allowed_clock_skew: self.allowed_clock_skew.unwrap_or(5),
            custom_signing_key: custom,
            signing_algorithm: if custom {
                self.signing_algorithm
                    .clone()
                    .or(config.signing_algorithm.clone())
            } else {
                None
            },
            signing_key: if custom {
                config.signing_key.clone().or(self.signing_key.clone())
            } else {
                None
            },
        })
    }
}

/// How many times a create that certainly did not land is sent again.
const CREATE_RESENDS: u32 = 3;

/// Clerk's code for a create whose identifier (the template name) is taken.
const NAME_TAKEN: &str = "form_identifier_exists";

/// Whether a template found remotely is the one this create asked for.
fn is_ours(t: &JwtTemplate, body: &TemplateBody) -> bool {
    t.name == body.name
        && t.claims == body.claims
        && t.lifetime == body.lifetime
        && t.allowed_clock_skew == body.allowed_clock_skew
        && t.custom_signing_key == body.custom_signing_key
}

impl Ambiguous for ClerkError {
    fn may_have_landed(&self) -> bool {
        // A create refused because its name is taken may have met itself:
        // an earlier attempt, or apply, whose answer was lost.
        !self.is_cancelled() && (self.is_ambiguous() || self.code.as_deref() == Some(NAME_TAKEN))
    }
    fn message_mut(&mut self) -> &mut String {
        &mut self.message
    }
    fn log_text(&self) -> Option<&str> {
        // Clerk's answers stay out of the logs, as in `http`: their text is
        // Clerk's, not ours, and may quote the request.
        None
    }
}

/// Creates the template exactly once. When an attempt's answer is lost (5xx,
/// reset, timeout) the template may exist: look it up by name and adopt it
/// if it is the one we sent, else send again. A name conflict with an
/// identical template (an earlier apply that crashed after creating it) is
/// adopted too; a conflict with a different template is the user's to resolve.
async fn create_once(
    client: &ClerkClient,
    ctx: &Ctx,
    body: &TemplateBody,
) -> Result<JwtTemplate, LegacyApplyError> {
    let how = Settle {
        resending: "create did not land; sending it again",
        landed: Some("template from an earlier attempt found; adopting it"),
        table: None,
        resends: CREATE_RESENDS,
        // Sent again at once, as it always was: the lookup in between (a
        // list call, which the HTTP layer retries) is the only wait.
        backoff: false,
    };
    settle(
        &ctx.cancel,
        &how,
        || client.create_template(&ctx.cancel, body),
        |err| {
            let conflict = err.code.as_deref() == Some(NAME_TAKEN);
            async move {
                Ok(
                    match client
                        .find_template_by_name(&ctx.cancel, &body.name)
                        .await?
                    {
                        Some(t) if is_ours(&t, body) => ReadBack::Landed(t),
                        None if !conflict => ReadBack::Absent,
                        _ => ReadBack::Other,
                    },
                )
            }
        },
    )
    .await
    .map_err(|u| {
        u.into_error("looking the template up by name to see whether it landed")
            .into_diags("Failed to create JWT template")
            .into()
    })
}

#[async_trait]
impl LegacyResource for JwtTemplateResource {
    fn type_name(&self) -> &'static str {
        "clerk_jwt_template"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A JWT template: the claims Clerk puts in tokens minted with `getToken({ template: name })`, e.g. the Hasura claims. Import with the template id (`jtmp_...`) or its name.",
            vec![
                Attribute::string("id").computed().plan(UseStateForUnknown).describe("Template id (`jtmp_...`)."),
                Attribute::string("name").required().validate(StringLen(1, 256)).describe(
                    "Unique template name; clients request tokens with it. Renaming updates the template in place (tokens requested under the old name stop working).",
                ),
                Attribute::string("claims").required().validate(JsonObject).semantic_eq(json_eq).describe(
                    "The template's custom claims as a JSON object string, usually `jsonencode({...})`. Shortcodes such as `\"{{user.id}}\"` are kept verbatim. Compared by meaning, so key order and whitespace never cause a diff. Reserved claims (`azp`, `exp`, `iat`, `iss`, `jti`, `nbf`, `sub`, `sid`, `v`, `pla`, `fea`, `fva`, `sts`) are rejected at validate time.",
                ),
                Attribute::int("lifetime").default(Value::int(60)).validate(IntBetween(30, 315_360_000)).describe(
                    "Token lifetime in seconds (30 to 315360000). Defaults to 60, Clerk's own default.",
                ),
                Attribute::int("allowed_clock_skew").default(Value::int(5)).validate(IntBetween(0, 300)).describe(
                    "Allowed clock skew in seconds (0 to 300), sets `nbf`. Defaults to 5, Clerk's own default.",
                ),
                Attribute::bool("custom_signing_key").default(Value::Bool(false)).describe(
                    "Sign tokens with `signing_key`/`signing_algorithm` instead of the instance key. Default `false`: tokens are RS256-signed with the instance key published in the JWKS.",
                ),
                Attribute::string("signing_algorithm").optional_computed().validate(StringLen(1, 16)).describe(
                    "Signing algorithm (e.g. `RS256`, `HS256`); required when `custom_signing_key` is true. `RS256` when the instance key is used.",
                ),
                Attribute::string("signing_key").optional().sensitive().write_only().describe(
                    "Custom signing key (PEM private key or HMAC secret); required when `custom_signing_key` is true. Sensitive; write-only on Terraform >= 1.11 (never stored in state). Clerk never returns it, so changes made outside Terraform cannot be detected.",
                ),
                Attribute::int("created_at").computed().plan(UseStateForUnknown).describe("Creation time, Unix milliseconds."),
                Attribute::int("updated_at").computed().describe("Last update time, Unix milliseconds."),
            ],
        )
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if config
            .get("name")
            .as_str()
            .is_some_and(|n| n.trim().is_empty())
        {
            diags.add_attr_error(
                AttrPath::attr("name"),
                "Blank template name",
                "`name` must contain a visible character; clients request tokens by this name.",
            );
        }
        if let Some(alg) = config.get("signing_algorithm").as_str() {
            if !SIGNING_ALGORITHMS.contains(&alg) {
                diags.add_attr_error(
                    AttrPath::attr("signing_algorithm"),
                    "Unsupported signing algorithm",
                    format!("`signing_algorithm` must be one of {} (got {alg:?}); unsigned tokens (`none`) are never accepted.", crate::framework::validators::quoted_list(SIGNING_ALGORITHMS)),
                );
            }
            let asymmetric = !alg.starts_with("HS");
            if let Some(key) = config.get("signing_key").as_str() {
                if asymmetric && SIGNING_ALGORITHMS.contains(&alg) && !key.contains("-----BEGIN") {
                    diags.add_attr_error(AttrPath::attr("signing_key"), "Signing key is not a PEM private key", format!("`signing_algorithm` {alg:?} needs a PEM-encoded private key (`-----BEGIN PRIVATE KEY-----`...) in `signing_key`; an HMAC secret only works with HS256/HS384/HS512."));
                }
            }
        }
        if let Some(s) = config.get("claims").as_str() {
            if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(s) {
                for c in claims::reserved_in(&m) {
                    diags.add_attr_error(
                        AttrPath::attr("claims"),
                        "Reserved claim in JWT template",
                        format!("`claims` sets {c:?}, which Clerk sets itself on every token and rejects in templates (jwt_template_reserved_claim). Remove it."),
                    );
                }
            }
        }
        let custom = config.get("custom_signing_key");
        if custom.as_bool() == Some(true) {
            for attr in ["signing_algorithm", "signing_key"] {
                if config.get(attr).is_null() {
                    diags.add_attr_error(
                        AttrPath::attr(attr),
                        "Missing attribute",
                        format!("`{attr}` is required when `custom_signing_key` is true."),
                    );
                }
            }
        } else if custom.as_bool() == Some(false) || custom.is_null() {
            if !config.get("signing_key").is_null() {
                diags.add_attr_error(AttrPath::attr("signing_key"), "Unused signing key", "`signing_key` is only used when `custom_signing_key` is true; set that, or remove `signing_key`.");
            }
            if config
                .get("signing_algorithm")
                .as_str()
                .is_some_and(|a| a != DEFAULT_ALGORITHM)
            {
                diags.add_attr_error(AttrPath::attr("signing_algorithm"), "Custom algorithm without custom key", "Without `custom_signing_key = true`, Clerk signs with the instance key using RS256; set `custom_signing_key` or remove `signing_algorithm`.");
            }
        }
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: PlanContext<'_>) {
        // Without a custom key Clerk reports RS256: say so in the plan rather
        // than leaving it unknown or stale after switching back to the instance key.
        if plan.planned.is_null() || !plan.config.get("signing_algorithm").is_null() {
            return;
        }
        if plan.planned.get("custom_signing_key").as_bool() == Some(false) {
            plan.planned
                .set("signing_algorithm", Value::string(DEFAULT_ALGORITHM));
        }
    }

    async fn create(
        &self,
        ctx: &Ctx,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<ClerkClient>()?;
        let plan: Model = decode(planned)?;
        let cfg: Model = decode(config)?;
        let body = plan.body(&cfg)?;
        let created = create_once(&client, ctx, &body).await?;
        Ok(encode(
            &Model::from_api(created, plan.signing_key),
            &self.cty_type(),
        )?)
    }

    async fn read(&self, ctx: &Ctx, state: &Value) -> Result<Option<Value>, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let prior: Model = decode(state)?;
        let id = prior.id.clone().unwrap_or_default();
        match client.read_template(&ctx.cancel, &id).await {
            Ok(t) => Ok(Some(encode(
                &Model::from_api(t, prior.signing_key),
                &self.cty_type(),
            )?)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into_diags("Failed to read JWT template")),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: &Value,
        planned: &Value,
        config: &Value,
    ) -> Result<Value, LegacyApplyError> {
        let client = ctx.client::<ClerkClient>()?;
        let prior: Model = decode(prior)?;
        let plan: Model = decode(planned)?;
        let cfg: Model = decode(config)?;
        let id = prior.id.clone().unwrap_or_default();
        let t = client
            .update_template(&ctx.cancel, &id, &plan.body(&cfg)?)
            .await
            .map_err(|e| e.into_diags("Failed to update JWT template"))?;
        Ok(encode(
            &Model::from_api(t, plan.signing_key),
            &self.cty_type(),
        )?)
    }

    async fn delete(&self, ctx: &Ctx, state: &Value) -> Result<(), Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let m: Model = decode(state)?;
        client
            .delete_template(&ctx.cancel, m.id.as_deref().unwrap_or_default())
            .await
            .map_err(|e| e.into_diags("Failed to delete JWT template"))
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Value, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let found = if id.starts_with("jtmp_") {
            client
                .get_template(&ctx.cancel, id)
                .await
                .map(Some)
                .or_else(|e| if e.is_not_found() { Ok(None) } else { Err(e) })
        } else {
            client.find_template_by_name(&ctx.cancel, id).await
        }
        .map_err(|e| e.into_diags("Failed to import JWT template"))?;
        let Some(t) = found else {
            return Err(Diagnostics::error(
                "JWT template not found",
                format!("No JWT template has the id or name {id:?}. Import takes a template id (`jtmp_...`) or an exact template name."),
            ));
        };
        encode(&Model::from_api(t, None), &self.cty_type())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: Option<u16>, code: Option<&str>) -> ClerkError {
        ClerkError {
            status: status.map(|s| reqwest::StatusCode::from_u16(s).unwrap()),
            code: code.map(str::to_string),
            message: "create failed".into(),
            param: Some("name".into()),
        }
    }

    #[test]
    fn which_create_failures_are_read_back() {
        assert!(err(None, None).may_have_landed());
        assert!(err(Some(502), None).may_have_landed());
        assert!(err(Some(422), Some(NAME_TAKEN)).may_have_landed());
        assert!(!err(Some(422), Some("form_param_invalid")).may_have_landed());
        assert!(!err(None, Some("cancelled")).may_have_landed());
        let merged = err(None, None).with_read_back_failure("looking it up", err(Some(503), None));
        assert_eq!(
            merged.message,
            "create failed (looking it up also failed: create failed)"
        );
        assert_eq!(
            merged.param.as_deref(),
            Some("name"),
            "still blames the attribute"
        );
    }
}
