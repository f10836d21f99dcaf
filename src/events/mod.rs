//! Domain events and retry records: background housekeeping every instance runs.
//!
//! - Events are numbered in commit order by one sequencer at a time (`db::events`), within
//!   about 100 ms of their commit.
//! - Expired idempotency keys are purged; any instance may do it.
//! - The event feed (`feed`): each instance watches the last numbered event for its long
//!   polls, and purges events past their retention.
use std::time::Duration;

pub mod feed;

use crate::db::Db;

/// Events numbered per transaction of the sequencer.
const BATCH: usize = 1000;

/// Starts the event sequencer and the idempotency-key purge on this instance.
pub fn spawn_housekeeping(db: Db) {
    let seq_db = db.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            loop {
                let n = seq_db
                    .run(|c| Ok(crate::db::events::assign_positions(c, BATCH as i64)?))
                    .await;
                match n {
                    Ok(BATCH) => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "numbering events failed");
                        break;
                    }
                }
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tick.tick().await;
            let purged = db.write(|c| Ok(crate::db::idempotency::purge(c)?)).await;
            match purged {
                Ok(0) => {}
                Ok(n) => tracing::info!(purged = n, "expired idempotency keys purged"),
                Err(e) => tracing::warn!(error = %e, "purging idempotency keys failed"),
            }
        }
    });
}
