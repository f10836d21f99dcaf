//! Prepared statements for the write path on PostgreSQL.
//!
//! diesel sends every PostgreSQL `INSERT` and `UPDATE` unprepared: an insert's value may be
//! `DEFAULT`, a batch insert's row count varies, an update's changeset may skip a field, so
//! they all mark themselves unsafe to cache, and PostgreSQL parses, analyses and plans them
//! anew on every execution. pgbench running create-and-submit's statements that way
//! (`-M extended`) reaches 1,340 transactions/s on 2 cores, against 2,330 prepared
//! (2026-12-06, bench/README "Where the time goes").
//!
//! diesel's statement cache keys a statement without a static query id by its SQL text and
//! bind types, and an insert's or update's text determines it completely (`DEFAULT` or a
//! skipped field changes the text), so caching it by text is safe, provided the number of
//! different texts stays small: the cache keeps every statement of a connection for its life,
//! and so does PostgreSQL. [`Prepared`] renders a statement once, its text and its binds'
//! bytes, and hands diesel that rendering, which claims nothing about caching: so it is
//! prepared on a connection's first run and reused after. Use it only where the shapes are
//! few (one row, or a bounded number of rows).
//!
//! The statement is rendered once: its text, with diesel's numbered placeholders, and its
//! binds' bytes with their types, as diesel's bind collector wrote them. diesel then runs that
//! rendering, pushing the text whole and the collected binds as they are (the
//! `i-implement-a-third-party-backend-and-opt-into-breaking-changes` feature opens the two
//! calls of diesel's AST pass this needs; Cargo.lock pins the version; only this module uses
//! it). Running it renders the text a second time, for the statement cache's key, which is a
//! copy of one string.
//!
//! Rendering the text is a large part of the rendering's cost: an identifier quoted and a
//! placeholder numbered for every column of every row (about 7 % of a create-and-submit's
//! instructions, of the 17.8 % that rendering its records statement took; bench/results/
//! 2026-12-18-instructions.txt).
//! [`Prepared::shaped`] renders it once per *shape*: a key, named by the caller, that determines
//! the text completely (for the records statement: which parts it has and how many rows each).
//! That holds only where nothing else changes the text: the rows' `Insertable` structs bind
//! `None` as NULL (`treat_none_as_default_value = false`) instead of rendering `DEFAULT`. Debug
//! builds (the tests) render the text anyway and fail the statement when it differs from the
//! one kept for its shape; that catches a key that misses something only where a test writes two statements
//! of the same shape with different texts, so a new key must be derived with care.
use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{AstPass, QueryBuilder, QueryFragment, QueryId};
use diesel::{PgConnection, QueryResult, RunQueryDsl};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};

/// A statement rendered once, run as a prepared statement cached by its text (see the
/// module's note).
pub struct Prepared {
    /// The text, its binds numbered `$1` to `$n` in order.
    sql: Arc<str>,
    binds: RawBytesBindCollector<Pg>,
}

impl Prepared {
    /// Renders `q` for `conn` (which resolves the binds' types, as running it would).
    pub fn new<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q) -> QueryResult<Prepared> {
        let sql = Arc::from(text(q)?);
        Prepared::with_text(conn, q, sql)
    }

    /// Like [`Prepared::new`], with the text rendered for the first statement of the same
    /// `shape` (see the module's note: the shape must determine the text).
    pub fn shaped<Q: QueryFragment<Pg>>(conn: &mut PgConnection, shape: Shape, q: &Q) -> QueryResult<Prepared> {
        let kept = TEXTS
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&shape)
            .cloned();
        let sql = match kept {
            Some(sql) => {
                // a key that misses something is a bug: debug builds (the tests) fail the
                // statement, without a panic, rather than run a text with other binds
                if cfg!(debug_assertions) && *text(q)? != *sql {
                    return Err(diesel::result::Error::QueryBuilderError(
                        format!("two statements of shape {shape:?} have different texts").into(),
                    ));
                }
                sql
            }
            None => {
                let sql: Arc<str> = Arc::from(text(q)?);
                let mut texts = TEXTS.lock().unwrap_or_else(PoisonError::into_inner);
                if texts.len() < MAX_SHAPES {
                    texts.insert(shape, sql.clone());
                }
                sql
            }
        };
        Prepared::with_text(conn, q, sql)
    }

    fn with_text<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q, sql: Arc<str>) -> QueryResult<Prepared> {
        let mut binds = RawBytesBindCollector::<Pg>::new();
        q.collect_binds(&mut binds, conn, &Pg)?;
        Ok(Prepared { sql, binds })
    }

    /// Renders `q` and runs it; the rows it touched.
    pub fn execute<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q) -> QueryResult<usize> {
        RunQueryDsl::execute(Prepared::new(conn, q)?, conn)
    }

    /// [`Prepared::shaped`], run; the rows it touched.
    pub fn execute_shaped<Q: QueryFragment<Pg>>(conn: &mut PgConnection, shape: Shape, q: &Q) -> QueryResult<usize> {
        RunQueryDsl::execute(Prepared::shaped(conn, shape, q)?, conn)
    }
}

/// What determines a statement's text: the statement's name and a key its caller derives
/// from what varies (see [`Prepared::shaped`]).
pub type Shape = (&'static str, [u8; 8]);

/// The texts of the shapes seen, for the process's life: each is a few kilobytes, and the
/// shapes are few (the records statement's parts have at most a handful of rows each, see
/// `db::records`). Past [`MAX_SHAPES`] a new shape's text is rendered every time.
static TEXTS: LazyLock<Mutex<HashMap<Shape, Arc<str>>>> = LazyLock::new(Default::default);
const MAX_SHAPES: usize = 256;

fn text<Q: QueryFragment<Pg>>(q: &Q) -> QueryResult<String> {
    let mut sql = PgQueryBuilder::default();
    q.to_sql(&mut sql, &Pg)?;
    Ok(sql.finish())
}

impl QueryFragment<Pg> for Prepared {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // the text already holds the placeholders; the binds go after it, in their order
        out.push_sql(&self.sql);
        out.push_bind_collector_data(&self.binds)
    }
}

impl QueryId for Prepared {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl RunQueryDsl<PgConnection> for Prepared {}
