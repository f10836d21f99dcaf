//! Scheduled jobs that one instance at a time runs (the daily retention run): a row per job
//! with when it is next due and who holds it. Taking the lease is one conditional UPDATE, so
//! two instances (or an instance and the command line) never run a job at once; a lease that
//! ran out (a killed process) is taken over by the next one to look.
use diesel::prelude::*;

use super::schema::jobs as j;
use super::types::SqlTime;
use super::DbConnection;

/// Takes the lease of `job` until `until` for `owner` if nobody holds it, and (with
/// `due_only`) if the job is due; true when taken.
pub fn claim(
    conn: &mut DbConnection,
    job: &str,
    owner: &str,
    now: SqlTime,
    until: SqlTime,
    due_only: bool,
) -> QueryResult<bool> {
    let free = j::table
        .filter(j::name.eq(job))
        .filter(j::lease_until.is_null().or(j::lease_until.lt(now)));
    let n = if due_only {
        diesel::update(free.filter(j::next_run_at.le(now)))
            .set((j::lease_until.eq(until), j::lease_owner.eq(owner)))
            .execute(conn)?
    } else {
        diesel::update(free)
            .set((j::lease_until.eq(until), j::lease_owner.eq(owner)))
            .execute(conn)?
    };
    Ok(n == 1)
}

/// Extends a lease this owner holds; false when it was lost (taken over after running out).
pub fn renew(conn: &mut DbConnection, job: &str, owner: &str, until: SqlTime) -> QueryResult<bool> {
    let n = diesel::update(j::table.filter(j::name.eq(job)).filter(j::lease_owner.eq(owner)))
        .set(j::lease_until.eq(until))
        .execute(conn)?;
    Ok(n == 1)
}

/// Gives the lease back; after a run (`ran_at`), the job is next due at `next`.
pub fn release(
    conn: &mut DbConnection,
    job: &str,
    owner: &str,
    ran_at: Option<SqlTime>,
    next: Option<SqlTime>,
) -> QueryResult<()> {
    let mine = j::table.filter(j::name.eq(job)).filter(j::lease_owner.eq(owner));
    diesel::update(mine)
        .set((j::lease_until.eq(None::<SqlTime>), j::lease_owner.eq(None::<String>)))
        .execute(conn)?;
    if let Some(at) = ran_at {
        diesel::update(j::table.filter(j::name.eq(job)))
            .set(j::last_run_at.eq(at))
            .execute(conn)?;
    }
    if let Some(next) = next {
        diesel::update(j::table.filter(j::name.eq(job)))
            .set(j::next_run_at.eq(next))
            .execute(conn)?;
    }
    Ok(())
}
