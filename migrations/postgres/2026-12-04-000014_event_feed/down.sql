DROP INDEX events_account_feed_idx;
DROP INDEX events_organisation_feed_idx;
DROP INDEX events_department_feed_idx;
DROP INDEX events_occurred_idx;
