//! One error type for the whole API, answered as RFC 9457 problem details.
//!
//! Every problem has a stable `type` (`/problems/<kind>`), explained at `GET /problems/<kind>`.
//! Database and unexpected errors are logged with their cause and answered as a generic 500;
//! their text never reaches the client.
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::lang::Lang;
use crate::domain::messages::Msg;
use crate::domain::FieldError;
use crate::msg;

/// Every kind of problem guichet answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    BadRequest,
    MalformedJson,
    InvalidParameter,
    UnknownParameter,
    InvalidCursor,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    NotAcceptable,
    Conflict,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    IdempotencyKeyReused,
    PreconditionRequired,
    RateLimited,
    Internal,
    Unavailable,
}

impl ProblemKind {
    pub const ALL: [ProblemKind; 20] = [
        ProblemKind::BadRequest,
        ProblemKind::MalformedJson,
        ProblemKind::InvalidParameter,
        ProblemKind::UnknownParameter,
        ProblemKind::InvalidCursor,
        ProblemKind::Unauthorized,
        ProblemKind::Forbidden,
        ProblemKind::NotFound,
        ProblemKind::MethodNotAllowed,
        ProblemKind::NotAcceptable,
        ProblemKind::Conflict,
        ProblemKind::PreconditionFailed,
        ProblemKind::PayloadTooLarge,
        ProblemKind::UnsupportedMediaType,
        ProblemKind::ValidationFailed,
        ProblemKind::IdempotencyKeyReused,
        ProblemKind::PreconditionRequired,
        ProblemKind::RateLimited,
        ProblemKind::Internal,
        ProblemKind::Unavailable,
    ];

    /// (slug, status, title, explanation)
    pub fn info(self) -> (&'static str, u16, Msg, Msg) {
        use ProblemKind::*;
        match self {
            BadRequest => ("bad-request", 400, msg!("The request is malformed"), msg!("The request could not be understood. Fix it as the detail says before retrying.")),
            MalformedJson => ("malformed-json", 400, msg!("The request body is not valid JSON"), msg!("The body must be one JSON document of the documented shape, sent as application/json.")),
            InvalidParameter => ("invalid-parameter", 400, msg!("A parameter has an invalid value"), msg!("A path or query parameter has a value outside what the API documents; `errors[].pointer` names it.")),
            UnknownParameter => ("unknown-parameter", 400, msg!("An unknown query parameter was given"), msg!("guichet rejects query parameters it does not know instead of silently ignoring them, so a typo in a filter never returns unfiltered data.")),
            InvalidCursor => ("invalid-cursor", 400, msg!("The pagination cursor is invalid"), msg!("Cursors are opaque: pass the `next_cursor` of the previous page unchanged.")),
            Unauthorized => ("unauthorized", 401, msg!("Authentication is required"), msg!("Send a valid bearer token in the Authorization header.")),
            Forbidden => ("forbidden", 403, msg!("The token does not allow this"), msg!("The caller is authenticated but lacks the scope or role this operation needs.")),
            NotFound => ("not-found", 404, msg!("Not found"), msg!("There is no such resource, or the caller may not see it.")),
            MethodNotAllowed => ("method-not-allowed", 405, msg!("Method not allowed"), msg!("The resource exists but does not support this HTTP method; the Allow header lists those it does.")),
            NotAcceptable => ("not-acceptable", 406, msg!("No acceptable representation"), msg!("guichet answers in JSON; ask for application/json.")),
            Conflict => ("conflict", 409, msg!("The request conflicts with the current state"), msg!("The resource is not in a state that allows this change.")),
            PreconditionFailed => ("precondition-failed", 412, msg!("The resource has changed"), msg!("The If-Match header does not match the current ETag: reload the resource and retry.")),
            PayloadTooLarge => ("payload-too-large", 413, msg!("The request body is too large"), msg!("Send a smaller body; the detail gives the limit (GUICHET_BODY_LIMIT for JSON bodies, the service's own limit for documents).")),
            UnsupportedMediaType => ("unsupported-media-type", 415, msg!("Unsupported content type"), msg!("Send the body with the documented Content-Type: application/json, or for documents multipart/form-data with a file of a type the service takes.")),
            ValidationFailed => ("validation-failed", 422, msg!("The submitted data is invalid"), msg!("One or more fields are invalid; each entry of `errors` points at one with a JSON Pointer.")),
            IdempotencyKeyReused => ("idempotency-key-reused", 422, msg!("The Idempotency-Key was used for another request"), msg!("An Idempotency-Key names one request: the same key with another method, path or body is refused. Send a new key for a new request; resend the same request with the same key to get its answer again.")),
            PreconditionRequired => ("precondition-required", 428, msg!("If-Match is required"), msg!("Send the resource's current ETag in If-Match, so that concurrent changes cannot be lost.")),
            RateLimited => ("rate-limited", 429, msg!("Too many requests"), msg!("Slow down; Retry-After says when to try again.")),
            Internal => ("internal", 500, msg!("Internal server error"), msg!("Something went wrong on our side. It is logged with the request id; report the request id if it persists.")),
            Unavailable => ("unavailable", 503, msg!("Service unavailable"), msg!("A dependency (usually the database) is not reachable; retry after the time in Retry-After.")),
        }
    }

    pub fn slug(self) -> &'static str {
        self.info().0
    }

    pub fn from_slug(slug: &str) -> Option<ProblemKind> {
        Self::ALL.into_iter().find(|k| k.slug() == slug)
    }

    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.info().1).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// An RFC 9457 problem details document.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/not-found", "title": "Not found", "status": 404,
    "detail": "No service 'hundetaxe'.", "instance": "/v1/services/hundetaxe",
    "request_id": "0193a4b2-7c1e-7d2a-9f00-3b5c1d2e4f60"
}))]
pub struct Problem {
    /// Stable identifier of the kind of problem; `GET` it for an explanation.
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-failed", max_length = 100)]
    pub type_: String,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2000)]
    pub detail: Option<String>,
    /// The request path this problem is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 2048)]
    pub instance: Option<String>,
    /// Also in the `X-Request-Id` header; quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 128)]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 100)]
    pub errors: Vec<FieldErrorText>,
}

/// One problem with an input, pointing into it with a JSON Pointer; in the language of the
/// answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct FieldErrorText {
    /// JSON Pointer (RFC 6901) into the request body, or the name of a query parameter.
    #[schema(example = "/data/move_date", max_length = 1024)]
    pub pointer: String,
    /// Stable machine-readable code, e.g. `required`, `format`, `check_digit`.
    #[schema(example = "required", max_length = 64)]
    pub code: String,
    #[schema(example = "This field is required.", max_length = 2000)]
    pub detail: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub kind: ProblemKind,
    pub detail: Option<Msg>,
    pub errors: Vec<FieldError>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind.slug())?;
        if let Some(d) = &self.detail {
            write!(f, ": {}", d.render(Lang::En))?;
        }
        Ok(())
    }
}

impl ApiError {
    pub fn new(kind: ProblemKind, detail: Msg) -> ApiError {
        ApiError {
            kind,
            detail: Some(detail),
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> ApiError {
        self.errors = errors;
        self
    }

    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> ApiError {
        self.headers.push((name, value));
        self
    }

    pub fn not_found(detail: Msg) -> ApiError {
        Self::new(ProblemKind::NotFound, detail)
    }

    /// A query or path parameter with a value outside what is documented; `detail` says what
    /// it must be.
    pub fn invalid_parameter(name: &str, detail: Msg) -> ApiError {
        Self::new(
            ProblemKind::InvalidParameter,
            msg!("The parameter {name} is invalid.", name = name),
        )
        .with_errors(vec![FieldError::new(name, "invalid", detail)])
    }

    pub fn validation(errors: Vec<FieldError>) -> ApiError {
        let detail = match errors.len() {
            1 => msg!("1 field is invalid."),
            n => msg!("{n} fields are invalid.", n = n),
        };
        Self::new(ProblemKind::ValidationFailed, detail).with_errors(errors)
    }

    /// The problem in one line for a person at a terminal: its detail and each field's error.
    pub fn explain(&self) -> String {
        let mut out = self.detail.as_ref().unwrap_or(&self.kind.info().2).render(Lang::En);
        for e in &self.errors {
            out.push_str(&format!(
                "; {}: {}",
                e.pointer.trim_start_matches('/'),
                e.detail.render(Lang::En)
            ));
        }
        out
    }

    /// A 503 that tells the client when to retry.
    pub fn unavailable(detail: Msg) -> ApiError {
        Self::new(ProblemKind::Unavailable, detail).with_header(header::RETRY_AFTER, HeaderValue::from_static("5"))
    }

    /// A 500: the cause is logged here and never sent to the client.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError {
            kind: ProblemKind::Internal,
            detail: None,
            errors: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// The problem document in `lang`.
    pub fn problem(&self, instance: Option<String>, request_id: Option<String>, lang: Lang) -> Problem {
        let (slug, status, title, _) = self.kind.info();
        // within the bounds the document states: a detail or pointer may quote the input
        Problem {
            type_: format!("/problems/{slug}"),
            title: title.render(lang),
            status,
            detail: self.detail.as_ref().map(|d| clip(d.render(lang), 2000)),
            instance: instance.map(|i| clip(i, 2048)),
            request_id,
            errors: self
                .errors
                .iter()
                .take(100)
                .map(|e| FieldErrorText {
                    pointer: clip(e.pointer.clone(), 1024),
                    code: e.code.clone(),
                    detail: clip(e.detail.render(lang), 2000),
                })
                .collect(),
        }
    }

    /// The full response in `lang`; the request-id middleware calls it again with the
    /// instance, the id and the caller's language.
    pub fn response(&self, instance: Option<String>, request_id: Option<String>, lang: Lang) -> HttpResponse {
        let mut res = HttpResponse::build(self.kind.status());
        res.insert_header((header::CONTENT_TYPE, "application/problem+json"));
        res.insert_header((header::CACHE_CONTROL, "no-store"));
        res.insert_header((header::CONTENT_LANGUAGE, lang.code()));
        for (k, v) in &self.headers {
            res.insert_header((k.clone(), v.clone()));
        }
        let body = serde_json::to_vec(&self.problem(instance, request_id, lang)).unwrap_or_default();
        res.body(body)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind.status()
    }

    fn error_response(&self) -> HttpResponse {
        self.response(None, None, Lang::De)
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> ApiError {
        use diesel::result::{DatabaseErrorKind, Error};
        let lost = connection_lost(&e);
        match e {
            // every lookup a caller can miss is `.optional()`: a row that must exist is missing
            Error::NotFound => ApiError::internal("database: a row that must exist is missing"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => unique_violation(&*info),
            Error::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => {
                ApiError::unavailable(msg!("A concurrent change got in the way; retry."))
            }
            // PostgreSQL broke a lock cycle by ending this transaction: nothing was changed
            Error::DatabaseError(DatabaseErrorKind::Unknown, info)
                if info.message().starts_with("deadlock detected") =>
            {
                tracing::warn!(error = %info.message(), "transaction ended to break a deadlock");
                ApiError::unavailable(msg!("A concurrent change got in the way; retry."))
            }
            lost @ (Error::BrokenTransactionManager | Error::RollbackErrorOnCommit { .. }) => {
                tracing::warn!(error = %lost, "database connection lost in a transaction");
                ApiError::unavailable(msg!("The database is not reachable right now."))
            }
            Error::DatabaseError(_, info) if lost => {
                tracing::warn!(error = %info.message(), "database connection lost");
                ApiError::unavailable(msg!("The database is not reachable right now."))
            }
            other => ApiError::internal(format!("database: {other}")),
        }
    }
}

/// The uniqueness rules a change can run into when another request made the same change at the
/// same moment (each create checks first; two concurrent ones can both pass the check, and the
/// database keeps the second out): PostgreSQL's constraint name, the columns SQLite names, and
/// what the caller is told.
const UNIQUE_RULES: &[(&str, &str, Msg)] = &[
    (
        "departments_slug_key",
        "departments.slug",
        msg!("A department with this slug exists already."),
    ),
    (
        "services_slug_key",
        "services.slug",
        msg!("A service with this slug exists already."),
    ),
    (
        "service_versions_service_id_version_key",
        "service_versions.service_id, service_versions.version",
        msg!("Another version of this service was created at the same moment; read it, and retry if you still need yours."),
    ),
    (
        "accounts_email_key",
        "accounts.email",
        msg!("An account with this e-mail address exists already."),
    ),
    (
        "memberships_pkey",
        "memberships.organisation_id, memberships.account_id",
        msg!("This person is a member of the organisation already."),
    ),
    (
        "organisations_verified_uid_idx",
        "organisations.uid",
        msg!("A verified organisation with this UID exists already."),
    ),
];

/// A unique-constraint violation as a 409, by the rule it broke (one place for all of them).
fn unique_violation(info: &dyn diesel::result::DatabaseErrorInformation) -> ApiError {
    let rule = UNIQUE_RULES
        .iter()
        .find(|(constraint, columns, _)| match info.constraint_name() {
            Some(name) => name == *constraint,
            // SQLite: "UNIQUE constraint failed: departments.slug"
            None => info.message().strip_prefix("UNIQUE constraint failed: ") == Some(*columns),
        });
    match rule {
        Some((_, _, detail)) => ApiError::new(ProblemKind::Conflict, detail.clone()),
        None => {
            tracing::warn!(error = %info.message(), constraint = ?info.constraint_name(), "unique violation without a rule");
            ApiError::new(
                ProblemKind::Conflict,
                msg!("The change conflicts with one made at the same moment; retry."),
            )
        }
    }
}

/// The server's messages when it ends a session or refuses one: shutting down (SQLSTATE
/// 57P01, 57P02), starting up or in recovery (57P03). diesel reports them without their code.
/// Whether the error says the connection itself is gone (closed, unable to send, or the
/// server ending it), so that it must not be used again.
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand, _) => true,
        Error::DatabaseError(DatabaseErrorKind::Unknown, info) => server_going_away(info.message()),
        _ => false,
    }
}

fn server_going_away(message: &str) -> bool {
    message.starts_with("terminating connection")
        || message.contains("the database system is")
        || message.contains("server closed the connection")
        || message.contains("connection closed")
}

impl From<r2d2::Error> for ApiError {
    fn from(e: r2d2::Error) -> ApiError {
        tracing::error!(error = %e, "database pool");
        ApiError::unavailable(msg!("The database is not reachable right now."))
    }
}
impl std::error::Error for ApiError {}

/// `text` cut to at most `max` characters, the cut marked with `…`.
fn clip(text: String, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((at, _)) if text.chars().count() > max => format!("{}…", &text[..at]),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn clip_keeps_short_texts_and_marks_a_cut() {
        assert_eq!(super::clip("Zürich".into(), 6), "Zürich");
        assert_eq!(super::clip("Zürich".into(), 3), "Zü…");
        assert_eq!(super::clip("é".repeat(3000), 2000).chars().count(), 2000);
    }
}
