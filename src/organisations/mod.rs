//! Organisations (businesses by Swiss UID), their members and API clients: who may see and
//! manage them (`access`), what happens to them (`process`, each change in one transaction
//! with its audit entry), how they look (`views`). The rules without I/O are in
//! `crate::domain::organisation`.
pub mod access;
pub mod process;
pub mod views;

pub use process::Ctx;
