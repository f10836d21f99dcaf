//! Storage: one diesel code base over SQLite (embedded default) and PostgreSQL (production),
//! picked at run time from `DATABASE_URL`.
pub mod applications;
pub mod audit;
pub mod auth;
pub mod catalogue;
pub mod catalogue_admin;
pub mod documents;
pub mod events;
pub mod idempotency;
pub mod invoices;
pub mod jobs;
pub mod keys;
pub mod mail;
pub mod messages;
pub mod models;
pub mod organisations;
pub mod payments;
pub mod pg_async;
pub mod prepared;
pub mod reads;
pub mod records;
pub mod retention;
pub mod schema;
pub mod security;
pub mod types;
pub mod webhooks;

use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::error::ApiError;
use crate::msg;

pub const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Key of the PostgreSQL advisory lock held while migrating and seeding, so that several
/// instances starting at once on an empty database do the work exactly once.
const MIGRATION_LOCK_KEY: i64 = 0x6775_6963_6865_7401;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` select PostgreSQL; `sqlite://PATH`, `sqlite:PATH` or a
    /// plain file path select SQLite.
    pub fn from_url(url: &str) -> Result<Backend, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else if let Some((scheme, _)) = url.split_once("://") {
            if scheme == "sqlite" {
                Ok(Backend::Sqlite)
            } else {
                Err(format!(
                    "unsupported scheme '{scheme}://' (use postgres:// or a SQLite file path)"
                ))
            }
        } else {
            Ok(Backend::Sqlite)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgres",
            Backend::Sqlite => "sqlite",
        }
    }
}

fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Opens one connection of the backend the URL names, with SQLite's per-connection settings.
pub fn establish(url: &str) -> Result<DbConnection, diesel::ConnectionError> {
    match Backend::from_url(url).map_err(diesel::ConnectionError::InvalidConnectionUrl)? {
        Backend::Postgres => Ok(DbConnection::Pg(PgConnection::establish(url)?)),
        Backend::Sqlite => {
            let mut c = SqliteConnection::establish(sqlite_path(url))?;
            let setup = |c: &mut SqliteConnection| -> QueryResult<()> {
                c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")?;
                ensure_wal(c)
            };
            setup(&mut c).map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(DbConnection::Sqlite(c))
        }
    }
}

#[derive(QueryableByName)]
struct JournalMode {
    #[diesel(sql_type = diesel::sql_types::Text)]
    journal_mode: String,
}

/// WAL is a property of the database file: only the first connection switches it on. The
/// switch needs an exclusive lock, which SQLite may refuse at once (without waiting) while
/// another connection starts up, so it is retried for a while.
fn ensure_wal(c: &mut SqliteConnection) -> QueryResult<()> {
    let mut attempt = 0;
    loop {
        let mode = diesel::sql_query("PRAGMA journal_mode").get_result::<JournalMode>(c);
        let result = match mode {
            Ok(m) if m.journal_mode.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(m) if m.journal_mode.eq_ignore_ascii_case("memory") => return Ok(()),
            Ok(_) => diesel::sql_query("PRAGMA journal_mode = WAL")
                .get_result::<JournalMode>(c)
                .map(|_| ()),
            Err(e) => Err(e),
        };
        match result {
            Err(diesel::result::Error::DatabaseError(_, info))
                if attempt < 100 && (info.message().contains("locked") || info.message().contains("busy")) =>
            {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// r2d2 manager that picks the backend by URL scheme (diesel's own tries both and hides the cause).
#[derive(Debug)]
pub struct Manager {
    url: String,
}

/// A pooled connection and whether it is known to be unusable (a query on it failed and a
/// check after the failure failed too). Such a connection is discarded on return, never
/// handed out again.
pub struct PoolConn {
    conn: DbConnection,
    broken: bool,
}

impl r2d2::ManageConnection for Manager {
    type Connection = PoolConn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PoolConn, Self::Error> {
        establish(&self.url)
            .map(|conn| PoolConn { conn, broken: false })
            .map_err(diesel::r2d2::Error::ConnectionError)
    }

    fn is_valid(&self, conn: &mut PoolConn) -> Result<(), Self::Error> {
        conn.conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    /// Called when a connection goes back to the pool: no round trip, only what is known.
    fn has_broken(&self, conn: &mut PoolConn) -> bool {
        conn.broken
            || <<DbConnection as Connection>::TransactionManager as TransactionManager<DbConnection>>::is_broken_transaction_manager(
                &mut conn.conn,
            )
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// How long a request waits for a new connection when none is idle. Connecting takes a few
/// milliseconds; a database that does not answer within this is treated as down.
const CHECKOUT_TIMEOUT: Duration = Duration::from_millis(800);
/// While the database is down, one request in this interval tries it again (the others are
/// answered 503 at once instead of each waiting for a connection that will not come).
const PROBE_INTERVAL: Duration = Duration::from_millis(250);

/// Whether the database answered lately: a circuit breaker, so that an outage costs each
/// request a prompt 503 rather than a wait, and the first request after the database is back
/// (or the pool's own reconnection) closes it again.
#[derive(Debug, Default)]
struct Health {
    /// Milliseconds since `epoch` when the database was found down; 0 while it is up.
    down_since: std::sync::atomic::AtomicU64,
    /// Milliseconds since `epoch` of the last try while down.
    last_probe: std::sync::atomic::AtomicU64,
    epoch: std::sync::OnceLock<std::time::Instant>,
}

impl Health {
    fn now_ms(&self) -> u64 {
        let epoch = *self.epoch.get_or_init(std::time::Instant::now);
        epoch.elapsed().as_millis() as u64 + 1
    }

    /// May this request try the database? Always while it is up; while it is down, one
    /// request per probe interval.
    fn may_try(&self) -> bool {
        use std::sync::atomic::Ordering::*;
        if self.down_since.load(Relaxed) == 0 {
            return true;
        }
        let now = self.now_ms();
        let last = self.last_probe.load(Relaxed);
        now.saturating_sub(last) >= PROBE_INTERVAL.as_millis() as u64
            && self.last_probe.compare_exchange(last, now, Relaxed, Relaxed).is_ok()
    }

    fn down(&self) {
        use std::sync::atomic::Ordering::*;
        let now = self.now_ms();
        if self.down_since.compare_exchange(0, now, Relaxed, Relaxed).is_ok() {
            tracing::error!("the database is not reachable; answering 503 until it is back");
        }
        self.last_probe.store(now, Relaxed);
    }

    fn up(&self) {
        use std::sync::atomic::Ordering::*;
        let since = self.down_since.swap(0, Relaxed);
        if since != 0 {
            let ms = self.now_ms().saturating_sub(since);
            tracing::warn!(down_ms = ms, "the database is reachable again");
        }
    }

    fn is_down(&self) -> bool {
        self.down_since.load(std::sync::atomic::Ordering::Relaxed) != 0
    }
}

fn unreachable() -> ApiError {
    ApiError::unavailable(msg!("The database is not reachable right now."))
}

/// The database handle the application shares: a pool plus the backend in use.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    backend: Backend,
    /// SQLite has one writer at a time: writers of this process queue here instead of
    /// polling the file lock (which adds sleeps of up to the busy timeout under load).
    sqlite_writer: std::sync::Arc<std::sync::Mutex<()>>,
    /// How the hot reads connect asynchronously (PostgreSQL, when the URL allows it).
    async_pg: Option<std::sync::Arc<pg_async::AsyncPg>>,
    /// One permit per pooled connection: work waits for its turn here, asynchronously and
    /// first come first served, instead of in a blocking thread on the pool's lock (where
    /// the wake-ups are not in arrival order, and every waiter holds a thread).
    turns: std::sync::Arc<tokio::sync::Semaphore>,
    health: std::sync::Arc<Health>,
}

impl Db {
    /// Builds the pool lazily, so a database that is down does not stall start-up for the
    /// pool's timeout; requests then get a 503.
    pub fn new(url: &str, pool_size: u32) -> Result<Db, String> {
        let backend = Backend::from_url(url)?;
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .test_on_check_out(false)
            .error_handler(Box::new(PoolErrors::default()))
            .build_unchecked(Manager { url: url.to_string() });
        let async_pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => match pg_async::AsyncPg::from_url(url) {
                Ok(pg) => Some(std::sync::Arc::new(pg)),
                Err(e) => {
                    tracing::warn!(reason = %e, "DATABASE_URL cannot be used asynchronously; reads take the blocking path");
                    None
                }
            },
        };
        Ok(Db {
            pool,
            backend,
            sqlite_writer: Default::default(),
            async_pg,
            turns: std::sync::Arc::new(tokio::sync::Semaphore::new(pool_size as usize)),
            health: Default::default(),
        })
    }

    pub fn async_pg(&self) -> Option<&pg_async::AsyncPg> {
        self.async_pg.as_deref()
    }

    /// Checks once that the asynchronous connection works where the blocking one does (libpq
    /// also reads ~/.pgpass and PG* variables, tokio-postgres does not); if it does not, the
    /// reads take the blocking path. A database that is down for both keeps the setting.
    pub async fn check_async(&mut self) {
        let Some(pg) = self.async_pg.clone() else { return };
        // bounded like the blocking pool's checkout, so that an unreachable server does not
        // stall start-up
        let e = match tokio::time::timeout(Duration::from_secs(5), pg.connect()).await {
            Ok(Ok(_)) => return,
            Ok(Err(e)) => e.to_string(),
            Err(_) => "no connection within 5 s".to_string(),
        };
        if self.run(|c| Ok(c.batch_execute("SELECT 1")?)).await.is_ok() {
            tracing::warn!(error = %e, "the asynchronous connection fails where the blocking one works; reads take the blocking path");
            self.async_pg = None;
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many handles share this pool (this one included). The pool closes its
    /// connections when the last one is dropped; an orderly shutdown waits for 1 so that
    /// the closing happens on its own thread, not in a server worker still tearing down
    /// while the process exits (libpq's TLS state is freed at exit).
    pub fn holders(&self) -> usize {
        std::sync::Arc::strong_count(&self.turns)
    }

    /// (connections, idle connections) of the pool.
    pub fn pool_state(&self) -> (u32, u32) {
        let s = self.pool.state();
        (s.connections, s.idle_connections)
    }

    /// True while every connection of the pool is taken (work may be waiting for one): what
    /// background work (webhook deliveries) yields to.
    pub fn saturated(&self) -> bool {
        self.turns.available_permits() == 0
    }

    /// True while the last try found the database unreachable.
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }

    fn get(&self) -> Result<PooledConn, ApiError> {
        self.pool.get().map_err(|e| {
            tracing::warn!(error = %e, "no database connection");
            self.health.down();
            unreachable()
        })
    }

    /// Runs blocking database work on the blocking thread pool, never on an async worker.
    /// Metrics: `db_connection_wait_seconds` (from the call until a connection is in hand:
    /// the turn, the blocking thread, the checkout) and `db_connection_hold_seconds` (the work).
    ///
    /// While the database is down the answer is a prompt 503 (see [`Health`]). When the work
    /// fails and the connection then fails a check too, the connection is discarded and the
    /// failure answered as a 503: a dead connection is an outage, not a bug.
    ///
    /// After the first write of a request with an `Idempotency-Key`, the work runs in that
    /// write's held transaction instead (see [`idempotency`]).
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let f = in_current_span(f);
        if let idempotency::Route::Held(to_tx) = idempotency::route(false) {
            return idempotency::in_held(to_tx, f).await;
        }
        self.run_direct(f).await
    }

    async fn run_direct<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        if !self.health.may_try() {
            return Err(unreachable());
        }
        // while the database is down, the one request let through is the probe
        let probe = self.health.is_down();
        let asked = std::time::Instant::now();
        let turn = self
            .turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::unavailable(msg!("The database pool is closed.")))?;
        let db = self.clone();
        crate::sched::spawn_blocking(move || {
            let _turn = turn;
            if !probe && db.health.is_down() {
                return Err(unreachable()); // found down while this request waited for its turn
            }
            // the wait is recorded whether or not a connection came: a checkout that timed
            // out is the longest wait there is
            let conn = db.get();
            let got = std::time::Instant::now();
            metrics::histogram!("db_connection_wait_seconds").record(got - asked);
            let mut conn = conn?;
            let out = f(&mut conn.conn);
            metrics::histogram!("db_connection_hold_seconds").record(got.elapsed());
            match out {
                Ok(v) => {
                    db.health.up();
                    Ok(v)
                }
                Err(e) => Err(db.after_failure(&mut conn, e)),
            }
        })
        .await
        .map_err(|e| ApiError::internal(format!("database task failed: {e}")))?
    }

    /// After failed work: a connection that cannot run `SELECT 1` any more is discarded and
    /// the failure becomes a 503. Only on this path, so a healthy request pays no round trip.
    fn after_failure(&self, conn: &mut PoolConn, e: ApiError) -> ApiError {
        use crate::error::ProblemKind;
        if !matches!(e.kind, ProblemKind::Internal | ProblemKind::Unavailable) {
            return e;
        }
        let broken_tm = <<DbConnection as Connection>::TransactionManager as TransactionManager<
            DbConnection,
        >>::is_broken_transaction_manager(&mut conn.conn);
        if broken_tm || conn.conn.batch_execute("SELECT 1").is_err() {
            conn.broken = true;
            tracing::warn!(error = %e, "discarding a database connection that failed");
            return unreachable();
        }
        e
    }

    /// Like [`Db::run`], inside one write transaction (`BEGIN IMMEDIATE` on SQLite).
    ///
    /// Inside a request that carries an `Idempotency-Key` (see [`idempotency`]), the
    /// first write of the request also claims the key, and its transaction stays open until
    /// the request's answer is known and stored with it: the change and its stored answer
    /// commit together or not at all.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_as(f, false).await
    }

    /// Like [`Db::write`], for work whose changes are all one statement (reads may come before
    /// it). On PostgreSQL, outside a request's held transaction, it runs without `BEGIN` and
    /// `COMMIT`: the statement is its own transaction, two round trips fewer. The reads before
    /// it see what is committed, as they would in a transaction at PostgreSQL's isolation
    /// level (read committed); none may lock (`FOR UPDATE`), as a lock would end with its
    /// statement. Work that writes twice must use [`Db::write`].
    pub async fn write_one<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        self.write_as(f, true).await
    }

    async fn write_as<T, F>(&self, f: F, one_statement: bool) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let f = in_current_span(f);
        match idempotency::route(true) {
            idempotency::Route::Plain if one_statement && self.backend == Backend::Postgres => self.run_direct(f).await,
            idempotency::Route::Plain => self.write_plain(f).await,
            idempotency::Route::Claim(scope) => idempotency::write_held(self, scope, f).await,
            // a later write of the same request: a savepoint in its held transaction
            idempotency::Route::Held(to_tx) => idempotency::in_held(to_tx, move |c| write_tx(c, f)).await,
        }
    }

    pub(crate) async fn write_plain<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = (self.backend == Backend::Sqlite).then(|| self.sqlite_writer.clone());
        self.run_direct(move |conn| {
            let _turn = writer.as_ref().map(|m| m.lock().unwrap_or_else(|p| p.into_inner()));
            write_tx(conn, f)
        })
        .await
    }
}

/// The work, to run on another thread inside the caller's span (the request's, so that what
/// it logs carries the request id).
fn in_current_span<T, F>(f: F) -> impl FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
{
    let span = tracing::Span::current();
    move |conn| span.in_scope(|| f(conn))
}

/// Logs the pool's failed connection attempts at most once a second (during an outage the
/// pool retries continuously).
#[derive(Debug, Default)]
struct PoolErrors {
    last: std::sync::Mutex<Option<std::time::Instant>>,
}

impl r2d2::HandleError<diesel::r2d2::Error> for PoolErrors {
    fn handle_error(&self, error: diesel::r2d2::Error) {
        let Ok(mut last) = self.last.lock() else { return };
        if last.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
            *last = Some(std::time::Instant::now());
            tracing::warn!(error = %error, "database connection attempt failed");
        }
    }
}

/// One write transaction. On SQLite it starts with `BEGIN IMMEDIATE`, taking the write lock up
/// front, so concurrent writers wait (busy timeout) instead of failing with SQLITE_BUSY on
/// lock upgrade.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match conn {
        DbConnection::Pg(_) => conn.transaction(f),
        DbConnection::Sqlite(inner) => {
            match AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE") {
                Ok(()) => {}
                // Already inside a write transaction: nest with a savepoint.
                Err(diesel::result::Error::AlreadyInTransaction) => return conn.transaction(f),
                Err(e) => return Err(e.into()),
            }
            match f(conn) {
                Ok(v) => {
                    <DbConnection as Connection>::TransactionManager::commit_transaction(conn)?;
                    Ok(v)
                }
                Err(e) => {
                    if let Err(rb) = <DbConnection as Connection>::TransactionManager::rollback_transaction(conn) {
                        tracing::error!(error = %rb, "rollback failed");
                    }
                    Err(e)
                }
            }
        }
    }
}

/// Applies pending migrations and then runs `after` (the seed), both under a PostgreSQL
/// advisory lock so several instances can start at once on an empty database.
pub fn migrate_then<T>(
    conn: &mut DbConnection,
    after: impl FnOnce(&mut DbConnection) -> anyhow::Result<T>,
) -> anyhow::Result<(usize, T)> {
    match conn {
        DbConnection::Pg(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(pg)?;
            let result = (|| {
                let applied = match conn {
                    DbConnection::Pg(pg) => run_migrations(pg, PG_MIGRATIONS)?,
                    DbConnection::Sqlite(_) => 0,
                };
                Ok((applied, after(conn)?))
            })();
            if let DbConnection::Pg(pg) = conn {
                if let Err(e) =
                    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(pg)
                {
                    tracing::warn!(error = %e, "could not release the migration lock");
                }
            }
            result
        }
        // SQLite has no advisory locks: the write lock of one IMMEDIATE transaction around
        // migrations and seed serialises processes starting at once on the same file.
        DbConnection::Sqlite(_) => write_tx(conn, |c| {
            let applied = match c {
                DbConnection::Sqlite(sq) => run_migrations(sq, SQLITE_MIGRATIONS)?,
                DbConnection::Pg(_) => 0,
            };
            Ok((applied, after(c)?))
        }),
    }
}

fn run_migrations<C>(conn: &mut C, set: EmbeddedMigrations) -> anyhow::Result<usize>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    let applied = conn
        .run_pending_migrations(set)
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
    for m in &applied {
        tracing::info!(migration = %m, "applied migration");
    }
    Ok(applied.len())
}

/// True when every embedded migration has been applied (used by `/health/ready`).
pub fn migrations_current(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConnection::Pg(pg) => pg.has_pending_migration(PG_MIGRATIONS),
        DbConnection::Sqlite(sq) => sq.has_pending_migration(SQLITE_MIGRATIONS),
    }
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(!pending)
}
