//! `/v1/audit-events`: the append-only audit log, for administrators.
use actix_web::web::{Bytes, Data};
use actix_web::{get, HttpRequest, HttpResponse};

use super::json_page;
use crate::audit_log::{self as log, AuditEvent, AuditParams};
use crate::auth::policy::{authorize, Action};
use crate::auth::{AuthService, Caller};
use crate::catalogue::Render;
use crate::domain::lang::Lang;
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;
use crate::http::page::Page;
use crate::http::public_url::PublicUrl;

/// List audit events
///
/// Sign-ins (successful and failed), token issue and revocation, key rotation, client and
/// member changes and catalogue changes, newest first. Nothing can change or delete an entry.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of audit events", body = Page<AuditEvent>),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, response = crate::api::responses::Unauthorized),
        (status = 403, response = crate::api::responses::NotAnAdministrator),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<AuditParams>,
    auth: Data<AuthService>,
    base: PublicUrl,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ReadAuditLog)?;
    let (items, next) = log::page(&auth.db, p).await?;
    let bodies: Vec<Bytes> = items
        .iter()
        .map(|e| Bytes::from(serde_json::to_vec(e).unwrap_or_default()))
        .collect();
    let mut res = json_page(&req, base.as_str(), bodies.iter(), next, Render::One(Lang::De));
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
