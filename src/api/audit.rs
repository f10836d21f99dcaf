//! `/v1/audit-events`: the append-only audit log, for administrators.
use actix_web::web::{Bytes, Data};
use actix_web::{get, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{invalid, json_page};
use crate::auth::policy::{authorize, Action};
use crate::auth::{AuthService, Caller};
use crate::catalogue::Render;
use crate::db::audit::{self, AuditFilter};
use crate::domain::lang::Lang;
use crate::error::{ApiError, Problem};
use crate::http::extract::StrictQuery;
use crate::http::pagination;

#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    /// Position in the log (strictly increasing).
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(example = "client")]
    pub actor_kind: String,
    pub actor_id: Option<String>,
    #[schema(example = "token.issue")]
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    #[schema(value_type = AuditOutcome)]
    pub outcome: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// Whether the audited action succeeded.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    Success,
    Failure,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AuditEventPage {
    data: Vec<AuditEvent>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    #[param(max_length = 1024)]
    cursor: Option<String>,
    /// e.g. `signin`, `token.issue`, `token.revoke`, `client.create`, `catalogue.import`
    #[param(max_length = 64)]
    action: Option<String>,
    #[param(max_length = 200)]
    actor_id: Option<String>,
    #[param(max_length = 200)]
    target_id: Option<String>,
    #[param(value_type = Option<AuditOutcome>)]
    outcome: Option<String>,
}

/// List audit events
///
/// Sign-ins (successful and failed), token issue and revocation, key rotation, client and
/// member changes and catalogue changes, newest first. Nothing can change or delete an entry.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = []), ("oauth2" = ["admin"])),
    params(AuditParams),
    responses(
        (status = 200, description = "A page of audit events", body = AuditEventPage),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No or bad token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    req: HttpRequest,
    caller: Caller,
    StrictQuery(p): StrictQuery<AuditParams>,
    auth: Data<AuthService>,
) -> Result<HttpResponse, ApiError> {
    authorize(&caller, Action::ReadAuditLog)?;
    let limit = pagination::limit(p.limit.as_deref())?;
    for (name, value, max) in [
        ("action", &p.action, 64),
        ("actor_id", &p.actor_id, 200),
        ("target_id", &p.target_id, 200),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(invalid(name, &format!("at most {max} characters")));
        }
    }
    if let Some(o) = &p.outcome {
        if o != "success" && o != "failure" {
            return Err(invalid("outcome", "must be success or failure"));
        }
    }
    let before: Option<i64> = pagination::decode("audit", p.cursor.as_deref())?;
    let filter = AuditFilter {
        action: p.action,
        actor_id: p.actor_id,
        target_id: p.target_id,
        outcome: p.outcome,
    };
    let rows = auth
        .db
        .run(move |conn| Ok(audit::list(conn, &filter, before, limit as i64 + 1)?))
        .await?;
    let more = rows.len() > limit;
    let items: Vec<AuditEvent> = rows
        .into_iter()
        .take(limit)
        .map(|r| AuditEvent {
            id: r.id.0,
            seq: r.seq,
            occurred_at: r.occurred_at.0,
            actor_kind: r.actor_kind,
            actor_id: r.actor_id,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            outcome: r.outcome,
            ip: r.ip,
            request_id: r.request_id,
            details: r.details.0,
        })
        .collect();
    let next = if more {
        items.last().map(|e| pagination::encode("audit", &e.seq))
    } else {
        None
    };
    let bodies: Vec<Bytes> = items
        .iter()
        .map(|e| Bytes::from(serde_json::to_vec(e).unwrap_or_default()))
        .collect();
    let mut res = json_page(&req, &auth.issuer, bodies.iter(), next, Render::One(Lang::De));
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}
