-- Orchestrator storage (notes/orchestrator.md §5.3): PostgreSQL is the source of truth for runs, events,
-- step outputs, sensor/schedule state and ticks; Redis only carries work and can be rebuilt from here.

CREATE TABLE orch_runs (
  id                   bigserial PRIMARY KEY,
  run_id               uuid NOT NULL UNIQUE,
  job_name             text NOT NULL,
  status               text NOT NULL CHECK (status IN ('NOT_STARTED', 'QUEUED', 'STARTING', 'STARTED',
                                                        'CANCELING', 'SUCCESS', 'FAILURE', 'CANCELED')),
  run_config           jsonb NOT NULL DEFAULT '{}'::jsonb,
  tags                 jsonb NOT NULL DEFAULT '{}'::jsonb,
  parent_run_id        uuid,
  root_run_id          uuid,
  -- The steps this run executes; NULL means all (re-execution from failure lists the failed ones).
  step_keys_to_execute text[],
  instigator_type      text NOT NULL DEFAULT 'manual'
                       CHECK (instigator_type IN ('manual', 'sensor', 'schedule', 'reexecution')),
  instigator_name      text,
  run_key              text,
  scheduled_time       timestamptz,
  priority             integer NOT NULL DEFAULT 0,
  -- Fencing token: bumped each time the monitor hands the run to a new worker.
  resume_attempts      integer NOT NULL DEFAULT 0,
  worker_id            text,
  heartbeat_at         timestamptz,
  failure_reason       text,
  created_by           text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  start_time           timestamptz,
  end_time             timestamptz
);
-- At most one run per sensor run key, and one per schedule tick, whichever process asks.
CREATE UNIQUE INDEX orch_runs_instigator_run_key ON orch_runs (instigator_name, run_key) WHERE run_key IS NOT NULL;
CREATE UNIQUE INDEX orch_runs_instigator_scheduled_time ON orch_runs (instigator_name, scheduled_time)
  WHERE scheduled_time IS NOT NULL;
CREATE INDEX orch_runs_queue ON orch_runs (status, priority DESC, id);
CREATE INDEX orch_runs_by_job ON orch_runs (job_name, id DESC);
CREATE INDEX orch_runs_status_updated ON orch_runs (status, updated_at);
CREATE INDEX orch_runs_root ON orch_runs (root_run_id) WHERE root_run_id IS NOT NULL;
CREATE INDEX orch_runs_created ON orch_runs (created_at);

CREATE TABLE orch_run_tags (
  run_id uuid NOT NULL REFERENCES orch_runs (run_id) ON DELETE CASCADE,
  key    text NOT NULL,
  value  text NOT NULL,
  PRIMARY KEY (run_id, key)
);
CREATE INDEX orch_run_tags_key_value ON orch_run_tags (key, value);

CREATE TABLE orch_event_logs (
  id         bigserial PRIMARY KEY,
  run_id     uuid NOT NULL,
  event_type text NOT NULL CHECK (event_type IN ('RUN_ENQUEUED', 'RUN_STARTING', 'RUN_START', 'STEP_START',
                                                 'STEP_OUTPUT', 'STEP_SUCCESS', 'STEP_FAILURE',
                                                 'STEP_UP_FOR_RETRY', 'STEP_RESTARTED', 'RUN_SUCCESS',
                                                 'RUN_FAILURE', 'RUN_CANCELING', 'RUN_CANCELED',
                                                 'ASSET_MATERIALIZATION', 'LOGS', 'ENGINE_EVENT')),
  step_key   text,
  level      text NOT NULL DEFAULT 'info' CHECK (level IN ('debug', 'info', 'warning', 'error')),
  message    text NOT NULL,
  data       jsonb,
  asset_key  text,
  ts         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orch_event_logs_by_run ON orch_event_logs (run_id, id);
CREATE INDEX orch_event_logs_by_type ON orch_event_logs (event_type, id);
CREATE INDEX orch_event_logs_by_asset ON orch_event_logs (asset_key, event_type, id) WHERE asset_key IS NOT NULL;

-- Step outputs as JSONB, so a resumed run or a re-execution from failure reuses what already succeeded.
CREATE TABLE orch_step_outputs (
  run_id        uuid NOT NULL REFERENCES orch_runs (run_id) ON DELETE CASCADE,
  step_key      text NOT NULL,
  output_name   text NOT NULL,
  value         jsonb,
  -- The run that computed the value when it was reused from a parent run.
  source_run_id uuid,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (run_id, step_key, output_name)
);

CREATE TABLE orch_instigators (
  name                text PRIMARY KEY,
  type                text NOT NULL CHECK (type IN ('sensor', 'schedule')),
  status              text NOT NULL CHECK (status IN ('RUNNING', 'STOPPED')),
  cursor              text,
  last_run_key        text,
  last_tick_start     timestamptz,
  last_tick_end       timestamptz,
  last_scheduled_time timestamptz,
  min_interval_ms     integer,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orch_ticks (
  id              bigserial PRIMARY KEY,
  instigator_name text NOT NULL REFERENCES orch_instigators (name) ON DELETE CASCADE,
  instigator_type text NOT NULL CHECK (instigator_type IN ('sensor', 'schedule')),
  status          text NOT NULL CHECK (status IN ('STARTED', 'SKIPPED', 'SUCCESS', 'FAILURE')),
  started_at      timestamptz NOT NULL DEFAULT now(),
  ended_at        timestamptz,
  cursor_before   text,
  cursor_after    text,
  run_ids         uuid[] NOT NULL DEFAULT '{}',
  run_keys        text[] NOT NULL DEFAULT '{}',
  scheduled_times timestamptz[] NOT NULL DEFAULT '{}',
  skip_reason     text,
  error           jsonb,
  logs            jsonb
);
CREATE INDEX orch_ticks_by_instigator ON orch_ticks (instigator_name, id DESC);
CREATE INDEX orch_ticks_by_status ON orch_ticks (instigator_name, status, started_at);

-- Side effects on Redis decided in a transaction; relayed after commit and re-relayed by the monitor.
CREATE TABLE orch_outbox (
  id            bigserial PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('execute-run', 'cancel-run')),
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  dispatched_at timestamptz
);
CREATE INDEX orch_outbox_pending ON orch_outbox (id) WHERE dispatched_at IS NULL;
