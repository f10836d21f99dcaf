//! What every change of an application writes besides the application row, in the same
//! transaction: a history entry, an audit entry and (for most kinds) a domain event. Changes
//! made in one call (create and submit) are written together, one statement per table.
use serde_json::{json, Value};

use super::process::Ctx;
use crate::db::applications::{ApplicationRow, HistoryRow};
use crate::db::audit::AuditEntry;
use crate::db::events::NewEvent;
use crate::db::records::{With, Written};
use crate::db::types::{SqlJson, SqlTime, SqlUuid};
use crate::db::DbConnection;
use crate::error::ApiError;

/// The kinds of change, each with its history action and its domain event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    Created,
    DataChanged,
    Submitted,
    StatusChanged,
    Withdrawn,
    Assigned,
    DocumentAdded,
    DocumentRemoved,
    MessagePosted,
    InvoiceIssued,
    InvoiceAdjusted,
    PaymentReceived,
}

impl Change {
    const ALL: [Change; 12] = [
        Change::Created,
        Change::DataChanged,
        Change::Submitted,
        Change::StatusChanged,
        Change::Withdrawn,
        Change::Assigned,
        Change::DocumentAdded,
        Change::DocumentRemoved,
        Change::MessagePosted,
        Change::InvoiceIssued,
        Change::InvoiceAdjusted,
        Change::PaymentReceived,
    ];

    /// The change a stored history action names.
    pub(crate) fn parse(action: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.action() == action)
    }

    /// Seen by staff only (who works on an application is the city's business).
    pub(crate) fn staff_only(self) -> bool {
        matches!(self, Change::Assigned)
    }

    fn action(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::DataChanged => "data_changed",
            Change::Submitted => "submitted",
            Change::StatusChanged => "status_changed",
            Change::Withdrawn => "withdrawn",
            Change::Assigned => "assigned",
            Change::DocumentAdded => "document_added",
            Change::DocumentRemoved => "document_removed",
            Change::MessagePosted => "message_posted",
            Change::InvoiceIssued => "invoice_issued",
            Change::InvoiceAdjusted => "invoice_adjusted",
            Change::PaymentReceived => "payment_received",
        }
    }

    /// The domain event; editing a draft's data is not one.
    fn event(self) -> Option<&'static str> {
        match self {
            Change::Created => Some("application.created"),
            Change::DataChanged => None,
            Change::Submitted => Some("application.submitted"),
            Change::StatusChanged => Some("application.status_changed"),
            Change::Withdrawn => Some("application.withdrawn"),
            Change::Assigned => Some("application.assigned"),
            Change::DocumentAdded => Some("application.document_added"),
            Change::DocumentRemoved => Some("application.document_removed"),
            Change::MessagePosted => Some("application.message_posted"),
            Change::InvoiceIssued => Some("application.invoice_issued"),
            Change::InvoiceAdjusted => Some("application.invoice_adjusted"),
            Change::PaymentReceived => Some("application.payment_received"),
        }
    }
}

/// What a change records besides the application itself.
#[derive(Debug, Default)]
pub(crate) struct Note {
    /// When the change happened, for changes that leave the application row as it is
    /// (documents); otherwise its `updated_at`.
    pub at: Option<SqlTime>,
    /// (phase, step) before a move.
    pub from: Option<(String, String)>,
    pub public_comment: Option<String>,
    pub internal_note: Option<String>,
    /// Extra fields for the history entry and the event.
    pub details: serde_json::Map<String, Value>,
}

/// The rows one change writes.
pub struct Records {
    history: HistoryRow,
    audit: AuditEntry,
    event: Option<NewEvent>,
}

/// The rows for one change of `row` (as it is after the change).
pub(crate) fn of(ctx: &Ctx, row: &ApplicationRow, change: Change, note: Note) -> Records {
    by(&ctx.actor, row, change, note)
}

/// The rows for one change of `row` by `actor` (a change no request makes: the bank's
/// payment imported by an operator or a finance system).
pub(crate) fn by(actor: &crate::audit::Actor, row: &ApplicationRow, change: Change, note: Note) -> Records {
    let from = note.from.as_ref();
    let history = HistoryRow {
        id: SqlUuid(uuid::Uuid::now_v7()),
        application_id: row.id,
        occurred_at: note.at.unwrap_or(row.updated_at),
        actor_kind: actor.kind.to_string(),
        actor_id: Some(actor.id.clone()),
        action: change.action().to_string(),
        from_phase: from.map(|f| f.0.clone()),
        to_phase: from.map(|_| row.phase.clone()),
        from_step: from.map(|f| f.1.clone()),
        to_step: from.map(|_| row.step.clone()),
        public_comment: note.public_comment.clone(),
        internal_note: note.internal_note.clone(),
        details: SqlJson(Value::Object(note.details.clone())),
    };
    let mut audit_details = json!({"phase": row.phase, "step": row.step, "revision": row.revision});
    if let Some(f) = from {
        audit_details["from_phase"] = json!(f.0);
    }
    let audit = actor
        .entry(
            &format!("application.{}", change.action()),
            "application",
            row.id.0.to_string(),
        )
        .details(audit_details);
    let event = change.event().map(|type_| {
        let mut data = json!({
            "application": row.id.0,
            "service": row.service_id.0,
            "service_version": row.service_version,
            "phase": row.phase,
            "step": row.step,
            "revision": row.revision,
        });
        if let Some(r) = &row.reference {
            data["reference"] = json!(r);
        }
        if let Some(f) = from {
            data["from_phase"] = json!(f.0);
            data["from_step"] = json!(f.1);
        }
        if let Some(c) = &note.public_comment {
            data["public_comment"] = json!(c);
        }
        for (k, v) in note.details {
            data[k] = v;
        }
        NewEvent {
            type_,
            subject_id: row.id,
            department_id: row.department_id,
            applicant_account: row.applicant_account,
            applicant_organisation: row.applicant_organisation,
            data,
        }
    });
    Records { history, audit, event }
}

/// Changes per statement: PostgreSQL takes at most 65,535 parameters in one, and the three
/// rows of a change have 32 (an import of a bank's file writes one change per credit,
/// thousands at once).
const ROWS_PER_STATEMENT: usize = 1000;

/// Writes the rows of several changes, in the order given: one statement for them (per
/// thousand changes; on PostgreSQL, see `db::records`).
pub(crate) fn write(conn: &mut DbConnection, all: Vec<Records>) -> Result<(), ApiError> {
    write_with(conn, With::default(), all).map(|_| ())
}

/// [`write`], and the new application, the bill whose issue the changes record, the mails
/// that tell of them and the changed application, in the same statement (the first, when
/// there are several). False, and nothing written, when the new application's reference is
/// taken; 412 when the changed application's revision is no longer the one expected (see
/// `db::records`).
pub(crate) fn write_with(conn: &mut DbConnection, mut with: With<'_>, all: Vec<Records>) -> Result<bool, ApiError> {
    let mut all = all.into_iter().peekable();
    // at least one statement: a bill or mails without records are still written
    let mut first = true;
    while first || all.peek().is_some() {
        // sized to the changes of this statement: a request has one or two, and a thousand
        // rows' room is some 700 kB to allocate and free on every write
        let n = all.len().min(ROWS_PER_STATEMENT);
        let mut history = Vec::with_capacity(n);
        let mut audits = Vec::with_capacity(n);
        let mut evs = Vec::with_capacity(n);
        for r in all.by_ref().take(ROWS_PER_STATEMENT) {
            history.push(r.history);
            audits.push(r.audit);
            evs.extend(r.event);
        }
        match crate::db::records::insert(conn, std::mem::take(&mut with), &history, &audits, &evs)? {
            Written::All => {}
            Written::ReferenceTaken => return Ok(false),
            // the move's transaction fails with this answer: nothing of it is kept
            Written::Stale => return Err(super::process::stale()),
        }
        first = false;
    }
    Ok(true)
}

/// Records one change: history entry, audit entry, domain event.
pub(crate) fn record(
    conn: &mut DbConnection,
    ctx: &Ctx,
    row: &ApplicationRow,
    change: Change,
    note: Note,
) -> Result<(), ApiError> {
    write(conn, vec![of(ctx, row, change, note)])
}

/// The change a move to `to` is.
pub(crate) fn of_move(to: crate::domain::application::Phase) -> Change {
    use crate::domain::application::Phase;
    match to {
        Phase::Submitted => Change::Submitted,
        Phase::Withdrawn => Change::Withdrawn,
        _ => Change::StatusChanged,
    }
}

#[cfg(test)]
mod tests {
    use super::Change;

    #[test]
    fn history_actions_keep_their_stored_text() {
        for c in Change::ALL {
            assert_eq!(Change::parse(c.action()), Some(c));
        }
        assert_eq!(Change::Assigned.action(), "assigned");
        assert_eq!(Change::DocumentAdded.action(), "document_added");
        assert_eq!(Change::parse("unknown"), None);
        let staff_only: Vec<Change> = Change::ALL.into_iter().filter(|c| c.staff_only()).collect();
        assert_eq!(staff_only, [Change::Assigned]);
    }
}
