//! Outgoing mail: an outbox written in the same transaction as the change that causes a mail,
//! and a worker that sends it over SMTP (lettre), retrying with backoff. Without an SMTP
//! server (the embedded default) mails are written to the log instead.
use std::time::Duration;

use diesel::prelude::*;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::schema::{email_tokens as t, mail_outbox as m};
use crate::db::types::{SqlTime, SqlUuid};
use crate::db::{Db, DbConnection};

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a relay on the local network), `smtp://host?tls=required`
    /// (STARTTLS) or `smtps://user:password@host` (implicit TLS).
    pub smtp_url: Option<String>,
    pub from: String,
    /// Base URL of the frontend that receives the links in mails (`/verify-email?token=`).
    pub frontend_url: String,
}

/// Queues a mail; it is sent after the surrounding transaction commits.
pub fn enqueue(conn: &mut DbConnection, to: &str, subject: &str, body: &str) -> QueryResult<()> {
    let now = SqlTime::now();
    diesel::insert_into(m::table)
        .values((
            m::id.eq(SqlUuid(uuid::Uuid::now_v7())),
            m::recipient.eq(to),
            m::subject.eq(subject),
            m::body.eq(body),
            m::created_at.eq(now),
            m::next_attempt_at.eq(now),
            m::attempts.eq(0),
        ))
        .execute(conn)?;
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

type Due = (SqlUuid, String, String, String, i32, SqlTime);

/// Claims due mails for this instance: pushing `next_attempt_at` forward only where it has not
/// moved, so that two instances never send the same mail at once.
fn claim(conn: &mut DbConnection, limit: i64) -> QueryResult<Vec<Due>> {
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

fn finish(conn: &mut DbConnection, id: SqlUuid, attempts: i32, error: Option<String>) -> QueryResult<()> {
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

fn transport(config: &MailConfig) -> Result<Option<AsyncSmtpTransport<Tokio1Executor>>, String> {
    match &config.smtp_url {
        None => Ok(None),
        Some(url) => AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|b| Some(b.timeout(Some(Duration::from_secs(10))).build()))
            .map_err(|e| e.to_string()),
    }
}

/// Sends queued mails every second until the process ends.
pub fn spawn_worker(db: Db, config: MailConfig) -> Result<(), String> {
    let smtp = transport(&config)?;
    let from: Mailbox = config.from.parse().map_err(|e| format!("GUICHET_MAIL_FROM: {e}"))?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let batch = match db.write(|c| Ok(claim(c, 20)?)).await {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(error = %e, "mail outbox unavailable");
                    continue;
                }
            };
            for (id, to, subject, body, attempts, _) in batch {
                let result = match &smtp {
                    None => {
                        tracing::info!(to = %to, subject = %subject, body = %body, "mail (no SMTP server configured)");
                        Ok(())
                    }
                    Some(transport) => {
                        let message = to.parse::<Mailbox>().map_err(|e| e.to_string()).and_then(|rcpt| {
                            Message::builder()
                                .from(from.clone())
                                .to(rcpt)
                                .subject(subject.clone())
                                .body(body.clone())
                                .map_err(|e| e.to_string())
                        });
                        match message {
                            Ok(msg) => transport.send(msg).await.map(|_| ()).map_err(|e| e.to_string()),
                            Err(e) => Err(e),
                        }
                    }
                };
                if let Err(e) = &result {
                    tracing::warn!(to = %to, error = %e, attempts = attempts + 1, "mail not sent; will retry");
                }
                if let Err(e) = db.write(move |c| Ok(finish(c, id, attempts, result.err())?)).await {
                    tracing::warn!(error = %e, "could not record a mail's outcome");
                }
            }
        }
    });
    Ok(())
}
