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
use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{AstPass, QueryBuilder, QueryFragment, QueryId};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// A statement rendered once, run as a prepared statement cached by its text (see the
/// module's note).
pub struct Prepared {
    /// The text, its binds numbered `$1` to `$n` in order.
    sql: String,
    binds: RawBytesBindCollector<Pg>,
}

impl Prepared {
    /// Renders `q` for `conn` (which resolves the binds' types, as running it would).
    pub fn new<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q) -> QueryResult<Prepared> {
        let mut sql = PgQueryBuilder::default();
        q.to_sql(&mut sql, &Pg)?;
        let mut binds = RawBytesBindCollector::<Pg>::new();
        q.collect_binds(&mut binds, conn, &Pg)?;
        Ok(Prepared {
            sql: sql.finish(),
            binds,
        })
    }

    /// Renders `q` and runs it; the rows it touched.
    pub fn execute<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q) -> QueryResult<usize> {
        RunQueryDsl::execute(Prepared::new(conn, q)?, conn)
    }
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
