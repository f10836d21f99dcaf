//! Webhook endpoints and the delivery of events to them (Standard Webhooks): who manages
//! which endpoints (`access`), the changes (`process`), the answers (`views`), the network
//! rules and requests (`net`), and the dispatcher every instance runs (`dispatch`). The rules
//! without I/O are in `crate::domain::webhook`.
pub mod access;
pub mod dispatch;
pub mod net;
pub mod process;
pub mod views;

pub use crate::db::webhooks::EndpointRow;
pub use process::Ctx;
