//! The catalogue's application layer: the in-process snapshot of the published catalogue
//! that every public read is served from, and import/export of catalogue files.
pub mod admin;
pub mod cache;
pub mod import;
pub mod query;
pub mod snapshot;
pub mod views;

pub use cache::CatalogueCache;
pub use snapshot::{Render, Snapshot};
