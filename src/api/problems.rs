//! `/problems/{kind}`: what each problem type means, for humans following a `type` link.
use actix_web::http::header;
use actix_web::web::Path;
use actix_web::{get, HttpRequest, HttpResponse};
use serde::Serialize;
use utoipa::ToSchema;

use super::applications::{lang_of, ApplicationQuery};
use crate::domain::lang::Lang;
use crate::error::{ApiError, Problem, ProblemKind};
use crate::http::extract::StrictQuery;
use crate::msg;

#[derive(Serialize, ToSchema)]
pub struct ProblemType {
    #[serde(rename = "type")]
    #[schema(example = "/problems/validation-failed", max_length = 100)]
    pub type_: String,
    #[schema(max_length = 200)]
    pub title: String,
    #[schema(minimum = 400, maximum = 599)]
    pub status: u16,
    #[schema(max_length = 2000)]
    pub description: String,
}

fn describe(k: ProblemKind, lang: Lang) -> ProblemType {
    let (slug, status, title, description) = k.info();
    ProblemType {
        type_: format!("/problems/{slug}"),
        title: title.render(lang),
        status,
        description: description.render(lang),
    }
}

fn answer(lang: Lang, body: &impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_LANGUAGE, lang.code()))
        .insert_header((header::VARY, "Accept-Language"))
        .json(body)
}

/// List problem types
///
/// Every problem `type` guichet answers with, in the caller's language (`lang` or
/// `Accept-Language`), as the problems themselves are.
#[utoipa::path(
    tag = "operations",
    params(ApplicationQuery, ("Accept-Language" = Option<String>, Header, description = "Language of the texts")),
    responses(
        (status = 200, description = "All problem types", body = inline(ProblemTypes), headers(("Content-Language" = String))),
        (status = 400, description = "Invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems")]
pub async fn list_problems(req: HttpRequest, q: StrictQuery<ApplicationQuery>) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    let all: Vec<ProblemType> = ProblemKind::ALL.into_iter().map(|k| describe(k, lang)).collect();
    Ok(answer(lang, &all))
}

/// Explain a problem type
///
/// What a problem `type` means and what a client should do about it.
#[utoipa::path(
    tag = "operations",
    params(
        ("kind" = String, Path, max_length = 64, description = "The last segment of a problem `type`", example = "validation-failed"),
        ApplicationQuery,
        ("Accept-Language" = Option<String>, Header, description = "Language of the texts"),
    ),
    responses(
        (status = 200, description = "What the problem means and what to do", body = ProblemType, headers(("Content-Language" = String))),
        (status = 400, description = "Invalid or unknown query parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such problem type", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/problems/{kind}")]
pub async fn get_problem(
    req: HttpRequest,
    kind: Path<String>,
    q: StrictQuery<ApplicationQuery>,
) -> Result<HttpResponse, ApiError> {
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    let k = ProblemKind::from_slug(&kind)
        .ok_or_else(|| ApiError::not_found(msg!("No problem type '{kind}'.", kind = kind)))?;
    Ok(answer(lang, &describe(k, lang)))
}

/// The answer of `GET /problems`: every kind of problem, once.
#[derive(ToSchema)]
#[schema(max_items = 100)]
#[allow(dead_code)]
struct ProblemTypes(Vec<ProblemType>);
