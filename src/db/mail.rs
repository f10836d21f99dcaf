//! The mail outbox and the single-use tokens sent by mail (address confirmation, password
//! reset). `src/mail/` sends what is queued here.
use std::time::Duration;

use diesel::prelude::*;

use crate::db::schema::{email_tokens as t, mail_outbox as m};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::DbConnection;

/// Queues a mail; it is sent after the surrounding transaction commits.
pub fn enqueue(conn: &mut DbConnection, to: &str, subject: &str, body: &str) -> QueryResult<()> {
    enqueue_alternative(conn, to, subject, body, None)
}

/// Queues a mail in plain text with an HTML alternative.
pub fn enqueue_alternative(
    conn: &mut DbConnection,
    to: &str,
    subject: &str,
    body: &str,
    html: Option<&str>,
) -> QueryResult<()> {
    enqueue_all(conn, &[QueuedMail::new(to, subject, body, html)])
}

/// A mail for the outbox, due at once: queued with [`enqueue_all`], or written with a change's
/// records in one statement (`db::records`).
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = m)]
// None is bound as NULL, never rendered as DEFAULT: a records statement's text then depends
// only on how many rows each part has (`db::prepared`, `Prepared::shaped`)
#[diesel(treat_none_as_default_value = false)]
pub struct QueuedMail {
    id: SqlUuid,
    recipient: String,
    subject: String,
    body: String,
    html: Option<String>,
    created_at: SqlTime,
    next_attempt_at: SqlTime,
    attempts: i32,
}

impl QueuedMail {
    pub fn new(to: &str, subject: &str, body: &str, html: Option<&str>) -> QueuedMail {
        let now = SqlTime::now();
        QueuedMail {
            id: SqlUuid(uuid::Uuid::now_v7()),
            recipient: to.into(),
            subject: subject.into(),
            body: body.into(),
            html: html.map(Into::into),
            created_at: now,
            next_attempt_at: now,
            attempts: 0,
        }
    }
}

/// Queues mails in the caller's transaction: one statement on PostgreSQL, one by one on
/// SQLite (in process: no round trip to save).
pub fn enqueue_all(conn: &mut DbConnection, mails: &[QueuedMail]) -> QueryResult<()> {
    if mails.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Pg(pg) => {
            diesel::insert_into(m::table).values(mails).execute(pg)?;
        }
        DbConnection::Sqlite(lite) => {
            for mail in mails {
                diesel::insert_into(m::table).values(mail).execute(lite)?;
            }
        }
    }
    Ok(())
}

/// Stores a single-use token for `purpose` (`verify`, `reset`), valid for `ttl`.
pub fn store_token(
    conn: &mut DbConnection,
    hash: &str,
    account: SqlUuid,
    purpose: &str,
    ttl: Duration,
) -> QueryResult<()> {
    let now = SqlTime::now();
    diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(hash),
            t::account_id.eq(account),
            t::purpose.eq(purpose),
            t::created_at.eq(now),
            t::expires_at.eq(SqlTime(now.0 + chrono::Duration::seconds(ttl.as_secs() as i64))),
        ))
        .execute(conn)?;
    Ok(())
}

/// Uses a token: the account it belongs to, if it is unused, unexpired and for `purpose`.
pub fn use_token(conn: &mut DbConnection, hash: &str, purpose: &str) -> QueryResult<Option<SqlUuid>> {
    let now = SqlTime::now();
    let n = diesel::update(
        t::table
            .filter(t::token_hash.eq(hash))
            .filter(t::purpose.eq(purpose))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(now)),
    )
    .set(t::used_at.eq(Some(now)))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    t::table.find(hash).select(t::account_id).first(conn).optional()
}

/// A mail due: id, recipient, subject, text, attempts so far, when it was due, HTML.
pub type Due = (SqlUuid, String, String, String, i32, SqlTime, Option<String>);

/// Claims due mails for this instance: pushing `next_attempt_at` forward only where it has not
/// moved, so that two instances never send the same mail at once.
pub fn claim(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Due>> {
    let now = SqlTime::now();
    let due: Vec<Due> = m::table
        .filter(m::sent_at.is_null())
        .filter(m::next_attempt_at.le(now))
        .order(m::next_attempt_at)
        .limit(limit)
        .select((
            m::id,
            m::recipient,
            m::subject,
            m::body,
            m::attempts,
            m::next_attempt_at,
            m::html,
        ))
        .load(conn)?;
    let lease = SqlTime(now.0 + chrono::Duration::seconds(120));
    let mut claimed = Vec::new();
    for d in due {
        let n = diesel::update(m::table.find(d.0).filter(m::next_attempt_at.eq(d.5)))
            .set(m::next_attempt_at.eq(lease))
            .execute(conn)?;
        if n == 1 {
            claimed.push(d);
        }
    }
    Ok(claimed)
}

pub fn finish(conn: &mut DbConnection, id: SqlUuid, attempts: i32, error: Option<String>) -> QueryResult<()> {
    match error {
        None => diesel::update(m::table.find(id))
            .set((
                m::sent_at.eq(Some(SqlTime::now())),
                m::attempts.eq(attempts + 1),
                m::last_error.eq(None::<String>),
            ))
            .execute(conn)?,
        Some(e) => {
            // 30 s, 1 min, 2 min ... capped at 1 h
            let backoff = 30i64 * (1i64 << attempts.clamp(0, 7));
            let next = SqlTime(SqlTime::now().0 + chrono::Duration::seconds(backoff.min(3600)));
            diesel::update(m::table.find(id))
                .set((
                    m::attempts.eq(attempts + 1),
                    m::last_error.eq(Some(e)),
                    m::next_attempt_at.eq(next),
                ))
                .execute(conn)?
        }
    };
    Ok(())
}
