//! The problem answers that many operations share, declared once in the OpenAPI document
//! (`components/responses`) and referred to by each operation (`response = ...`). An
//! operation's own answers (its 403 and 404 with what they mean there, its 409s and 422s) stay
//! in its `#[utoipa::path]`.
use utoipa::ToResponse;

use crate::error::Problem;

/// No token, or one that is not valid (expired, revoked, for another audience).
#[derive(ToResponse)]
#[response(
    description = "No or bad token",
    content_type = "application/problem+json",
    headers(("WWW-Authenticate" = String, description = "`Bearer` with the error (RFC 6750)"))
)]
#[allow(dead_code)]
pub struct Unauthorized(Problem);

/// A fault of the server (a bug): the cause is logged under the request id, never sent. Every
/// operation can answer it.
#[derive(ToResponse)]
#[response(description = "Internal error", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct ServerError(Problem);

/// An operation that takes no query parameter was given one (a typo is not silently ignored).
#[derive(ToResponse)]
#[response(
    description = "An unknown query parameter",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct UnknownParameter(Problem);

/// The body is not JSON at all.
#[derive(ToResponse)]
#[response(description = "Malformed JSON", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct MalformedJson(Problem);

/// The body is sent with another content type than JSON.
#[derive(ToResponse)]
#[response(description = "Not JSON", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct NotJson(Problem);

/// `If-Match` names a revision that is no longer the current one.
#[derive(ToResponse)]
#[response(
    description = "Changed since read: `If-Match` is not the current ETag",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct StaleIfMatch(Problem);

/// A change that needs `If-Match` came without it.
#[derive(ToResponse)]
#[response(description = "If-Match missing", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct IfMatchMissing(Problem);

/// No such application, or not one the caller may see (the same answer).
#[derive(ToResponse)]
#[response(
    description = "No such application, or not one the caller may see (the same answer)",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NoSuchApplication(Problem);

/// The token may not change applications (scope), or the caller is not the applicant.
#[derive(ToResponse)]
#[response(
    description = "The token may not change applications (scope), or the caller is not the applicant",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NotTheApplicant(Problem);

/// Only the organisation's owners do this.
#[derive(ToResponse)]
#[response(
    description = "Only the organisation's owners do this",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NotAnOwner(Problem);

/// No such service.
#[derive(ToResponse)]
#[response(description = "No such service", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct NoSuchService(Problem);

/// No such organisation, or not one of the caller's.
#[derive(ToResponse)]
#[response(
    description = "No such organisation, or not one of the caller's",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NoSuchOrganisation(Problem);

/// Not an editor of this department.
#[derive(ToResponse)]
#[response(
    description = "Not an editor of this department",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NotAnEditor(Problem);

/// The token has no applications:read scope.
#[derive(ToResponse)]
#[response(
    description = "The token has no applications:read scope",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NoReadScope(Problem);

/// The organisation is not verified yet.
#[derive(ToResponse)]
#[response(
    description = "The organisation is not verified yet",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NotVerified(Problem);

/// No such service or version.
#[derive(ToResponse)]
#[response(
    description = "No such service or version",
    content_type = "application/problem+json"
)]
#[allow(dead_code)]
pub struct NoSuchServiceVersion(Problem);

/// Not an administrator.
#[derive(ToResponse)]
#[response(description = "Not an administrator", content_type = "application/problem+json")]
#[allow(dead_code)]
pub struct NotAnAdministrator(Problem);
