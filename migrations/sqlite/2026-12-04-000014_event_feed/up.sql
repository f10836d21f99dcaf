-- The event feed (GET /v1/events): each kind of reader scans its own events in position
-- order; the retention purge finds old events by time.
CREATE INDEX events_account_feed_idx ON events (applicant_account, position) WHERE position IS NOT NULL;
CREATE INDEX events_organisation_feed_idx ON events (applicant_organisation, position) WHERE position IS NOT NULL;
CREATE INDEX events_department_feed_idx ON events (department_id, position) WHERE position IS NOT NULL;
CREATE INDEX events_occurred_idx ON events (occurred_at);
