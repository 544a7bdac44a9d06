-- Every orchestrator timestamp is kept at millisecond precision, the precision of a JavaScript Date.
-- A value read back into the hub then compares equal to what is stored, so a compare-and-set on a
-- timestamp (a schedule's last_scheduled_time, written by now() at first boot or on :start) matches;
-- with microseconds it never did, and every schedule tick was discarded as a lost race.
ALTER TABLE orch_runs
  ALTER COLUMN scheduled_time TYPE timestamptz(3),
  ALTER COLUMN heartbeat_at TYPE timestamptz(3),
  ALTER COLUMN created_at TYPE timestamptz(3),
  ALTER COLUMN updated_at TYPE timestamptz(3),
  ALTER COLUMN start_time TYPE timestamptz(3),
  ALTER COLUMN end_time TYPE timestamptz(3);

ALTER TABLE orch_event_logs ALTER COLUMN ts TYPE timestamptz(3);

ALTER TABLE orch_step_outputs ALTER COLUMN created_at TYPE timestamptz(3);

ALTER TABLE orch_instigators
  ALTER COLUMN last_tick_start TYPE timestamptz(3),
  ALTER COLUMN last_tick_end TYPE timestamptz(3),
  ALTER COLUMN last_scheduled_time TYPE timestamptz(3),
  ALTER COLUMN created_at TYPE timestamptz(3),
  ALTER COLUMN updated_at TYPE timestamptz(3);

ALTER TABLE orch_ticks
  ALTER COLUMN started_at TYPE timestamptz(3),
  ALTER COLUMN ended_at TYPE timestamptz(3),
  ALTER COLUMN scheduled_times TYPE timestamptz(3)[];

ALTER TABLE orch_outbox
  ALTER COLUMN created_at TYPE timestamptz(3),
  ALTER COLUMN dispatched_at TYPE timestamptz(3);
