//! `/v1/accounts`: self-registration of residents, confirmation of their address and reset of
//! a forgotten password. The rules live in `src/accounts/`; these handlers parse and render.
use crate::auth::caller::MaybeCaller;
use actix_web::web::{Bytes, Data};
use actix_web::{post, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::accounts::process::{self, Links, MailToken, NewAccount, ResetConfirm, ResetRequest};
use crate::auth::AuthService;
use crate::error::{ApiError, Problem};
use crate::http::extract::json_body;
use crate::http::middleware::{client_ip, origin};
use crate::http::ratelimit::Limits;
use crate::mail::MailConfig;
use crate::msg;

/// The answer to a registration: the same whether or not the address was already registered,
/// so that registration cannot be used to find out who has an account.
#[derive(Serialize, ToSchema)]
pub struct RegistrationReceived {
    #[schema(example = "received", max_length = 32)]
    pub status: &'static str,
    #[schema(max_length = 1000)]
    pub message: &'static str,
}

const MESSAGE: &str = "If this address can be registered, its account is ready: sign in with the e-mail address and password. An address that already has an account keeps its old password.";

fn links(auth: &AuthService, mail: &MailConfig) -> Links {
    Links {
        verify: auth.require_verified_email,
        frontend: mail.frontend_url.clone(),
    }
}

/// Register an account
///
/// Self-registration of a resident with e-mail and password (hashed with Argon2id). The answer
/// is the same, and takes the same time, whether or not the address already has an account.
/// Limited per client IP (429 with `Retry-After` and `RateLimit` headers).
#[utoipa::path(
    tag = "accounts",
    request_body = NewAccount,
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 202, description = "Received", body = RegistrationReceived, headers(("RateLimit-Policy" = String, description = "The limit and its window (IETF httpapi-ratelimit-headers)"), ("RateLimit" = String, description = "What is left of the limit and when it resets"))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid e-mail address or password", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many registrations from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String), ("RateLimit-Policy" = String), ("RateLimit" = String))),
    )
)]
#[post("/accounts")]
pub async fn create_account(
    _caller: MaybeCaller,
    req: HttpRequest,
    body: Bytes,
    auth: Data<AuthService>,
    limits: Data<Limits>,
    mail: Data<MailConfig>,
) -> Result<HttpResponse, ApiError> {
    let rate = limits
        .signup_ip
        .check(client_ip(&req).as_deref().unwrap_or(""))
        .map_err(|state| state.problem(msg!("Too many registrations from this address; retry later.")))?;
    let registration = process::check_registration(json_body::<NewAccount>(&req, &body)?)?;
    process::register(&auth.db, registration, links(&auth, &mail), origin(&req)).await?;
    let mut res = HttpResponse::Accepted();
    for h in rate.map(|state| state.headers()).unwrap_or_default() {
        res.insert_header(h);
    }
    Ok(res
        .insert_header(("Cache-Control", "no-store"))
        .json(RegistrationReceived {
            status: "received",
            message: MESSAGE,
        }))
}

/// Confirm an e-mail address
///
/// With the token from the confirmation mail. Needed before signing in when guichet sends mail.
#[utoipa::path(
    tag = "accounts",
    request_body = MailToken,
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 204, description = "Confirmed"),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid, used or expired token", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts/email-verification")]
pub async fn verify_email(
    _caller: MaybeCaller,
    req: HttpRequest,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let token: MailToken = json_body(&req, &body)?;
    process::verify_email(&auth.db, token, origin(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Ask for a password reset
///
/// Sends a reset link to the address if it has an account. The answer is the same either way.
#[utoipa::path(
    tag = "accounts",
    request_body = ResetRequest,
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 202, description = "Received", body = RegistrationReceived, headers(("RateLimit-Policy" = String, description = "The limit and its window (IETF httpapi-ratelimit-headers)"), ("RateLimit" = String, description = "What is left of the limit and when it resets"))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Not an e-mail address", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = String), ("RateLimit-Policy" = String), ("RateLimit" = String))),
    )
)]
#[post("/accounts/password-reset")]
pub async fn request_password_reset(
    _caller: MaybeCaller,
    req: HttpRequest,
    body: Bytes,
    auth: Data<AuthService>,
    limits: Data<Limits>,
    mail: Data<MailConfig>,
) -> Result<HttpResponse, ApiError> {
    let rate = limits
        .signup_ip
        .check(client_ip(&req).as_deref().unwrap_or(""))
        .map_err(|state| state.problem(msg!("Too many requests from this address; retry later.")))?;
    let request: ResetRequest = json_body(&req, &body)?;
    process::request_reset(&auth.db, request, links(&auth, &mail), origin(&req)).await?;
    let mut res = HttpResponse::Accepted();
    for h in rate.map(|state| state.headers()).unwrap_or_default() {
        res.insert_header(h);
    }
    Ok(res.json(RegistrationReceived {
        status: "received",
        message: "If this address has an account, a reset link is on its way.",
    }))
}

/// Set a new password
///
/// With the token from the reset mail. Ends every session of the account and confirms its
/// address (the mail reached it).
#[utoipa::path(
    tag = "accounts",
    request_body = ResetConfirm,
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 204, description = "Password changed"),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid token or password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/accounts/password-reset/confirm")]
pub async fn confirm_password_reset(
    _caller: MaybeCaller,
    req: HttpRequest,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let confirm: ResetConfirm = json_body(&req, &body)?;
    process::confirm_reset(&auth.db, confirm, auth.access_ttl, origin(&req)).await?;
    Ok(HttpResponse::NoContent().finish())
}
