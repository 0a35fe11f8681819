//! `clerk_jwt_template`: a JWT template of the instance (POST/GET/PATCH/DELETE `/jwt_templates`).
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::framework::json_string::{canonical, json_eq};
use crate::framework::validators::quoted_list;
use crate::framework::{
    ApplyError, AttrPath, Attribute, Ctx, Diagnostics, IntBetween, IntoDiags, JsonObject, Known,
    Plan, Resource, Schema, StringLen, Value,
};
use crate::settle::{settle, Ambiguous, ReadBack, Settle};

use super::client::{ClerkClient, ClerkError, JwtTemplate, TemplateBody};
use super::crud::created_at;
use super::{claims, signing_key};

pub struct JwtTemplateResource;

const DEFAULT_ALGORITHM: &str = "RS256";

/// JWS algorithms a custom signing key can use (RFC 7518), never `none`.
const SIGNING_ALGORITHMS: &[&str] = &[
    "RS256", "RS384", "RS512", "HS256", "HS384", "HS512", "ES256", "ES384", "ES512", "PS256",
    "PS384", "PS512", "EdDSA",
];

/// Also the model of the `clerk_jwt_template` data source, whose schema has
/// every attribute but `signing_key`.
#[derive(Default, Serialize, Deserialize)]
pub struct Model {
    pub(super) id: Value<String>,
    pub(super) name: Value<String>,
    claims: Value<String>,
    lifetime: Value<i64>,
    allowed_clock_skew: Value<i64>,
    custom_signing_key: Value<bool>,
    signing_algorithm: Value<String>,
    /// Write-only: Clerk never returns it, so the state keeps what was sent.
    /// Null in the data source, whose schema lacks it: never serialised there.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    signing_key: Value<String>,
    /// Ours alone (never sent): where `signing_key` is write-only, a new key
    /// is not in the plan, so changing this is what makes the update.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    signing_key_version: Value<i64>,
    created_at: Value<i64>,
    updated_at: Value<i64>,
}

impl Model {
    /// `kept` holds what Clerk does not return: the signing key and its version.
    pub(super) fn from_api(t: JwtTemplate, kept: (Value<String>, Value<i64>)) -> Model {
        let (signing_key, signing_key_version) = kept;
        Model {
            id: t.id.into(),
            name: t.name.into(),
            claims: canonical(&t.claims).into(),
            lifetime: t.lifetime.into(),
            allowed_clock_skew: t.allowed_clock_skew.into(),
            custom_signing_key: t.custom_signing_key.into(),
            signing_algorithm: t.signing_algorithm.into(),
            signing_key,
            signing_key_version,
            created_at: t.created_at.into(),
            updated_at: t.updated_at.into(),
        }
    }

    fn id(&self) -> &str {
        self.id.str_or("")
    }

    fn kept(self) -> (Value<String>, Value<i64>) {
        (self.signing_key, self.signing_key_version)
    }

    /// The request body. The signing key is here with its configured value
    /// although it is write-only (the framework puts it back for apply).
    fn body(&self) -> Result<TemplateBody, Diagnostics> {
        let claims = serde_json::from_str(self.claims.str_or("{}")).map_err(|e| {
            Diagnostics::attr_error(
                AttrPath::attr("claims"),
                "Invalid JSON",
                format!("`claims` is not valid JSON: {e}"),
            )
        })?;
        let custom = self.custom_signing_key.or(false);
        let if_custom = |v: &Value<String>| v.known().filter(|_| custom).cloned();
        Ok(TemplateBody {
            name: self.name.str_or("").to_string(),
            claims,
            lifetime: self.lifetime.or(60),
            allowed_clock_skew: self.allowed_clock_skew.or(5),
            custom_signing_key: custom,
            signing_algorithm: if_custom(&self.signing_algorithm),
            signing_key: if_custom(&self.signing_key),
        })
    }
}

/// How many times a create that certainly did not land is sent again.
const CREATE_RESENDS: u32 = 3;

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
        !self.is_cancelled() && (self.is_ambiguous() || self.is_identifier_taken())
    }
    fn message_mut(&mut self) -> &mut String {
        ClerkError::message_mut(self)
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
) -> Result<JwtTemplate, ClerkError> {
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
            let conflict = err.is_identifier_taken();
            async move {
                Ok(
                    match client.template_by_name(&ctx.cancel, &body.name).await? {
                        Some(t) if is_ours(&t, body) => ReadBack::Landed(t),
                        None if !conflict => ReadBack::Absent,
                        _ => ReadBack::Other,
                    },
                )
            }
        },
    )
    .await
    .map_err(|u| u.into_error("looking the template up by name to see whether it landed"))
}

#[async_trait]
impl Resource for JwtTemplateResource {
    type Model = Model;

    fn type_name(&self) -> &'static str {
        "clerk_jwt_template"
    }

    fn schema(&self) -> Schema {
        Schema::new(
            "A JWT template: the claims Clerk puts in tokens minted with `getToken({ template: name })`, e.g. the Hasura claims. Import with the template id (`jtmp_...`) or its name.",
            vec![
                Attribute::id("Template id (`jtmp_...`)."),
                Attribute::string("name").required().validate(StringLen(1, 256)).describe(
                    "Unique template name; clients request tokens with it. Renaming updates the template in place (tokens requested under the old name stop working).",
                ),
                Attribute::string("claims").required().validate(JsonObject).semantic_eq(json_eq).describe(
                    "The template's custom claims as a JSON object string, usually `jsonencode({...})`. Shortcodes such as `\"{{user.id}}\"` are kept verbatim. Compared by meaning, so key order and whitespace never cause a diff. Reserved claims (`azp`, `exp`, `iat`, `iss`, `jti`, `nbf`, `sub`, `sid`, `v`, `pla`, `fea`, `fva`, `sts`) are rejected at validate time.",
                ),
                Attribute::int("lifetime").default(60).validate(IntBetween(30, 315_360_000)).describe(
                    "Token lifetime in seconds (30 to 315360000). Defaults to 60, Clerk's own default.",
                ),
                Attribute::int("allowed_clock_skew").default(5).validate(IntBetween(0, 300)).describe(
                    "Allowed clock skew in seconds (0 to 300), sets `nbf`. Defaults to 5, Clerk's own default.",
                ),
                Attribute::bool("custom_signing_key").default(false).describe(
                    "Sign tokens with `signing_key`/`signing_algorithm` instead of the instance key. Default `false`: tokens are RS256-signed with the instance key published in the JWKS.",
                ),
                Attribute::string("signing_algorithm").optional_computed().validate(StringLen(1, 16)).describe(
                    "Signing algorithm (e.g. `RS256`, `HS256`); required when `custom_signing_key` is true. `RS256` when the instance key is used.",
                ),
                Attribute::string("signing_key").optional().sensitive().write_only().describe(
                    "Custom signing key (PEM private key or HMAC secret); required when `custom_signing_key` is true. Sensitive; write-only on Terraform >= 1.11 (never stored in state, so a new key alone plans no change: change `signing_key_version` with it). Clerk never returns it, so changes made outside Terraform cannot be detected.",
                ),
                Attribute::int("signing_key_version").optional().describe(
                    "Any number, kept in state and never sent to Clerk: changing it updates the template, sending `signing_key` again. Change it whenever the key changes (e.g. `1`, then `2` when rotating): on Terraform >= 1.11 `signing_key` is write-only, so Terraform cannot see a new key by itself.",
                ),
                created_at(),
                Attribute::int("updated_at").computed().describe("Last update time, Unix milliseconds."),
            ],
        )
    }

    fn validate(&self, config: &Model, diags: &mut Diagnostics) {
        if config.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            diags.add_attr_error(
                AttrPath::attr("name"),
                "Blank template name",
                "`name` must contain a visible character; clients request tokens by this name.",
            );
        }
        if let Some(claims) = config.claims.as_deref() {
            check_claims(claims, diags);
        }
        check_signing(config, diags);
    }

    async fn modify_plan(&self, _ctx: &Ctx, plan: Plan<'_, Model>) {
        // Without a custom key Clerk reports RS256: say so in the plan rather
        // than leaving it unknown or stale after switching back to the instance key.
        if plan.config.signing_algorithm.is_null()
            && plan.planned.custom_signing_key == Known(false)
        {
            plan.planned.signing_algorithm = DEFAULT_ALGORITHM.into();
        }
    }

    async fn create(&self, ctx: &Ctx, planned: Model) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let created = create_once(&client, ctx, &planned.body()?)
            .await
            .map_err(|e| e.into_diags("Failed to create JWT template"))?;
        Ok(Model::from_api(created, planned.kept()))
    }

    async fn read(&self, ctx: &Ctx, state: Model) -> Result<Option<Model>, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        match client.read_template(&ctx.cancel, state.id()).await {
            Ok(t) => Ok(Some(Model::from_api(t, state.kept()))),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e.into_diags("Failed to read JWT template")),
        }
    }

    async fn update(
        &self,
        ctx: &Ctx,
        prior: Model,
        planned: Model,
    ) -> Result<Model, ApplyError<Model>> {
        let client = ctx.client::<ClerkClient>()?;
        let t = client
            .update_template(&ctx.cancel, prior.id(), &planned.body()?)
            .await
            .map_err(|e| e.into_diags("Failed to update JWT template"))?;
        Ok(Model::from_api(t, planned.kept()))
    }

    async fn delete(&self, ctx: &Ctx, state: Model) -> Result<(), Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        client
            .delete_template(&ctx.cancel, state.id())
            .await
            .map_err(|e| e.into_diags("Failed to delete JWT template"))
    }

    async fn import(&self, ctx: &Ctx, id: &str) -> Result<Model, Diagnostics> {
        let client = ctx.client::<ClerkClient>()?;
        let found = if id.starts_with("jtmp_") {
            client.template_by_id(&ctx.cancel, id).await
        } else {
            client.template_by_name(&ctx.cancel, id).await
        }
        .map_err(|e| e.into_diags("Failed to import JWT template"))?;
        let Some(t) = found else {
            return Err(Diagnostics::error(
                "JWT template not found",
                format!("No JWT template has the id or name {id:?}. Import takes a template id (`jtmp_...`) or an exact template name."),
            ));
        };
        Ok(Model::from_api(t, Default::default()))
    }
}

fn check_claims(claims: &str, diags: &mut Diagnostics) {
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(claims) {
        for c in claims::reserved_in(&m) {
            diags.add_attr_error(
                AttrPath::attr("claims"),
                "Reserved claim in JWT template",
                format!("`claims` sets {c:?}, which Clerk sets itself on every token and rejects in templates (jwt_template_reserved_claim). Remove it."),
            );
        }
    }
}

/// `signing_algorithm` and `signing_key` belong together, and only with
/// `custom_signing_key = true`.
fn check_signing(config: &Model, diags: &mut Diagnostics) {
    if let Some(alg) = config.signing_algorithm.as_deref() {
        if !SIGNING_ALGORITHMS.contains(&alg) {
            diags.add_attr_error(
                AttrPath::attr("signing_algorithm"),
                "Unsupported signing algorithm",
                format!("`signing_algorithm` must be one of {} (got {alg:?}); unsigned tokens (`none`) are never accepted.", quoted_list(SIGNING_ALGORITHMS)),
            );
        }
        let asymmetric = !alg.starts_with("HS");
        if let Some(key) = config.signing_key.as_deref() {
            if asymmetric && SIGNING_ALGORITHMS.contains(&alg) && !key.contains("-----BEGIN") {
                diags.add_attr_error(AttrPath::attr("signing_key"), "Signing key is not a PEM private key", format!("`signing_algorithm` {alg:?} needs a PEM-encoded private key (`-----BEGIN PRIVATE KEY-----`...) in `signing_key`; an HMAC secret only works with HS256/HS384/HS512."));
            } else if SIGNING_ALGORITHMS.contains(&alg) {
                // A key Clerk cannot sign `alg` with (another family, another
                // curve) would only fail when a token is minted.
                if let Err(why) = signing_key::parse(alg, key) {
                    diags.add_attr_error(
                        AttrPath::attr("signing_key"),
                        "Signing key does not fit the algorithm",
                        why.to_string(),
                    );
                }
            }
        }
    }
    match config.custom_signing_key {
        Known(true) => {
            let pair = [
                ("signing_algorithm", &config.signing_algorithm),
                ("signing_key", &config.signing_key),
            ];
            for (attr, v) in pair {
                if v.is_null() {
                    diags.add_attr_error(
                        AttrPath::attr(attr),
                        "Missing attribute",
                        format!("`{attr}` is required when `custom_signing_key` is true."),
                    );
                }
            }
        }
        Known(false) | Value::Null => {
            if !config.signing_key.is_null() {
                diags.add_attr_error(AttrPath::attr("signing_key"), "Unused signing key", "`signing_key` is only used when `custom_signing_key` is true; set that, or remove `signing_key`.");
            }
            if config
                .signing_algorithm
                .as_deref()
                .is_some_and(|a| a != DEFAULT_ALGORITHM)
            {
                diags.add_attr_error(AttrPath::attr("signing_algorithm"), "Custom algorithm without custom key", "Without `custom_signing_key = true`, Clerk signs with the instance key using RS256; set `custom_signing_key` or remove `signing_algorithm`.");
            }
        }
        Value::Unknown => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::ApiError;
    use crate::http::HttpError;
    use reqwest::{Method, StatusCode};

    /// A create failure as the client reports it.
    fn failed(e: HttpError) -> ClerkError {
        ClerkError::from_http(e, &Method::POST, "/jwt_templates")
    }

    fn refused(status: u16, code: &str) -> ClerkError {
        failed(HttpError::Status {
            status: StatusCode::from_u16(status).unwrap(),
            body: format!(
                r#"{{"errors":[{{"code":"{code}","message":"m","meta":{{"param_name":"name"}}}}]}}"#
            ),
        })
    }

    #[test]
    fn which_create_failures_are_read_back() {
        let reset = || failed(HttpError::Transport("reset".into()));
        assert!(reset().may_have_landed());
        assert!(refused(502, "internal").may_have_landed());
        for code in crate::clerk::client::IDENTIFIER_TAKEN {
            assert!(refused(422, code).may_have_landed(), "{code}");
        }
        assert!(!refused(422, "form_param_invalid").may_have_landed());
        assert!(!failed(HttpError::Cancelled).may_have_landed());
        let merged =
            refused(422, "form_identifier_exists").with_read_back_failure("looking it up", reset());
        assert_eq!(
            merged.to_string(),
            "Clerk API POST /jwt_templates failed with HTTP 422: m [form_identifier_exists]. A template with this name already exists; import it with `terraform import` instead of creating it. (looking it up also failed: Clerk API POST /jwt_templates failed: reset)"
        );
        assert_eq!(
            merged.attribute(),
            Some("name"),
            "still blames the attribute"
        );
    }
}
