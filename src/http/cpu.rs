//! CPU-heavy work (printing a bill, coding an answer, rendering a batch of webhook deliveries),
//! off the server workers and at most one piece per core at a time.
//!
//! On a server worker such work holds up every other request of that worker meanwhile; on
//! the blocking pool without a bound, 64 pages at once oversubscribe the cores (each waits for
//! the others, and every thread keeps its allocator's memory). A semaphore with one permit per
//! core queues them in arrival order instead. The hop costs two thread switches and makes what
//! the work frees be freed on another thread: below a few tenths of a millisecond of work it
//! costs more than it spares (the feed page renders on the worker, see `events::feed::page`).
use std::sync::{Arc, LazyLock};

use tokio::sync::Semaphore;

use crate::error::ApiError;

static CORES: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    Arc::new(Semaphore::new(
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2),
    ))
});

/// Runs `f` on the blocking pool once a core is free for it.
pub async fn run<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let turn = CORES
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| ApiError::internal("the CPU queue is closed"))?;
    // the turn is the work's: a request that goes away meanwhile does not hand it on early
    crate::sched::spawn_blocking(move || {
        let _turn = turn;
        f()
    })
    .await
    .map_err(|e| ApiError::internal(format!("CPU-bound work failed: {e}")))?
}
