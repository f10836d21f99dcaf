//! The OAuth 2.0 token service: `POST /v1/oauth/token` (RFC 6749) and `POST /v1/oauth/revoke`
//! (RFC 7009). Their errors take RFC 6749's JSON form, the one exception to problem details.
use std::collections::HashMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{post, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use utoipa::ToSchema;

use crate::auth::AuthService;
use crate::http::ratelimit::Limits;
use crate::oauth::process::{self, Form};
use crate::oauth::views::TokenResponse;
use crate::oauth::{oauth_error, ClientCredentials, OAuthError, Origin};

/// Form fields of a token request (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials`, `password`, `refresh_token` or
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[schema(example = "client_credentials", max_length = 100)]
    grant_type: String,
    /// Space-separated scopes; at most those the client or account may have.
    #[schema(max_length = 1000)]
    scope: Option<String>,
    /// `password` grant: the account's e-mail address.
    #[schema(max_length = 254)]
    username: Option<String>,
    /// `password` grant.
    #[schema(max_length = 1024)]
    password: Option<String>,
    /// `refresh_token` grant.
    #[schema(max_length = 128)]
    refresh_token: Option<String>,
    /// Token exchange: the resident's ID token from the trusted identity provider.
    #[schema(max_length = 16384)]
    subject_token: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:id_token`.
    #[schema(max_length = 100)]
    subject_token_type: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token` (the default).
    #[schema(max_length = 100)]
    requested_token_type: Option<String>,
    /// Client credentials in the body (`client_secret_post`), instead of HTTP Basic; or the
    /// `client_id` alone, for a public client (`none`: a first-party frontend without a secret,
    /// on the `password` and `refresh_token` grants).
    #[schema(max_length = 64)]
    client_id: Option<String>,
    #[schema(max_length = 128)]
    client_secret: Option<String>,
}

/// The kinds of token a revocation request may hint at.
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum TokenTypeHint {
    RefreshToken,
    AccessToken,
}

/// Form fields of a revocation request.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RevokeRequest {
    /// A refresh token, or an access token (revoked by its `jti`).
    #[schema(max_length = 8192)]
    token: String,
    /// `refresh_token` or `access_token` (another value is 400 `unsupported_token_type`).
    #[schema(value_type = Option<TokenTypeHint>)]
    token_type_hint: Option<String>,
    #[schema(max_length = 64)]
    client_id: Option<String>,
    #[schema(max_length = 128)]
    client_secret: Option<String>,
}

fn no_store(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn error_response(e: OAuthError) -> HttpResponse {
    if let Some(state) = &e.limited {
        let mut res = HttpResponse::TooManyRequests();
        for h in state.headers() {
            res.insert_header(h);
        }
        return no_store(res.json(&e));
    }
    let status = match e.error {
        "invalid_client" => StatusCode::UNAUTHORIZED,
        "server_error" => StatusCode::INTERNAL_SERVER_ERROR,
        "temporarily_unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    };
    let mut res = HttpResponse::build(status);
    if e.error == "invalid_client" {
        res.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"guichet\""));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        res.insert_header((header::RETRY_AFTER, "5"));
    }
    no_store(res.json(e))
}

use crate::http::storable::has_nul;

fn parse_form(req: &HttpRequest, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !ct.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return Err(oauth_error(
            "invalid_request",
            "Send the parameters as application/x-www-form-urlencoded.",
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| oauth_error("invalid_request", "The form body is malformed."))?;
    // RFC 6749 §3.2: unknown parameters are ignored; known ones must not repeat.
    const KNOWN: [&str; 12] = [
        "grant_type",
        "scope",
        "username",
        "password",
        "refresh_token",
        "client_id",
        "client_secret",
        "token",
        "token_type_hint",
        "subject_token",
        "subject_token_type",
        "requested_token_type",
    ];
    if pairs.iter().any(|(k, v)| has_nul(k) || has_nul(v)) {
        return Err(oauth_error(
            "invalid_request",
            "A parameter contains the NUL character (%00).",
        ));
    }
    let mut map = HashMap::new();
    for (k, v) in pairs {
        if !KNOWN.contains(&k.as_str()) {
            continue;
        }
        if map.insert(k.clone(), v).is_some() {
            return Err(oauth_error(
                "invalid_request",
                format!("The parameter '{k}' is repeated."),
            ));
        }
    }
    Ok(map)
}

/// Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the body, never both.
fn client_credentials(req: &HttpRequest, form: &HashMap<String, String>) -> Result<ClientCredentials, OAuthError> {
    let basic = match req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        Some(v) if v.len() > 6 && v[..6].eq_ignore_ascii_case("basic ") => {
            let bad = || oauth_error("invalid_client", "The Basic credentials are malformed.");
            let decoded = STANDARD.decode(v[6..].trim()).map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (id, secret) = text.split_once(':').ok_or_else(bad)?;
            let dec = |s: &str| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                    .ok()
                    .and_then(|mut v| v.pop())
                    .map(|p| p.1)
            };
            // an empty password is no secret: a public client naming itself the way
            // requests-oauthlib does by default
            let secret = dec(secret).ok_or_else(bad)?;
            Some((dec(id).ok_or_else(bad)?, (!secret.is_empty()).then_some(secret)))
        }
        _ => None,
    };
    // a client_id alone is a public client naming itself (RFC 6749 §2.3, §3.2.1)
    let post = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), secret) => Some((id.clone(), secret.cloned())),
        (None, None) => None,
        (None, Some(_)) => return Err(oauth_error("invalid_client", "client_secret without client_id.")),
    };
    match (basic, post) {
        (Some(_), Some(_)) => Err(oauth_error("invalid_request", "Authenticate the client one way only.")),
        (b, p) => Ok(b.or(p)),
    }
}

/// Get an access token
///
/// OAuth 2.0 token endpoint. Grants: `client_credentials` (partner systems; client secret by
/// HTTP Basic or in the body), `password` (guichet's own accounts, for first-party frontends
/// only; deprecated by RFC 9700 and switched off with `GUICHET_PASSWORD_GRANT=off`), and
/// `refresh_token` (rotated on every use; reusing a used refresh token revokes the whole
/// sign-in session). Errors follow RFC 6749 §5.2, not problem details.
#[utoipa::path(
    tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Tokens", body = TokenResponse, headers(("RateLimit-Policy" = String, description = "The limit and its window (IETF httpapi-ratelimit-headers)"), ("RateLimit" = String, description = "What is left of the limit and when it resets"))),
        (status = 400, description = "invalid_request, invalid_grant, invalid_scope, unsupported_grant_type", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError, headers(("WWW-Authenticate" = String))),
        (status = 429, description = "Rate limited (per client IP, and per client or account)", body = OAuthError,
            headers(("Retry-After" = String), ("RateLimit-Policy" = String), ("RateLimit" = String))),
    )
)]
#[post("/oauth/token")]
pub async fn issue_token(req: HttpRequest, body: Bytes, auth: Data<AuthService>, limits: Data<Limits>) -> HttpResponse {
    let mut rate_headers = Vec::new();
    let result = async {
        let o = crate::http::middleware::origin(&req);
        if let Some(state) = limits
            .token_ip
            .check(o.ip.as_deref().unwrap_or(""))
            .map_err(OAuthError::rate_limited)?
        {
            rate_headers = state.headers();
        }
        let form = parse_form(&req, &body)?;
        let creds = client_credentials(&req, &form)?;
        limit_account(&limits, &form, &creds, &o)?;
        process::grant(auth.into_inner(), form, creds, o).await
    }
    .await;
    let mut res = match result {
        Ok(tokens) => no_store(HttpResponse::Ok().json(tokens)),
        Err(e) => error_response(e),
    };
    if res.status() != StatusCode::TOO_MANY_REQUESTS {
        for (k, v) in rate_headers {
            res.headers_mut().insert(k, v);
        }
    }
    res
}

/// The limit per account (the client, or the username) *and* client address: guesses from
/// elsewhere cannot lock the owner out (each address is also held to the per-address limit).
fn limit_account(limits: &Limits, form: &Form, creds: &ClientCredentials, o: &Origin) -> Result<(), OAuthError> {
    // a confidential client is the account it guesses for; behind a public client (a
    // frontend, shared by its residents) the account is the username
    let account = creds
        .as_ref()
        .filter(|c| c.1.is_some())
        .map(|c| c.0.clone())
        .or_else(|| form.get("username").map(|u| u.to_lowercase()));
    if let Some(account) = account {
        let key = format!("{account}|{}", o.ip.as_deref().unwrap_or(""));
        limits.token_account.check(&key).map_err(OAuthError::rate_limited)?;
    }
    Ok(())
}

/// Revoke a token
///
/// RFC 7009 revocation. A refresh token ends its whole sign-in session; an access token is
/// refused from then on (by its `jti`). Every instance honours a revocation within 2 s. The
/// answer is 200 whether or not the token was known, as the RFC requires.
#[utoipa::path(
    tag = "oauth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (or unknown)"),
        (status = 400, description = "invalid_request", body = OAuthError),
        (status = 401, description = "invalid_client", body = OAuthError),
    )
)]
#[post("/oauth/revoke")]
pub async fn revoke_token(req: HttpRequest, body: Bytes, auth: Data<AuthService>) -> HttpResponse {
    let result = async {
        let form = parse_form(&req, &body)?;
        let creds = client_credentials(&req, &form)?;
        let token = form
            .get("token")
            .cloned()
            .ok_or_else(|| oauth_error("invalid_request", "token is required."))?;
        // a hint is a hint (RFC 7009 §2.1: the search covers both kinds anyway), but one of
        // another kind names a token type this server does not revoke
        if form
            .get("token_type_hint")
            .is_some_and(|h| h != "refresh_token" && h != "access_token")
        {
            return Err(oauth_error(
                "unsupported_token_type",
                "token_type_hint is refresh_token or access_token.",
            ));
        }
        process::revoke(auth.into_inner(), token, creds, crate::http::middleware::origin(&req)).await
    }
    .await;
    match result {
        Ok(()) => no_store(HttpResponse::Ok().finish()),
        Err(e) => error_response(e),
    }
}
