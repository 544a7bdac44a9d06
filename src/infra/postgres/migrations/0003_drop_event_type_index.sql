-- Nothing reads the event log by type alone: runs read their events by run (orch_event_logs_by_run),
-- assets by asset key (orch_event_logs_by_asset), and housekeeping deletes by run. Every event a run
-- writes (seven for a one-op run) still paid an entry in this index.
DROP INDEX IF EXISTS orch_event_logs_by_type;
