//! The OAuth 2.0 token service: `POST /v1/oauth/token` (RFC 6749) and `POST /v1/oauth/revoke`
//! (RFC 7009). Their errors take RFC 6749's JSON form, the one exception to problem details.
use std::collections::HashMap;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::web::{Bytes, Data};
use actix_web::{post, HttpMessage, HttpRequest, HttpResponse};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::policy::{account_scopes, CallerKind, Scope, StaffRole};
use crate::auth::secrets::{random_token, same_hash, sha256_hex, verify_password};
use crate::auth::sessions::revoke_session;
use crate::auth::state;
use crate::auth::tokens::{Claims, Grant};
use crate::auth::AuthService;
use crate::db::audit::{self, AuditEntry};
use crate::db::auth::{self as q, ClientRow, RefreshRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::error::ApiError;
use crate::http::middleware::RequestId;
use crate::http::ratelimit::{Limits, RateState};

/// Form fields of a token request (`application/x-www-form-urlencoded`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TokenRequest {
    /// `client_credentials`, `password`, `refresh_token` or
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    #[schema(example = "client_credentials")]
    grant_type: String,
    /// Space-separated scopes; at most those the client or account may have.
    scope: Option<String>,
    /// `password` grant: the account's e-mail address.
    username: Option<String>,
    /// `password` grant.
    password: Option<String>,
    /// `refresh_token` grant.
    refresh_token: Option<String>,
    /// Token exchange: the resident's ID token from the trusted identity provider.
    subject_token: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:id_token`.
    subject_token_type: Option<String>,
    /// Token exchange: `urn:ietf:params:oauth:token-type:access_token` (the default).
    requested_token_type: Option<String>,
    /// Client credentials in the body (`client_secret_post`), instead of HTTP Basic.
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Form fields of a revocation request.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct RevokeRequest {
    /// A refresh token, or an access token (revoked by its `jti`).
    token: String,
    /// `refresh_token` or `access_token`.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    #[schema(example = "applications:read applications:write")]
    pub scope: String,
    /// Opaque, single use: each use returns a new one. Reusing a used one revokes the session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Token exchange only (RFC 8693): `urn:ietf:params:oauth:token-type:access_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    #[schema(example = "invalid_grant")]
    pub error: &'static str,
    pub error_description: String,
    /// Set when a rate limit refused the request (answered 429).
    #[serde(skip)]
    #[schema(ignore)]
    pub limited: Option<RateState>,
}

pub(super) fn oauth_error(error: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError {
        error,
        error_description: description.into(),
        limited: None,
    }
}

fn rate_limited(state: RateState) -> OAuthError {
    let wait = state.retry_after.unwrap_or(1);
    OAuthError {
        error: "temporarily_unavailable",
        error_description: format!("Too many token requests; retry in {wait} s."),
        limited: Some(state),
    }
}

pub(super) fn no_store(mut res: HttpResponse) -> HttpResponse {
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

pub(super) fn from_api(e: ApiError) -> OAuthError {
    match e.kind {
        crate::error::ProblemKind::Unavailable => {
            oauth_error("temporarily_unavailable", "The database is not reachable; retry.")
        }
        _ => oauth_error("server_error", "Something went wrong; retry later."),
    }
}

/// Where a request comes from, for the audit log.
pub(super) struct Origin {
    pub(super) ip: Option<String>,
    pub(super) request_id: Option<String>,
}

fn origin(req: &HttpRequest) -> Origin {
    Origin {
        ip: crate::http::middleware::client_ip(req),
        request_id: req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    }
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
fn client_credentials(
    req: &HttpRequest,
    form: &HashMap<String, String>,
) -> Result<Option<(String, String)>, OAuthError> {
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
            Some((dec(id).ok_or_else(bad)?, dec(secret).ok_or_else(bad)?))
        }
        _ => None,
    };
    let post = match (form.get("client_id"), form.get("client_secret")) {
        (Some(id), Some(secret)) => Some((id.clone(), secret.clone())),
        (None, None) => None,
        _ => return Err(oauth_error("invalid_client", "Send both client_id and client_secret.")),
    };
    match (basic, post) {
        (Some(_), Some(_)) => Err(oauth_error("invalid_request", "Authenticate the client one way only.")),
        (b, p) => Ok(b.or(p)),
    }
}

fn authenticate_client(
    conn: &mut DbConnection,
    id: &str,
    secret: &str,
    o: &Origin,
) -> Result<Result<ClientRow, OAuthError>, ApiError> {
    let row = q::client_by_client_id(conn, id)?;
    let ok = match &row {
        Some(r) => same_hash(&r.secret_hash, &sha256_hex(secret)) && r.disabled_at.is_none(),
        None => {
            let _ = same_hash(&sha256_hex(secret), &sha256_hex(id));
            false
        }
    };
    if ok {
        if let Some(r) = row {
            return Ok(Ok(r));
        }
    }
    let entry = AuditEntry::new("client.authenticate", "client", Some(id.to_string()))
        .target("client", id)
        .failed()
        .from(o.ip.clone(), o.request_id.clone());
    audit::record(conn, &entry)?;
    Ok(Err(oauth_error(
        "invalid_client",
        "Unknown client, wrong secret, or disabled client.",
    )))
}

/// Authenticates the client when the request names one (optional for public first-party
/// frontends on the password, refresh and revocation endpoints).
pub(super) fn authenticate_if_given(
    conn: &mut DbConnection,
    creds: &Option<(String, String)>,
    o: &Origin,
) -> Result<Result<(), OAuthError>, ApiError> {
    match creds {
        Some((id, secret)) => Ok(authenticate_client(conn, id, secret, o)?.map(|_| ())),
        None => Ok(Ok(())),
    }
}

pub(super) fn narrow(allowed: &[Scope], requested: Option<&String>) -> Result<Vec<Scope>, OAuthError> {
    let Some(req) = requested else {
        return Ok(allowed.to_vec());
    };
    let wanted = Scope::parse_list(req).map_err(|e| oauth_error("invalid_scope", e))?;
    if let Some(s) = wanted.iter().find(|s| !allowed.contains(s)) {
        return Err(oauth_error(
            "invalid_scope",
            format!("The scope '{}' is not granted to this caller.", s.as_str()),
        ));
    }
    Ok(wanted)
}

pub(super) fn token_body(token: String, claims: &Claims, ttl: u64, refresh: Option<String>) -> TokenResponse {
    TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: ttl,
        scope: claims.scope.clone(),
        refresh_token: refresh,
        issued_token_type: None,
    }
}

fn token_response(token: String, claims: &Claims, ttl: u64, refresh: Option<String>) -> HttpResponse {
    no_store(HttpResponse::Ok().json(token_body(token, claims, ttl, refresh)))
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
        (status = 200, description = "Tokens", body = TokenResponse),
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
        let o = origin(&req);
        let ip = o.ip.clone().unwrap_or_default();
        if let Some(state) = limits.token_ip.check(&ip).map_err(rate_limited)? {
            rate_headers = state.headers();
        }
        let form = parse_form(&req, &body)?;
        let creds = client_credentials(&req, &form)?;
        let account = creds
            .as_ref()
            .map(|c| c.0.clone())
            .or_else(|| form.get("username").map(|u| u.to_lowercase()));
        // per account *and* client address: guesses from elsewhere cannot lock the owner out
        // (each address is also held to the per-address limit above)
        if let Some(account) = account {
            let key = format!("{account}|{ip}");
            limits.token_account.check(&key).map_err(rate_limited)?;
        }
        match form.get("grant_type").map(String::as_str) {
            Some("client_credentials") => client_credentials_grant(&auth, form, creds, o).await,
            Some("password") => password_grant(&auth, form, creds, o).await,
            Some("refresh_token") => refresh_grant(&auth, form, creds, o).await,
            Some(super::oauth_exchange::TOKEN_EXCHANGE) => {
                super::oauth_exchange::token_exchange_grant(&auth, form, creds, o).await
            }
            Some(other) => Err(oauth_error(
                "unsupported_grant_type",
                format!("The grant type '{other}' is not supported."),
            )),
            None => Err(oauth_error("invalid_request", "grant_type is required.")),
        }
    }
    .await;
    let mut res = result.unwrap_or_else(error_response);
    if res.status() != StatusCode::TOO_MANY_REQUESTS {
        for (k, v) in rate_headers {
            res.headers_mut().insert(k, v);
        }
    }
    res
}

async fn client_credentials_grant(
    auth: &Data<AuthService>,
    form: HashMap<String, String>,
    creds: Option<(String, String)>,
    o: Origin,
) -> Result<HttpResponse, OAuthError> {
    let (id, secret) = creds.ok_or_else(|| oauth_error("invalid_client", "Client authentication is required."))?;
    let svc = auth.clone();
    let issued = auth
        .db
        .write(move |conn| {
            let client = match authenticate_client(conn, &id, &secret, &o)? {
                Ok(c) => c,
                Err(e) => return Ok(Err(e)),
            };
            let allowed = Scope::parse_list(&client.scopes).unwrap_or_default();
            let scopes = match narrow(&allowed, form.get("scope")) {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            };
            let grant = Grant {
                sub: client.client_id.clone(),
                kind: CallerKind::Client,
                scopes,
                role: None,
                dept: None,
                org: client.organisation_id.map(|u| u.0),
                sid: None,
            };
            let (token, claims) = svc.issue(&grant)?;
            let entry = AuditEntry::new("token.issue", "client", Some(client.client_id.clone()))
                .target("token", claims.jti.clone())
                .from(o.ip, o.request_id)
                .details(json!({"grant_type": "client_credentials", "scope": claims.scope}));
            audit::record(conn, &entry)?;
            Ok(Ok((token, claims)))
        })
        .await
        .map_err(from_api)??;
    Ok(token_response(issued.0, &issued.1, auth.access_ttl.as_secs(), None))
}

pub(super) fn account_grant(a: &q::AccountRow, scopes: Vec<Scope>, sid: uuid::Uuid) -> Grant {
    let kind = if a.kind == "staff" {
        CallerKind::Staff
    } else {
        CallerKind::Resident
    };
    Grant {
        sub: a.id.0.to_string(),
        kind,
        scopes,
        role: a.role.clone(),
        dept: a.department_id.map(|d| d.0),
        org: None,
        sid: Some(sid),
    }
}

pub(super) fn new_refresh(
    account: SqlUuid,
    family: SqlUuid,
    scope: &str,
    ttl: std::time::Duration,
) -> Result<(String, RefreshRow), ApiError> {
    let token = random_token("grt_").map_err(ApiError::internal)?;
    let now = SqlTime::now();
    let row = RefreshRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        token_hash: sha256_hex(&token),
        family_id: family,
        account_id: account,
        scope: scope.to_string(),
        created_at: now,
        expires_at: SqlTime(now.0 + chrono::Duration::seconds(ttl.as_secs() as i64)),
        used_at: None,
        revoked_at: None,
    };
    Ok((token, row))
}

async fn password_grant(
    auth: &Data<AuthService>,
    form: HashMap<String, String>,
    creds: Option<(String, String)>,
    o: Origin,
) -> Result<HttpResponse, OAuthError> {
    if !auth.password_grant {
        return Err(oauth_error(
            "unsupported_grant_type",
            "The password grant is switched off on this server.",
        ));
    }
    let username = form
        .get("username")
        .cloned()
        .ok_or_else(|| oauth_error("invalid_request", "username is required."))?;
    let password = form
        .get("password")
        .cloned()
        .ok_or_else(|| oauth_error("invalid_request", "password is required."))?;
    if username.len() > 254 || password.len() > 1024 {
        return Err(oauth_error("invalid_request", "username or password is too long."));
    }
    let o2 = Origin {
        ip: o.ip.clone(),
        request_id: o.request_id.clone(),
    };
    // The slow hash runs on the blocking pool, outside any write transaction.
    let checked = auth
        .db
        .run(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o2)? {
                return Ok(Err(e));
            }
            let account = q::account_by_email(conn, &username)?;
            let ok = verify_password(account.as_ref().and_then(|a| a.password_hash.as_deref()), &password);
            Ok(Ok((account, ok, username)))
        })
        .await
        .map_err(from_api)??;
    let (account, ok, username) = checked;
    let svc = auth.clone();
    let ttl = auth.refresh_ttl;
    let require_verified = auth.require_verified_email;
    let outcome = auth
        .db
        .write(move |conn| {
            let account = match account {
                Some(a) if ok && a.disabled_at.is_none() => a,
                other => {
                    let reason = match &other {
                        None => "unknown account",
                        Some(a) if a.disabled_at.is_some() => "account disabled",
                        Some(_) => "wrong password",
                    };
                    let entry = AuditEntry::new("signin", "anonymous", other.as_ref().map(|a| a.id.0.to_string()))
                        .target("account", username.to_lowercase())
                        .failed()
                        .from(o.ip, o.request_id)
                        .details(json!({"grant_type": "password", "reason": reason}));
                    audit::record(conn, &entry)?;
                    return Ok(Err(oauth_error(
                        "invalid_grant",
                        "The e-mail address or password is wrong.",
                    )));
                }
            };
            let kind = if account.kind == "staff" {
                CallerKind::Staff
            } else {
                CallerKind::Resident
            };
            if require_verified && account.email_verified_at.is_none() {
                return Ok(Err(oauth_error(
                    "invalid_grant",
                    "Confirm your e-mail address first (see the mail we sent).",
                )));
            }
            let allowed = account_scopes(kind, account.role.as_deref().and_then(StaffRole::parse));
            let scopes = match narrow(&allowed, form.get("scope")) {
                Ok(s) => s,
                Err(e) => return Ok(Err(e)),
            };
            let family = SqlUuid(uuid::Uuid::now_v7());
            let (refresh, row) = new_refresh(account.id, family, &Scope::join(&scopes), ttl)?;
            q::insert_refresh(conn, &row)?;
            let (token, claims) = svc.issue(&account_grant(&account, scopes, family.0))?;
            let entry = AuditEntry::new("signin", kind_name(kind), Some(account.id.0.to_string()))
                .target("account", account.id.0.to_string())
                .from(o.ip, o.request_id)
                .details(json!({"grant_type": "password", "jti": claims.jti, "session": family.0}));
            audit::record(conn, &entry)?;
            Ok(Ok((token, claims, refresh)))
        })
        .await
        .map_err(from_api)?;
    if outcome.is_err() {
        auth.apply_own_change().await; // a reused refresh token has ended its session
    }
    let outcome = outcome?;
    Ok(token_response(
        outcome.0,
        &outcome.1,
        auth.access_ttl.as_secs(),
        Some(outcome.2),
    ))
}

fn kind_name(k: CallerKind) -> &'static str {
    match k {
        CallerKind::Resident => "resident",
        CallerKind::Staff => "staff",
        CallerKind::Client => "client",
    }
}

async fn refresh_grant(
    auth: &Data<AuthService>,
    form: HashMap<String, String>,
    creds: Option<(String, String)>,
    o: Origin,
) -> Result<HttpResponse, OAuthError> {
    let presented = form
        .get("refresh_token")
        .cloned()
        .ok_or_else(|| oauth_error("invalid_request", "refresh_token is required."))?;
    let svc = auth.clone();
    let refresh_ttl = auth.refresh_ttl;
    let access_ttl = auth.access_ttl;
    let outcome = auth
        .db
        .write(move |conn| {
            if let Err(e) = authenticate_if_given(conn, &creds, &o)? {
                return Ok(Err(e));
            }
            let invalid = || oauth_error("invalid_grant", "The refresh token is invalid, expired or revoked.");
            let Some(row) = q::refresh_by_hash(conn, &sha256_hex(&presented))? else {
                return Ok(Err(invalid()));
            };
            if row.revoked_at.is_some() || row.expires_at <= SqlTime::now() {
                return Ok(Err(invalid()));
            }
            if row.used_at.is_some() || !q::mark_refresh_used(conn, row.id)? {
                // A used refresh token came back: it was stolen, or the legitimate client was
                // robbed of its successor. Either way the session ends here, for both.
                revoke_session(conn, row.family_id, access_ttl)?;
                let entry = AuditEntry::new("token.refresh_reuse", "anonymous", Some(row.account_id.0.to_string()))
                    .target("session", row.family_id.0.to_string())
                    .failed()
                    .from(o.ip, o.request_id);
                audit::record(conn, &entry)?;
                return Ok(Err(invalid()));
            }
            let Some(account) = q::account_by_id(conn, row.account_id.0)? else {
                return Ok(Err(invalid()));
            };
            if account.disabled_at.is_some() {
                return Ok(Err(invalid()));
            }
            let scopes = Scope::parse_list(&row.scope).unwrap_or_default();
            let (refresh, new_row) = new_refresh(account.id, row.family_id, &row.scope, refresh_ttl)?;
            q::insert_refresh(conn, &new_row)?;
            let (token, claims) = svc.issue(&account_grant(&account, scopes, row.family_id.0))?;
            let entry = AuditEntry::new("token.refresh", kind_name(claims.kind), Some(account.id.0.to_string()))
                .target("session", row.family_id.0.to_string())
                .from(o.ip, o.request_id)
                .details(json!({"jti": claims.jti}));
            audit::record(conn, &entry)?;
            Ok(Ok((token, claims, refresh)))
        })
        .await
        .map_err(from_api)??;
    Ok(token_response(
        outcome.0,
        &outcome.1,
        auth.access_ttl.as_secs(),
        Some(outcome.2),
    ))
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
        if token.len() > 8192 {
            return Err(oauth_error("invalid_request", "token is too long."));
        }
        // An access token that is ours and unexpired is revoked by its jti.
        let access: Option<Claims> =
            crate::auth::tokens::verify(&auth.keys(), &auth.issuer, &auth.audience, &token).ok();
        let o = origin(&req);
        let access_ttl = auth.access_ttl;
        auth.db
            .write(move |conn| {
                if let Err(e) = authenticate_if_given(conn, &creds, &o)? {
                    return Ok(Err(e));
                }
                if let Some(c) = access {
                    state::revoke_jti(
                        conn,
                        &c.jti,
                        SqlTime(chrono::DateTime::from_timestamp(c.exp + 60, 0).unwrap_or_default()),
                    )?;
                    let entry = AuditEntry::new("token.revoke", kind_name(c.kind), Some(c.sub.clone()))
                        .target("token", c.jti.clone())
                        .from(o.ip, o.request_id);
                    audit::record(conn, &entry)?;
                } else if let Some(row) = q::refresh_by_hash(conn, &sha256_hex(&token))? {
                    revoke_session(conn, row.family_id, access_ttl)?;
                    let entry = AuditEntry::new("session.revoke", "resident", Some(row.account_id.0.to_string()))
                        .target("session", row.family_id.0.to_string())
                        .from(o.ip, o.request_id);
                    audit::record(conn, &entry)?;
                }
                Ok(Ok(()))
            })
            .await
            .map_err(from_api)??;
        auth.apply_own_change().await;
        Ok(no_store(HttpResponse::Ok().finish()))
    }
    .await;
    result.unwrap_or_else(error_response)
}
