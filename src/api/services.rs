//! `/v1/services`: the published service catalogue.
use actix_web::web::{Data, Path};
use actix_web::{get, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{invalid, json_page, LangParam};
use crate::auth::caller::MaybeCaller;
use crate::auth::policy::{authorize, Action};
use crate::catalogue::query::{self, ServiceFilter, ServiceKey};
use crate::catalogue::views::{Service, ServiceStatus, ServiceSummary, ServiceVersionSummary};
use crate::catalogue::{CatalogueCache, Render};
use crate::domain::catalogue::{Audience, Channel};
use crate::error::{ApiError, Problem};
use crate::http::conditional::respond;
use crate::http::extract::{path_key, render_for, StrictQuery};
use crate::http::page::Page;
use crate::http::pagination;
use crate::msg;

/// A published or superseded version; or, for editors, a draft.
#[derive(serde::Serialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub enum VersionAnswer {
    Published(Box<Service>),
    Draft(Box<crate::catalogue::admin::EditorVersion>),
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListServicesParams {
    /// Page size, 1 to 100 (default 20).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// Opaque cursor from the previous page's `next_cursor`.
    #[param(max_length = 1024)]
    cursor: Option<String>,
    /// Department slug or id.
    #[param(example = "einwohnerdienste", max_length = 64)]
    department: Option<String>,
    /// Category slug.
    #[param(example = "residence", max_length = 64)]
    category: Option<String>,
    #[param(value_type = Option<Audience>)]
    audience: Option<String>,
    #[param(value_type = Option<Channel>)]
    channel: Option<String>,
    /// `active` (default) or `retired`.
    #[param(value_type = Option<ServiceStatus>)]
    status: Option<String>,
    /// Search words, case- and accent-insensitive, in name, summary and keywords of the
    /// requested language (German where a translation is missing). Name matches come first.
    #[param(example = "bestatigung", max_length = 200)]
    q: Option<String>,
    #[param(value_type = Option<LangParam>)]
    lang: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LangOnly {
    /// Language of the answer (overrides `Accept-Language`); `all` returns every translation.
    #[param(value_type = Option<LangParam>)]
    lang: Option<String>,
}

fn parse_enum<T: serde::de::DeserializeOwned>(
    name: &str,
    raw: &Option<String>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    match raw {
        None => Ok(None),
        Some(s) => serde_json::from_value(serde_json::Value::String(s.clone()))
            .map(Some)
            .map_err(|_| invalid(name, msg!("must be one of {allowed}", allowed = allowed))),
    }
}

/// The filter the list's parameters ask for; a department or category that does not exist
/// is a 400, not an empty list.
fn service_filter(p: &ListServicesParams, snap: &crate::catalogue::Snapshot) -> Result<ServiceFilter, ApiError> {
    let mut filter = ServiceFilter {
        audience: parse_enum("audience", &p.audience, "resident, business, organisation")?,
        channel: parse_enum("channel", &p.channel, "guichet, external, counter")?,
        status: parse_enum("status", &p.status, "active, retired")?,
        ..Default::default()
    };
    if let Some(d) = &p.department {
        let (idx, _) = snap
            .department(d)
            .ok_or_else(|| invalid("department", msg!("no department '{slug}'", slug = d)))?;
        filter.department = Some(idx);
    }
    if let Some(c) = &p.category {
        if !snap.has_category(c) {
            return Err(invalid("category", msg!("no category '{category}'", category = c)));
        }
        filter.category = Some(c.clone());
    }
    if let Some(q) = &p.q {
        if q.chars().count() > 200 {
            return Err(invalid("q", msg!("at most 200 characters")));
        }
        filter.words = query::search_words(q);
    }
    Ok(filter)
}

/// List and search published services
///
/// Services in name order of the requested language; with `q`, services whose name matches
/// come first. Served from each instance's copy of the catalogue, at most 2 s behind the
/// database.
#[utoipa::path(
    tag = "catalogue",
    params(ListServicesParams, ("Accept-Language" = Option<String>, Header, description = "Preferred languages (de, fr, it, en); German by default")),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "A page of services", body = Page<ServiceSummary>,
            headers(("Content-Language" = String, description = "Language served"), ("Link" = String, description = "`<url>; rel=\"next\"` when there is a next page"))),
        (status = 400, description = "Invalid or unknown parameter, or a bad cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/services")]
pub async fn list_services(
    _caller: MaybeCaller,
    req: HttpRequest,
    cache: Data<CatalogueCache>,
    StrictQuery(p): StrictQuery<ListServicesParams>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let limit = pagination::limit(p.limit.as_deref())?;
    let after: Option<ServiceKey> = pagination::decode("services", p.cursor.as_deref())?;
    let snap = cache.get();
    let filter = service_filter(&p, &snap)?;
    let (items, next) = query::list_services(&snap, &filter, render, after.as_ref(), limit);
    let bodies = items.iter().map(|s| &s.summary[render.index()].body);
    let next = next.map(|k| pagination::encode("services", &k));
    Ok(json_page(&req, snap.public_url(), bodies, next, render))
}

fn find<'a>(
    snap: &'a crate::catalogue::Snapshot,
    key: &str,
) -> Result<&'a crate::catalogue::snapshot::ServiceEntry, ApiError> {
    snap.service(path_key(key)?)
        .ok_or_else(|| ApiError::not_found(msg!("No service '{key}'.", key = key)))
}

/// Get a service
///
/// The current version of a service by slug or id. Retired services stay readable. The ETag
/// differs per language; send it in `If-None-Match` to get a 304 when nothing changed.
#[utoipa::path(
    tag = "catalogue",
    params(("service" = String, Path, max_length = 64, description = "Slug or id", example = "hund-anmelden"), LangOnly,
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of the copy the client has")),
    responses(
        (status = 200, description = "The service", body = Service,
            headers(("ETag" = String), ("Content-Language" = String), ("Vary" = String))),
        (status = 304, description = "The client's copy is current"),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token was sent and is not valid (anonymous reads need none)", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchService),
    )
)]
#[get("/services/{service}")]
pub async fn get_service(
    req: HttpRequest,
    _caller: MaybeCaller,
    cache: Data<CatalogueCache>,
    path: Path<String>,
    StrictQuery(p): StrictQuery<LangOnly>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let snap = cache.get();
    let s = find(&snap, &path)?;
    Ok(respond(&req, &s.full[render.index()], "application/json"))
}

/// Get a service's application form
///
/// The JSON Schema (draft 2020-12) that application data must satisfy, with titles in the
/// requested language. Custom formats (`ahv-number`, `uid`, `phone`, `document-id`) also
/// carry a `pattern`, so standard validators such as AJV check their shape.
#[utoipa::path(
    tag = "catalogue",
    params(("service" = String, Path, max_length = 64, description = "Slug or id", example = "hund-anmelden"), LangOnly,
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of the copy the client has")),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "The form's JSON Schema", content_type = "application/schema+json", body = Object,
            headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy is current"),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchService),
    )
)]
#[get("/services/{service}/form")]
pub async fn get_service_form(
    _caller: MaybeCaller,
    req: HttpRequest,
    cache: Data<CatalogueCache>,
    path: Path<String>,
    StrictQuery(p): StrictQuery<LangOnly>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let snap = cache.get();
    let s = find(&snap, &path)?;
    Ok(respond(&req, &s.form[render.index()], "application/schema+json"))
}

/// List a service's versions
///
/// Every published version, newest first. A published version never changes; publishing a
/// new one supersedes it, and it stays readable with its form.
#[utoipa::path(
    tag = "catalogue",
    params(("service" = String, Path, max_length = 64, description = "Slug or id", example = "hund-anmelden"), pagination::PageParams),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "A page of versions", body = Page<ServiceVersionSummary>),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchService),
    )
)]
#[get("/services/{service}/versions")]
pub async fn list_service_versions(
    _caller: MaybeCaller,
    req: HttpRequest,
    cache: Data<CatalogueCache>,
    path: Path<String>,
    StrictQuery(p): StrictQuery<pagination::PageParams>,
) -> Result<HttpResponse, ApiError> {
    let (after, limit) = p.page::<i32>("versions")?;
    let snap = cache.get();
    let s = find(&snap, &path)?;
    let all: Vec<ServiceVersionSummary> = snap
        .version_summaries(s)
        .into_iter()
        .filter(|v| after.is_none_or(|a| v.version < a))
        .collect();
    let more = all.len() > limit;
    let page: Vec<_> = all.into_iter().take(limit).collect();
    let next = if more {
        page.last().map(|v| pagination::encode("versions", &v.version))
    } else {
        None
    };
    let bodies: Vec<actix_web::web::Bytes> = page
        .iter()
        .map(|v| serde_json::to_vec(v).unwrap_or_default().into())
        .collect();
    Ok(json_page(
        &req,
        snap.public_url(),
        bodies.iter(),
        next,
        Render::One(crate::domain::lang::Lang::De),
    ))
}

fn version_index(s: &crate::catalogue::snapshot::ServiceEntry, raw: &str) -> Result<usize, ApiError> {
    let n: i32 = raw
        .parse()
        .map_err(|_| invalid("version", msg!("must be a version number (1, 2, ...)")))?;
    s.versions.iter().position(|v| v.version == n).ok_or_else(|| {
        ApiError::not_found(msg!(
            "Service '{slug}' has no published version {n}.",
            slug = &s.slug,
            n = n
        ))
    })
}

/// Get one version of a service
///
/// A published or superseded version exactly as it was published, with the link to its form.
#[utoipa::path(
    tag = "catalogue",
    params(("service" = String, Path, max_length = 64, description = "Slug or id", example = "hund-anmelden"),
        ("version" = i32, Path, description = "Version number", minimum = 1, maximum = 2147483647, example = 1), LangOnly,
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of the copy the client has")),
    responses(
        (status = 200, description = "That version of the service (a draft, in the editors' form, only for those who may edit it)", body = VersionAnswer, headers(("ETag" = String), ("Content-Language" = String))),
        (status = 304, description = "The client's copy is current"),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "A token was sent and is not valid", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchServiceVersion),
    )
)]
#[get("/services/{service}/versions/{version}")]
pub async fn get_service_version(
    req: HttpRequest,
    MaybeCaller(caller): MaybeCaller,
    cache: Data<CatalogueCache>,
    auth: Data<crate::auth::AuthService>,
    path: Path<(String, String)>,
    StrictQuery(p): StrictQuery<LangOnly>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let snap = cache.get();
    let published = find(&snap, &path.0).and_then(|s| version_index(s, &path.1).map(|i| (s, i)));
    match (published, caller) {
        (Ok((s, idx)), _) => Ok(respond(&req, &snap.render_version(s, idx, render), "application/json")),
        // Drafts are shown to those who may edit the service, in the editors' representation.
        (Err(e), Some(c))
            if e.kind == crate::error::ProblemKind::NotFound && authorize(&c, Action::EditCatalogue).is_ok() =>
        {
            let n: i32 = path
                .1
                .parse()
                .map_err(|_| invalid("version", msg!("must be a version number (1, 2, ...)")))?;
            let key = path.0.clone();
            let v = auth
                .db
                .run(move |conn| crate::catalogue::admin::read_version(conn, &c, &key, n))
                .await?;
            let body = actix_web::web::Bytes::from(serde_json::to_vec(&v).map_err(ApiError::internal)?);
            let rendered =
                crate::http::rendered::Rendered::from_bytes(body, "de, fr, it, en").with_revision(v.revision);
            let mut res = respond(&req, &rendered, "application/json");
            res.headers_mut().insert(
                actix_web::http::header::CACHE_CONTROL,
                actix_web::http::header::HeaderValue::from_static("no-store"),
            );
            Ok(res)
        }
        (Err(e), _) => Err(e),
    }
}

/// Get the application form of one version of a service
///
/// The JSON Schema an application made under that version was validated against.
#[utoipa::path(
    tag = "catalogue",
    params(("service" = String, Path, max_length = 64, description = "Slug or id", example = "hund-anmelden"),
        ("version" = i32, Path, description = "Version number", minimum = 1, maximum = 2147483647, example = 1), LangOnly,
        ("Accept-Language" = Option<String>, Header, description = "Preferred languages"),
        ("If-None-Match" = Option<String>, Header, description = "ETag of the copy the client has")),
    responses(
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 200, description = "The form's JSON Schema", content_type = "application/schema+json", body = Object, headers(("ETag" = String))),
        (status = 304, description = "The client's copy is current"),
        (status = 400, description = "Invalid or unknown parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchServiceVersion),
    )
)]
#[get("/services/{service}/versions/{version}/form")]
pub async fn get_service_version_form(
    _caller: MaybeCaller,
    req: HttpRequest,
    cache: Data<CatalogueCache>,
    path: Path<(String, String)>,
    StrictQuery(p): StrictQuery<LangOnly>,
) -> Result<HttpResponse, ApiError> {
    let render = render_for(&req, p.lang.as_deref())?;
    let snap = cache.get();
    let s = find(&snap, &path.0)?;
    let idx = version_index(s, &path.1)?;
    let rendered = snap.render_form(s, idx, render);
    Ok(respond(&req, &rendered, "application/schema+json"))
}
