//! Responses for pre-rendered resources: ETag, `If-None-Match` (304), `Content-Language`,
//! `Vary: Accept-Language`.
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};

use crate::http::rendered::Rendered;
use crate::msg;

fn matches(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// 200 with the body, or 304 when the client's copy is current.
pub fn respond(req: &HttpRequest, r: &Rendered, content_type: &'static str) -> HttpResponse {
    let mut res = if matches(req, &r.etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, r.etag.as_str()))
        .insert_header((header::VARY, HeaderValue::from_static("Accept-Language")))
        .insert_header((header::CONTENT_LANGUAGE, r.content_language))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-cache")));
    if matches(req, &r.etag) {
        return res.finish();
    }
    res.content_type(content_type).body(r.body.clone())
}

/// The revision a write is conditioned on: `If-Match` is required (428 without it) and must
/// hold an ETag this API issued for the resource (412 otherwise, and when it is stale — the
/// caller compares it with the stored revision inside the write transaction).
pub fn required_revision(req: &HttpRequest) -> Result<i64, crate::error::ApiError> {
    use crate::error::{ApiError, ProblemKind};
    let Some(v) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::new(
            ProblemKind::PreconditionRequired,
            msg!("Send the resource's current ETag in If-Match."),
        ));
    };
    v.to_str()
        .ok()
        .and_then(crate::http::rendered::etag_revision)
        .ok_or_else(|| {
            ApiError::new(
                ProblemKind::PreconditionFailed,
                msg!("If-Match does not hold a current ETag of this resource."),
            )
        })
}

/// 412 unless the stored revision is the one the client saw.
pub fn check_revision(expected: i64, current: i64) -> Result<(), crate::error::ApiError> {
    if expected == current {
        Ok(())
    } else {
        Err(crate::error::ApiError::new(
            crate::error::ProblemKind::PreconditionFailed,
            crate::msg!("The resource has changed since you read it: reload it and apply your change again."),
        ))
    }
}

/// A JSON answer of a resource, not cached, with its ETag: `"r<revision>-<digest>"` (for
/// `If-Match` on its writes) when it has a revision, else the digest alone.
pub fn json_with_revision<T: serde::Serialize>(
    mut res: actix_web::HttpResponseBuilder,
    v: &T,
    revision: impl Into<Option<i64>>,
) -> HttpResponse {
    let body = actix_web::web::Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    let mut r = Rendered::from_bytes(body, "de");
    if let Some(rev) = revision.into() {
        r = r.with_revision(rev);
    }
    res.insert_header((header::ETAG, r.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(r.body)
}
