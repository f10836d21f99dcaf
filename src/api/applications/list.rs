//! `GET /v1/applications`: the applicant's list and the clerks' work queue.
use actix_web::web::Data;
use actix_web::{get, HttpRequest, HttpResponse};

use super::lang_of;
use crate::api::json_page;
use crate::applications::list::{self, ApplicationParams};
use crate::applications::{access, views, Reads};
use crate::auth::Caller;
use crate::catalogue::{CatalogueCache, Render};
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;
use crate::http::page::Page;

/// List applications (the applicant's list, the clerks' work queue)
///
/// What the caller may see, filtered: residents and partner clients their applications,
/// clerks their department's submitted applications, administrators all submitted ones.
/// Cursor pagination; the filters combine with AND.
#[utoipa::path(
    tag = "applications",
    security(("bearer" = []), ("oauth2" = ["applications:read"])),
    params(ApplicationParams),
    responses(
        (status = 200, description = "A page of applications", body = Page<views::Application>, headers(("Link" = String, description = "rel=\"next\" when there is a next page"))),
        (status = 400, description = "Invalid or unknown parameter, or bad cursor", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NoReadScope),
    )
)]
#[get("/applications")]
pub async fn list_applications(
    req: HttpRequest,
    caller: Caller,
    q: StrictQuery<ApplicationParams>,
    reads: Data<Reads>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    let reader = access::reader(&caller)?;
    let lang = lang_of(&req, q.0.lang.as_deref())?;
    let snap = cache.get();
    let (items, next) = list::page(&reads, &caller, reader, &snap, q.0, lang).await?;
    let mut res = json_page(&req, snap.public_url(), items.iter(), next, Render::One(lang));
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
