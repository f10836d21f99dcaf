//! Applications for services: who may see and move them (`access`), what happens to them
//! (`process`), how they look (`views`).
pub mod access;
pub mod documents;
pub mod process;
pub mod views;

pub use process::Ctx;
