//! The thread of an application: its applicant side and the responsible department write to
//! each other inside it. Whoever sees the application reads its thread; whoever may move it
//! (its applicant, its processors) writes and marks what they have read. Each message is a
//! history entry, an audit entry and an `application.message_posted` event in the same
//! transaction.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::access::{self, mover};
use super::process::{conflict, find, load};
use super::records::{record, Change, Note};
use super::version::phase_of;
use super::views::{self, document_url};
use super::Ctx;
use crate::auth::Caller;
use crate::catalogue::snapshot::Snapshot;
use crate::db::applications::ApplicationRow;
use crate::db::messages::{self as store, MessageRow, ReadRow};
use crate::db::types::{SqlJson, SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::domain::application::Phase;
use crate::domain::ids::ApplicationId;
use crate::domain::thread::{self, Side, DOCUMENTS_MAX};
use crate::domain::FieldError;
use crate::error::ApiError;
use crate::msg;

/// `POST /v1/applications/{id}/messages`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Plain text, 1 to 10,000 characters (trimmed).
    #[schema(
        min_length = 1,
        max_length = 10000,
        example = "Bitte laden Sie den Mietvertrag hoch."
    )]
    pub body: String,
    /// Documents of this application the message refers to (by id).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub documents: Vec<Uuid>,
    /// The applicant's reply to a request for action that also resubmits the application
    /// (as `POST .../transitions {"to": "in_review"}`): needs `If-Match`; refused, with the
    /// message, while a request is open or the form fails.
    #[serde(default)]
    pub resubmit: bool,
}

/// `POST /v1/applications/{id}/messages/read`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadInput {
    /// The last message the caller's side has read (every earlier one counts as read too).
    pub up_to: Uuid,
}

/// A message of the thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub id: Uuid,
    pub application: Uuid,
    /// Who wrote it: the applicant's side or the department.
    pub side: Side,
    pub author: MessageAuthor,
    #[schema(max_length = 10000)]
    pub body: String,
    #[schema(max_items = 20)]
    pub documents: Vec<MessageDocument>,
    #[serde(serialize_with = "crate::http::json_time::at")]
    pub created_at: DateTime<Utc>,
    /// Whether the other side has read it.
    pub read: bool,
}

/// Who wrote a message.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageAuthor {
    /// `resident`, `client` or `staff`.
    #[schema(max_length = 32)]
    pub kind: String,
    /// Staff only: the account or client id.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(max_length = 255)]
    pub id: Option<String>,
}

/// A document a message refers to.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageDocument {
    pub id: Uuid,
    /// Where it is described (its bytes are at `…/content`).
    #[schema(max_length = 2048)]
    pub href: String,
}

/// How far each side has read the thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadMarkers {
    pub applicant: ReadMarker,
    pub department: ReadMarker,
}

/// How far one side has read.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadMarker {
    /// The last message this side has read; null when it has read none.
    pub up_to: Option<Uuid>,
    /// When it marked that.
    #[serde(serialize_with = "crate::http::json_time::opt")]
    pub read_at: Option<DateTime<Utc>>,
    /// Messages of the other side after `up_to`.
    #[schema(minimum = 0, maximum = 9007199254740991_i64)]
    pub unread: i64,
}

/// The thread's order: when a message was written, then its id (what a cursor holds).
pub type Key = (DateTime<Utc>, Uuid);

/// The cursor key of a message.
pub fn key(m: &MessageRow) -> Key {
    (m.created_at.0, m.id.0)
}

fn key_of(m: &MessageRow) -> (SqlTime, SqlUuid) {
    (m.created_at, m.id)
}

/// The side the caller writes for on this application; 403 for a reader who may not move it.
fn side_of(caller: &Caller, row: &ApplicationRow) -> Result<Side, ApiError> {
    mover(caller, row).map(Side::of).ok_or_else(|| {
        access::forbidden(msg!(
            "This token does not allow writing in this application's thread (its applicant and the department processing it do)."
        ))
    })
}

fn field(pointer: String, code: &str, detail: crate::domain::messages::Msg) -> ApiError {
    ApiError::validation(vec![FieldError::new(&pointer, code, detail)])
}

/// Posts a message to the thread of an application the caller may move; with `resubmit`,
/// the applicant's reply also resubmits the application (`expected`: its `If-Match`), all or
/// nothing.
pub fn post(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    input: NewMessage,
    expected: Option<i64>,
) -> Result<MessageRow, ApiError> {
    let row = load(conn, ctx, id)?;
    let side = side_of(&ctx.caller, &row)?;
    super::process::not_anonymised(&row)?;
    if phase_of(&row)? == Phase::Draft {
        return Err(conflict(msg!(
            "A draft has no thread yet: messages start once the application is submitted."
        )));
    }
    if input.resubmit && side != Side::Applicant {
        return Err(field(
            "/resubmit".into(),
            "not_allowed",
            msg!("only the applicant resubmits"),
        ));
    }
    let body = thread::body(&input.body).map_err(|(code, why)| field("/body".into(), code, why))?;
    if input.documents.len() > DOCUMENTS_MAX {
        return Err(field(
            "/documents".into(),
            "too_many",
            msg!("at most {max} documents", max = DOCUMENTS_MAX),
        ));
    }
    let mut documents: Vec<Uuid> = Vec::with_capacity(input.documents.len());
    for (i, d) in input.documents.iter().enumerate() {
        if crate::db::documents::get(conn, row.id, SqlUuid(*d))?.is_none() {
            return Err(field(
                format!("/documents/{i}"),
                "unknown",
                msg!("no such document on this application"),
            ));
        }
        if !documents.contains(d) {
            documents.push(*d);
        }
    }
    let message = write(conn, ctx, &row, side, body, documents)?;
    if side == Side::Department {
        super::notify::message(conn, ctx, &row)?;
    }
    if input.resubmit {
        super::process::resubmit(conn, ctx, row, expected)?;
    }
    Ok(message)
}

/// Writes a message of `side` to the thread of `row` (locked by the caller's transaction),
/// with its history, audit and event records; the writer's side has read up to it.
pub(super) fn write(
    conn: &mut DbConnection,
    ctx: &Ctx,
    row: &ApplicationRow,
    side: Side,
    body: String,
    documents: Vec<Uuid>,
) -> Result<MessageRow, ApiError> {
    let now = SqlTime::now();
    let ids: Vec<String> = documents.iter().map(Uuid::to_string).collect();
    let message = MessageRow {
        id: SqlUuid(Uuid::now_v7()),
        application_id: row.id,
        side: side.as_str().into(),
        author_kind: ctx.actor.kind.to_string(),
        author_id: ctx.actor.id.clone(),
        body,
        documents: SqlJson(json!(ids)),
        created_at: now,
    };
    store::insert(conn, &message)?;
    let mut details = serde_json::Map::new();
    details.insert("message".into(), json!(message.id.0));
    details.insert("side".into(), json!(side.as_str()));
    let note = Note {
        at: Some(now),
        details,
        ..Note::default()
    };
    record(conn, ctx, row, Change::MessagePosted, note)?;
    // writing answers everything before it
    mark(conn, row, side, &message, now)?;
    Ok(message)
}

/// A page of the thread of an application the caller may see, and the read markers.
pub async fn thread(
    reads: &crate::db::reads::Reads,
    caller: &Caller,
    id: ApplicationId,
    after: Option<Key>,
    limit: usize,
) -> Result<(Vec<MessageRow>, bool, Vec<ReadRow>), ApiError> {
    let reader = super::access::reader(caller)?;
    let after = after.map(|(t, id)| (SqlTime(t), SqlUuid(id)));
    let (mut rows, markers) = reads
        .thread(id.into(), reader, after, limit as i64 + 1)
        .await?
        .ok_or_else(super::process::unknown)?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more, markers))
}

/// The read markers of the thread of an application the caller may see.
pub fn markers(conn: &mut DbConnection, caller: &Caller, id: ApplicationId) -> Result<ReadMarkers, ApiError> {
    let row = find(conn, caller, id)?;
    read_markers(conn, row.id)
}

/// Marks the thread read up to a message, for the caller's side; a marker never moves back.
pub fn mark_read(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    input: ReadInput,
) -> Result<ReadMarkers, ApiError> {
    let row = load(conn, ctx, id)?;
    let side = side_of(&ctx.caller, &row)?;
    let message = store::get(conn, row.id, SqlUuid(input.up_to))?
        .ok_or_else(|| field("/up_to".into(), "unknown", msg!("no such message in this thread")))?;
    mark(conn, &row, side, &message, SqlTime::now())?;
    read_markers(conn, row.id)
}

fn mark(
    conn: &mut DbConnection,
    row: &ApplicationRow,
    side: Side,
    message: &MessageRow,
    now: SqlTime,
) -> Result<(), ApiError> {
    let current = store::markers(conn, row.id)?
        .into_iter()
        .find(|m| m.side == side.as_str());
    if current.is_some_and(|c| (c.up_to_at, c.up_to) >= key_of(message)) {
        return Ok(());
    }
    store::set_marker(
        conn,
        &ReadRow {
            application_id: row.id,
            side: side.as_str().into(),
            up_to: message.id,
            up_to_at: message.created_at,
            read_at: now,
        },
    )?;
    Ok(())
}

fn read_markers(conn: &mut DbConnection, app: SqlUuid) -> Result<ReadMarkers, ApiError> {
    let rows = store::markers(conn, app)?;
    let mut one = |side: Side| -> Result<ReadMarker, ApiError> {
        let m = rows.iter().find(|m| m.side == side.as_str());
        Ok(ReadMarker {
            up_to: m.map(|m| m.up_to.0),
            read_at: m.map(|m| m.read_at.0),
            unread: store::unread(conn, app, side.as_str(), m.map(|m| (m.up_to_at, m.up_to)))?,
        })
    };
    Ok(ReadMarkers {
        applicant: one(Side::Applicant)?,
        department: one(Side::Department)?,
    })
}

/// A message as a caller sees it (`staff`: with its author's id), `markers` telling whether
/// the other side has read it.
pub fn view(snap: &Snapshot, m: MessageRow, markers: &[ReadRow], staff: bool) -> Message {
    let side = Side::parse(&m.side).unwrap_or(Side::Applicant);
    let read = markers
        .iter()
        .find(|r| r.side == side.other().as_str())
        .is_some_and(|r| (r.up_to_at, r.up_to) >= key_of(&m));
    let documents = m
        .documents
        .0
        .as_array()
        .map(|ids| {
            ids.iter()
                .filter_map(|v| v.as_str().and_then(|s| Uuid::parse_str(s).ok()))
                .map(|id| MessageDocument {
                    id,
                    href: document_url(snap, m.application_id.0, id),
                })
                .collect()
        })
        .unwrap_or_default();
    Message {
        id: m.id.0,
        application: m.application_id.0,
        side,
        author: MessageAuthor {
            kind: m.author_kind,
            id: staff.then_some(m.author_id),
        },
        body: m.body,
        documents,
        created_at: m.created_at.0,
        read,
    }
}

/// Where a message is read.
pub fn message_url(snap: &Snapshot, m: &MessageRow) -> String {
    format!(
        "{}/messages/{}",
        views::application_url(snap, m.application_id.0),
        m.id.0
    )
}

/// One message of the thread of an application the caller may see, and the read markers.
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ApplicationId,
    message: Uuid,
) -> Result<(MessageRow, Vec<ReadRow>), ApiError> {
    let row = find(conn, caller, id)?;
    let m = store::get(conn, row.id, SqlUuid(message))?
        .ok_or_else(|| ApiError::not_found(msg!("No such message in this application's thread.")))?;
    Ok((m, store::markers(conn, row.id)?))
}
