//! Reading the audit log (`GET /v1/audit-events`, administrators only): the filter checked,
//! one page newest first, each entry as answered.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::db::audit::{self, AuditFilter, AuditRow};
use crate::db::Db;
use crate::error::ApiError;
use crate::http::pagination;
use crate::msg;

#[derive(Serialize, ToSchema)]
pub struct AuditEvent {
    pub id: Uuid,
    /// Position in the log (strictly increasing).
    #[schema(minimum = 1, maximum = 9007199254740991_i64)]
    pub seq: i64,
    pub occurred_at: DateTime<Utc>,
    #[schema(example = "client", max_length = 32)]
    pub actor_kind: String,
    #[schema(max_length = 255)]
    pub actor_id: Option<String>,
    #[schema(example = "token.issue", max_length = 64)]
    pub action: String,
    #[schema(max_length = 64)]
    pub target_type: Option<String>,
    #[schema(max_length = 255)]
    pub target_id: Option<String>,
    #[schema(value_type = AuditOutcome)]
    pub outcome: String,
    #[schema(max_length = 45)]
    pub ip: Option<String>,
    #[schema(max_length = 128)]
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

impl From<AuditRow> for AuditEvent {
    fn from(r: AuditRow) -> AuditEvent {
        AuditEvent {
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
        }
    }
}

/// One page of entries matching the parameters, newest first, and the cursor of the next.
pub async fn page(db: &Db, p: AuditParams) -> Result<(Vec<AuditEvent>, Option<String>), ApiError> {
    let limit = pagination::limit(p.limit.as_deref())?;
    for (name, value, max) in [
        ("action", &p.action, 64),
        ("actor_id", &p.actor_id, 200),
        ("target_id", &p.target_id, 200),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > max) {
            return Err(ApiError::invalid_parameter(
                name,
                msg!("at most {max} characters", max = max),
            ));
        }
    }
    if p.outcome.as_deref().is_some_and(|o| o != "success" && o != "failure") {
        return Err(ApiError::invalid_parameter(
            "outcome",
            msg!("must be success or failure"),
        ));
    }
    let before: Option<i64> = pagination::decode("audit", p.cursor.as_deref())?;
    let filter = AuditFilter {
        action: p.action,
        actor_id: p.actor_id,
        target_id: p.target_id,
        outcome: p.outcome,
    };
    let rows = db
        .run(move |conn| Ok(audit::list(conn, &filter, before, limit as i64 + 1)?))
        .await?;
    let more = rows.len() > limit;
    let items: Vec<AuditEvent> = rows.into_iter().take(limit).map(AuditEvent::from).collect();
    let next = more
        .then(|| items.last().map(|e| pagination::encode("audit", &e.seq)))
        .flatten();
    Ok((items, next))
}
