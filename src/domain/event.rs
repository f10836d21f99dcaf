//! The domain events partners read (`GET /v1/events`): their types, and which of them only
//! staff see. No I/O.

/// Every type of event about an application, in the order of an application's life.
pub const APPLICATION_EVENTS: [&str; 11] = [
    "application.created",
    "application.submitted",
    "application.status_changed",
    "application.withdrawn",
    "application.assigned",
    "application.document_added",
    "application.document_removed",
    "application.message_posted",
    "application.invoice_issued",
    "application.invoice_adjusted",
    "application.payment_received",
];

/// Events about a webhook endpoint, seen by its owner.
pub const ENDPOINT_EVENTS: [&str; 1] = ["webhook_endpoint.disabled"];

/// Every type of event of the feed and of webhooks.
pub const ALL_TYPES: [&str; 12] = [
    APPLICATION_EVENTS[0],
    APPLICATION_EVENTS[1],
    APPLICATION_EVENTS[2],
    APPLICATION_EVENTS[3],
    APPLICATION_EVENTS[4],
    APPLICATION_EVENTS[5],
    APPLICATION_EVENTS[6],
    APPLICATION_EVENTS[7],
    APPLICATION_EVENTS[8],
    APPLICATION_EVENTS[9],
    APPLICATION_EVENTS[10],
    ENDPOINT_EVENTS[0],
];

/// Whether `t` is a type of event the feed knows.
pub fn is_type(t: &str) -> bool {
    ALL_TYPES.contains(&t)
}

/// The type of a test delivery (`POST /v1/webhook-endpoints/{id}/test`); not an event of
/// the feed.
pub const PING: &str = "ping";

/// Events only the city's side sees: who works on an application is the city's business (as
/// in the application's history).
pub fn staff_only(t: &str) -> bool {
    t == "application.assigned"
}

/// The longest `wait` of a long poll, in seconds.
pub const MAX_WAIT_SECS: u64 = 30;

#[cfg(test)]
mod tests {
    #[test]
    fn types_are_known_and_assignment_is_for_staff() {
        assert!(super::APPLICATION_EVENTS.iter().all(|t| super::is_type(t)));
        assert!(super::ENDPOINT_EVENTS.iter().all(|t| super::is_type(t)));
        assert_eq!(
            super::ALL_TYPES.len(),
            super::APPLICATION_EVENTS.len() + super::ENDPOINT_EVENTS.len()
        );
        assert!(!super::is_type(super::PING));
        assert!(!super::is_type("application.deleted"));
        let staff: Vec<_> = super::APPLICATION_EVENTS
            .iter()
            .filter(|t| super::staff_only(t))
            .collect();
        assert_eq!(staff, [&"application.assigned"]);
    }
}
