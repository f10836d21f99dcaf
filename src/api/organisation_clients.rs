//! `/v1/organisations/{organisation}/clients`: the API clients an organisation's owners
//! create for its own systems (partner software acting for the organisation).
use actix_web::http::header;
use actix_web::web::{Bytes, Data, Path};
use actix_web::{get, post, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::organisations::{audit_entry, origin, owned, require_person_or_admin};
use crate::auth::policy::Scope;
use crate::auth::secrets::{random_token, sha256_hex};
use crate::auth::{state, AuthService, Caller};
use crate::db::audit;
use crate::db::auth::{self as aq, ClientRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::FieldError;
use crate::error::{ApiError, Problem};
use crate::http::extract::json_body;

#[derive(Serialize, ToSchema)]
pub struct OrganisationClient {
    pub client_id: String,
    pub name: String,
    pub scopes: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// A client's credentials: the secret is shown this once and stored only as a hash.
#[derive(Serialize, ToSchema)]
pub struct ClientCredentials {
    pub client_id: String,
    pub client_secret: String,
    pub name: String,
    pub scopes: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClient {
    /// 1 to 200 characters besides leading and trailing spaces.
    #[schema(example = "Muster Treuhand booking system", max_length = 200, pattern = r"\S")]
    pub name: String,
    /// Space-separated; at most `applications:read applications:write`.
    #[schema(
        example = "applications:read applications:write",
        pattern = "^ *applications:(read|write)( +applications:(read|write))* *$"
    )]
    pub scopes: String,
}

const CLIENT_SCOPES: [Scope; 2] = [Scope::ApplicationsRead, Scope::ApplicationsWrite];

/// Create a client of the organisation
///
/// Owners create API clients for their organisation's systems; the secret is shown once.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id")),
    request_body = NewClient,
    responses(
        (status = 201, description = "Created; the secret is shown only now", body = ClientCredentials),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not one of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not verified yet", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid name or scopes", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/clients")]
pub async fn create_organisation_client(
    req: HttpRequest,
    caller: Caller,
    path: Path<String>,
    body: Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let input: NewClient = json_body(&req, &body)?;
    let mut errors = Vec::new();
    let name = input.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("/name", "length", "1 to 200 characters"));
    }
    let scopes = match Scope::parse_list(&input.scopes) {
        Ok(s) if !s.is_empty() && s.iter().all(|x| CLIENT_SCOPES.contains(x)) => s,
        _ => {
            errors.push(FieldError::new(
                "/scopes",
                "enum",
                "applications:read and/or applications:write",
            ));
            vec![]
        }
    };
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let from = origin(&req);
    let c = caller.clone();
    let creds = auth
        .db
        .write(move |conn| {
            let org = owned(conn, &c, &path)?;
            let secret = random_token("gcs_").map_err(ApiError::internal)?;
            let now = SqlTime::now();
            let row = ClientRow {
                id: SqlUuid(Uuid::now_v7()),
                client_id: format!("gc_{}", Uuid::now_v7().simple()),
                name: name.clone(),
                secret_hash: sha256_hex(&secret),
                scopes: Scope::join(&scopes),
                organisation_id: Some(org.id),
                disabled_at: None,
                created_at: now,
                updated_at: now,
            };
            aq::insert_client(conn, &row)?;
            audit::record(
                conn,
                &audit_entry(&c, "client.create", org.id, &from).details(json!({"client_id": row.client_id})),
            )?;
            Ok(ClientCredentials {
                client_id: row.client_id,
                client_secret: secret,
                name,
                scopes: row.scopes,
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(creds))
}

fn org_client(conn: &mut DbConnection, org: SqlUuid, client_id: &str) -> Result<ClientRow, ApiError> {
    aq::client_by_client_id(conn, client_id)?
        .filter(|c| c.organisation_id == Some(org))
        .ok_or_else(|| ApiError::not_found("No such client."))
}

/// List the organisation's clients
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id")),
    responses(
        (status = 200, description = "The clients", body = Vec<OrganisationClient>),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation, or not one of the caller's", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not verified yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{organisation}/clients")]
pub async fn list_organisation_clients(
    caller: Caller,
    path: Path<String>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let c = caller.clone();
    let rows: Vec<ClientRow> = auth
        .db
        .run(move |conn| {
            let org = owned(conn, &c, &path)?;
            Ok(aq::clients_of_organisation(conn, org.id)?)
        })
        .await?;
    let out: Vec<OrganisationClient> = rows
        .into_iter()
        .map(|r| OrganisationClient {
            client_id: r.client_id,
            name: r.name,
            scopes: r.scopes,
            disabled: r.disabled_at.is_some(),
            created_at: r.created_at.0,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// Rotate a client's secret
///
/// Issues a new secret (shown once); the old one stops working at once. Access tokens already
/// issued stay valid until they expire (at most `GUICHET_ACCESS_TOKEN_TTL`).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id"), ("client" = String, Path, description = "client_id")),
    responses(
        (status = 200, description = "The new credentials", body = ClientCredentials),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation or client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not verified yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/clients/{client}/secret")]
pub async fn rotate_organisation_client_secret(
    req: HttpRequest,
    caller: Caller,
    path: Path<(String, String)>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let (org_id, client_id) = path.into_inner();
    let from = origin(&req);
    let c = caller.clone();
    let creds = auth
        .db
        .write(move |conn| {
            let org = owned(conn, &c, &org_id)?;
            let client = org_client(conn, org.id, &client_id)?;
            let secret = random_token("gcs_").map_err(ApiError::internal)?;
            aq::set_client_secret_hash(conn, client.id, &sha256_hex(&secret))?;
            audit::record(
                conn,
                &audit_entry(&c, "client.rotate_secret", org.id, &from).details(json!({"client_id": client.client_id})),
            )?;
            Ok(ClientCredentials {
                client_id: client.client_id,
                client_secret: secret,
                name: client.name,
                scopes: client.scopes,
            })
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(creds))
}

/// Disable a client
///
/// Its tokens stop working on every instance within 2 s.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("organisation" = String, Path, description = "Organisation id"), ("client" = String, Path, description = "client_id")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an owner", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such organisation or client", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not verified yet", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations/{organisation}/clients/{client}/disable")]
pub async fn disable_organisation_client(
    req: HttpRequest,
    caller: Caller,
    path: Path<(String, String)>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    require_person_or_admin(&caller)?;
    let (org_id, client_id) = path.into_inner();
    let from = origin(&req);
    let c = caller.clone();
    auth.db
        .write(move |conn| {
            let org = owned(conn, &c, &org_id)?;
            let client = org_client(conn, org.id, &client_id)?;
            aq::set_client_disabled(conn, &client.client_id, true)?;
            state::bump(conn)?;
            audit::record(
                conn,
                &audit_entry(&c, "client.disable", org.id, &from).details(json!({"client_id": client.client_id})),
            )?;
            Ok(())
        })
        .await?;
    auth.apply_own_change().await;
    Ok(HttpResponse::NoContent().finish())
}
