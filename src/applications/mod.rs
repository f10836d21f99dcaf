//! Applications for services: who may see and move them (`access`), what happens to them
//! (`process`) and what each change records (`records`), how they look (`views`).
pub mod access;
pub mod documents;
pub mod process;
pub mod records;
pub mod views;

pub use process::Ctx;
