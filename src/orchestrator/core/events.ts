/** The eight run statuses of Dagster's `DagsterRunStatus` (without MANAGED). */
export const RUN_STATUSES = [
  'NOT_STARTED',
  'QUEUED',
  'STARTING',
  'STARTED',
  'CANCELING',
  'SUCCESS',
  'FAILURE',
  'CANCELED',
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TERMINAL_STATUSES: readonly RunStatus[] = ['SUCCESS', 'FAILURE', 'CANCELED'];
export const IN_PROGRESS_STATUSES: readonly RunStatus[] = ['STARTING', 'STARTED', 'CANCELING'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const EVENT_TYPES = [
  'RUN_ENQUEUED',
  'RUN_STARTING',
  'RUN_START',
  'STEP_START',
  'STEP_OUTPUT',
  'STEP_SUCCESS',
  'STEP_FAILURE',
  'STEP_UP_FOR_RETRY',
  'STEP_RESTARTED',
  'RUN_SUCCESS',
  'RUN_FAILURE',
  'RUN_CANCELING',
  'RUN_CANCELED',
  'ASSET_MATERIALIZATION',
  'LOGS',
  'ENGINE_EVENT',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The status a run-level event moves its run to, as in Dagster's `handle_run_event`. */
export const STATUS_OF_RUN_EVENT: Partial<Record<EventType, RunStatus>> = {
  RUN_ENQUEUED: 'QUEUED',
  RUN_STARTING: 'STARTING',
  RUN_START: 'STARTED',
  RUN_SUCCESS: 'SUCCESS',
  RUN_FAILURE: 'FAILURE',
  RUN_CANCELING: 'CANCELING',
  RUN_CANCELED: 'CANCELED',
};

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Dagster's `RunFailureReason`. */
export type RunFailureReason =
  | 'STEP_FAILURE'
  | 'JOB_INITIALIZATION_FAILURE'
  | 'START_TIMEOUT'
  | 'RUN_WORKER_RESTART'
  | 'RUN_EXCEPTION'
  | 'UNEXPECTED_TERMINATION';

export interface OrchestratorEvent {
  readonly type: EventType;
  readonly level: LogLevel;
  readonly message: string;
  readonly stepKey?: string;
  readonly assetKey?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly timestamp: Date;
}

export function makeEvent(
  type: EventType,
  message: string,
  extra: { stepKey?: string; level?: LogLevel; data?: Record<string, unknown>; assetKey?: string } = {},
): OrchestratorEvent {
  return {
    type,
    level: extra.level ?? (type === 'STEP_FAILURE' || type === 'RUN_FAILURE' ? 'error' : 'info'),
    message,
    timestamp: new Date(),
    ...(extra.stepKey !== undefined ? { stepKey: extra.stepKey } : {}),
    ...(extra.assetKey !== undefined ? { assetKey: extra.assetKey } : {}),
    ...(extra.data !== undefined ? { data: extra.data } : {}),
  };
}
