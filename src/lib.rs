//! guichet: a headless e-government API.
//!
//! Layers, outermost first:
//! - [`api`]: HTTP handlers, one module per resource (thin: parse, call, render).
//! - [`http`]: cross-cutting HTTP concerns (problem details, request ids, language, pagination).
//! - [`catalogue`]: the application layer of the service catalogue (snapshot cache, import/export).
//! - [`applications`], [`organisations`]: application layers (`access`, `process`, `views`).
//! - [`audit`]: who a change is recorded against.
//! - [`domain`]: types with `parse` constructors and rules, no I/O.
//! - [`db`]: diesel schema, models and queries, one code base for SQLite and PostgreSQL.
pub mod accounts;
pub mod admin;
pub mod api;
pub mod app;
pub mod applications;
pub mod audit;
pub mod audit_log;
pub mod auth;
pub mod catalogue;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod invoices;
pub mod json;
pub mod mail;
pub mod oauth;
pub mod operations;
pub mod organisations;
pub mod payments;
pub mod print;
pub mod sched;
pub mod storage;
pub mod telemetry;
pub mod webhooks;

pub use app::{build, Application};
pub use config::Config;
