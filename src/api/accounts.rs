//! `/v1/accounts`: self-registration of residents.
use actix_web::web::Data;
use actix_web::{post, HttpMessage, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::auth::secrets::hash_password;
use crate::auth::AuthService;
use crate::db::audit::{self, AuditEntry};
use crate::db::auth::{self as q, AccountRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::domain::account::{check_password, Email};
use crate::domain::FieldError;
use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::middleware::RequestId;
use crate::http::ratelimit::Limits;

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
) -> Result<HttpResponse, ApiError> {
    let ip = crate::http::middleware::client_ip(&req);
    let rate = match limits.signup_ip.check(ip.as_deref().unwrap_or("")) {
        Ok(r) => r,
        Err(state) => {
            let mut e = ApiError::new(
                ProblemKind::RateLimited,
                "Too many registrations from this address; retry later.",
            );
            e.headers = state.headers();
            return Err(e);
        }
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
    auth.db
        .run(move |conn| {
            // Hash first, whether or not the address exists: same work, same time.
            let hash = hash_password(&password).map_err(ApiError::internal)?;
            crate::db::write_tx(conn, |c| {
                let now = SqlTime::now();
                if q::account_by_email(c, email.as_str())?.is_some() {
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
                    // No mail server yet: accounts are usable at once (see the README).
                    email_verified_at: Some(now),
                    disabled_at: None,
                    external_issuer: None,
                    external_subject: None,
                    created_at: now,
                    updated_at: now,
                    revision: 1,
                };
                q::insert_account(c, &row)?;
                let entry = AuditEntry::new("account.register", "resident", Some(row.id.0.to_string()))
                    .target("account", row.id.0.to_string())
                    .from(ip, request_id);
                audit::record(c, &entry)?;
                Ok(())
            })
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
