//! Issue 11, point 8: a `clerk_jwt_template` with `custom_signing_key = true`
//! signs with the user's key, so Hasura must get `{"type", "key"}` rather than
//! `jwk_url`. `clerk_hasura_jwt_secret` produces it; here a real Terraform run
//! applies template + data source + `hasura_env_var`, and the Hasura emulator
//! accepts a token the Clerk emulator mints from that template, for an RSA, an
//! EC and an HMAC key in turn, while an instance-key token is refused.
mod support;

use clerk_emulator::ClerkConfig;
use reqwest::Method;
use serde_json::{json, Value};
use support::{assert_no_changes, for_each_terraform, required_providers, Workdir};

fn config(alg: &str) -> String {
    format!(
        r#"{}
variable "signing_key" {{
  type      = string
  sensitive = true
}}

# One value for both: the template's own `signing_algorithm` is only known
# after apply, and the data source checks the pairing at plan.
locals {{
  signing_algorithm = "{alg}"
}}

resource "clerk_jwt_template" "hasura" {{
  name = "hasura"
  claims = jsonencode({{
    "https://hasura.io/jwt/claims" = {{
      "x-hasura-allowed-roles" = ["user"]
      "x-hasura-default-role"  = "user"
      "x-hasura-user-id"       = "{{{{user.id}}}}"
    }}
  }})
  custom_signing_key = true
  signing_algorithm  = local.signing_algorithm
  signing_key        = var.signing_key
}}

data "clerk_jwks" "this" {{}}

data "clerk_hasura_jwt_secret" "hasura" {{
  signing_algorithm = local.signing_algorithm
  signing_key       = var.signing_key
  issuer            = data.clerk_jwks.this.issuer
}}

resource "hasura_env_var" "jwt_secret" {{
  key   = "HASURA_GRAPHQL_JWT_SECRET"
  value = data.clerk_hasura_jwt_secret.hasura.jwt_secret
}}

output "type" {{
  value = data.clerk_hasura_jwt_secret.hasura.type
}}

output "public_key_pem" {{
  value = data.clerk_hasura_jwt_secret.hasura.public_key_pem
}}
"#,
        required_providers()
    )
}

struct Both {
    clerk: support::clerk::Env,
    hasura: support::hasura::Env,
}

impl Both {
    fn start() -> Both {
        Both {
            clerk: support::clerk::Env::start(ClerkConfig::default()),
            hasura: support::hasura::Env::start(),
        }
    }

    fn workdir(&self, tf: &std::path::Path) -> Workdir {
        let mut wd = self.hasura.workdir(tf);
        wd.env("CLERK_SECRET_KEY", self.clerk.emu().secret_key());
        wd.env("CLERK_API_URL", &self.clerk.emu().api_url());
        wd
    }

    /// A token for Alice's session from the template `name`.
    fn mint(&self, name: &str) -> String {
        let (s, tok) = self.clerk.api(
            Method::POST,
            &format!("/sessions/sess_alice/tokens/{name}"),
            None,
        );
        assert_eq!(s, 200, "{tok}");
        tok["jwt"].as_str().unwrap().to_string()
    }

    /// `{ __typename }` as the token's bearer: the response body.
    fn query_as(&self, jwt: &str) -> Value {
        let bearer = format!("Bearer {jwt}");
        self.hasura
            .graphql(&[("authorization", &bearer)], "{ __typename }", false)
    }
}

fn private_key(alg: &'static rcgen::SignatureAlgorithm) -> String {
    rcgen::KeyPair::generate_for(alg).unwrap().serialize_pem()
}

#[test]
fn a_custom_key_template_pairs_with_hasura_for_rsa_ec_and_hmac() {
    for_each_terraform(|tf| {
        let env = Both::start();
        let mut wd = env.workdir(tf);
        let keys = [
            ("RS256", private_key(&rcgen::PKCS_RSA_SHA256), "RS256"),
            (
                "ES256",
                private_key(&rcgen::PKCS_ECDSA_P256_SHA256),
                "ES256",
            ),
            (
                "HS256",
                "hmac-secret-0123456789abcdef-0123456789".to_string(),
                "HS256",
            ),
        ];
        for (alg, key, hasura_type) in keys {
            wd.env("TF_VAR_signing_key", &key);
            wd.write("main.tf", &config(alg));
            let out = wd.apply();
            assert!(
                !out.combined().contains(key.lines().nth(1).unwrap_or(&key)),
                "{alg}: the key reached Terraform's output"
            );
            assert_no_changes(&wd, &format!("after applying {alg}"));

            let outputs = wd.tf(&["output", "-json"]);
            let outputs: Value = serde_json::from_str(&outputs.stdout).unwrap();
            assert_eq!(outputs["type"]["value"], hasura_type);
            let public = &outputs["public_key_pem"]["value"];
            if alg.starts_with("HS") {
                assert!(public.is_null(), "{public}");
            } else {
                assert!(public
                    .as_str()
                    .unwrap()
                    .starts_with("-----BEGIN PUBLIC KEY-----"));
            }

            let secret: Value =
                serde_json::from_str(&env.hasura.env_vars()["HASURA_GRAPHQL_JWT_SECRET"]).unwrap();
            assert_eq!(secret["type"], hasura_type);
            assert_eq!(secret["issuer"], env.clerk.emu().frontend_api_url());
            assert!(
                !secret["key"].as_str().unwrap().contains("PRIVATE"),
                "{alg}: only the public half goes to Hasura"
            );

            let answer = env.query_as(&env.mint("hasura"));
            assert_eq!(
                answer,
                json!({"data": {"__typename": "query_root"}}),
                "{alg}: Hasura refused the template's token"
            );
        }

        // A token signed with the instance key is not one Hasura now trusts.
        let (s, _) = env.clerk.api(
            Method::POST,
            "/jwt_templates",
            Some(
                json!({"name": "instance", "claims": {"https://hasura.io/jwt/claims": {
                "x-hasura-allowed-roles": ["user"], "x-hasura-default-role": "user",
                "x-hasura-user-id": "{{user.id}}"}}}),
            ),
        );
        assert_eq!(s, 200);
        let answer = env.query_as(&env.mint("instance"));
        assert!(answer["errors"].is_array(), "{answer}");

        wd.destroy();
    });
}

#[test]
fn keys_hasura_cannot_use_are_refused_at_plan() {
    for_each_terraform(|tf| {
        let env = Both::start();
        let mut wd = env.workdir(tf);
        let rsa = private_key(&rcgen::PKCS_RSA_SHA256);
        let p256 = private_key(&rcgen::PKCS_ECDSA_P256_SHA256);
        let cases = [
            // Clerk can sign PS256, Hasura cannot verify it.
            ("PS256", &rsa, "no RSASSA-PSS"),
            // A P-256 key cannot sign ES384: refused on the template itself.
            ("ES384", &p256, "needs an EC P-384"),
        ];
        for (alg, key, needle) in cases {
            wd.env("TF_VAR_signing_key", key);
            wd.write("main.tf", &config(alg));
            let out = wd.tf(&["plan", "-input=false"]);
            assert!(!out.success(), "{alg}: plan succeeded");
            // Terraform wraps long diagnostics: compare with whitespace folded.
            let flat = out
                .combined()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            assert!(flat.contains(needle), "{alg}: {flat}");
            assert!(flat.contains("signing_"), "{alg}: names the attribute");
            assert!(
                !out.combined().contains(key.lines().nth(1).unwrap()),
                "{alg}: key quoted"
            );
        }
        assert!(env.clerk.templates().is_empty(), "nothing was sent");
        assert!(!env
            .hasura
            .env_vars()
            .contains_key("HASURA_GRAPHQL_JWT_SECRET"));
    });
}

#[test]
fn the_custom_key_example_applies_as_written() {
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/clerk-hasura-custom-key/main.tf");
    let main = std::fs::read_to_string(example).unwrap();
    for_each_terraform(|tf| {
        let env = Both::start();
        let mut wd = env.workdir(tf);
        let h = env.hasura.emu();
        wd.env("TF_VAR_clerk_api_url", &env.clerk.emu().api_url())
            .env("TF_VAR_hasura_endpoint", &h.endpoint())
            .env("TF_VAR_hasura_cloud_api_url", &h.cloud_api_url())
            .env("TF_VAR_hasura_cloud_project_id", &h.config.project_id)
            .env(
                "TF_VAR_signing_key",
                &private_key(&rcgen::PKCS_ECDSA_P256_SHA256),
            );
        wd.write("main.tf", &main);
        wd.apply();
        assert_no_changes(&wd, "after applying the example");
        let answer = env.query_as(&env.mint("hasura"));
        assert_eq!(answer, json!({"data": {"__typename": "query_root"}}));
        wd.destroy();
    });
}

/// A provider setting that is unknown at plan (here the Hasura endpoint
/// waits on a Clerk template being created) never falls back to its
/// environment variable: the environment names another host, which must not
/// get this configuration's admin secret or answer its refresh. The refresh
/// of what the provider manages fails naming the setting instead.
#[test]
fn an_unknown_provider_setting_never_falls_back_to_the_environment() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    // Another host: counts the connections it gets and drops them.
    let other = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let other_url = format!("http://{}", other.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for c in other.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(c);
        }
    });
    for_each_terraform(|tf| {
        let both = Both::start();
        let mut wd = both.workdir(tf);
        let endpoint = both.hasura.emu().endpoint();
        let config = |endpoint: &str, template: &str| {
            format!(
                "{}\nprovider \"clerk\" {{}}\nprovider \"hasura\" {{\n  endpoint = {endpoint}\n}}\n{template}\nresource \"hasura_query_collection\" \"c\" {{\n  name    = \"c\"\n  queries = {{ q = \"query q {{ __typename }}\" }}\n}}\n",
                required_providers()
            )
        };
        wd.write("main.tf", &config(&format!("{endpoint:?}"), ""));
        wd.apply();

        wd.env("HASURA_GRAPHQL_ENDPOINT", &other_url);
        let template = "resource \"clerk_jwt_template\" \"t\" {\n  name   = \"t\"\n  claims = jsonencode({ a = 1 })\n}\n";
        let unknown = format!("clerk_jwt_template.t.id == \"\" ? \"\" : {endpoint:?}");
        wd.write("main.tf", &config(&unknown, template));
        let before = hits.load(Ordering::SeqCst);
        let (code, out) = wd.plan_exitcode();
        assert_eq!(code, 1, "{}", out.combined());
        assert!(
            out.combined()
                .contains("`endpoint` is not known until apply"),
            "{}",
            out.combined()
        );
        assert_eq!(
            hits.load(Ordering::SeqCst),
            before,
            "the other host was called"
        );

        wd.write("main.tf", &config(&format!("{endpoint:?}"), ""));
        assert_no_changes(&wd, "with the endpoint known again");
        wd.destroy();
    });
}
