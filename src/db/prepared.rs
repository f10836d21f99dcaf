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
//! The binds go with the type left to PostgreSQL (type oid 0, as libpq allows): it infers each
//! parameter's type from its place (a column of the insert, a comparison of the update), and
//! those are the types diesel wrote the bytes for. That needs the bind collector's bytes, which
//! diesel opens with its `i-implement-a-third-party-backend-and-opt-into-breaking-changes`
//! feature (Cargo.lock pins the version; only this module uses it).
use std::io::Write;

use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::bind_collector::RawBytesBindCollector;
use diesel::query_builder::{AstPass, QueryBuilder, QueryFragment, QueryId};
use diesel::serialize::{IsNull, Output, ToSql};
use diesel::sql_types::SqlType;
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// A bind whose type PostgreSQL infers (see the module's note).
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 0, array_oid = 0))]
pub struct Inferred;

/// A bind's bytes as diesel wrote them (`None`: NULL).
#[derive(Debug)]
struct Bytes(Option<Vec<u8>>);

impl ToSql<Inferred, Pg> for Bytes {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        match &self.0 {
            Some(b) => {
                out.write_all(b)?;
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }
}

/// A statement rendered once, run as a prepared statement cached by its text (see the
/// module's note).
pub struct Prepared {
    /// The text between the binds: one more than there are binds.
    text: Vec<String>,
    binds: Vec<Bytes>,
}

impl Prepared {
    /// Renders `q` for `conn` (which resolves the binds' types, as running it would).
    pub fn new<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q) -> QueryResult<Prepared> {
        let mut sql = PgQueryBuilder::default();
        q.to_sql(&mut sql, &Pg)?;
        let sql = sql.finish();
        let mut collector = RawBytesBindCollector::<Pg>::new();
        q.collect_binds(&mut collector, conn, &Pg)?;
        let binds: Vec<Bytes> = collector.binds.into_iter().map(Bytes).collect();
        let text = split_at_binds(&sql, binds.len()).ok_or_else(|| {
            diesel::result::Error::QueryBuilderError("a prepared statement's text does not number its binds".into())
        })?;
        Ok(Prepared { text, binds })
    }

    /// Renders `q` and runs it; the rows it touched.
    pub fn execute<Q: QueryFragment<Pg>>(conn: &mut PgConnection, q: &Q) -> QueryResult<usize> {
        Prepared::new(conn, q)?.execute_on(conn)
    }

    fn execute_on(self, conn: &mut PgConnection) -> QueryResult<usize> {
        RunQueryDsl::execute(self, conn)
    }
}

/// The text of `sql` between its bind placeholders `$1` to `$n`, which must come in order
/// (diesel numbers them as it writes them). One pass over the text: a records statement has
/// some hundred binds in a few kilobytes, and searching the text once per bind cost a tenth
/// of create-and-submit's instructions.
fn split_at_binds(sql: &str, n: usize) -> Option<Vec<String>> {
    let bytes = sql.as_bytes();
    let mut text = Vec::with_capacity(n + 1);
    let (mut start, mut from, mut k) = (0, 0, 1);
    while k <= n {
        let at = from + sql[from..].find('$')?;
        let digits = bytes[at + 1..].iter().take_while(|b| b.is_ascii_digit()).count();
        let end = at + 1 + digits;
        // the placeholder `$k` itself, not `$12` when `$1` is due, nor a `$` without a number
        if digits > 0 && sql[at + 1..end].parse::<usize>().ok() == Some(k) {
            text.push(sql[start..at].to_string());
            start = end;
            k += 1;
        }
        from = end;
    }
    text.push(sql[start..].to_string());
    Some(text)
}

impl QueryFragment<Pg> for Prepared {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (i, part) in self.text.iter().enumerate() {
            out.push_sql(part);
            if let Some(b) = self.binds.get(i) {
                out.push_bind_param::<Inferred, _>(b)?;
            }
        }
        Ok(())
    }
}

impl QueryId for Prepared {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl RunQueryDsl<PgConnection> for Prepared {}

#[cfg(test)]
mod tests {
    use super::split_at_binds;

    #[test]
    fn the_text_is_split_at_each_numbered_bind_in_turn() {
        let sql = "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8), ($9, $10), ($11, $12)";
        let parts = split_at_binds(sql, 12).unwrap();
        assert_eq!(parts.len(), 13);
        assert_eq!(parts[0], "INSERT INTO t (a, b) VALUES (");
        assert_eq!(parts[1], ", ");
        assert_eq!(parts[9], ", ");
        assert_eq!(parts[10], "), (");
        assert_eq!(parts[12], ")");
        let rebuilt: String = parts
            .iter()
            .enumerate()
            .map(|(i, p)| if i == 0 { p.clone() } else { format!("${i}{p}") })
            .collect();
        assert_eq!(rebuilt, sql);
        // fewer placeholders than binds: refused, not guessed
        assert!(split_at_binds("SELECT $1", 2).is_none());
        // a longer number is not the placeholder due, and a bare `$` is text
        assert_eq!(
            split_at_binds("a $12 b $ c $1 d", 1).unwrap(),
            vec!["a $12 b $ c ", " d"]
        );
        assert_eq!(split_at_binds("no binds", 0).unwrap(), vec!["no binds"]);
    }
}
