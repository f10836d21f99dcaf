//! `/v1/organisations`: businesses and organisations (by Swiss UID), their members and their
//! partner clients. A new organisation is `pending` until an administrator verifies it (UIDs
//! are public, so anyone could claim one); members see it, owners manage it; everyone else
//! gets a 404. The rules live in `src/organisations/`; these handlers parse and render.
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{delete, get, post, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::{AuthService, Caller};
use crate::domain::ids::{AccountId, OrganisationId};
use crate::domain::organisation::{MemberRole, OrganisationStatus};
use crate::error::{ApiError, Problem};
use crate::http::conditional::{json_with_revision, required_revision};
use crate::http::extract::{json_body, StrictQuery};
use crate::http::page::Page;
use crate::http::pagination;
use crate::http::public_url::PublicUrl;
use crate::msg;
use crate::organisations::process::{self, Ctx, Decision, NewMember, NewOrganisation};
use crate::organisations::views::{self, Member, Organisation};
use crate::organisations::{self, access};

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
    /// Administrators: `pending`, `verified` or `rejected`.
    #[param(max_length = 16)]
    status: Option<String>,
}

/// Who acts, from where: what every change of an organisation records.
pub(super) fn ctx(req: &HttpRequest, caller: &Caller) -> Ctx {
    Ctx {
        caller: caller.clone(),
        actor: crate::http::middleware::actor(req, caller),
    }
}

/// A JSON answer that is not cached.
pub(super) fn no_store<T: Serialize>(mut res: actix_web::HttpResponseBuilder, v: &T) -> HttpResponse {
    res.insert_header((header::CACHE_CONTROL, "no-store")).json(v)
}

/// Register an organisation
///
/// A resident registers a business or organisation by its UID and becomes its owner. It stays
/// `pending` until an administrator verifies it.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    request_body = NewOrganisation,
    responses(
        (status = 201, description = "Registered, pending verification", body = Organisation, headers(("Location" = String), ("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Not a resident", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "This UID is verified for an organisation already, the caller registered it already, or has 3 registrations waiting", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid UID or name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    req: HttpRequest,
    caller: Caller,
    body: Bytes,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    access::registrant(&caller)?;
    let input: NewOrganisation = json_body(&req, &body)?;
    let ctx = ctx(&req, &caller);
    let org = auth.db.write(move |conn| process::register(conn, &ctx, input)).await?;
    let v = views::organisation(&org, Some(MemberRole::Owner), &base);
    let mut res = HttpResponse::Created();
    res.insert_header((header::LOCATION, v.href.clone()));
    Ok(json_with_revision(res, &v, org.revision))
}

/// List organisations
///
/// Residents: the organisations they belong to. Administrators: all, filtered by `status`.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(ListParams),
    responses(
        (status = 200, description = "A page of organisations", body = Page<Organisation>),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Neither a resident nor an administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<ListParams>,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    access::require_person_or_admin(&caller)?;
    let limit = pagination::limit(p.limit.as_deref())?;
    let status = match p.status.as_deref() {
        None => None,
        Some(s) => Some(
            OrganisationStatus::parse(s)
                .ok_or_else(|| ApiError::invalid_parameter("status", msg!("must be pending, verified or rejected")))?,
        ),
    };
    let before: Option<Uuid> = pagination::decode("organisations", p.cursor.as_deref())?;
    let c = caller.clone();
    let rows = auth
        .db
        .run(move |conn| process::list(conn, &c, status, before, limit as i64 + 1))
        .await?;
    let items: Vec<Organisation> = rows
        .iter()
        .take(limit)
        .map(|(r, role)| views::organisation(r, *role, &base))
        .collect();
    let next = (rows.len() > limit)
        .then(|| items.last().map(|o| pagination::encode("organisations", &o.id)))
        .flatten();
    Ok(super::no_store_page(&req, base.as_str(), &items, next))
}

/// Get an organisation
///
/// The organisation as the caller sees it: its UID, name and verification status, with the
/// caller's role in it.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Neither a resident nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchOrganisation),
    )
)]
#[get("/organisations/{organisation}")]
pub async fn get_organisation(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<OrganisationId>,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    let (org, role) = organisations::read(&auth.db, &caller, move |conn, c| access::visible(conn, c, *path)).await?;
    let v = views::organisation(&org, role, &base);
    Ok(json_with_revision(HttpResponse::Ok(), &v, org.revision))
}

/// Verify or reject an organisation
///
/// Administrators decide on a pending organisation. `If-Match` must hold its current ETag.
/// Verifying one rejects the other pending registrations of the same UID; every registering
/// resident is told by mail.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id"), ("If-Match" = String, Header, description = "Current ETag")),
    request_body = Decision,
    responses(
        (status = 200, description = "Decided", body = Organisation, headers(("ETag" = String))),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnAdministrator),
        (status = 404, description = "No such organisation", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Another organisation with this UID is verified already", body = Problem, content_type = "application/problem+json"),
        (status = 412, response = crate::api::responses::StaleIfMatch),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid status", body = Problem, content_type = "application/problem+json"),
        (status = 428, response = crate::api::responses::IfMatchMissing),
    )
)]
#[post("/organisations/{organisation}/verification")]
pub async fn decide_organisation(
    req: HttpRequest,
    caller: Caller,
    path: Path<OrganisationId>,
    body: Bytes,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    access::may_decide(&caller)?;
    let status = process::decision(&json_body::<Decision>(&req, &body)?)?;
    let expected = required_revision(&req)?;
    let ctx = ctx(&req, &caller);
    let org = auth
        .db
        .write(move |conn| process::decide(conn, &ctx, *path, status, expected))
        .await?;
    let v = views::organisation(&org, None, &base);
    Ok(json_with_revision(HttpResponse::Ok(), &v, org.revision))
}

/// List members
///
/// Every member of the organisation with their role and since when (never their password or
/// tokens).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The members", body = Vec<Member>),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, description = "Neither a resident nor an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 404, response = crate::api::responses::NoSuchOrganisation),
    )
)]
#[get("/organisations/{organisation}/members")]
pub async fn list_members(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<OrganisationId>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let members = organisations::read(&auth.db, &caller, move |conn, c| process::members(conn, c, *path)).await?;
    let out: Vec<Member> = members.into_iter().map(views::member).collect();
    Ok(no_store(HttpResponse::Ok(), &out))
}

/// Add a member
///
/// Owners add an existing account by its e-mail address, as `owner` or `member`.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id")),
    request_body = NewMember,
    responses(
        (status = 201, description = "Added", body = Member),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnOwner),
        (status = 404, response = crate::api::responses::NoSuchOrganisation),
        (status = 409, description = "Not verified yet, or already a member", body = Problem, content_type = "application/problem+json"),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid e-mail or role, or no such account", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/members")]
pub async fn add_member(
    req: HttpRequest,
    caller: Caller,
    path: Path<OrganisationId>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    access::require_person_or_admin(&caller)?; // before the body is read
    let (email, role) = process::new_member(&json_body::<NewMember>(&req, &body)?)?;
    let member = organisations::change(&auth.db, ctx(&req, &caller), move |conn, ctx| {
        process::add_member(conn, ctx, *path, email, role)
    })
    .await?;
    Ok(no_store(HttpResponse::Created(), &views::member(member)))
}

/// Remove a member
///
/// Owners remove anyone; a member may leave. The last owner cannot leave (409).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id"), ("account" = uuid::Uuid, Path, description = "Account id of the member")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnOwner),
        (status = 404, description = "No such organisation or member", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The last owner", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/organisations/{organisation}/members/{account}")]
pub async fn remove_member(
    req: HttpRequest,
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<(OrganisationId, AccountId)>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let (org, account) = path.into_inner();
    organisations::change(&auth.db, ctx(&req, &caller), move |conn, ctx| {
        process::remove_member(conn, ctx, org, account)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
