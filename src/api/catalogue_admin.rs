//! Catalogue administration over HTTP: departments (administrators), services and their
//! versions (administrators; clerks for their own department). Writes take `If-Match`.
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{get, post, put, HttpMessage, HttpRequest, HttpResponse};

use crate::audit::Actor;
use crate::auth::policy::{authorize, Action};
use crate::auth::{AuthService, Caller};
use crate::catalogue::admin::{self, DraftInput, EditorVersion, NewService};
use crate::catalogue::views::DepartmentDetail;
use crate::catalogue::{CatalogueCache, Render};
use crate::domain::catalogue::DepartmentInput;
use crate::domain::lang::Lang;
use crate::error::{ApiError, Problem};
use crate::http::conditional::required_revision;
use crate::http::extract::{json_body, optional_json_body};
use crate::http::middleware::RequestId;
use crate::http::public_url::PublicUrl;
use crate::http::rendered::Rendered;
use crate::msg;

fn actor(req: &HttpRequest, caller: &Caller) -> Actor {
    Actor::of(
        caller,
        crate::http::middleware::client_ip(req),
        req.extensions().get::<RequestId>().map(|r| r.0.clone()),
    )
}

fn editor_response(
    mut res: actix_web::HttpResponseBuilder,
    v: &EditorVersion,
    location: Option<String>,
) -> HttpResponse {
    let body = Bytes::from(serde_json::to_vec(v).unwrap_or_default());
    let rendered = Rendered::from_bytes(body, "de, fr, it, en").with_revision(v.revision);
    if let Some(l) = location {
        res.insert_header((header::LOCATION, l));
    }
    res.insert_header((header::ETAG, rendered.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(rendered.body)
}

async fn department_response(
    cache: &CatalogueCache,
    slug: &str,
    mut res: actix_web::HttpResponseBuilder,
) -> Result<HttpResponse, ApiError> {
    cache.refresh().await?;
    let snap = cache.get();
    let (idx, d) = snap
        .department(slug)
        .ok_or_else(|| ApiError::internal("department missing after write"))?;
    let detail: DepartmentDetail = snap.department_detail(idx, Render::All);
    let body = Bytes::from(serde_json::to_vec(&detail).map_err(ApiError::internal)?);
    let rendered = Rendered::from_bytes(body, "de, fr, it, en").with_revision(d.revision);
    res.insert_header((header::ETAG, rendered.etag.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::LOCATION,
            format!("{}/v1/departments/{}", snap.public_url(), d.slug),
        ));
    Ok(res.content_type("application/json").body(rendered.body))
}

fn version_number(raw: &str) -> Result<i32, ApiError> {
    raw.parse::<i32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid_parameter("version", msg!("must be a version number (1, 2, ...)")))
}

/// Create a department
///
/// Administrators add a department: its slug, its name in up to four languages and its
/// contact data. The answer carries the `ETag` that a later change sends in `If-Match`.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    request_body = DepartmentInput,
    responses(
        (status = 201, description = "Created", body = DepartmentDetail, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnAdministrator),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/departments")]
pub async fn create_department(
    req: HttpRequest,
    caller: Caller,
    body: Bytes,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ManageDepartments)?;
    let input: DepartmentInput = json_body(&req, &body)?;
    let actor = actor(&req, &caller);
    let row = auth
        .db
        .write(move |c| admin::create_department(c, &actor, input))
        .await?;
    department_response(&cache, &row.slug, HttpResponse::Created()).await
}

/// Edit a department
///
/// Replaces the department's details (the slug stays). `If-Match` must hold the ETag of
/// `GET /v1/departments/{department}`.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(("department" = String, Path, max_length = 64, description = "Slug or id"), ("If-Match" = String, Header, description = "Current ETag")),
    request_body = DepartmentInput,
    responses(
        (status = 200, description = "Updated", body = DepartmentDetail, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnAdministrator),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[put("/departments/{department}")]
pub async fn update_department(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    body: Bytes,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ManageDepartments)?;
    let (key, mut input) = (path.into_inner(), json_body::<DepartmentInput>(&req, &body)?);
    admin::check_department(&mut input)?;
    let expected = required_revision(&req)?;
    let actor = actor(&req, &caller);
    let row = auth
        .db
        .write(move |c| admin::update_department(c, &actor, &key, expected, input))
        .await?;
    department_response(&cache, &row.slug, HttpResponse::Ok()).await
}

/// Create a service
///
/// A new service with its first version as a draft; nothing is public until it is published.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["catalogue:write"])),
    request_body = NewService,
    responses(
        (status = 201, description = "Created, with version 1 as a draft", body = EditorVersion, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnEditor),
        (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/services")]
pub async fn create_service(
    req: HttpRequest,
    caller: Caller,
    body: Bytes,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::EditCatalogue)?;
    let input: NewService = json_body(&req, &body)?;
    let actor = actor(&req, &caller);
    let c2 = caller.clone();
    let v = auth
        .db
        .write(move |c| admin::create_service(c, &c2, &actor, input))
        .await?;
    let location = base.join(&format!("/v1/services/{}/versions/1", v.service));
    Ok(editor_response(HttpResponse::Created(), &v, Some(location)))
}

/// Create a draft version
///
/// A new draft of the service: the request body (the whole version), or without a body a copy
/// of the current version to edit. A service has at most one draft.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["catalogue:write"])),
    params(("service" = String, Path, max_length = 64, description = "Slug or id")),
    request_body(content = Option<DraftInput>, description = "The version; omit to copy the current one"),
    responses(
        (status = 201, description = "The draft", body = EditorVersion, headers(("Location" = String), ("ETag" = String))),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnEditor),
        (status = 404, response = crate::api::responses::NoSuchService),
        (status = 409, description = "A draft exists already", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/services/{service}/versions")]
pub async fn create_service_draft(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    body: Bytes,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::EditCatalogue)?;
    let draft: Option<DraftInput> = optional_json_body(&req, &body)?;
    let actor = actor(&req, &caller);
    let key = path.into_inner();
    let c2 = caller.clone();
    let v = auth
        .db
        .write(move |c| admin::create_draft(c, &c2, &actor, &key, draft))
        .await?;
    let location = base.join(&format!("/v1/services/{}/versions/{}", v.service, v.version));
    Ok(editor_response(HttpResponse::Created(), &v, Some(location)))
}

/// Edit a draft version
///
/// Replaces the draft with the request body. `If-Match` must hold the draft's current ETag.
/// Published versions never change (409).
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["catalogue:write"])),
    params(("service" = String, Path, max_length = 64, description = "Slug or id"), ("version" = i32, Path, description = "Version number", minimum = 1, maximum = 2147483647),
        ("If-Match" = String, Header, description = "Current ETag of the draft")),
    request_body = DraftInput,
    responses(
        (status = 200, description = "The edited draft", body = EditorVersion, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnEditor),
        (status = 404, response = crate::api::responses::NoSuchServiceVersion),
        (status = 409, description = "Not a draft", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[put("/services/{service}/versions/{version}")]
pub async fn update_service_draft(
    req: HttpRequest,
    caller: Caller,
    path: Path<(String, String)>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::EditCatalogue)?;
    let (key, n) = path.into_inner();
    let n = version_number(&n)?;
    let mut draft: DraftInput = json_body(&req, &body)?;
    admin::check_draft(&mut draft)?;
    let expected = required_revision(&req)?;
    let actor = actor(&req, &caller);
    let c2 = caller.clone();
    let v = auth
        .db
        .write(move |c| admin::replace_draft(c, &c2, &actor, &key, n, expected, draft))
        .await?;
    Ok(editor_response(HttpResponse::Ok(), &v, None))
}

/// Publish a draft version
///
/// The draft becomes the service's current version and the previous one is superseded (it
/// stays readable with its form). Every instance serves it within 2 s.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["catalogue:write"])),
    params(("service" = String, Path, max_length = 64, description = "Slug or id"), ("version" = i32, Path, description = "Version number", minimum = 1, maximum = 2147483647),
        ("If-Match" = String, Header, description = "Current ETag of the draft")),
    responses(
        (status = 200, description = "Published", body = EditorVersion, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnEditor),
        (status = 404, response = crate::api::responses::NoSuchServiceVersion),
        (status = 409, description = "Not a draft, or the service is retired", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[post("/services/{service}/versions/{version}/publish")]
pub async fn publish_service_version(
    req: HttpRequest,
    caller: Caller,
    path: Path<(String, String)>,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::EditCatalogue)?;
    let (key, n) = path.into_inner();
    let n = version_number(&n)?;
    let expected = required_revision(&req)?;
    let actor = actor(&req, &caller);
    let c2 = caller.clone();
    let v = auth
        .db
        .write(move |c| admin::publish(c, &c2, &actor, &key, n, expected))
        .await?;
    cache.refresh().await?;
    Ok(editor_response(HttpResponse::Ok(), &v, None))
}

/// Retire a service
///
/// The service stays readable but is no longer listed and takes no applications. `If-Match`
/// must hold the ETag of `GET /v1/services/{service}`.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["catalogue:write"])),
    params(("service" = String, Path, max_length = 64, description = "Slug or id"), ("If-Match" = String, Header, description = "Current ETag of the service")),
    responses(
        (status = 200, description = "Retired; the service as the public now sees it", body = crate::catalogue::views::Service),
        (status = 400, description = "Malformed JSON or parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnEditor),
        (status = 404, response = crate::api::responses::NoSuchService),
        (status = 409, description = "Not active", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[post("/services/{service}/retire")]
pub async fn retire_service(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    auth: Data<AuthService>,
    cache: Data<CatalogueCache>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::EditCatalogue)?;
    let expected = required_revision(&req)?;
    let actor = actor(&req, &caller);
    let key = path.into_inner();
    let c2 = caller.clone();
    let slug = auth
        .db
        .write(move |c| admin::retire(c, &c2, &actor, &key, expected))
        .await?;
    cache.refresh().await?;
    let snap = cache.get();
    let s = snap
        .service(&slug)
        .ok_or_else(|| ApiError::internal("retired service missing"))?;
    let r = Render::One(Lang::negotiate(
        req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    ));
    Ok(crate::http::conditional::respond(
        &req,
        &s.full[r.index()],
        "application/json",
    ))
}

/// Create a back-office system of the department
///
/// Administrators make a client bound to the department: the department's own software (a
/// case management or a specialist application) that reads and processes its applications
/// as the department's clerks do, and reads their events. Scopes: `applications:read`,
/// `applications:process`, `catalogue:read`. The secret is shown only now.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(("department" = String, Path, max_length = 64, description = "Slug or id")),
    request_body = crate::organisations::process::NewClient,
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = crate::organisations::views::ClientCredentials),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnAdministrator),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid name or scopes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/departments/{department}/clients")]
pub async fn create_department_client(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ManageDepartments)?;
    let input: crate::organisations::process::NewClient = json_body(&req, &body)?;
    let actor = actor(&req, &caller);
    let creds = auth
        .db
        .write(move |c| admin::create_department_client(c, &actor, &path, &input))
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(crate::organisations::views::credentials(creds)))
}

/// List the department's back-office systems
///
/// The clients bound to the department, with their scopes and whether they are disabled;
/// secrets are never shown again.
#[utoipa::path(
    tag = "catalogue administration",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(("department" = String, Path, max_length = 64, description = "Slug or id")),
    responses(
        (status = 200, description = "The clients", body = Vec<crate::organisations::views::OrganisationClient>),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnAdministrator),
        (status = 404, description = "No such department", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/departments/{department}/clients")]
pub async fn list_department_clients(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<String>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ManageDepartments)?;
    let rows = auth.db.run(move |c| admin::department_clients(c, &path)).await?;
    let out: Vec<_> = rows.into_iter().map(crate::organisations::views::client).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}
