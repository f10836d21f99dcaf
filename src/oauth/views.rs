//! The answer of the token endpoint (RFC 6749 §5.1, RFC 8693 §2.2.1).
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::tokens::Claims;

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    #[schema(max_length = 8192)]
    pub access_token: String,
    #[schema(example = "Bearer", max_length = 16)]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900, minimum = 60, maximum = 86400)]
    pub expires_in: u64,
    #[schema(example = "applications:read applications:write", max_length = 1000)]
    pub scope: String,
    /// Opaque, single use: each use returns a new one. Reusing a used one revokes the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub refresh_token: Option<String>,
    /// Token exchange only (RFC 8693): `urn:ietf:params:oauth:token-type:access_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 100)]
    pub issued_token_type: Option<&'static str>,
}

/// Tokens as issued: the signed access token, its claims and, for a session, a refresh token.
pub struct Issued {
    pub token: String,
    pub claims: Claims,
    pub refresh: Option<String>,
}

impl Issued {
    pub fn answer(self, expires_in: u64) -> TokenResponse {
        TokenResponse {
            access_token: self.token,
            token_type: "Bearer",
            expires_in,
            scope: self.claims.scope,
            refresh_token: self.refresh,
            issued_token_type: None,
        }
    }
}
