//! guichet's integration tests: one binary (one link, one process whose tests run in
//! parallel), a module per resource, each test against a real guichet over HTTP on a real
//! database (`common`: a migrated and seeded template database per backend, copied per test).
//! `scripts/test` runs it on SQLite and on PostgreSQL.
mod common;

mod accounts;
mod applications;
mod auth;
mod authorization;
mod back_office;
mod billing;
mod catalogue;
mod catalogue_admin;
mod cli;
mod decisions;
mod documents;
mod events;
mod http;
mod input;
mod languages;
mod logs;
mod mail;
mod messages;
mod notifications;
mod organisations;
mod payments;
mod requests;
mod retention;
mod webhooks;
