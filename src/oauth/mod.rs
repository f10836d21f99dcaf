//! The OAuth 2.0 grants and revocation behind `POST /v1/oauth/token` and `/v1/oauth/revoke`,
//! in the shape of `src/applications/`: who the client is and which scopes it may have
//! (`access`), each grant in its transaction with its audit entry (`process`, where the
//! password grant and the token exchange share one `start_session`), the token answer
//! (`views`). Their errors take RFC 6749's JSON form (`OAuthError`), the one exception to
//! problem details; `src/api/oauth.rs` parses the form and renders.
pub mod access;
pub mod process;
pub mod views;

use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ProblemKind};
use crate::http::ratelimit::RateState;

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    #[schema(example = "invalid_grant", max_length = 64)]
    pub error: &'static str,
    #[schema(max_length = 1000)]
    pub error_description: String,
    /// Set when a rate limit refused the request (answered 429).
    #[serde(skip)]
    #[schema(ignore)]
    pub limited: Option<RateState>,
}

pub fn oauth_error(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        error,
        error_description: description.into(),
        limited: None,
    }
}

impl OAuthError {
    /// A refusal by a rate limit (answered 429 with its headers).
    pub fn rate_limited(state: RateState) -> OAuthError {
        let wait = state.retry_after.unwrap_or(1);
        OAuthError {
            error: "temporarily_unavailable",
            error_description: format!("Too many token requests; retry in {wait} s."),
            limited: Some(state),
        }
    }
}

/// A storage failure in a grant: the database being down is `temporarily_unavailable` (503,
/// retry), anything else a `server_error`.
impl From<ApiError> for OAuthError {
    fn from(e: ApiError) -> OAuthError {
        match e.kind {
            ProblemKind::Unavailable => oauth_error("temporarily_unavailable", "The database is not reachable; retry."),
            _ => oauth_error("server_error", "Something went wrong; retry later."),
        }
    }
}

pub use crate::audit::Origin;

/// Client credentials as presented (HTTP Basic or the body): `(client_id, client_secret)`; a
/// `client_id` without a secret is a public client naming itself.
pub type ClientCredentials = Option<(String, Option<String>)>;
