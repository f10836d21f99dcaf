//! Applications for services: who may see and move them (`access`), what happens to them
//! (`process`) and what each change records (`records`), how they look (`views`).
pub mod access;
pub mod documents;
pub mod invoices;
pub mod list;
pub mod messages;
pub mod notify;
pub mod process;
pub mod records;
pub mod retention;
pub mod version;
pub mod views;

/// The row and the connection the layer's functions take and give; handlers name them
/// through here, never through `crate::db`.
pub use crate::db::applications::{ApplicationRow, Contact};
pub use crate::db::reads::Reads;
pub use crate::db::DbConnection;
pub use process::Ctx;
