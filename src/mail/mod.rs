//! Outgoing mail: an outbox written in the same transaction as the change that causes a mail,
//! and a worker that sends it over SMTP (lettre), retrying with backoff. Without an SMTP
//! server (the embedded default) mails are written to the log instead.
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::db::Db;

pub mod notice;

#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `smtp://host:port` (plain, for a relay on the local network), `smtp://host?tls=required`
    /// (STARTTLS) or `smtps://user:password@host` (implicit TLS).
    pub smtp_url: Option<String>,
    pub from: String,
    /// Base URL of the frontend that receives the links in mails (`/verify-email?token=`).
    pub frontend_url: String,
}

use crate::db::mail::{claim, finish};
pub use crate::db::mail::{enqueue, enqueue_alternative, store_token, use_token};

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
            for (id, to, subject, body, attempts, _, html) in batch {
                let result = match &smtp {
                    None => {
                        tracing::info!(to = %to, subject = %subject, body = %body, "mail (no SMTP server configured)");
                        Ok(())
                    }
                    Some(transport) => {
                        let message = to.parse::<Mailbox>().map_err(|e| e.to_string()).and_then(|rcpt| {
                            let b = Message::builder().from(from.clone()).to(rcpt).subject(subject.clone());
                            match &html {
                                None => b.body(body.clone()),
                                Some(h) => b.multipart(MultiPart::alternative_plain_html(body.clone(), h.clone())),
                            }
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
