//! Claims Clerk sets itself and rejects in templates (400
//! `jwt_template_reserved_claim`). Checked at validate time so the error
//! names the claim before anything is sent.
pub const RESERVED: &[&str] = &[
    "azp", "exp", "iat", "iss", "jti", "nbf", "sub", "sid", "v", "pla", "fea", "fva", "sts",
];

pub fn reserved_in(claims: &serde_json::Map<String, serde_json::Value>) -> Vec<&str> {
    RESERVED
        .iter()
        .copied()
        .filter(|c| claims.contains_key(*c))
        .collect()
}
