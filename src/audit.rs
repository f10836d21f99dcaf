//! Who a change is recorded against in the audit log (`Actor`, `Origin`): used by every layer
//! that changes data. Reading the log is `crate::audit_log`.
use diesel::QueryResult;

use crate::auth::Caller;
use crate::db::audit::{self, AuditEntry};
use crate::db::DbConnection;

/// Where a request comes from (for a change by no one signed in, the whole of its actor).
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Origin {
    /// An audit entry of an action by `actor_kind` (`anonymous`, or the account acting
    /// without a token, e.g. through a link sent by mail), from this origin.
    pub fn entry(&self, action: &str, actor_kind: &str, actor_id: Option<String>) -> AuditEntry {
        AuditEntry::new(action, actor_kind, actor_id).from(self.ip.clone(), self.request_id.clone())
    }
}

/// Where a change comes from, for the audit log.
#[derive(Debug, Clone)]
pub struct Actor {
    pub kind: &'static str,
    pub id: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Actor {
    pub fn of(caller: &Caller, ip: Option<String>, request_id: Option<String>) -> Actor {
        Actor {
            kind: caller.kind.as_str(),
            id: caller.subject.clone(),
            ip,
            request_id,
        }
    }

    /// guichet itself, acting on a rule (disabling a webhook endpoint whose deliveries failed
    /// for days).
    pub fn system() -> Actor {
        Actor {
            kind: "system",
            id: "guichet".into(),
            ip: None,
            request_id: None,
        }
    }

    /// The operator running a `guichet` command (by login name, when the shell tells it).
    pub fn operator() -> Actor {
        Actor {
            kind: "operator",
            id: std::env::var("USER").unwrap_or_else(|_| "operator".into()),
            ip: None,
            request_id: None,
        }
    }

    /// An audit entry of this actor about a target.
    pub(crate) fn entry(&self, action: &str, target: &str, id: String) -> AuditEntry {
        AuditEntry::new(action, self.kind, Some(self.id.clone()))
            .target(target, id)
            .from(self.ip.clone(), self.request_id.clone())
    }

    pub(crate) fn audit(
        &self,
        conn: &mut DbConnection,
        action: &str,
        target: &str,
        id: String,
        details: serde_json::Value,
    ) -> QueryResult<()> {
        audit::record(conn, &self.entry(action, target, id).details(details))
    }
}
