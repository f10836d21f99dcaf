//! How webhook endpoints, their deliveries and attempts look to the people and systems that
//! manage them. The secret is shown once, when it is made.
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::catalogue::snapshot::Snapshot;
use crate::db::webhooks::{AttemptRow, DeliveryRow, EndpointRow};
use crate::domain::webhook::Owner;

/// Who an endpoint belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointOwner {
    /// `organisation`, `department` or `administrators`.
    #[serde(rename = "type")]
    #[schema(example = "organisation", max_length = 32)]
    pub type_: &'static str,
    /// The organisation's id or the department's slug; absent for the administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 64)]
    pub id: Option<String>,
}

/// A webhook endpoint: where guichet delivers the events its owner may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpoint {
    pub id: Uuid,
    #[schema(max_length = 2048)]
    pub url: String,
    /// The event types delivered; empty: every type.
    #[schema(max_items = 16, value_type = Vec<crate::webhooks::process::EventType>)]
    pub event_types: Vec<String>,
    /// Whether events are delivered. guichet disables an endpoint whose deliveries failed for
    /// 3 days (`disabled_reason` says why); enabling it again resumes where it stopped.
    pub enabled: bool,
    #[schema(max_length = 500)]
    pub description: String,
    /// The language of the labels in the delivered applications.
    #[schema(value_type = crate::domain::lang::Lang)]
    pub language: &'static str,
    pub owner: EndpointOwner,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub disabled_reason: Option<String>,
    /// After a rotation: until when the previous secret still signs (beside the new one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Its delivery log.
    #[schema(max_length = 2048)]
    pub deliveries: String,
}

/// A new endpoint, or one whose secret was rotated: with its signing secret, shown only now.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// The signing secret (Standard Webhooks: `whsec_` and base64); shown only in this answer.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", max_length = 100)]
    pub secret: String,
}

pub fn endpoint_url(snap: &Snapshot, id: Uuid) -> String {
    format!("{}/v1/webhook-endpoints/{id}", snap.public_url())
}

pub fn endpoint(snap: &Snapshot, row: &EndpointRow) -> WebhookEndpoint {
    let owner = match row.owner() {
        Owner::Organisation(o) => EndpointOwner {
            type_: "organisation",
            id: Some(o.to_string()),
        },
        Owner::Department(d) => EndpointOwner {
            type_: "department",
            id: Some(
                snap.department(&d.to_string())
                    .map_or_else(|| d.to_string(), |(_, dep)| dep.slug.clone()),
            ),
        },
        Owner::Administrators => EndpointOwner {
            type_: "administrators",
            id: None,
        },
    };
    let now = Utc::now();
    WebhookEndpoint {
        id: row.id.0,
        url: row.url.clone(),
        event_types: row.types(),
        enabled: row.enabled,
        description: row.description.clone(),
        language: crate::domain::lang::Lang::parse(&row.language)
            .unwrap_or(crate::domain::lang::Lang::De)
            .code(),
        owner,
        disabled_reason: row.disabled_reason.clone(),
        previous_secret_expires_at: row
            .previous_secret_expires_at
            .map(|t| t.0)
            .filter(|t| *t > now && row.previous_secret.is_some()),
        created_at: row.created_at.0,
        updated_at: row.updated_at.0,
        deliveries: format!("{}/deliveries", endpoint_url(snap, row.id.0)),
    }
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub id: Uuid,
    /// The delivery (one event for this endpoint); `POST .../deliveries/{delivery}/retry`
    /// sends it again.
    pub delivery: Uuid,
    /// The event's id, sent as `webhook-id` (the same on every attempt).
    pub event_id: Uuid,
    #[schema(example = "application.submitted", max_length = 64)]
    pub event_type: String,
    pub attempted_at: DateTime<Utc>,
    /// `delivered` (a 2xx within 10 s) or `failed`.
    #[schema(example = "delivered", max_length = 16)]
    pub outcome: String,
    /// The receiver's status code, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 100, maximum = 999)]
    pub http_status: Option<i32>,
    /// From sending the request to the end of the answer.
    #[schema(minimum = 0, maximum = 60000)]
    pub latency_ms: i32,
    /// What went wrong (no answer, a timeout, a refused address...).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1000)]
    pub error: Option<String>,
    /// The first 1 KB of the receiver's answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 1024)]
    pub response: Option<String>,
    /// Where the delivery stands now: `pending` (another attempt will follow), `waiting`
    /// (behind an earlier event of the same application), `delivered`, `failed` (not sent: a
    /// failed ping, an event the owner no longer sees).
    #[schema(example = "delivered", max_length = 16)]
    pub delivery_state: String,
    /// When the next attempt is due, while the delivery is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<DateTime<Utc>>,
}

pub fn attempt(a: &AttemptRow, d: &DeliveryRow) -> DeliveryAttempt {
    let pending = d.state() == crate::domain::webhook::DeliveryState::Pending;
    DeliveryAttempt {
        id: a.id.0,
        delivery: d.id.0,
        event_id: d.event_id.0,
        event_type: d.event_type.clone(),
        attempted_at: a.attempted_at.0,
        outcome: a.outcome.clone(),
        http_status: a.http_status,
        latency_ms: a.latency_ms,
        error: a.error.clone(),
        response: a.response.clone(),
        delivery_state: d.state.clone(),
        next_attempt_at: pending.then_some(d.next_attempt_at.0),
    }
}

/// A delivery queued again.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryQueued {
    pub delivery: Uuid,
    pub event_id: Uuid,
    /// `pending`: it will be sent within a second or so.
    #[schema(example = "pending", max_length = 16)]
    pub state: String,
}
