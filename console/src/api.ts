/** The console's only way to the hub: the public REST API, with the bearer token of the signed-in user. */

const TOKEN_KEY = 'runtime-hub.console.token';
const USER_KEY = 'runtime-hub.console.user';

type Listener = () => void;
const listeners = new Set<Listener>();

export const session = {
  get token(): string | null {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  get username(): string | null {
    return sessionStorage.getItem(USER_KEY);
  },
  set(token: string, username: string): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    sessionStorage.setItem(USER_KEY, username);
    listeners.forEach((l) => l());
  },
  clear(): void {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    listeners.forEach((l) => l());
  },
  subscribe(listener: Listener): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export interface FieldError {
  path: string;
  message: string;
  row?: number;
  id?: string;
}

/** An API answer other than 2xx, carrying the problem+json (or DRS error) the hub sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly errors: FieldError[] = [],
    readonly body?: unknown,
  ) {
    super(message);
  }
}

async function errorOf(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // Not JSON: the status line is all there is to say.
  }
  const message =
    (typeof body.detail === 'string' && body.detail) ||
    (typeof body.msg === 'string' && body.msg) ||
    (typeof body.title === 'string' && body.title) ||
    `${res.status} ${res.statusText}`;
  const errors = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
  return new ApiError(
    res.status,
    message,
    typeof body.code === 'string' ? body.code : undefined,
    errors,
    body,
  );
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  raw?: BodyInit;
  contentType?: string;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = session.token;
  if (token) {
    headers.authorization = `Bearer ${token}`;
  }
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.contentType) {
    headers['content-type'] = options.contentType;
  }
  const res = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (res.status === 401 && token) {
    // The token expired or was revoked elsewhere: sign in again.
    session.clear();
  }
  if (!res.ok) {
    throw await errorOf(res);
  }
  if (res.status === 204) {
    return undefined as T;
  }
  return (await res.json()) as T;
}

export async function login(username: string, password: string): Promise<void> {
  const res = await fetch('/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ grant_type: 'password', username, password }),
  });
  if (!res.ok) {
    throw await errorOf(res);
  }
  const { access_token } = (await res.json()) as { access_token: string };
  session.set(access_token, username);
}

export async function logout(): Promise<void> {
  try {
    await api('/token:revoke', { method: 'POST' });
  } finally {
    session.clear();
  }
}

export function query(params: Record<string, string | number | undefined | string[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) {
      value.forEach((v) => search.append(key, v));
    } else if (value !== undefined && value !== '') {
      search.set(key, String(value));
    }
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ---- the shapes the console reads (a subset of openapi.json) ----------------------------------------

export interface Page<T> {
  resources: T[];
  next_page_token?: string;
}

export interface Run {
  runId: string;
  jobName: string;
  status: string;
  runConfig: Record<string, unknown>;
  tags: Record<string, string>;
  parentRunId?: string;
  rootRunId?: string;
  stepKeysToExecute?: string[];
  instigatorType: string;
  instigatorName?: string;
  runKey?: string;
  failureReason?: string;
  createdBy?: string;
  createdAt: string;
  updatedAt: string;
  startTime?: string;
  endTime?: string;
}

export interface RunEvent {
  id: number;
  runId: string;
  type: string;
  stepKey?: string;
  level: string;
  message: string;
  data?: Record<string, unknown>;
  timestamp: string;
}

export interface GraphNode {
  name: string;
  op: string;
  description?: string;
  inputs: { name: string; sources: { node: string; output: string }[] }[];
  outputs: { name: string }[];
  configSchema?: Record<string, unknown>;
  retryPolicy?: { maxRetries: number };
}

export interface Job {
  name: string;
  description?: string;
  tags: Record<string, string>;
  resources: { key: string; description?: string; configSchema?: Record<string, unknown> }[];
  graph: {
    name: string;
    nodes: GraphNode[];
    edges: { from: { node: string; output: string }; to: { node: string; input: string } }[];
  };
}

export interface Tick {
  id: number;
  status: string;
  startedAt: string;
  endedAt?: string;
  cursorBefore?: string;
  cursorAfter?: string;
  runIds: string[];
  runKeys: string[];
  skipReason?: string;
  error?: Record<string, unknown>;
}

export interface Sensor {
  name: string;
  description?: string;
  jobNames: string[];
  minimumIntervalSeconds: number;
  status: string;
  cursor?: string;
  lastTickStart?: string;
  lastTickEnd?: string;
  lastTicks: Tick[];
}

export interface Schedule {
  name: string;
  description?: string;
  jobName: string;
  cron: string;
  timezone: string;
  status: string;
  nextScheduledTime?: string;
  lastScheduledTime?: string;
  lastTickStart?: string;
  lastTicks: Tick[];
}

export interface PatchOp {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

export interface ChangesheetSummary {
  object_id: string;
  name?: string;
  status: string;
  submitted_by: string;
  submitted_at: string;
  applied_at?: string;
  reverted_at?: string;
  documents: number;
  error?: { code: string; message: string };
}

export interface ChangesheetStatus {
  object_id: string;
  status: string;
  submitted_by: string;
  submitted_at: string;
  applied_at?: string;
  reverted_at?: string;
  run: { run_id: string; status: string } | null;
  job: { id: string; status: string } | null;
  error?: { code: string; message: string };
  changes: {
    id: string;
    collection: string;
    patch: PatchOp[];
    rows: number[];
    before?: Record<string, unknown>;
    after?: Record<string, unknown>;
  }[];
}

export interface Claim {
  op_id: string;
  site_id: string;
  claimed_at: string;
  expire_time: string;
  state: string;
  finished_at?: string;
}

export interface SiteJob {
  id: string;
  workflow: { id: string; name: string };
  name?: string;
  description?: string;
  config: Record<string, unknown>;
  created_at: string;
  created_by: string;
  claims: Claim[];
  status: string;
}

export interface Operation {
  id: string;
  done: boolean;
  expire_time: string;
  result?: unknown;
  error?: { code: string; message: string };
  cancelled?: boolean;
  metadata: { site_id: string; job: { id: string } } & Record<string, unknown>;
  created_at: string;
  updated_at: string;
}

export interface Workflow {
  id: string;
  name: string;
  description?: string;
  capability_ids: string[];
  lease_seconds: number;
}

export interface DrsAccessMethod {
  type: string;
  access_id?: string;
  access_url?: { url: string };
}

export interface DrsObject {
  id: string;
  name?: string;
  self_uri: string;
  size: number;
  created_time: string;
  mime_type?: string;
  description?: string;
  checksums: { checksum: string; type: string }[];
  access_methods?: DrsAccessMethod[];
  contents?: DrsContents[];
  types?: string[];
}

export interface DrsContents {
  name: string;
  id?: string;
  drs_uri?: string[];
  contents?: DrsContents[];
}
