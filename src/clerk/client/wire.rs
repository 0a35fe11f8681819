//! What the Backend API sends and receives, as serde structs.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct JwtTemplate {
    pub id: String,
    pub name: String,
    pub claims: serde_json::Value,
    pub lifetime: i64,
    pub allowed_clock_skew: i64,
    #[serde(default)]
    pub custom_signing_key: bool,
    pub signing_algorithm: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Create and PATCH share one body; PATCH is a full replacement.
#[derive(Clone, Serialize)]
pub struct TemplateBody {
    pub name: String,
    pub claims: serde_json::Value,
    pub lifetime: i64,
    pub allowed_clock_skew: i64,
    pub custom_signing_key: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_algorithm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
}

// The signing key must never reach a log line through a debug print.
impl std::fmt::Debug for TemplateBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemplateBody")
            .field("name", &self.name)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "(sensitive)"),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
pub(super) struct Paged<T> {
    pub data: Vec<T>,
    pub total_count: usize,
}

/// A list that is `{data, total_count}`, or on older instances a bare array.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum Listing<T> {
    Bare(Vec<T>),
    Paged { data: Vec<T> },
}

impl<T> Listing<T> {
    pub fn into_vec(self) -> Vec<T> {
        match self {
            Listing::Bare(v) | Listing::Paged { data: v } => v,
        }
    }
}

/// A public key as the JWKS lists it; members absent from it read as null.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default)]
pub struct Jwk {
    pub kid: Option<String>,
    pub kty: Option<String>,
    pub alg: Option<String>,
    #[serde(rename = "use")]
    pub use_: Option<String>,
    pub n: Option<String>,
    pub e: Option<String>,
    pub crv: Option<String>,
    pub x: Option<String>,
    pub y: Option<String>,
}

#[derive(Deserialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

#[derive(Deserialize)]
pub struct Domain {
    #[serde(default)]
    pub is_satellite: bool,
    pub frontend_api_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_lists_come_paged_or_bare() {
        let d = r#"{"frontend_api_url":"https://clerk.example.com","is_satellite":false}"#;
        for body in [
            format!(r#"{{"data":[{d}],"total_count":1}}"#),
            format!("[{d}]"),
        ] {
            let l: Listing<Domain> = serde_json::from_str(&body).unwrap();
            let v = l.into_vec();
            assert_eq!(v.len(), 1, "{body}");
            assert_eq!(v[0].frontend_api_url, "https://clerk.example.com");
        }
    }

    /// Optional members Clerk leaves out read as `None`: serde's derive
    /// treats a missing `Option` member so, without `#[serde(default)]`.
    #[test]
    fn missing_optional_members_read_as_none() {
        use super::super::{DomainObject, Identifier, Organization, Role};
        let d: DomainObject = serde_json::from_str(
            r#"{"id":"dmn_1","name":"a.example.com","frontend_api_url":"https://clerk.a.example.com"}"#,
        )
        .unwrap();
        assert!(d.accounts_portal_url.is_none() && d.proxy_url.is_none());
        assert!(d.development_origin.is_none() && d.cname_targets.is_none());
        let i: Identifier =
            serde_json::from_str(r#"{"id":"alid_1","identifier":"a@b.co"}"#).unwrap();
        assert!(i.identifier_type.is_none() && i.invitation_id.is_none());
        let o: Organization =
            serde_json::from_str(r#"{"id":"org_1","name":"A","slug":"a","created_at":1}"#).unwrap();
        assert!(o.public_metadata.is_none() && o.created_by.is_none());
        let r: Role =
            serde_json::from_str(r#"{"id":"role_1","name":"A","key":"org:a","created_at":1}"#)
                .unwrap();
        assert!(r.description.is_none() && r.permissions.is_empty());
    }
}
