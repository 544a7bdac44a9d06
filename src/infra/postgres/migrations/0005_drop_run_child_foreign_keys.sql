-- Run tags and step outputs are only ever written by statements that create or update their run in the
-- same statement (the launch insert, the shared transition, a re-execution's transaction) or by the
-- worker holding that run, so each row's run exists by construction. Their foreign keys checked it again
-- per row, with a lookup and a FOR KEY SHARE lock on the orch_runs row: a fifth of PostgreSQL's CPU for
-- a one-op run (35 µs of 160–175). Nothing deletes runs, so ON DELETE CASCADE never fired either; an
-- operator who removes runs by hand must remove their tags and outputs too.
ALTER TABLE orch_run_tags DROP CONSTRAINT IF EXISTS orch_run_tags_run_id_fkey;
ALTER TABLE orch_step_outputs DROP CONSTRAINT IF EXISTS orch_step_outputs_run_id_fkey;
