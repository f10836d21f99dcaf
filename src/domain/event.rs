//! The domain events partners read (`GET /v1/events`): their types, and which of them only
//! staff see. No I/O.

/// Every type of event about an application, in the order of an application's life.
pub const APPLICATION_EVENTS: [&str; 7] = [
    "application.created",
    "application.submitted",
    "application.status_changed",
    "application.withdrawn",
    "application.assigned",
    "application.document_added",
    "application.document_removed",
];

/// Whether `t` is a type of event the feed knows.
pub fn is_type(t: &str) -> bool {
    APPLICATION_EVENTS.contains(&t)
}

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
        assert!(!super::is_type("application.deleted"));
        let staff: Vec<_> = super::APPLICATION_EVENTS
            .iter()
            .filter(|t| super::staff_only(t))
            .collect();
        assert_eq!(staff, [&"application.assigned"]);
    }
}
