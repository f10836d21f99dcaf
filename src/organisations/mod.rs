//! Organisations (businesses by Swiss UID), their members and API clients: who may see and
//! manage them (`access`), what happens to them (`process`, each change in one transaction
//! with its audit entry), how they look (`views`). The rules without I/O are in
//! `crate::domain::organisation`.
pub mod access;
pub mod process;
pub mod views;

pub use process::Ctx;

use crate::auth::Caller;
use crate::db::{Db, DbConnection};
use crate::error::ApiError;

/// Runs a change of this layer in one write transaction, for a person or an administrator
/// (a partner client gets 403 before anything is read): the one way the handlers change
/// organisations, their members and clients.
pub async fn change<T, F>(db: &Db, ctx: Ctx, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, &Ctx) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    access::require_person_or_admin(&ctx.caller)?;
    db.write(move |conn| f(conn, &ctx)).await
}

/// Runs a read of this layer, for a person or an administrator (403 for a partner client).
pub async fn read<T, F>(db: &Db, caller: &Caller, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection, &Caller) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    access::require_person_or_admin(caller)?;
    let caller = caller.clone();
    db.run(move |conn| f(conn, &caller)).await
}
