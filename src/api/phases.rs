//! `GET /v1/phases`: the phases of an application and who may move it where, so that clients
//! read the transition table instead of copying it.
use crate::auth::caller::MaybeCaller;
use actix_web::http::header;
use actix_web::{get, HttpRequest, HttpResponse};

use super::applications::{lang_of, ApplicationQuery};
use crate::applications::views::{self, PhaseEntry};
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;

/// List the phases and their moves
///
/// Every phase an application can be in, in order, with its label in the caller's language,
/// and the phases the applicant and the department may move it to from there. A service adds
/// its own steps within these phases (`status_steps`); the phases and moves are the same for
/// every service.
#[utoipa::path(
    tag = "applications",
    params(ApplicationQuery, ("Accept-Language" = Option<String>, Header, description = "Language of labels")),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "The phases, in order", body = inline(Phases), headers(("Content-Language" = String))),
        (status = 400, description = "Invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/phases")]
pub async fn list_phases(
    _caller: MaybeCaller,
    req: HttpRequest,
    q: StrictQuery<ApplicationQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::VARY, "Accept-Language"))
        .json(views::phases(lang)))
}

/// The answer of `GET /v1/phases`: every phase, once.
#[derive(utoipa::ToSchema)]
#[schema(max_items = 8)]
#[allow(dead_code)]
struct Phases(Vec<PhaseEntry>);
