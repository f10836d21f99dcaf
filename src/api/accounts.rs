//! `/v1/accounts`: self-registration of residents.
use actix_web::web::Data;
use actix_web::{post, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::secrets::{hash_password, random_token, sha256_hex};
use crate::auth::AuthService;
use crate::db::audit::{self, AuditEntry};
use crate::db::auth::{self as q, AccountRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::domain::account::{check_password, Email};
use crate::domain::FieldError;
use crate::error::{ApiError, Problem};
use crate::http::middleware::RequestId;
use crate::http::ratelimit::Limits;
use crate::mail::MailConfig;

/// A registration request.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    #[schema(example = "anna.muster@example.ch", format = Email, max_length = 254, pattern = r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")]
    pub email: String,
    /// At least 10 characters.
    #[schema(example = "correct horse battery staple", min_length = 10, max_length = 1024)]
    pub password: String,
    #[schema(example = "Anna Muster", max_length = 200)]
    pub display_name: Option<String>,
}

/// The answer to a registration: the same whether or not the address was already registered,
/// so that registration cannot be used to find out who has an account.
#[derive(Serialize, ToSchema)]
pub struct RegistrationReceived {
    #[schema(example = "received")]
    pub status: &'static str,
    pub message: &'static str,
}

const ALREADY_REGISTERED: &str = "Someone (perhaps you) tried to register a guichet account with this address, which has one already. Sign in, or reset your password if you forgot it. If it was not you, nothing changed.";

/// How long a link sent by mail stays valid.
const TOKEN_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

const MESSAGE: &str = "If this address can be registered, its account is ready: sign in with the e-mail address and password. An address that already has an account keeps its old password.";

/// Register an account
///
/// Self-registration of a resident with e-mail and password (hashed with Argon2id). The answer
/// is the same, and takes the same time, whether or not the address already has an account.
/// Limited per client IP (429 with `Retry-After` and `RateLimit` headers).
#[utoipa::path(
    tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 202, description = "Received", body = RegistrationReceived),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid e-mail address or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String), ("RateLimit-Policy" = String), ("RateLimit" = String))),
    )
)]
#[post("/accounts")]
pub async fn create_account(
    req: HttpRequest,
    body: actix_web::web::Bytes,
    auth: Data<AuthService>,
    limits: Data<Limits>,
    mail: Data<MailConfig>,
) -> Result<HttpResponse, ApiError> {
    let ip = crate::http::middleware::client_ip(&req);
    let verify = auth.require_verified_email;
    let frontend = mail.frontend_url.clone();
    let rate = match limits.signup_ip.check(ip.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(state) => return Err(state.problem("Too many registrations from this address; retry later.")),
    };
    let body: NewAccount = crate::http::extract::json_body(&req, &body)?;
    let mut errors = Vec::new();
    let email = Email::parse(&body.email)
        .map_err(|m| errors.push(FieldError::new("/email", "format", m)))
        .ok();
    check_password(&body.password, email.as_ref(), "/password", &mut errors);
    let display_name = body
        .display_name
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if display_name.as_ref().is_some_and(|d| d.chars().count() > 200) {
        errors.push(FieldError::new("/display_name", "too_long", "at most 200 characters"));
    }
    let (Some(email), true) = (email, errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    let request_id = req.extensions().get::<RequestId>().map(|r| r.0.clone());
    let password = body.password;
    // Hash first, whether or not the address exists: same work, same time (and not while
    // the write transaction is open).
    let hash = hash_blocking(password).await?;
    auth.db
        .write(move |c| {
                let now = SqlTime::now();
                if q::account_by_email(c, email.as_str())?.is_some() {
                    if verify {
                        // Tell the owner of the address, who may have forgotten the account.
                        crate::mail::enqueue(c, email.as_str(), "Your guichet account", ALREADY_REGISTERED)?;
                    }
                    let entry = AuditEntry::new("account.register", "anonymous", None)
                        .target("account", email.as_str())
                        .failed()
                        .from(ip, request_id)
                        .details(json!({"reason": "address already registered"}));
                    audit::record(c, &entry)?;
                    return Ok(());
                }
                let row = AccountRow {
                    id: SqlUuid(uuid::Uuid::now_v7()),
                    email: Some(email.as_str().to_string()),
                    password_hash: Some(hash),
                    kind: "resident".into(),
                    role: None,
                    department_id: None,
                    display_name,
                    // Without a mail server accounts are usable at once (see the README);
                    // with one, the address is confirmed first.
                    email_verified_at: (!verify).then_some(now),
                    disabled_at: None,
                    external_issuer: None,
                    external_subject: None,
                    created_at: now,
                    updated_at: now,
                    revision: 1,
                };
                q::insert_account(c, &row)?;
                if verify {
                    let token = random_token("gev_").map_err(ApiError::internal)?;
                    crate::mail::store_token(c, &sha256_hex(&token), row.id, "verify", TOKEN_TTL)?;
                    let body = format!("Confirm your address for guichet:\n\n{frontend}/verify-email?token={token}\n\nThe link is valid for 24 hours.");
                    crate::mail::enqueue(c, email.as_str(), "Confirm your e-mail address", &body)?;
                }
                let entry = AuditEntry::new("account.register", "resident", Some(row.id.0.to_string()))
                    .target("account", row.id.0.to_string())
                    .from(ip, request_id);
                audit::record(c, &entry)?;
                Ok(())
        })
        .await?;
    let mut res = HttpResponse::Accepted();
    if let Some(state) = rate {
        for h in state.headers() {
            res.insert_header(h);
        }
    }
    Ok(res
        .insert_header(("Cache-Control", "no-store"))
        .json(RegistrationReceived {
            status: "received",
            message: MESSAGE,
        }))
}

/// A token from a mail.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailToken {
    #[schema(max_length = 200)]
    pub token: String,
}

/// Hashes a password on a blocking thread (argon2 takes tens of milliseconds).
async fn hash_blocking(password: String) -> Result<String, ApiError> {
    actix_web::rt::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

fn bad_token() -> ApiError {
    ApiError::validation(vec![FieldError::new(
        "/token",
        "invalid",
        "the link is invalid, used or expired",
    )])
}

/// Confirm an e-mail address
///
/// With the token from the confirmation mail. Needed before signing in when guichet sends mail.
#[utoipa::path(
    tag = "accounts",
    request_body = MailToken,
    responses(
        (status = 204, description = "Confirmed"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid, used or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts/email-verification")]
pub async fn verify_email(
    req: HttpRequest,
    body: actix_web::web::Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let t: MailToken = crate::http::extract::json_body(&req, &body)?;
    if t.token.len() > 200 {
        return Err(bad_token());
    }
    let hash = sha256_hex(&t.token);
    auth.db
        .write(move |c| {
            let account = crate::mail::use_token(c, &hash, "verify")?.ok_or_else(bad_token)?;
            q::mark_email_verified(c, account)?;
            audit::record(
                c,
                &AuditEntry::new("account.verify_email", "resident", Some(account.0.to_string()))
                    .target("account", account.0.to_string()),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    #[schema(example = "anna.muster@example.ch", format = Email, max_length = 254)]
    pub email: String,
}

/// Ask for a password reset
///
/// Sends a reset link to the address if it has an account. The answer is the same either way.
#[utoipa::path(
    tag = "accounts",
    request_body = ResetRequest,
    responses(
        (status = 202, description = "Received", body = RegistrationReceived),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not an e-mail address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts/password-reset")]
pub async fn request_password_reset(
    req: HttpRequest,
    body: actix_web::web::Bytes,
    auth: Data<AuthService>,
    limits: Data<Limits>,
    mail: Data<MailConfig>,
) -> Result<HttpResponse, ApiError> {
    let ip = crate::http::middleware::client_ip(&req);
    if let Err(state) = limits.signup_ip.check(ip.as_deref().unwrap_or("")) {
        return Err(state.problem("Too many requests from this address; retry later."));
    }
    let r: ResetRequest = crate::http::extract::json_body(&req, &body)?;
    let email =
        Email::parse(&r.email).map_err(|m| ApiError::validation(vec![FieldError::new("/email", "format", m)]))?;
    let frontend = mail.frontend_url.clone();
    auth.db
        .write(move |c| {
            if let Some(a) = q::account_by_email(c, email.as_str())?.filter(|a| a.disabled_at.is_none() && a.password_hash.is_some()) {
                let token = random_token("gpr_").map_err(ApiError::internal)?;
                crate::mail::store_token(c, &sha256_hex(&token), a.id, "reset", TOKEN_TTL / 12)?;
                let body = format!("Choose a new guichet password:\n\n{frontend}/reset-password?token={token}\n\nThe link is valid for 2 hours. If you did not ask for it, ignore this mail.");
                crate::mail::enqueue(c, email.as_str(), "Reset your password", &body)?;
                audit::record(c, &AuditEntry::new("account.reset_request", "anonymous", None).target("account", a.id.0.to_string()))?;
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Accepted().json(RegistrationReceived {
        status: "received",
        message: "If this address has an account, a reset link is on its way.",
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    #[schema(max_length = 200)]
    pub token: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub password: String,
}

/// Set a new password
///
/// With the token from the reset mail. Ends every session of the account and confirms its
/// address (the mail reached it).
#[utoipa::path(
    tag = "accounts",
    request_body = ResetConfirm,
    responses(
        (status = 204, description = "Password changed"),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid token or password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts/password-reset/confirm")]
pub async fn confirm_password_reset(
    req: HttpRequest,
    body: actix_web::web::Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let r: ResetConfirm = crate::http::extract::json_body(&req, &body)?;
    let mut errors = Vec::new();
    check_password(&r.password, None, "/password", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    if r.token.len() > 200 {
        return Err(bad_token());
    }
    let hash = sha256_hex(&r.token);
    let ttl = auth.access_ttl;
    let new_hash = hash_blocking(r.password).await?;
    auth.db
        .write(move |c| {
            let account = crate::mail::use_token(c, &hash, "reset")?.ok_or_else(bad_token)?;
            let row = q::account_by_id(c, account.0)?.ok_or_else(bad_token)?;
            q::update_profile(c, account.0, row.revision + 1, None, Some(new_hash.clone()))?;
            q::mark_email_verified(c, account)?;
            crate::auth::sessions::end_all_sessions(c, account.0, ttl)?;
            audit::record(
                c,
                &AuditEntry::new("account.reset_password", "resident", Some(account.0.to_string()))
                    .target("account", account.0.to_string()),
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
