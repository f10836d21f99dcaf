//! `/v1/me`: who the token belongs to.
use actix_web::web::Data;
use actix_web::{get, patch, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::{authorize, Action, CallerKind, StaffRole};
use crate::auth::{AuthService, Caller, Scope};
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;

#[derive(Serialize, ToSchema)]
pub struct Me {
    pub kind: CallerKind,
    /// Account id, or client id for a partner system.
    pub subject: String,
    pub scopes: Vec<Scope>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<StaffRole>,
    pub department: Option<Uuid>,
    pub organisation: Option<Uuid>,
    /// Name of the partner system.
    pub client_name: Option<String>,
}

/// Who am I
///
/// The caller behind the access token: kind, scopes and profile.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = [])),
    responses(
        (status = 200, description = "The caller", body = Me, headers(("ETag" = String, description = "The profile's revision, for `If-Match` on `PATCH /v1/me` (accounts)"))),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json", headers(("WWW-Authenticate" = String))),
    )
)]
#[get("/me")]
pub async fn get_me(
    caller: Caller,
    _q: StrictQuery<super::health::NoParams>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ReadOwnProfile)?;
    me_response(&caller, &auth).await
}

async fn me_response(caller: &Caller, auth: &AuthService) -> Result<HttpResponse, ApiError> {
    let c = caller.clone();
    let me = auth
        .db
        .run(move |conn| {
            let mut revision = None;
            let mut me = Me {
                kind: c.kind,
                subject: c.subject.clone(),
                scopes: c.scopes.clone(),
                email: None,
                display_name: None,
                role: c.role,
                department: c.department,
                organisation: c.organisation,
                client_name: None,
            };
            match c.kind {
                CallerKind::Client => {
                    let row = crate::db::auth::client_by_client_id(conn, &c.subject)?;
                    me.client_name = row.map(|r| r.name);
                }
                _ => {
                    let id = Uuid::parse_str(&c.subject).map_err(|_| ApiError::not_found("No such account."))?;
                    let row = crate::db::auth::account_by_id(conn, id)?
                        .ok_or_else(|| ApiError::not_found("No such account."))?;
                    me.email = row.email;
                    me.display_name = row.display_name;
                    revision = Some(row.revision);
                }
            }
            Ok((me, revision))
        })
        .await?;
    let body = actix_web::web::Bytes::from(serde_json::to_vec(&me.0).map_err(ApiError::internal)?);
    let mut rendered = crate::catalogue::snapshot::Rendered::from_bytes(body, "de");
    if let Some(rev) = me.1 {
        rendered = rendered.with_revision(rev);
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("ETag", rendered.etag.clone()))
        .content_type("application/json")
        .body(rendered.body))
}

/// Fields of a profile change; absent fields stay as they are (`display_name: null` clears it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 200)]
    pub display_name: Option<Option<String>>,
    pub password: Option<PasswordChange>,
}

/// A password change needs the current password; it ends every session of the account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current: String,
    #[schema(min_length = 10, max_length = 1024)]
    pub new: String,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Change my profile
///
/// The display name, and the password (with the current one; every session of the account
/// ends). `If-Match` must hold the ETag of `GET /v1/me`. Partner clients have no profile here.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = [])),
    params(("If-Match" = String, Header, description = "ETag of GET /v1/me")),
    request_body(content = MePatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "The changed profile", body = Me, headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A partner client", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Changed since read", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or a wrong current password", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/me")]
pub async fn update_me(
    req: actix_web::HttpRequest,
    caller: Caller,
    body: actix_web::web::Bytes,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    if caller.kind == CallerKind::Client {
        return Err(ApiError::new(
            crate::error::ProblemKind::Forbidden,
            "Partner clients have no profile to change.",
        ));
    }
    let patch: MePatch = crate::http::extract::json_body(&req, &body)?;
    let mut errors = Vec::new();
    let display_name = patch
        .display_name
        .map(|d| d.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
    if display_name
        .as_ref()
        .is_some_and(|d| d.as_ref().is_some_and(|s| s.chars().count() > 200))
    {
        errors.push(crate::domain::FieldError::new(
            "/display_name",
            "too_long",
            "at most 200 characters",
        ));
    }
    if let Some(p) = &patch.password {
        crate::domain::account::check_password(&p.new, None, "/password/new", &mut errors);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let expected = crate::http::conditional::required_revision(&req)?;
    let id = Uuid::parse_str(&caller.subject).map_err(|_| ApiError::not_found("No such account."))?;
    let ip = crate::http::middleware::client_ip(&req);
    let request_id = actix_web::HttpMessage::extensions(&req)
        .get::<crate::http::middleware::RequestId>()
        .map(|r| r.0.clone());
    let access_ttl = auth.access_ttl;
    auth.db
        .run(move |conn| {
            // The slow hash runs outside the write transaction.
            let new_hash = match &patch.password {
                Some(p) => {
                    let row = crate::db::auth::account_by_id(conn, id)?.ok_or_else(|| ApiError::not_found("No such account."))?;
                    if !crate::auth::secrets::verify_password(row.password_hash.as_deref(), &p.current) {
                        return Err(ApiError::validation(vec![crate::domain::FieldError::new("/password/current", "wrong", "the current password is wrong")]));
                    }
                    Some(crate::auth::secrets::hash_password(&p.new).map_err(ApiError::internal)?)
                }
                None => None,
            };
            crate::db::write_tx(conn, |c| {
                let row = crate::db::auth::account_by_id(c, id)?.ok_or_else(|| ApiError::not_found("No such account."))?;
                crate::http::conditional::check_revision(expected, row.revision)?;
                crate::db::auth::update_profile(c, id, row.revision + 1, display_name.clone(), new_hash.clone())?;
                if new_hash.is_some() {
                    crate::api::oauth::end_all_sessions(c, id, access_ttl)?;
                }
                let entry = crate::db::audit::AuditEntry::new("account.update", "resident", Some(id.to_string()))
                    .target("account", id.to_string())
                    .from(ip, request_id)
                    .details(serde_json::json!({"password_changed": new_hash.is_some(), "display_name_changed": display_name.is_some()}));
                crate::db::audit::record(c, &entry)?;
                Ok(())
            })
        })
        .await?;
    me_response(&caller, &auth).await
}
