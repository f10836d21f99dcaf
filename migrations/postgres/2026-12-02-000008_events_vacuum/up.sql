-- The events table works like a queue: every event is inserted without a position and updated
-- once by the sequencer, so every event leaves a dead entry in events_unpositioned_idx, and
-- the sequencer's scan (every 100 ms, and in a loop under load) walks over all dead entries
-- until VACUUM removes them. With autovacuum's defaults (a fifth of the table) that is
-- millions of entries on a large table: 718,000 made each pass take 11.6 ms (2,291 buffers)
-- instead of 0.05 ms. Vacuum this table after every few thousand changes instead.
ALTER TABLE events SET (
    autovacuum_vacuum_scale_factor = 0.0,
    autovacuum_vacuum_threshold = 5000,
    autovacuum_vacuum_insert_scale_factor = 0.0,
    autovacuum_vacuum_insert_threshold = 5000,
    autovacuum_analyze_scale_factor = 0.0,
    autovacuum_analyze_threshold = 5000
);
