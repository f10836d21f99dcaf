//! Access token claims, issuing and verification.
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::keys::KeySet;
use super::policy::{CallerKind, Scope};

/// The claims of a guichet access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// Account id (persons, staff) or client id (partner systems).
    pub sub: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    /// Space-separated scopes.
    pub scope: String,
    pub kind: CallerKind,
    /// Staff role (`clerk`, `admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Staff department id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<Uuid>,
    /// The organisation a partner client belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Uuid>,
    /// The sign-in session (refresh token family) this token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// What a token is for, before it is signed.
#[derive(Debug, Clone)]
pub struct Grant {
    pub sub: String,
    pub kind: CallerKind,
    pub scopes: Vec<Scope>,
    pub role: Option<String>,
    pub dept: Option<Uuid>,
    pub org: Option<Uuid>,
    pub sid: Option<Uuid>,
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no signing key is active")]
    NoSigningKey,
    #[error("{}", .0.render(crate::domain::lang::Lang::En))]
    Invalid(crate::domain::messages::Msg),
    #[error("the token was signed with an unknown key")]
    UnknownKey,
}

pub fn issue(
    keys: &KeySet,
    issuer: &str,
    audience: &str,
    ttl_secs: i64,
    g: &Grant,
) -> Result<(String, Claims), TokenError> {
    let (kid, key) = keys.signing.as_ref().ok_or(TokenError::NoSigningKey)?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        iss: issuer.to_string(),
        aud: audience.to_string(),
        sub: g.sub.clone(),
        exp: now + ttl_secs,
        iat: now,
        nbf: now,
        jti: Uuid::now_v7().to_string(),
        scope: Scope::join(&g.scopes),
        kind: g.kind,
        role: g.role.clone(),
        dept: g.dept,
        org: g.org,
        sid: g.sid,
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.clone());
    header.typ = Some("at+jwt".into());
    let token = jsonwebtoken::encode(&header, &claims, key)
        .map_err(|_| TokenError::Invalid(crate::msg!("The token cannot be signed.")))?;
    Ok((token, claims))
}

/// Verifies signature (EdDSA only, by `kid`), issuer, audience, `exp`, `nbf` and the presence
/// of every claim. A few seconds of leeway absorb clock skew between instances.
pub fn verify(keys: &KeySet, issuer: &str, audience: &str, token: &str) -> Result<Claims, TokenError> {
    if token.len() > 8192 {
        return Err(TokenError::Invalid(crate::msg!("The token is too long.")));
    }
    let header =
        jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid(crate::msg!("Malformed token.")))?;
    if header.alg != Algorithm::EdDSA {
        return Err(TokenError::Invalid(crate::msg!("Unsupported signing algorithm.")));
    }
    // explicit typing (RFC 8725 §3.11, RFC 9068 §4): another kind of JWT signed by the same key
    // is not an access token
    let typed = header
        .typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt"));
    if !typed {
        return Err(TokenError::Invalid(crate::msg!("The token is not an access token.")));
    }
    let kid = header
        .kid
        .ok_or_else(|| TokenError::Invalid(crate::msg!("The token names no key.")))?;
    let key = keys.verifying.get(&kid).ok_or(TokenError::UnknownKey)?;
    let mut v = Validation::new(Algorithm::EdDSA);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    v.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    v.validate_nbf = true;
    v.leeway = 5;
    let data = jsonwebtoken::decode::<Claims>(token, key, &v).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind as K;
        let msg = match e.kind() {
            K::ExpiredSignature => crate::msg!("The token has expired."),
            K::ImmatureSignature => crate::msg!("The token is not valid yet."),
            K::InvalidIssuer => crate::msg!("The token was issued by someone else."),
            K::InvalidAudience => crate::msg!("The token is for another audience."),
            K::InvalidSignature => crate::msg!("The token's signature is invalid."),
            K::InvalidAlgorithm => crate::msg!("Unsupported signing algorithm."),
            K::MissingRequiredClaim(_) => crate::msg!("The token lacks a required claim."),
            _ => crate::msg!("Malformed token."),
        };
        TokenError::Invalid(msg)
    })?;
    Ok(data.claims)
}
