//! `/v1/me`: who the token belongs to.
use actix_web::web::Data;
use actix_web::{get, HttpResponse};
use serde::Serialize;
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
        (status = 200, description = "The caller", body = Me),
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
    let c = caller.clone();
    let me = auth
        .db
        .run(move |conn| {
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
                }
            }
            Ok(me)
        })
        .await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(me))
}
