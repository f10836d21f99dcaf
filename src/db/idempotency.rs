//! Idempotency keys: the first final answer to a (caller, endpoint, key), kept 24 hours, and
//! the transaction that makes it crash-safe.
//!
//! A request that carries an `Idempotency-Key` runs inside a [`Scope`] (set by the HTTP
//! layer). Its first [`Db::write`](super::Db::write) opens a *held* transaction: it inserts the
//! key's row (the claim), runs the change, and then stays open, on its own connection, until
//! the request's answer is known; the answer is stored in the key's row and everything commits
//! at once. Whatever else the request does with the database after that first write runs in
//! the same transaction (so it reads its own writes). So:
//! - killed before the commit, nothing of the request is left, not even its claim: a retry
//!   runs the change once;
//! - killed after it, the change and its answer are both there: a retry gets the answer;
//! - a second request with the same key while the first runs waits at the claim's unique
//!   index (PostgreSQL) or the writer lock (SQLite) and then replays the first's answer.
//!
//! A request that answers without writing (a 4xx, say) changed nothing; its answer is stored
//! afterwards with a plain insert.
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Duration as Span;
use diesel::prelude::*;
use tokio::sync::oneshot;

use super::schema::idempotency_keys as k;
use super::types::{SqlJson, SqlTime};
use super::{Db, DbConnection};
use crate::error::{ApiError, ProblemKind};
use crate::msg;

/// How long a held transaction waits for its request's answer before it gives up and rolls
/// back (the request then answers 503). Rendering an answer takes microseconds.
const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// How long a stored answer is kept.
const KEEP: Span = Span::hours(24);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = k)]
pub struct KeyRow {
    pub owner: String,
    pub endpoint: String,
    pub key: String,
    pub request_hash: String,
    pub status: Option<i32>,
    pub headers: Option<SqlJson>,
    pub body: Option<String>,
    pub created_at: SqlTime,
    pub locked_until: SqlTime,
    pub expires_at: SqlTime,
}

/// Which key a request uses: its caller, endpoint, key and the hash of its body.
#[derive(Debug, Clone)]
pub struct KeyId {
    pub owner: String,
    pub endpoint: String,
    pub key: String,
    pub hash: String,
}

/// A request's final answer, as stored.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: serde_json::Value,
    pub body: String,
}

/// What an earlier request with this key left.
#[derive(Debug)]
pub enum Found {
    /// Nothing: run the request.
    Nothing,
    /// Its answer: replay it.
    Done(Box<KeyRow>),
    /// The key was used with another request body.
    Mismatch,
    /// A claim of an earlier version of guichet that is not answered yet.
    InProgress,
}

fn row(id: &KeyId, answer: Option<&Answer>) -> KeyRow {
    let now = SqlTime::now();
    KeyRow {
        owner: id.owner.clone(),
        endpoint: id.endpoint.clone(),
        key: id.key.clone(),
        request_hash: id.hash.clone(),
        status: answer.map(|a| i32::from(a.status)),
        headers: answer.map(|a| SqlJson(a.headers.clone())),
        body: answer.map(|a| a.body.clone()),
        created_at: now,
        locked_until: now,
        expires_at: SqlTime(now.0 + KEEP),
    }
}

fn find(conn: &mut DbConnection, id: &KeyId) -> QueryResult<Option<KeyRow>> {
    k::table
        .find((&id.owner, &id.endpoint, &id.key))
        .select(KeyRow::as_select())
        .first(conn)
        .optional()
}

fn judge(id: &KeyId, found: KeyRow) -> Found {
    if found.request_hash != id.hash {
        Found::Mismatch
    } else if found.status.is_some() {
        Found::Done(Box::new(found))
    } else {
        Found::InProgress
    }
}

/// What an earlier request with this key left (an expired answer, or a claim of an earlier
/// version whose holder stopped, is deleted).
pub fn lookup(conn: &mut DbConnection, id: &KeyId) -> QueryResult<Found> {
    let Some(found) = find(conn, id)? else {
        return Ok(Found::Nothing);
    };
    let now = SqlTime::now();
    let stale = found.expires_at < now || (found.status.is_none() && found.locked_until < now);
    if stale {
        diesel::delete(k::table.find((&id.owner, &id.endpoint, &id.key)))
            .filter(k::created_at.eq(found.created_at))
            .execute(conn)?;
        return Ok(Found::Nothing);
    }
    Ok(judge(id, found))
}

/// Stores the answer of a request that changed nothing. If another request with the key
/// stored its answer first, that one is returned, to be replayed.
pub fn store(conn: &mut DbConnection, id: &KeyId, answer: &Answer) -> QueryResult<Option<Found>> {
    match diesel::insert_into(k::table)
        .values(row(id, Some(answer)))
        .execute(conn)
    {
        Ok(_) => Ok(None),
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => {
            Ok(find(conn, id)?.map(|f| judge(id, f)))
        }
        Err(e) => Err(e),
    }
}

/// Deletes the expired keys; returns how many.
pub fn purge(conn: &mut DbConnection) -> QueryResult<usize> {
    diesel::delete(k::table.filter(k::expires_at.lt(SqlTime::now()))).execute(conn)
}

type Job = Box<dyn FnOnce(&mut DbConnection) + Send>;

pub(crate) enum Msg {
    /// Database work of the request after its first write, run in the held transaction.
    Job(Job),
    /// The answer to store before committing; `None` rolls back.
    Answer(Option<Answer>),
}

/// Where the request's key stands.
enum State {
    /// No write yet.
    Open,
    /// The first write claimed the key; its transaction waits for the answer.
    Held {
        to_tx: mpsc::Sender<Msg>,
        ended: oneshot::Receiver<Result<(), ApiError>>,
    },
    /// The first write failed: nothing changed.
    Failed,
    /// Another request with this key answered first.
    Replay,
    /// Finished by the HTTP layer.
    Closed,
}

/// A request with an `Idempotency-Key`, while its handler runs.
pub struct Scope {
    pub id: KeyId,
    state: Mutex<State>,
}

tokio::task_local! {
    static SCOPE: Arc<Scope>;
}

/// What the handler's database work left, for the HTTP layer to finish.
pub enum Outcome {
    /// No change was made: store the answer with [`store`].
    Unchanged,
    /// Another request with the key answered first: replay it.
    Replay,
    /// A change waits in a held transaction: give it the answer.
    Held(Held),
}

/// A held transaction, waiting for the request's answer.
pub struct Held {
    to_tx: mpsc::Sender<Msg>,
    ended: oneshot::Receiver<Result<(), ApiError>>,
}

impl Held {
    /// Stores the answer with the change and commits (`None`: rolls back). Ok when it
    /// committed; the error otherwise (a 503 when the database went away meanwhile).
    pub async fn finish(self, answer: Option<Answer>) -> Result<(), ApiError> {
        let commit = answer.is_some();
        let _ = self.to_tx.send(Msg::Answer(answer));
        drop(self.to_tx);
        match self.ended.await {
            Ok(Ok(())) if commit => Ok(()),
            Ok(Ok(())) => Err(ApiError::internal("a rolled back idempotent change reported a commit")),
            // the transaction gave up before the answer came (it waited too long): not the
            // caller's conflict, and nothing was changed
            Ok(Err(e)) if commit && e.kind == ProblemKind::Conflict => Err(ApiError::unavailable(msg!(
                "The change could not be completed in time; retry."
            ))),
            Ok(Err(e)) if commit => Err(e),
            Ok(Err(_)) => Ok(()), // rolled back, as asked
            Err(_) => Err(ApiError::unavailable(msg!("The change could not be completed; retry."))),
        }
    }
}

impl Scope {
    pub fn new(id: KeyId) -> Arc<Scope> {
        Arc::new(Scope {
            id,
            state: Mutex::new(State::Open),
        })
    }

    /// Runs the handler's future inside this scope.
    pub async fn run<F: std::future::Future>(self: &Arc<Self>, fut: F) -> F::Output {
        SCOPE.scope(self.clone(), fut).await
    }

    fn set(&self, s: State) {
        match self.state.lock() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }

    /// After the handler: what its database work left.
    pub fn outcome(&self) -> Outcome {
        let mut g = match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match std::mem::replace(&mut *g, State::Closed) {
            State::Held { to_tx, ended } => Outcome::Held(Held { to_tx, ended }),
            State::Replay => Outcome::Replay,
            State::Open | State::Failed | State::Closed => Outcome::Unchanged,
        }
    }

    fn current() -> Option<Arc<Scope>> {
        SCOPE.try_with(|s| s.clone()).ok()
    }
}

/// Where a database call of the current task goes.
pub(crate) enum Route {
    /// Not in an idempotent request, or its key is settled: as usual.
    Plain,
    /// The request's first write: claim the key in a held transaction.
    Claim(Arc<Scope>),
    /// Into the request's held transaction.
    Held(mpsc::Sender<Msg>),
}

/// Routes a database call: `write` is true for [`Db::write`].
pub(crate) fn route(write: bool) -> Route {
    let Some(scope) = Scope::current() else {
        return Route::Plain;
    };
    let mut g = match scope.state.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    match &*g {
        State::Held { to_tx, .. } => Route::Held(to_tx.clone()),
        State::Open if write => {
            *g = State::Failed; // until the claim says otherwise
            drop(g);
            Route::Claim(scope)
        }
        _ => Route::Plain,
    }
}

/// Runs `f` in the request's held transaction.
pub(crate) async fn in_held<T, F>(to_tx: mpsc::Sender<Msg>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move |c| {
        let _ = tx.send(f(c));
    });
    to_tx
        .send(Msg::Job(job))
        .map_err(|_| ApiError::unavailable(msg!("The request's transaction has ended; retry.")))?;
    rx.await
        .map_err(|_| ApiError::unavailable(msg!("The request's transaction has ended; retry.")))?
}

/// What the first write of the request reports back.
enum First<T> {
    Done(T),
    Failed(ApiError),
    Taken,
}

/// A marker error that rolls the held transaction back without logging a failure.
fn rollback() -> ApiError {
    ApiError::new(ProblemKind::Conflict, msg!("rolled back"))
}

/// The request's first write: claims the key, runs `f`, and holds the transaction open
/// until the answer comes (see the module's documentation).
pub(crate) async fn write_held<T, F>(db: &Db, scope: Arc<Scope>, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let (to_tx, from_req) = mpsc::channel::<Msg>();
    let (first_tx, first_rx) = oneshot::channel::<First<T>>();
    let (ended_tx, ended_rx) = oneshot::channel::<Result<(), ApiError>>();
    let id = scope.id.clone();
    let db2 = db.clone();
    actix_web::rt::spawn(async move {
        let ended = db2
            .write_plain(move |conn| {
                match diesel::insert_into(k::table).values(row(&id, None)).execute(conn) {
                    Ok(_) => {}
                    Err(diesel::result::Error::DatabaseError(
                        diesel::result::DatabaseErrorKind::UniqueViolation,
                        _,
                    )) => {
                        let _ = first_tx.send(First::Taken);
                        return Err(rollback());
                    }
                    Err(e) => {
                        let _ = first_tx.send(First::Failed(e.into()));
                        return Err(rollback());
                    }
                }
                match f(conn) {
                    Ok(v) => {
                        if first_tx.send(First::Done(v)).is_err() {
                            return Err(rollback()); // the request is gone
                        }
                    }
                    Err(e) => {
                        let _ = first_tx.send(First::Failed(e));
                        return Err(rollback());
                    }
                }
                loop {
                    match from_req.recv_timeout(ANSWER_WAIT) {
                        Ok(Msg::Job(job)) => job(conn),
                        Ok(Msg::Answer(Some(a))) => {
                            diesel::update(k::table.find((&id.owner, &id.endpoint, &id.key)))
                                .set((
                                    k::status.eq(Some(i32::from(a.status))),
                                    k::headers.eq(Some(SqlJson(a.headers))),
                                    k::body.eq(Some(a.body)),
                                ))
                                .execute(conn)?;
                            return Ok(());
                        }
                        Ok(Msg::Answer(None)) => return Err(rollback()),
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            tracing::error!("an idempotent request did not answer in time; its change is rolled back");
                            return Err(rollback());
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return Err(rollback()),
                    }
                }
            })
            .await;
        let _ = ended_tx.send(ended);
    });
    match first_rx.await {
        Ok(First::Done(v)) => {
            scope.set(State::Held { to_tx, ended: ended_rx });
            Ok(v)
        }
        Ok(First::Failed(e)) => Err(e),
        Ok(First::Taken) => {
            scope.set(State::Replay);
            Err(ApiError::new(
                ProblemKind::Conflict,
                msg!("Another request with this Idempotency-Key was answered first."),
            ))
        }
        // the work never ran (no connection): its error
        Err(_) => match ended_rx.await {
            Ok(Err(e)) => Err(e),
            _ => Err(ApiError::unavailable(msg!("The database is not reachable right now."))),
        },
    }
}
