//! `/problems/{kind}`: what each problem type means, for humans following a `type` link.
use actix_web::web::Path;
use actix_web::{get, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::extract::StrictQuery;

#[derive(Serialize, ToSchema)]
pub struct ProblemType {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-failed")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub description: String,
}

fn describe(k: ProblemKind) -> ProblemType {
    let (slug, status, title, description) = k.info();
    ProblemType {
        type_: format!("/problems/{slug}"),
        title: title.into(),
        status,
        description: description.into(),
    }
}

/// List problem types
///
/// Every problem `type` guichet answers with.
#[utoipa::path(tag = "operations", responses((status = 200, description = "All problem types", body = Vec<ProblemType>)))]
#[get("/problems")]
pub async fn list_problems(_q: StrictQuery<super::health::NoParams>) -> HttpResponse {
    let all: Vec<ProblemType> = ProblemKind::ALL.into_iter().map(describe).collect();
    HttpResponse::Ok().json(all)
}

/// Explain a problem type
///
/// What a problem `type` means and what a client should do about it.
#[utoipa::path(
    tag = "operations",
    params(("kind" = String, Path, description = "The last segment of a problem `type`", example = "validation-failed")),
    responses(
        (status = 200, description = "What the problem means and what to do", body = ProblemType),
        (status = 404, description = "No such problem type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems/{kind}")]
pub async fn get_problem(
    kind: Path<String>,
    _q: StrictQuery<super::health::NoParams>,
) -> Result<HttpResponse, ApiError> {
    let k = ProblemKind::from_slug(&kind).ok_or_else(|| ApiError::not_found(format!("No problem type '{kind}'.")))?;
    Ok(HttpResponse::Ok().json(describe(k)))
}
