//! What happens to webhook endpoints: each change in one write transaction with its audit
//! entry. A URL is checked against the SSRF rules (`net::check`) before the transaction.
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{self, unknown};
use super::net::{self, Sender};
use crate::audit::Actor;
use crate::auth::secrets::random_bytes;
use crate::auth::Caller;
use crate::catalogue::snapshot::Snapshot;
use crate::db::types::{SqlJson, SqlTime, SqlUuid};
use crate::db::webhooks::{self as q, AttemptRow, DeliveryRow, EndpointRow, Managed};
use crate::db::{Db, DbConnection};
use crate::domain::ids::OrganisationId;
use crate::domain::lang::Lang;
use crate::domain::webhook::{
    self as rules, DeliveryState, EndpointUrl, DESCRIPTION_MAX, ENDPOINTS_MAX, ROTATION_OVERLAP,
};
use crate::domain::FieldError;
use crate::error::{ApiError, ProblemKind};
use crate::http::conditional::check_revision;
use crate::msg;

/// An event type an endpoint may subscribe to.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum EventType {
    #[serde(rename = "application.created")]
    ApplicationCreated,
    #[serde(rename = "application.submitted")]
    ApplicationSubmitted,
    #[serde(rename = "application.status_changed")]
    ApplicationStatusChanged,
    #[serde(rename = "application.withdrawn")]
    ApplicationWithdrawn,
    #[serde(rename = "application.assigned")]
    ApplicationAssigned,
    #[serde(rename = "application.document_added")]
    ApplicationDocumentAdded,
    #[serde(rename = "application.document_removed")]
    ApplicationDocumentRemoved,
    #[serde(rename = "application.message_posted")]
    ApplicationMessagePosted,
    #[serde(rename = "application.invoice_issued")]
    ApplicationInvoiceIssued,
    #[serde(rename = "application.invoice_adjusted")]
    ApplicationInvoiceAdjusted,
    #[serde(rename = "application.payment_received")]
    ApplicationPaymentReceived,
    #[serde(rename = "webhook_endpoint.disabled")]
    WebhookEndpointDisabled,
}

/// A new webhook endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where events are posted: `https` (plain `http` only to networks the operator allows).
    #[schema(max_length = 2048, example = "https://partner.example/guichet/events")]
    pub url: String,
    /// The event types to deliver; empty or absent: every type.
    #[serde(default)]
    #[schema(max_items = 16, value_type = Option<Vec<EventType>>)]
    pub event_types: Vec<String>,
    /// Whether to deliver (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// The language of the labels in delivered applications (default `de`).
    #[serde(default)]
    pub language: Option<Lang>,
    /// The organisation it belongs to: required for a resident (one of the organisations they
    /// own); an organisation's client and a department's people and systems leave it out.
    #[serde(default)]
    pub organisation: Option<Uuid>,
    /// The department it belongs to (slug): administrators may name one; a department's
    /// clerks and systems get their own.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub department: Option<String>,
}

/// A change of an endpoint (JSON merge patch: the fields given are set).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    #[schema(max_items = 16, value_type = Option<Vec<EventType>>)]
    pub event_types: Option<Vec<String>>,
    /// `true` after guichet disabled it resumes delivery where it stopped.
    pub enabled: Option<bool>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
    pub language: Option<Lang>,
}

/// Who acts, from where, and the catalogue (for department slugs and links).
#[derive(Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub actor: Actor,
    pub snap: Arc<Snapshot>,
}

impl Ctx {
    fn audit(
        &self,
        conn: &mut DbConnection,
        action: &str,
        id: SqlUuid,
        details: serde_json::Value,
    ) -> Result<(), ApiError> {
        Ok(self
            .actor
            .audit(conn, action, "webhook_endpoint", id.0.to_string(), details)?)
    }
}

fn forbidden() -> ApiError {
    ApiError::new(
        ProblemKind::Forbidden,
        msg!("This caller may not manage webhooks of that owner."),
    )
}

fn description(pointer: &str, d: Option<String>) -> Result<Option<String>, FieldError> {
    match d {
        Some(d) if d.chars().count() > DESCRIPTION_MAX => Err(FieldError::new(
            pointer,
            "length",
            msg!("at most {max} characters", max = DESCRIPTION_MAX),
        )),
        d => Ok(d),
    }
}

/// The URL, checked as written and where it points.
async fn checked_url(url: &str, policy: &net::Policy) -> Result<EndpointUrl, ApiError> {
    let u = EndpointUrl::parse("/url", url).map_err(|e| ApiError::validation(vec![e]))?;
    net::check(&u, policy)
        .await
        .map_err(|why| ApiError::validation(vec![FieldError::new("/url", "address", why)]))?;
    Ok(u)
}

/// The owner of a new endpoint: (organisation, department) columns.
fn owner(
    ctx: &Ctx,
    m: Managed,
    organisation: Option<Uuid>,
    department: Option<&str>,
) -> Result<(Option<SqlUuid>, Option<SqlUuid>), ApiError> {
    let dept = match department {
        None => None,
        Some(slug) => Some(SqlUuid(ctx.snap.department(slug).map(|(_, d)| d.id).ok_or_else(
            || {
                ApiError::validation(vec![FieldError::new(
                    "/department",
                    "unknown",
                    msg!("no such department"),
                )])
            },
        )?)),
    };
    if organisation.is_some() && dept.is_some() {
        return Err(ApiError::validation(vec![FieldError::new(
            "/department",
            "exclusive",
            msg!("an endpoint belongs to an organisation or a department, not both"),
        )]));
    }
    let org = organisation.map(SqlUuid);
    match m {
        Managed::All => Ok((org, dept)),
        Managed::OwnedBy(_) => match (org, dept) {
            (Some(o), None) => Ok((Some(o), None)),
            (None, None) => Err(ApiError::validation(vec![FieldError::new(
                "/organisation",
                "required",
                msg!("the organisation (one you own) the endpoint belongs to"),
            )])),
            _ => Err(forbidden()),
        },
        Managed::Organisation(own) => match (org, dept) {
            (None, None) => Ok((Some(own), None)),
            (Some(o), None) if o == own => Ok((Some(own), None)),
            _ => Err(forbidden()),
        },
        Managed::Department(own) => match (org, dept) {
            (None, None) => Ok((None, Some(own))),
            (None, Some(d)) if d == own => Ok((None, Some(own))),
            _ => Err(forbidden()),
        },
    }
}

fn new_secret() -> Result<String, ApiError> {
    Ok(rules::secret_text(&random_bytes::<32>().map_err(ApiError::internal)?))
}

/// Creates an endpoint; answers it with its secret. It delivers the events from now on.
pub async fn create(
    db: &Db,
    policy: &net::Policy,
    ctx: Ctx,
    input: NewEndpoint,
) -> Result<(EndpointRow, String), ApiError> {
    let m = access::manager(&ctx.caller)?;
    let mut errors = Vec::new();
    let types = rules::event_types("/event_types", &input.event_types)
        .map_err(|e| errors.push(e))
        .ok();
    let desc = description("/description", input.description)
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(e) = EndpointUrl::parse("/url", &input.url) {
        errors.push(e);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let (org, dept) = owner(&ctx, m, input.organisation, input.department.as_deref())?;
    let url = checked_url(&input.url, policy).await?;
    let secret = new_secret()?;
    let now = SqlTime::now();
    let row = EndpointRow {
        id: SqlUuid(Uuid::now_v7()),
        organisation_id: org,
        department_id: dept,
        url: url.url.to_string(),
        event_types: SqlJson(serde_json::json!(types.unwrap_or_default())),
        enabled: input.enabled.unwrap_or(true),
        description: desc.flatten().unwrap_or_default(),
        language: input.language.unwrap_or(Lang::De).code().to_string(),
        secret: secret.clone(),
        previous_secret: None,
        previous_secret_expires_at: None,
        position: 0,
        disabled_reason: None,
        revision: 1,
        created_by: format!("{}:{}", ctx.caller.kind.as_str(), ctx.caller.subject),
        created_at: now,
        updated_at: now,
    };
    db.write(move |c| {
        let mut row = row;
        if let (Managed::OwnedBy(_), Some(o)) = (m, row.organisation_id) {
            crate::organisations::access::owned(c, &ctx.caller, OrganisationId(o.0))?;
        } else if let Some(o) = row.organisation_id {
            if crate::db::organisations::by_id(c, o.0)?.is_none() {
                return Err(ApiError::validation(vec![FieldError::new(
                    "/organisation",
                    "unknown",
                    msg!("no such organisation"),
                )]));
            }
        }
        if q::count_owned(c, row.organisation_id, row.department_id)? >= ENDPOINTS_MAX as i64 {
            return Err(ApiError::new(
                ProblemKind::Conflict,
                msg!("An owner has at most {max} webhook endpoints.", max = ENDPOINTS_MAX),
            ));
        }
        // from now on: the events already numbered are not delivered
        row.position = crate::db::events::last_position(c)?;
        q::insert(c, &row)?;
        ctx.audit(
            c,
            "webhook_endpoint.created",
            row.id,
            serde_json::json!({"url": row.url, "event_types": row.event_types.0, "enabled": row.enabled}),
        )?;
        Ok((row, secret))
    })
    .await
}

/// The endpoint, if the caller manages it.
pub async fn get(db: &Db, caller: &Caller, id: Uuid) -> Result<EndpointRow, ApiError> {
    let m = access::manager(caller)?;
    db.run(move |c| q::managed(c, m, SqlUuid(id))?.ok_or_else(unknown))
        .await
}

/// A page of the endpoints the caller manages.
pub async fn list(
    db: &Db,
    caller: &Caller,
    after: Option<Uuid>,
    limit: usize,
) -> Result<(Vec<EndpointRow>, bool), ApiError> {
    let m = access::manager(caller)?;
    let mut rows = db
        .run(move |c| Ok(q::list(c, m, after.map(SqlUuid), limit as i64 + 1)?))
        .await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Changes an endpoint the caller manages, conditioned on its revision.
pub async fn update(
    db: &Db,
    policy: &net::Policy,
    ctx: Ctx,
    id: Uuid,
    expected: i64,
    patch: EndpointPatch,
) -> Result<EndpointRow, ApiError> {
    let m = access::manager(&ctx.caller)?;
    let mut errors = Vec::new();
    let types = match &patch.event_types {
        Some(t) => rules::event_types("/event_types", t).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    let desc = description("/description", patch.description)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    if let Some(u) = &patch.url {
        if let Err(e) = EndpointUrl::parse("/url", u) {
            errors.push(e);
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let url = match &patch.url {
        Some(u) => Some(checked_url(u, policy).await?.url.to_string()),
        None => None,
    };
    db.write(move |c| {
        let mut row = q::managed_for_update(c, m, SqlUuid(id))?.ok_or_else(unknown)?;
        check_revision(expected, row.revision)?;
        let resumed = patch.enabled == Some(true) && !row.enabled;
        if let Some(u) = url {
            row.url = u;
        }
        if let Some(t) = types {
            row.event_types = SqlJson(serde_json::json!(t));
        }
        if let Some(e) = patch.enabled {
            row.enabled = e;
            if e {
                row.disabled_reason = None;
            }
        }
        if let Some(d) = desc {
            row.description = d;
        }
        if let Some(l) = patch.language {
            row.language = l.code().to_string();
        }
        row.revision += 1;
        row.updated_at = SqlTime::now();
        q::update(c, &row)?;
        if resumed {
            q::resume(c, row.id)?;
        }
        ctx.audit(
            c,
            "webhook_endpoint.updated",
            row.id,
            serde_json::json!({"url": row.url, "event_types": row.event_types.0, "enabled": row.enabled}),
        )?;
        Ok(row)
    })
    .await
}

/// Deletes an endpoint with its delivery log; `expected`: the revision `If-Match` named.
pub async fn delete(db: &Db, ctx: Ctx, id: Uuid, expected: Option<i64>) -> Result<(), ApiError> {
    let m = access::manager(&ctx.caller)?;
    // first out of the dispatchers' way (they claim only for enabled endpoints), then gone
    // with its deliveries; a deletion that meets a claim of the moment in a lock cycle (seen
    // on PostgreSQL under load) is tried again, up to three times
    db.write(move |c| {
        let row = q::managed_for_update(c, m, SqlUuid(id))?.ok_or_else(unknown)?;
        if let Some(rev) = expected {
            check_revision(rev, row.revision)?;
        }
        Ok(q::pause(c, row.id)?)
    })
    .await?;
    for tries in 1.. {
        let ctx = ctx.clone();
        let done = db
            .write(move |c| {
                let Some(row) = q::managed_for_update(c, m, SqlUuid(id))? else {
                    return Ok(()); // a try whose answer was lost went through
                };
                q::delete(c, row.id)?;
                ctx.audit(
                    c,
                    "webhook_endpoint.deleted",
                    row.id,
                    serde_json::json!({"url": row.url}),
                )
            })
            .await;
        match done {
            Err(e) if tries < 3 && e.kind == ProblemKind::Unavailable => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
    Ok(())
}

/// A new secret; the old one signs beside it for 24 hours (a second rotation within them ends
/// the first secret at once: two sign at most).
pub async fn rotate(db: &Db, ctx: Ctx, id: Uuid) -> Result<(EndpointRow, String), ApiError> {
    let m = access::manager(&ctx.caller)?;
    let secret = new_secret()?;
    db.write(move |c| {
        let mut row = q::managed_for_update(c, m, SqlUuid(id))?.ok_or_else(unknown)?;
        let now = SqlTime::now();
        row.previous_secret = Some(std::mem::replace(&mut row.secret, secret.clone()));
        row.previous_secret_expires_at = Some(SqlTime(now.0 + ROTATION_OVERLAP));
        row.revision += 1;
        row.updated_at = now;
        q::update(c, &row)?;
        ctx.audit(c, "webhook_endpoint.secret_rotated", row.id, serde_json::json!({}))?;
        Ok((row, secret))
    })
    .await
}

/// The signatures of a delivery: with the secret, and with the previous one while it still
/// signs (space-separated, as Standard Webhooks lists them).
pub fn signatures(row: &EndpointRow, id: &str, timestamp: i64, body: &[u8]) -> String {
    let now = chrono::Utc::now();
    let mut out: Vec<String> = rules::signature(&row.secret, id, timestamp, body).into_iter().collect();
    if let (Some(prev), Some(until)) = (&row.previous_secret, row.previous_secret_expires_at) {
        if until.0 > now {
            out.extend(rules::signature(prev, id, timestamp, body));
        }
    }
    out.join(" ")
}

/// Queues a delivery of the endpoint again, due now.
pub async fn retry(db: &Db, ctx: Ctx, id: Uuid, delivery: Uuid) -> Result<DeliveryRow, ApiError> {
    let m = access::manager(&ctx.caller)?;
    db.write(move |c| {
        let row = q::managed_for_update(c, m, SqlUuid(id))?.ok_or_else(unknown)?;
        let d = q::delivery(c, row.id, SqlUuid(delivery))?
            .ok_or_else(|| ApiError::not_found(msg!("No such delivery of this endpoint.")))?;
        if d.position.is_none() {
            return Err(ApiError::new(
                ProblemKind::Conflict,
                msg!("A ping is not sent again: send a new one (POST .../test)."),
            ));
        }
        if d.state() == DeliveryState::Pending && d.lease_until.is_some_and(|l| l.0 > chrono::Utc::now()) {
            return Err(ApiError::new(
                ProblemKind::Conflict,
                msg!("This delivery is being sent right now; look at its attempts in a few seconds."),
            ));
        }
        q::requeue(c, d.id)?;
        ctx.audit(
            c,
            "webhook_delivery.retried",
            row.id,
            serde_json::json!({"delivery": d.id.0, "event_id": d.event_id.0}),
        )?;
        Ok(DeliveryRow {
            state: DeliveryState::Pending.as_str().to_string(),
            ..d
        })
    })
    .await
}

/// Sends a `ping` to the endpoint now and answers the attempt (recorded in its log).
pub async fn ping(db: &Db, sender: &Sender, ctx: Ctx, id: Uuid) -> Result<(AttemptRow, DeliveryRow), ApiError> {
    let endpoint = get(db, &ctx.caller, id).await?;
    let now = SqlTime::now();
    let event_id = Uuid::now_v7();
    let body = serde_json::to_vec(&serde_json::json!({
        "type": crate::domain::event::PING,
        "timestamp": now.0.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {"endpoint": {"id": endpoint.id.0, "href": super::views::endpoint_url(&ctx.snap, endpoint.id.0)}},
    }))
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let ts = now.0.timestamp();
    let sigs = signatures(&endpoint, &event_id.to_string(), ts, &body);
    let answer = sender
        .send(&endpoint.url, &event_id.to_string(), ts, &sigs, body.into())
        .await;
    let state = if answer.delivered() {
        DeliveryState::Delivered
    } else {
        DeliveryState::Failed
    };
    let delivery = DeliveryRow {
        id: SqlUuid(Uuid::now_v7()),
        endpoint_id: endpoint.id,
        event_id: SqlUuid(event_id),
        event_type: crate::domain::event::PING.to_string(),
        occurred_at: now,
        position: None,
        subject_type: "webhook_endpoint".into(),
        subject_id: endpoint.id.0.to_string(),
        state: state.as_str().into(),
        attempts: 1,
        next_attempt_at: now,
        lease_until: None,
        created_at: now,
        finished_at: Some(SqlTime::now()),
    };
    let attempt = super::dispatch::attempt_row(&delivery, &answer, now);
    let (d, a) = (delivery.clone(), attempt.clone());
    let m = access::manager(&ctx.caller)?;
    db.write(move |c| {
        // deleted while the ping was under way: nothing to record
        q::managed_for_update(c, m, d.endpoint_id)?.ok_or_else(unknown)?;
        q::insert_delivery(c, &d)?;
        q::record_attempts(c, std::slice::from_ref(&a))?;
        ctx.audit(
            c,
            "webhook_endpoint.pinged",
            d.endpoint_id,
            serde_json::json!({"outcome": a.outcome}),
        )
    })
    .await?;
    Ok((attempt, delivery))
}

/// A page of the endpoint's attempts, newest first.
pub async fn attempts(
    db: &Db,
    caller: &Caller,
    id: Uuid,
    before: Option<Uuid>,
    limit: usize,
) -> Result<(Vec<(AttemptRow, DeliveryRow)>, bool), ApiError> {
    let m = access::manager(caller)?;
    db.run(move |c| {
        let row = q::managed(c, m, SqlUuid(id))?.ok_or_else(unknown)?;
        let mut rows = q::attempts(c, row.id, before.map(SqlUuid), limit as i64 + 1)?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        Ok((rows, more))
    })
    .await
}
