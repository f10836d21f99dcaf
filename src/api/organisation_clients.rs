//! `/v1/organisations/{organisation}/clients`: the API clients an organisation's owners
//! create for its own systems (partner software acting for the organisation). The rules live
//! in `src/organisations/`; these handlers parse and render.
use actix_web::web::{Bytes, Data, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};

use super::organisations::{ctx, no_store};
use crate::auth::{AuthService, Caller};
use crate::domain::ids::OrganisationId;
use crate::error::{ApiError, Problem};
use crate::http::extract::json_body;
use crate::organisations::process::{self, NewClient};
use crate::organisations::views::{self, ClientCredentials, OrganisationClient};
use crate::organisations::{self, access};

/// Create a client of the organisation
///
/// Owners create API clients for their organisation's systems; the secret is shown once.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id")),
    request_body = NewClient,
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = ClientCredentials),
        (status = 400, response = crate::api::responses::MalformedJson),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnOwner),
        (status = 404, response = crate::api::responses::NoSuchOrganisation),
        (status = 409, response = crate::api::responses::NotVerified),
        (status = 415, response = crate::api::responses::NotJson),
        (status = 422, description = "Invalid name or scopes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/clients")]
pub async fn create_organisation_client(
    req: HttpRequest,
    caller: Caller,
    path: Path<OrganisationId>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    access::require_person_or_admin(&caller)?; // before the body is read
    let (name, scopes) = process::new_client(&json_body::<NewClient>(&req, &body)?)?;
    let creds = organisations::change(&auth.db, ctx(&req, &caller), move |conn, ctx| {
        process::create_client(conn, ctx, *path, name, &scopes)
    })
    .await?;
    Ok(no_store(HttpResponse::Created(), &views::credentials(creds)))
}

/// List the organisation's clients
///
/// Its API clients with their scopes and whether they are disabled; secrets are never shown
/// again after their creation or rotation.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The clients", body = Vec<OrganisationClient>),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnOwner),
        (status = 404, response = crate::api::responses::NoSuchOrganisation),
        (status = 409, response = crate::api::responses::NotVerified),
    )
)]
#[get("/organisations/{organisation}/clients")]
pub async fn list_organisation_clients(
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<OrganisationId>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let rows = organisations::read(&auth.db, &caller, move |conn, c| process::clients(conn, c, *path)).await?;
    let out: Vec<OrganisationClient> = rows.into_iter().map(views::client).collect();
    Ok(no_store(HttpResponse::Ok(), &out))
}

/// Rotate a client's secret
///
/// Issues a new secret (shown once); the old one stops working at once. Access tokens already
/// issued stay valid until they expire (at most `GUICHET_ACCESS_TOKEN_TTL`).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id"), ("client" = String, Path, max_length = 64, description = "client_id")),
    responses(
        (status = 200, description = "The new credentials", body = ClientCredentials),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnOwner),
        (status = 404, description = "No such organisation or client", body = Problem, content_type = "application/problem+json"),
        (status = 409, response = crate::api::responses::NotVerified),
    )
)]
#[post("/organisations/{organisation}/clients/{client}/secret")]
pub async fn rotate_organisation_client_secret(
    req: HttpRequest,
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<(OrganisationId, String)>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let (org, client) = path.into_inner();
    let creds = organisations::change(&auth.db, ctx(&req, &caller), move |conn, ctx| {
        process::rotate_secret(conn, ctx, org, &client)
    })
    .await?;
    Ok(no_store(HttpResponse::Ok(), &views::credentials(creds)))
}

/// Disable a client
///
/// Its tokens stop working on every instance within 2 s.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = uuid::Uuid, Path, description = "Organisation id"), ("client" = String, Path, max_length = 64, description = "client_id")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 400, response = crate::api::responses::UnknownParameter),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnOwner),
        (status = 404, description = "No such organisation or client", body = Problem, content_type = "application/problem+json"),
        (status = 409, response = crate::api::responses::NotVerified),
    )
)]
#[post("/organisations/{organisation}/clients/{client}/disable")]
pub async fn disable_organisation_client(
    req: HttpRequest,
    caller: Caller,
    _q: crate::http::extract::StrictQuery<crate::api::health::NoParams>,
    path: Path<(OrganisationId, String)>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    let (org, client) = path.into_inner();
    organisations::change(&auth.db, ctx(&req, &caller), move |conn, ctx| {
        process::disable_client(conn, ctx, org, &client)
    })
    .await?;
    auth.apply_own_change().await;
    Ok(HttpResponse::NoContent().finish())
}
