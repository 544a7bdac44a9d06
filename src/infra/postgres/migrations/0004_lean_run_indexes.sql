-- A one-op run writes two versions of its orch_runs row and seven events, so every index on those tables
-- is paid for many times per run. These serve the same reads with fewer entries per run.
--
-- Events are only ever read by run (a run's events after a cursor; housekeeping deletes by run), so one
-- index on (run_id, id) serves as the primary key: ids stay unique, and each event writes one entry
-- instead of two.
ALTER TABLE orch_event_logs DROP CONSTRAINT orch_event_logs_pkey;
DROP INDEX orch_event_logs_by_run;
ALTER TABLE orch_event_logs ADD PRIMARY KEY (run_id, id);

-- Runs are looked up by status only while they are in progress (the coordinator's queue, the monitor's
-- stalled runs) or when someone lists the few that failed or were canceled. A run that succeeds leaves
-- both indexes, so its final update writes none of their entries; every other list of runs walks the
-- primary key newest first.
DROP INDEX orch_runs_queue;
DROP INDEX orch_runs_status_updated;
CREATE INDEX orch_runs_active ON orch_runs (status, priority DESC, id)
  WHERE status NOT IN ('SUCCESS', 'FAILURE', 'CANCELED');
CREATE INDEX orch_runs_unsuccessful ON orch_runs (status, id) WHERE status IN ('FAILURE', 'CANCELED');
