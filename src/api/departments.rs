//! `/v1/departments`: the organisational units responsible for services.
use crate::auth::caller::MaybeCaller;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{get, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{json_page, LangParam};
use crate::catalogue::query;
use crate::catalogue::views::{Department, DepartmentDetail};
use crate::catalogue::CatalogueCache;
use crate::error::{ApiError, Problem};
use crate::http::conditional::respond;
use crate::http::extract::{path_key, render_for, StrictQuery};
use crate::http::page::Page;
use crate::http::pagination;
use crate::http::rendered::Rendered;
use crate::msg;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDepartmentsParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
    #[param(value_type = Option<LangParam>)]
    lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DepartmentParams {
    #[param(value_type = Option<LangParam>)]
    lang: Option<String>,
}

/// List departments
///
/// Every department with its contact details, in name order of the requested language.
#[utoipa::path(
    tag = "catalogue",
    params(ListDepartmentsParams, ("Accept-Language" = Option<String>, Header, description = "Preferred languages")),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "A page of departments", body = Page<Department>, headers(("Content-Language" = String), ("Link" = String))),
        (status = 400, description = "Invalid or unknown parameter, or a bad cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/departments")]
pub async fn list_departments(
    _caller: MaybeCaller,
    req: HttpRequest,
    cache: Data<CatalogueCache>,
    StrictQuery(p): StrictQuery<ListDepartmentsParams>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let limit = pagination::limit(p.limit.as_deref())?;
    let after: Option<(String, Uuid)> = pagination::decode("departments", p.cursor.as_deref())?;
    let snap = cache.get();
    let (idx, next) = query::list_departments(&snap, render, after.as_ref(), limit);
    let bodies: Vec<Bytes> = idx
        .iter()
        .map(|i| Bytes::from(serde_json::to_vec(&snap.department_view(*i, render)).unwrap_or_default()))
        .collect();
    let next = next.map(|k| pagination::encode("departments", &k));
    Ok(json_page(&req, snap.public_url(), bodies.iter(), next, render))
}

/// Get a department
///
/// A department with its contact details and the active services it is responsible for.
#[utoipa::path(
    tag = "catalogue",
    params(("department" = String, Path, max_length = 64, description = "Slug or id", example = "einwohnerdienste"), DepartmentParams,
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of the copy the client has")),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "The department", body = DepartmentDetail, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy is current"),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/departments/{department}")]
pub async fn get_department(
    _caller: MaybeCaller,
    req: HttpRequest,
    cache: Data<CatalogueCache>,
    path: Path<String>,
    StrictQuery(p): StrictQuery<DepartmentParams>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let snap = cache.get();
    let (idx, _) = snap
        .department(path_key(&path)?)
        .ok_or_else(|| ApiError::not_found(msg!("No department '{path}'.", path = path)))?;
    let body = serde_json::to_vec(&snap.department_detail(idx, render)).map_err(ApiError::internal)?;
    let rendered = Rendered::from_bytes(body.into(), snap.department_language(idx, render))
        .with_revision(snap.departments[idx].revision);
    Ok(respond(&req, &rendered, "application/json"))
}
