//! Retention: the closed applications whose period ran out, and their anonymisation.
use diesel::prelude::*;

use super::schema::{
    application_history as h, application_message_reads as r, application_messages as m, applications as a,
    documents as d, events as e, invoices as inv, mail_outbox as mo, services as s,
};
use super::types::{SqlDoc, SqlJson, SqlTime, SqlUuid};
use super::DbConnection;

/// A closed application past its retention.
#[derive(Debug, Clone, Queryable)]
pub struct Expired {
    pub id: SqlUuid,
    pub reference: Option<String>,
    /// The service's slug.
    pub service: String,
    pub phase: String,
    pub closed_at: Option<SqlTime>,
    pub retain_until: Option<SqlTime>,
}

/// Up to `limit` applications whose retention ran out by `now` and that still hold their
/// data, in the order they expired, after `(retain_until, id)` of the previous page.
pub fn expired(
    conn: &mut DbConnection,
    now: SqlTime,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Vec<Expired>> {
    let mut q = a::table
        .inner_join(s::table)
        .filter(a::retain_until.le(now))
        .filter(a::anonymised_at.is_null())
        .select((a::id, a::reference, s::slug, a::phase, a::closed_at, a::retain_until))
        .order((a::retain_until.asc(), a::id.asc()))
        .limit(limit)
        .into_boxed();
    if let Some((at, id)) = after {
        q = q.filter(a::retain_until.gt(at).or(a::retain_until.eq(at).and(a::id.gt(id))));
    }
    q.load(conn)
}

/// The storage keys of the documents of these applications.
pub fn document_keys(conn: &mut DbConnection, ids: &[SqlUuid]) -> QueryResult<Vec<(SqlUuid, String)>> {
    d::table
        .filter(d::application_id.eq_any(ids))
        .select((d::application_id, d::storage_key))
        .load(conn)
}

/// What an anonymisation removed.
#[derive(Debug, Default, Clone, Copy)]
pub struct Removed {
    pub documents: usize,
    pub messages: usize,
    pub events: usize,
}

/// Anonymises one application whose retention ran out by `now` (nothing when another run did
/// it first): its form data, applicant, representation, comments, requests and assignee go,
/// and its bills' payer;
/// its history keeps the moves (who, when, from and to which phase and step) without comments
/// or details; its messages, read markers, document records and events are deleted. The
/// reference, service, dates, phases and the step log stay, for statistics and the tracking
/// page. `None` when there was nothing to do.
pub fn anonymise(conn: &mut DbConnection, id: SqlUuid, now: SqlTime) -> QueryResult<Option<Removed>> {
    let empty =
        SqlDoc::of(&serde_json::json!({})).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
    let n = diesel::update(
        a::table
            .filter(a::id.eq(id))
            .filter(a::anonymised_at.is_null())
            .filter(a::retain_until.le(now)),
    )
    .set((
        a::data.eq(empty),
        a::applicant_account.eq(None::<SqlUuid>),
        a::applicant_organisation.eq(None::<SqlUuid>),
        a::created_by.eq("anonymised"),
        a::assignee_id.eq(None::<SqlUuid>),
        a::public_comment.eq(None::<String>),
        a::represented.eq(None::<SqlJson>),
        a::requests.eq(None::<SqlJson>),
        a::requests_due_on.eq(None::<SqlTime>),
        a::anonymised_at.eq(now),
        a::updated_at.eq(now),
        a::revision.eq(a::revision + 1),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    diesel::update(h::table.filter(h::application_id.eq(id)))
        .set((
            h::actor_id.eq(None::<String>),
            h::public_comment.eq(None::<String>),
            h::internal_note.eq(None::<String>),
            h::details.eq(SqlJson(serde_json::json!({}))),
        ))
        .execute(conn)?;
    diesel::delete(r::table.filter(r::application_id.eq(id))).execute(conn)?;
    // bills stay (accounting keeps them), without the payer's name and address
    diesel::update(inv::table.filter(inv::application_id.eq(id)))
        .set(inv::debtor.eq(None::<SqlJson>))
        .execute(conn)?;
    let messages = diesel::delete(m::table.filter(m::application_id.eq(id))).execute(conn)?;
    let documents = diesel::delete(d::table.filter(d::application_id.eq(id))).execute(conn)?;
    let events = diesel::delete(
        e::table
            .filter(e::subject_type.eq("application"))
            .filter(e::subject_id.eq(id.0.to_string())),
    )
    .execute(conn)?;
    Ok(Some(Removed {
        documents,
        messages,
        events,
    }))
}

/// Deletes up to `batch` mails sent before `before` (their recipients and texts are kept for
/// a while for support, not for ever); returns how many.
pub fn purge_sent_mail(conn: &mut DbConnection, before: SqlTime, batch: i64) -> QueryResult<usize> {
    let old: Vec<SqlUuid> = mo::table
        .filter(mo::sent_at.lt(before))
        .select(mo::id)
        .limit(batch)
        .load(conn)?;
    diesel::delete(mo::table.filter(mo::id.eq_any(old))).execute(conn)
}
