//! Documents on an application: the applicant adds and removes them while the application is
//! a draft or waits for them; whoever may read the application may read its documents.
use serde_json::json;

use super::access::{self, mover};
use super::process::{conflict, find, load};
use super::records::{record, Change, Note};
use super::version::{phase_of, version_of};
use super::Ctx;
use crate::auth::Caller;
use crate::catalogue::snapshot::Snapshot;
use crate::db::applications::ApplicationRow;
use crate::db::documents::{self as store, DocumentRow};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::{Db, DbConnection};
use crate::domain::application::Phase;
use crate::domain::documents::DocumentLimits;
use crate::domain::ids::{ApplicationId, DocumentId};
use crate::domain::thread::Side;
use crate::error::ApiError;
use crate::msg;
use crate::storage::DocumentStore;

/// The answer for a document that does not exist on an application the caller may see.
pub fn unknown() -> ApiError {
    ApiError::not_found(msg!("No such document on this application."))
}

/// The most documents the department adds to one application (its own, beside the
/// applicant's, which the service bounds).
pub const DEPARTMENT_FILES_MAX: i64 = 100;

/// Whether the caller may change the application's documents now, and for which side: the
/// applicant while it is a draft or waits for them, the department once it is submitted
/// (decisions included); the service's limits if so.
fn editable(
    conn: &mut DbConnection,
    caller: &Caller,
    snap: &Snapshot,
    row: &ApplicationRow,
    adding: bool,
) -> Result<(Side, DocumentLimits), ApiError> {
    let side = mover(caller, row).map(Side::of).ok_or_else(|| {
        access::forbidden(msg!(
            "This token does not allow changing the documents of this application (its applicant and the department processing it do)."
        ))
    })?;
    super::process::not_anonymised(row)?;
    let phase = phase_of(row)?;
    if side == Side::Applicant && !phase.editable_by_applicant() {
        return Err(conflict(msg!(
            "Documents can be added and removed while the application is a draft or waits for the applicant, not in phase '{phase}'.",
            phase = phase.as_str()
        )));
    }
    let limits = version_of(snap, row)?
        .1
        .content
        .document_limits
        .clone()
        .unwrap_or_default();
    if adding {
        let held = store::count_of_side(conn, row.id, side.as_str())?;
        if side == Side::Applicant && held >= i64::from(limits.max_files) {
            return Err(conflict(msg!(
                "This application has its {max} documents already, the most this service takes; remove one first.",
                max = limits.max_files
            )));
        }
        if side == Side::Department && held >= DEPARTMENT_FILES_MAX {
            return Err(conflict(msg!(
                "The department has added {max} documents to this application already, the most it may; remove one first.",
                max = DEPARTMENT_FILES_MAX
            )));
        }
    }
    Ok((side, limits))
}

/// 422 unless a decision (`?decision=true`) comes from the department once the application is
/// decided (a correction: with the deciding move, `decision_documents` names them).
fn decides(row: &ApplicationRow, side: Side, decision: bool) -> Result<(), ApiError> {
    if !decision {
        return Ok(());
    }
    let why = if side != Side::Department {
        msg!("only the department adds decisions")
    } else if !matches!(phase_of(row)?, Phase::Approved | Phase::Rejected | Phase::Completed) {
        msg!("a decision is named with the move that decides (decision_documents); decision=true adds a correction once decided")
    } else {
        return Ok(());
    };
    Err(ApiError::validation(vec![crate::domain::FieldError::new(
        "decision",
        "not_allowed",
        why,
    )]))
}

/// Checked before an upload is read: the application, the caller's right and the room left.
pub fn may_add(
    conn: &mut DbConnection,
    caller: &Caller,
    snap: &Snapshot,
    id: ApplicationId,
    request: Option<uuid::Uuid>,
    decision: bool,
) -> Result<DocumentLimits, ApiError> {
    let row = find(conn, caller, id)?;
    let (side, limits) = editable(conn, caller, snap, &row, true)?;
    answers(&row, request)?;
    decides(&row, side, decision)?;
    Ok(limits)
}

/// 422 unless `request` (when given) is an open request of the department for a document.
fn answers(row: &ApplicationRow, request: Option<uuid::Uuid>) -> Result<(), ApiError> {
    let Some(id) = request else { return Ok(()) };
    let open = row
        .requests()
        .iter()
        .any(|r| r.id == id && matches!(r.what, crate::domain::requests::Wanted::Document { .. }));
    if open {
        return Ok(());
    }
    Err(ApiError::validation(vec![crate::domain::FieldError::new(
        "request",
        "unknown",
        msg!("not an open request of the department for a document of this application"),
    )]))
}

/// Records a stored document, checking everything again under the application's lock (two
/// uploads racing for the last free place: one gets it).
pub fn add(conn: &mut DbConnection, ctx: &Ctx, mut doc: DocumentRow) -> Result<DocumentRow, ApiError> {
    let row = load(conn, ctx, ApplicationId(doc.application_id.0))?;
    let (side, _) = editable(conn, &ctx.caller, &ctx.snap, &row, true)?;
    answers(&row, doc.request_id.map(|r| r.0))?;
    decides(&row, side, doc.decision)?;
    doc.side = side.as_str().into();
    store::insert(conn, &doc)?;
    record(conn, ctx, &row, Change::DocumentAdded, note(&doc))?;
    Ok(doc)
}

/// A file as it was received and stored, before it is recorded.
pub struct Upload {
    pub filename: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: String,
    /// The department's request it answers (`?request=`).
    pub request: Option<uuid::Uuid>,
    /// A decision of the department (`?decision=true`, a correction once decided).
    pub decision: bool,
}

/// Where the bytes of a new document of application `id` are stored: the document's id and
/// its storage key.
pub fn new_document(id: ApplicationId) -> (DocumentId, String) {
    let doc = uuid::Uuid::now_v7();
    (DocumentId(doc), DocumentStore::key(id.0, doc))
}

/// Records a stored upload as document `doc` of application `id` (with its history and audit
/// entries); when that fails, the stored bytes are removed again, so nothing is left without
/// its record.
pub async fn record_upload(
    db: &Db,
    files: &DocumentStore,
    ctx: Ctx,
    id: ApplicationId,
    (doc, key): (DocumentId, String),
    upload: Upload,
) -> Result<DocumentRow, ApiError> {
    let row = stored_row(&ctx.caller, id, (doc, key.clone()), upload);
    let saved = db.write(move |conn| add(conn, &ctx, row)).await;
    if saved.is_err() {
        files.remove(vec![key]).await;
    }
    saved
}

/// The record of a document stored under `key` for application `id`, not yet written.
pub fn stored_row(caller: &Caller, id: ApplicationId, (doc, key): (DocumentId, String), upload: Upload) -> DocumentRow {
    DocumentRow {
        id: doc.into(),
        application_id: id.into(),
        filename: upload.filename,
        media_type: upload.media_type,
        size_bytes: i64::try_from(upload.size).unwrap_or(i64::MAX),
        sha256: upload.sha256,
        storage_key: key,
        created_at: SqlTime::now(),
        created_by: caller.subject.clone(),
        request_id: upload.request.map(SqlUuid),
        // the side is the uploader's, settled when the document is recorded
        side: Side::Applicant.as_str().into(),
        decision: upload.decision,
    }
}

/// The document limits of the current version of the service an application is made for; the
/// default limits when the service is unknown (its creation then answers why).
pub fn limits_of(snap: &Snapshot, service: &str) -> DocumentLimits {
    snap.service(service)
        .and_then(|s| s.current().content.document_limits.clone())
        .unwrap_or_default()
}

/// Removes a document's record; the caller removes the bytes once this has committed.
pub fn remove(
    conn: &mut DbConnection,
    ctx: &Ctx,
    id: ApplicationId,
    doc_id: DocumentId,
) -> Result<DocumentRow, ApiError> {
    let row = load(conn, ctx, id)?;
    let doc = store::get(conn, id.into(), doc_id.into())?.ok_or_else(unknown)?;
    let (side, _) = editable(conn, &ctx.caller, &ctx.snap, &row, false)?;
    if doc.side != side.as_str() {
        return Err(access::forbidden(msg!(
            "A document is removed by the side that added it: this one is the other side's."
        )));
    }
    if doc.decision {
        return Err(conflict(msg!(
            "A decision stays once given: add a correction as a new document (decision=true)."
        )));
    }
    store::delete(conn, id.into(), doc_id.into())?;
    record(conn, ctx, &row, Change::DocumentRemoved, note(&doc))?;
    Ok(doc)
}

fn note(doc: &DocumentRow) -> Note {
    let mut note = Note {
        at: Some(SqlTime::now()),
        ..Note::default()
    };
    note.details.insert(
        "document".into(),
        json!({
            "id": doc.id.0,
            "filename": doc.filename,
            "media_type": doc.media_type,
            "size_bytes": doc.size_bytes,
            "sha256": doc.sha256,
        }),
    );
    note
}

/// The documents of an application the caller may see.
pub fn list(conn: &mut DbConnection, caller: &Caller, id: ApplicationId) -> Result<Vec<DocumentRow>, ApiError> {
    find(conn, caller, id)?;
    Ok(store::list(conn, id.into())?)
}

/// One document of an application the caller may see.
pub fn get(
    conn: &mut DbConnection,
    caller: &Caller,
    id: ApplicationId,
    doc_id: DocumentId,
) -> Result<DocumentRow, ApiError> {
    find(conn, caller, id)?;
    store::get(conn, id.into(), doc_id.into())?.ok_or_else(unknown)
}
