//! The hot reads (one application, a page of a list), on PostgreSQL through the actix
//! worker's own asynchronous pool: no hand-off to the blocking pool and back, which cost a
//! third of the throughput of a single-application read and most of its p99. On SQLite, or
//! when the URL cannot be used asynchronously, they take the blocking path ([`Db::run`]).
//! The queries are the same diesel queries as the blocking path's (shared macros).
use diesel::{BoolExpressionMethods, ExpressionMethods, NullableExpressionMethods, OptionalExtension, QueryDsl};
use diesel::{QueryResult, SelectableHelper};
use diesel_async::pooled_connection::deadpool::Object;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::applications::{self as store, for_reader, list_query, ApplicationRow, ListFilter, Order, Reader};
use super::events::{self, feed_query, EventRow};
use super::messages::{self as thread, markers_query, thread_query, MessageRow, ReadRow};
use super::pg_async::{AsyncPool, Shared};
use super::types::{SqlTime, SqlUuid};
use super::Db;
use crate::error::{connection_lost, ApiError};
use crate::msg;

/// One worker's read handle.
pub struct Reads {
    db: Db,
    pool: Option<AsyncPool>,
    /// the point reads' pipelined connections (none: they take the pool too)
    shared: Option<Shared>,
}

impl Reads {
    /// The handle of the calling worker: a pool of `size` asynchronous connections and
    /// `shared` connections for the point reads when the database allows it, opened on first
    /// use by this worker's runtime.
    pub fn for_worker(db: &Db, size: usize, shared: usize) -> Reads {
        let pool = db.async_pg().and_then(|pg| match pg.pool(size) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::warn!(error = %e, "no asynchronous read pool; reads take the blocking path");
                None
            }
        });
        let shared = match (&pool, db.async_pg()) {
            (Some(_), Some(pg)) if shared > 0 => Some(Shared::new(pg.clone(), shared)),
            _ => None,
        };
        Reads {
            db: db.clone(),
            pool,
            shared,
        }
    }

    async fn conn(pool: &AsyncPool) -> Result<Object<AsyncPgConnection>, ApiError> {
        pool.get().await.map_err(|e| {
            tracing::error!(error = %e, "no database connection");
            unreachable_db()
        })
    }

    /// Runs `f` on one of the shared connections. A read that finds its connection lost is
    /// sent once more on a new one (it changes nothing), so that a database restart costs
    /// the requests in flight at most one reconnection rather than an error each.
    async fn on_shared<T>(
        shared: &Shared,
        f: impl AsyncFn(&AsyncPgConnection) -> QueryResult<T>,
    ) -> Result<T, ApiError> {
        let mut retried = false;
        loop {
            let c = shared.get().await.map_err(|e| {
                tracing::error!(error = %e, "no database connection");
                unreachable_db()
            })?;
            match f(&c).await {
                Err(e) if connection_lost(&e) => {
                    shared.forget(&c).await;
                    if retried {
                        return Err(e.into());
                    }
                    retried = true;
                }
                other => return Ok(other?),
            }
        }
    }

    /// How the reads go: `async` (this worker's pool) or `blocking`.
    pub fn mode(&self) -> &'static str {
        if self.pool.is_some() {
            "async"
        } else {
            "blocking"
        }
    }

    /// Checks that the asynchronous pool reaches the database (readiness).
    pub async fn ping(&self) -> Result<(), ApiError> {
        if let Some(pool) = &self.pool {
            let mut c = Self::conn(pool).await?;
            diesel_async::SimpleAsyncConnection::batch_execute(&mut *c, "SELECT 1")
                .await
                .map_err(|e| ApiError::unavailable(msg!("database check failed: {e}", e = e)))?;
        }
        Ok(())
    }

    /// One application, if the reader may see it.
    pub async fn application(&self, id: SqlUuid, r: Reader) -> Result<Option<ApplicationRow>, ApiError> {
        match (&self.shared, &self.pool) {
            (Some(shared), _) => Self::on_shared(shared, async |c| get(c, id, r).await).await,
            (None, Some(pool)) => Ok(get(&*Self::conn(pool).await?, id, r).await?),
            (None, None) => self.db.run(move |c| Ok(store::get(c, id, r)?)).await,
        }
    }

    /// A person's contact (see [`store::contact`]), on the pipelined connections: a new
    /// application reads it before its write.
    pub async fn contact(&self, id: SqlUuid) -> Result<Option<store::Contact>, ApiError> {
        match (&self.shared, &self.pool) {
            (Some(shared), _) => {
                Self::on_shared(shared, async |mut c| {
                    store::contact_query(id).first(&mut c).await.optional()
                })
                .await
            }
            (None, Some(pool)) => Ok(store::contact_query(id)
                .first(&mut &*Self::conn(pool).await?)
                .await
                .optional()?),
            (None, None) => self.db.run(move |c| Ok(store::contact(c, id)?)).await,
        }
    }

    /// One page of a list (see [`store::list`]). A resident's memberships and the first page
    /// of the lists that read one index range ([`store::quick_list`]: the applicant's own, the
    /// clerks' queues) go on the pipelined connections, as the point reads do; the others take
    /// the pool. Pipelined, the applicant's list reached 7,078 and 7,368 req/s at peak against
    /// 5,461 and 5,475 from the pool (two alternating pairs on one machine; bench/README,
    /// "Pipelined list pages").
    pub async fn applications(
        &self,
        r: Reader,
        f: ListFilter,
        order: Order,
        after: Option<(SqlTime, SqlUuid)>,
        limit: i64,
    ) -> Result<Vec<ApplicationRow>, ApiError> {
        match (&self.shared, &self.pool) {
            (Some(shared), Some(pool)) => {
                let orgs = match r {
                    Reader::Account(acc) => Self::on_shared(shared, async |c| organisations(c, acc).await).await?,
                    _ => Vec::new(),
                };
                if store::quick_list(r, &orgs, &f, order, after.is_some()) {
                    Self::on_shared(shared, async |c| {
                        page(c, r, orgs.clone(), &f, order, after, limit).await
                    })
                    .await
                } else {
                    Ok(page(&*Self::conn(pool).await?, r, orgs, &f, order, after, limit).await?)
                }
            }
            (None, Some(pool)) => {
                let c = Self::conn(pool).await?;
                let orgs = match r {
                    Reader::Account(acc) => organisations(&c, acc).await?,
                    _ => Vec::new(),
                };
                Ok(page(&c, r, orgs, &f, order, after, limit).await?)
            }
            (_, None) => {
                self.db
                    .run(move |c| Ok(store::list(c, r, &f, order, after, limit)?))
                    .await
            }
        }
    }

    /// One page of an application's thread and its read markers, if the reader may see the
    /// application (see [`thread::page`]).
    pub async fn thread(
        &self,
        id: SqlUuid,
        r: Reader,
        after: Option<(SqlTime, SqlUuid)>,
        limit: i64,
    ) -> Result<Option<(Vec<MessageRow>, Vec<ReadRow>)>, ApiError> {
        match (&self.shared, &self.pool) {
            (Some(shared), _) => Self::on_shared(shared, async |c| thread_page(c, id, r, after, limit).await).await,
            (None, Some(pool)) => Ok(thread_page(&*Self::conn(pool).await?, id, r, after, limit).await?),
            (None, None) => {
                self.db
                    .run(move |c| {
                        if store::get(c, id, r)?.is_none() {
                            return Ok(None);
                        }
                        Ok(Some((thread::page(c, id, after, limit)?, thread::markers(c, id)?)))
                    })
                    .await
            }
        }
    }

    /// One page of the event feed and the applications it is about (see [`events::feed`]).
    pub async fn feed(
        &self,
        r: Reader,
        after: i64,
        types: Vec<String>,
        limit: i64,
    ) -> Result<(Vec<EventRow>, Vec<ApplicationRow>), ApiError> {
        match &self.pool {
            Some(pool) => {
                let mut c = Self::conn(pool).await?;
                Ok(feed(&mut c, r, after, types, limit).await?)
            }
            None => self.db.run(move |c| Ok(events::feed(c, r, after, types, limit)?)).await,
        }
    }
}

fn unreachable_db() -> ApiError {
    ApiError::unavailable(msg!("The database is not reachable right now."))
}

async fn get(mut conn: &AsyncPgConnection, id: SqlUuid, r: Reader) -> QueryResult<Option<ApplicationRow>> {
    use super::schema::applications as a;
    let q = a::table.filter(a::id.eq(id)).select(ApplicationRow::as_select());
    for_reader!(q, r, |q| q.first(&mut conn).await.optional())
}

/// The three queries of a thread's page pipelined: sent together, answered in one round trip;
/// the thread of an application the reader may not see is read and dropped.
async fn thread_page(
    conn: &AsyncPgConnection,
    id: SqlUuid,
    r: Reader,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Option<(Vec<MessageRow>, Vec<ReadRow>)>> {
    let (mut c1, mut c2, mut c3) = (conn, conn, conn);
    let visible = async move {
        use super::schema::applications as a;
        let q = a::table.filter(a::id.eq(id)).select(a::id);
        for_reader!(q, r, |q| q.first::<SqlUuid>(&mut c1).await.optional())
    };
    let page = thread_query!(id, thread::thread_start(after), limit).load(&mut c2);
    let marks = markers_query!(id).load(&mut c3);
    let (seen, rows, markers) = futures_util::try_join!(visible, page, marks)?;
    Ok(seen.map(|_| (rows, markers)))
}

async fn organisations(mut conn: &AsyncPgConnection, acc: SqlUuid) -> QueryResult<Vec<SqlUuid>> {
    store::organisations_of(acc).load(&mut conn).await
}

async fn page(
    mut conn: &AsyncPgConnection,
    r: Reader,
    orgs: Vec<SqlUuid>,
    f: &ListFilter,
    order: Order,
    after: Option<(SqlTime, SqlUuid)>,
    limit: i64,
) -> QueryResult<Vec<ApplicationRow>> {
    list_query!(r, orgs, f, order, after).limit(limit).load(&mut conn).await
}

async fn feed(
    conn: &mut AsyncPgConnection,
    r: Reader,
    after: i64,
    types: Vec<String>,
    limit: i64,
) -> QueryResult<(Vec<EventRow>, Vec<ApplicationRow>)> {
    if matches!(r, Reader::Nobody) {
        return Ok((Vec::new(), Vec::new()));
    }
    let orgs: Vec<SqlUuid> = match r {
        Reader::Account(acc) => store::organisations_of(acc).load(conn).await?,
        _ => Vec::new(),
    };
    let rows: Vec<EventRow> = feed_query!(r, orgs.clone(), after, types, limit).load(conn).await?;
    let ids = events::subjects(&rows);
    if ids.is_empty() {
        return Ok((rows, Vec::new()));
    }
    let none: Option<(SqlTime, SqlUuid)> = None;
    let apps = list_query!(r, orgs, &ListFilter::default(), Order::CreatedDesc, none)
        .filter(super::schema::applications::id.eq_any(ids))
        .load(conn)
        .await?;
    Ok((rows, apps))
}
