//! Cross-cutting HTTP concerns, built once for every endpoint.
pub mod compress;
pub mod conditional;
pub mod cpu;
pub mod encoding;
pub mod extract;
pub mod idempotency;
pub mod json_time;
pub mod limits;
pub mod middleware;
pub mod negotiate;
pub mod page;
pub mod pagination;
pub mod public_url;
pub mod ratelimit;
pub mod rendered;
pub mod storable;
pub mod upload;
