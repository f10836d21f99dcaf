//! The in-process catalogue cache shared by an instance's workers.
//!
//! Staleness is bounded: each instance checks the catalogue revision every
//! `GUICHET_CATALOGUE_REFRESH_MS` (default 1 s, at most 2 s) and rebuilds its snapshot when it
//! changed, so all instances converge on what the database says within that interval plus
//! one rebuild (milliseconds for a city's catalogue).
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::snapshot::Snapshot;
use crate::db::{catalogue as q, Db};
use crate::error::ApiError;

#[derive(Clone)]
pub struct CatalogueCache {
    current: Arc<RwLock<Arc<Snapshot>>>,
    db: Db,
    public_url: String,
}

impl CatalogueCache {
    pub fn new(db: Db, public_url: &str) -> CatalogueCache {
        CatalogueCache {
            current: Arc::new(RwLock::new(Arc::new(Snapshot::empty(public_url)))),
            db,
            public_url: public_url.to_string(),
        }
    }

    /// The snapshot in force (cheap: clones an `Arc`).
    pub fn get(&self) -> Arc<Snapshot> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Puts a snapshot in force unless a newer one already is: two reloads can overlap (the
    /// refresher's and the one a catalogue change makes), and the slower one must not bring
    /// back the older catalogue.
    fn set(&self, snap: Snapshot) {
        let snap = Arc::new(snap);
        let mut g = match self.current.write() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if snap.revision >= g.revision {
            *g = snap;
        }
    }

    /// Reloads the snapshot if the database's catalogue revision moved.
    pub async fn refresh(&self) -> Result<bool, ApiError> {
        let known = self.get().revision;
        let public_url = self.public_url.clone();
        let built = self
            .db
            .run(move |conn| {
                if q::revision(conn)? == known {
                    return Ok(None);
                }
                let published = q::load_published(conn)?;
                Snapshot::build(published, &public_url)
                    .map(Some)
                    .map_err(ApiError::internal)
            })
            .await?;
        match built {
            Some(s) => {
                tracing::info!(
                    revision = s.revision,
                    services = s.services.len(),
                    "catalogue snapshot loaded"
                );
                self.set(s);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Keeps the snapshot fresh until the process ends.
    pub fn spawn_refresher(&self, every: Duration) {
        let cache = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = cache.refresh().await {
                    tracing::warn!(error = %e, "catalogue refresh failed; serving the previous snapshot");
                }
            }
        });
    }
}
