import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  getMetadataStorage,
  validateSync,
  type ValidationError,
} from 'class-validator';

import { checkCron } from './cron.js';
import { DEFAULT_DEV_SECRETS_FILE } from './dev-secrets.store.js';

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$/;
export const SITE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export const BLOB_STORE_KINDS = ['local', 's3'] as const;
export type BlobStoreKindSetting = (typeof BLOB_STORE_KINDS)[number];

export const DRS_SPEC_VERSIONS = ['1.5', '1.2'] as const;
export type DrsSpecVersion = (typeof DRS_SPEC_VERSIONS)[number];

const GIB = 1024 * 1024 * 1024;

export const DEV_JWT_SECRET = 'dev-only-jwt-secret-do-not-use-in-production';
export const DEV_URL_SIGNING_KEY = 'dev-only-url-signing-key-do-not-use-in-production';

const toBoolean = ({ value }: { value: unknown }): unknown => {
  if (typeof value !== 'string') {
    return value;
  }
  const normalised = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(normalised)) {
    return true;
  }
  if (['0', 'false', 'no', 'off'].includes(normalised)) {
    return false;
  }
  return value;
};

const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;

const IsBooleanish = (): PropertyDecorator => (target, key) => {
  Transform(toBoolean)(target, key);
  IsIn([true, false], { message: `${String(key)} must be true or false` })(target, key);
};

/**
 * The environment as the hub reads it. Every key has a default that works on a developer machine;
 * the defaults for secrets are refused in production by {@link loadConfig}.
 */
class EnvironmentVariables {
  @IsIn(NODE_ENVS)
  NODE_ENV: NodeEnv = 'development';

  @IsIn(APP_ROLES)
  APP_ROLE: AppRole = 'all';

  @IsString()
  @Matches(/^[^\s/]+$/, { message: 'HOST must be a host name or IP address' })
  HOST = '127.0.0.1';

  @Transform(toInteger)
  @IsInt({ message: 'PORT must be an integer between 0 and 65535' })
  @Min(0)
  @Max(65535)
  PORT = 8000;

  @Matches(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'PUBLIC_BASE_URL must be an http(s) URL' })
  PUBLIC_BASE_URL = 'http://127.0.0.1:8000';

  @Matches(/^[A-Za-z0-9.-]+$/, {
    message: 'PUBLIC_HOSTNAME must be a bare host name (no scheme, port or path)',
  })
  PUBLIC_HOSTNAME = 'localhost';

  @Matches(/^(\*|https?:\/\/[^\s,/]+(,https?:\/\/[^\s,/]+)*)$/, {
    message:
      'CORS_ALLOWED_ORIGINS must be * or a comma-separated list of origins such as https://app.example.org',
  })
  CORS_ALLOWED_ORIGINS = '*';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  @IsOptional()
  @IsBooleanish()
  LOG_PRETTY?: boolean;

  @Matches(/^mongodb(\+srv)?:\/\/\S+$/, { message: 'MONGO_URL must be a mongodb:// or mongodb+srv:// URL' })
  MONGO_URL = 'mongodb://127.0.0.1:27017';

  @Matches(/^[A-Za-z0-9_-]{1,63}$/, { message: 'MONGO_DB must be 1-63 letters, digits, _ or -' })
  MONGO_DB = 'runtime_hub';

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  MONGO_SERVER_SELECTION_TIMEOUT_MS = 5000;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  MONGO_POOL_MAX = 50;

  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/runtime_hub';

  @Matches(/^[a-z_][a-z0-9_]{0,62}$/, { message: 'PG_SCHEMA must be a lower-case SQL identifier' })
  PG_SCHEMA = 'public';

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  PG_POOL_MAX = 10;

  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  @Matches(/^[A-Za-z0-9_:.-]{1,64}$/, { message: 'REDIS_PREFIX must be 1-64 letters, digits or _:.-' })
  REDIS_PREFIX = 'rh';

  @IsIn(BLOB_STORE_KINDS, { message: 'BLOB_STORE must be local or s3' })
  BLOB_STORE: BlobStoreKindSetting = 'local';

  @IsString()
  @MinLength(1)
  BLOB_DIR = './data/blobs';

  @Matches(/^https?:\/\/[^\s/]+\/?$/, { message: 'S3_ENDPOINT must be an http(s):// URL with no path' })
  S3_ENDPOINT = 'http://127.0.0.1:8333';

  @IsOptional()
  @Matches(/^https?:\/\/[^\s/]+\/?$/, {
    message: 'S3_PUBLIC_ENDPOINT must be an http(s):// URL with no path',
  })
  S3_PUBLIC_ENDPOINT?: string;

  @Matches(/^[a-z0-9-]{1,32}$/, { message: 'S3_REGION must be a region name such as us-east-1' })
  S3_REGION = 'us-east-1';

  @Matches(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
    message: 'S3_BUCKET must be 3-63 lower-case letters, digits, dots or hyphens',
  })
  S3_BUCKET = 'runtime-hub';

  @IsOptional()
  @Matches(/^[A-Za-z0-9!_.*'()/-]{0,200}$/, { message: 'S3_KEY_PREFIX must be safe S3 key characters' })
  S3_KEY_PREFIX?: string;

  @IsOptional()
  @IsString()
  @MinLength(3)
  S3_ACCESS_KEY_ID?: string;

  @IsOptional()
  @IsString()
  @MinLength(8)
  S3_SECRET_ACCESS_KEY?: string;

  @IsBooleanish()
  S3_FORCE_PATH_STYLE = true;

  @IsBooleanish()
  S3_PRESIGNED_ACCESS_URLS = false;

  @Transform(toInteger)
  @IsInt()
  @Min(1024)
  BODY_LIMIT_BYTES = 10 * 1024 * 1024;

  @IsString()
  @MinLength(32, { message: 'JWT_SECRET must be at least 32 characters' })
  JWT_SECRET = DEV_JWT_SECRET;

  @IsString()
  @MinLength(32, { message: 'URL_SIGNING_KEY must be at least 32 characters' })
  URL_SIGNING_KEY = DEV_URL_SIGNING_KEY;

  @IsString()
  @MinLength(1)
  DEV_SECRETS_FILE = DEFAULT_DEV_SECRETS_FILE;

  @IsBooleanish()
  TRUST_PROXY = false;

  @IsOptional()
  @Matches(/^[0-9a-f]{7,40}$/, { message: 'GIT_COMMIT must be a hexadecimal commit id' })
  GIT_COMMIT?: string;

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(60_000)
  HEALTH_TIMEOUT_MS = 2000;

  @Transform(toInteger)
  @IsInt()
  @Min(1000)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  SHUTDOWN_DRAIN_MS = 5000;

  @IsOptional()
  @IsString()
  @MaxLength(200)
  SERVICE_NAME = 'runtime-hub';

  @Transform(toInteger)
  @IsInt()
  @Min(60)
  @Max(30 * 86400)
  TOKEN_TTL_SECONDS = 86_400;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  TOKEN_RATE_LIMIT = 10;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  TOKEN_RATE_WINDOW_SECONDS = 60;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  TOKEN_ADDRESS_FAILURE_LIMIT = 20;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(60_000)
  AUTH_CACHE_TTL_MS = 5000;

  @IsOptional()
  @Matches(USERNAME_PATTERN, { message: 'ADMIN_USERNAME must be 2-64 letters, digits or ._@-' })
  ADMIN_USERNAME?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'ADMIN_PASSWORD must be at least 12 characters' })
  ADMIN_PASSWORD?: string;

  @Matches(SITE_ID_PATTERN, { message: 'HUB_SITE_ID must be 1-64 letters, digits or ._-' })
  HUB_SITE_ID = 'runtime-hub';

  @IsOptional()
  @IsString()
  @MinLength(1)
  REGISTRY_PATH?: string;

  @IsBooleanish()
  DEMO_DATA = false;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  OPERATION_RETENTION_DAYS = 30;

  @Transform(toInteger)
  @IsInt({ message: 'ORCH_MAX_CONCURRENT_RUNS must be an integer (-1 for no limit)' })
  @Min(-1)
  ORCH_MAX_CONCURRENT_RUNS = 10;

  @IsString()
  ORCH_TAG_CONCURRENCY_LIMITS = '[]';

  @IsString()
  ORCH_SENSOR_INTERVALS = '{}';

  @IsString()
  ORCH_SCHEDULE_CRONS = '{}';

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  ORCH_RUN_WORKER_CONCURRENCY = 4;

  @IsBooleanish()
  ORCH_EAGER_START = true;

  @Transform(toInteger)
  @IsInt()
  @Min(50)
  ORCH_DEQUEUE_INTERVAL_MS = 5000;

  @Transform(toInteger)
  @IsInt()
  @Min(50)
  ORCH_MONITOR_INTERVAL_MS = 30_000;

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  ORCH_START_TIMEOUT_MS = 180_000;

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  ORCH_CANCEL_TIMEOUT_MS = 180_000;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(100)
  ORCH_MAX_RESUME_ATTEMPTS = 3;

  @Transform(toInteger)
  @IsInt()
  @Min(50)
  ORCH_HEARTBEAT_INTERVAL_MS = 10_000;

  @Transform(toInteger)
  @IsInt()
  @Min(200)
  ORCH_WORKER_TIMEOUT_MS = 60_000;

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  ORCH_SENSOR_TIMEOUT_MS = 60_000;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(1000)
  ORCH_MAX_CATCHUP_RUNS = 1;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  ORCH_EVENT_RETENTION_DAYS = 90;

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  ORCH_OUTBOX_RETRY_MS = 30_000;

  @Transform(toInteger)
  @IsInt()
  @Min(100)
  ORCH_RECOVERY_INTERVAL_MS = 30_000;

  @IsString()
  ORCH_CODE_LOCATIONS = '';

  @IsOptional()
  @IsString()
  @MinLength(1)
  METADATA_SCHEMA_PATH?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  METADATA_CLASS_HIERARCHY_PATH?: string;

  @IsString()
  EXPORT_METADATA_CRON = '0 3 * * *';

  @Transform(toInteger)
  @IsInt()
  @Min(60)
  @Max(7 * 86400)
  METADATA_QUERY_CURSOR_TTL_SECONDS = 3600;

  @Transform(toInteger)
  @IsInt()
  @Min(1024)
  @Max(1024 * 1024 * 1024)
  CHANGESHEET_MAX_BYTES = 32 * 1024 * 1024;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(10_000)
  METADATA_OPEN_CURSORS_MAX = 64;

  @Transform(toInteger)
  @IsInt()
  @Min(5)
  @Max(600)
  METADATA_OPEN_CURSOR_IDLE_SECONDS = 120;

  @Matches(/^[0-9][a-z]{0,6}[0-9]$/, {
    message: 'PID_SHOULDER must be a digit, up to 6 lower-case letters and a digit (e.g. 11)',
  })
  PID_SHOULDER = '11';

  @IsIn(DRS_SPEC_VERSIONS, { message: `DRS_SPEC_VERSION must be one of ${DRS_SPEC_VERSIONS.join(', ')}` })
  DRS_SPEC_VERSION: DrsSpecVersion = '1.5';

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(100_000)
  DRS_MAX_BULK_REQUEST_LENGTH = 1000;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  DRS_CACHE_TTL_MS = 300_000;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  DRS_CACHE_MAX_OBJECTS = 20_000;

  @IsOptional()
  @Matches(/^[A-Za-z0-9][A-Za-z0-9.-]{0,199}$/, {
    message: 'DRS_SERVICE_ID must be a reverse-DNS style id such as org.example.drs',
  })
  DRS_SERVICE_ID?: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  ORGANIZATION_NAME = 'Runtime Hub';

  @IsOptional()
  @Matches(/^https?:\/\/\S+$/, { message: 'ORGANIZATION_URL must be an http(s) URL' })
  ORGANIZATION_URL?: string;

  @IsOptional()
  @Matches(/^(https?:\/\/|mailto:)\S+$/, { message: 'CONTACT_URL must be an http(s) or mailto: URL' })
  CONTACT_URL?: string;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  UPLOAD_LIMIT_BYTES = 5 * GIB;

  @Transform(toInteger)
  @IsInt()
  @Min(10)
  @Max(7 * 86400)
  SIGNED_URL_TTL_SECONDS = 900;
}

export interface TagConcurrencyLimit {
  readonly key: string;
  /** Limit only runs whose tag has this value; omitted, every run carrying the key counts together. */
  readonly value?: string;
  /** Apply the limit separately to each value of the tag (Dagster's applyLimitPerUniqueValue). */
  readonly perUniqueValue?: boolean;
  readonly limit: number;
}

export interface OrchestratorConfig {
  readonly maxConcurrentRuns: number;
  readonly tagConcurrencyLimits: readonly TagConcurrencyLimit[];
  readonly runWorkerConcurrency: number;
  /**
   * Without concurrency limits, a process with run workers executes a run launched through it at once
   * when one of them has a free slot, instead of sending it through the queue (see LocalRuns).
   */
  readonly eagerStart: boolean;
  readonly dequeueIntervalMs: number;
  readonly monitorIntervalMs: number;
  readonly startTimeoutMs: number;
  readonly cancelTimeoutMs: number;
  readonly maxResumeAttempts: number;
  readonly heartbeatIntervalMs: number;
  readonly workerTimeoutMs: number;
  readonly sensorTimeoutMs: number;
  readonly maxCatchupRuns: number;
  readonly eventRetentionDays: number;
  readonly outboxRetryMs: number;
  /** How often a daemon rebuilds Redis state from PostgreSQL, besides whenever Redis reconnects. */
  readonly recoveryIntervalMs: number;
  /** Module paths whose default export is a repository, served beside src/site (Dagster's code locations). */
  readonly codeLocations: readonly string[];
  /** Per-sensor minimum intervals in seconds, overriding the definitions' own. */
  readonly sensorIntervals: Readonly<Record<string, number>>;
  /** Per-schedule crons overriding the definitions' own (six fields, with seconds, are allowed here). */
  readonly scheduleCrons: Readonly<Record<string, string>>;
}

/** A setting holding a JSON object of names to values; undefined (with the problem noted) when it is not one. */
function parseJsonObject(
  where: string,
  text: string,
  shape: string,
  problems: string[],
): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text || '{}');
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push(`${where}: must be a JSON object of ${shape}`);
    return undefined;
  }
  return parsed as Record<string, unknown>;
}

function parseScheduleCrons(text: string, problems: string[]): Record<string, string> {
  const where = 'ORCH_SCHEDULE_CRONS';
  const parsed = parseJsonObject(
    where,
    text,
    'schedule names to cron expressions, like {"housekeeping_weekly": "0 4 * * 0"}',
    problems,
  );
  if (!parsed) {
    return {};
  }
  const crons: Record<string, string> = {};
  for (const [name, cron] of Object.entries(parsed)) {
    if (typeof cron !== 'string') {
      problems.push(`${where}.${name}: must be a cron expression (a string)`);
      continue;
    }
    const found = checkCron(cron, 'UTC', { allowSeconds: true });
    problems.push(...found.map((p) => `${where}.${name}: ${p}`));
    if (found.length === 0) {
      crons[name] = cron.trim();
    }
  }
  return crons;
}

function parseSensorIntervals(text: string, problems: string[]): Record<string, number> {
  const where = 'ORCH_SENSOR_INTERVALS';
  const parsed = parseJsonObject(
    where,
    text,
    'sensor names to seconds, like {"expire_stale_claims": 30}',
    problems,
  );
  if (!parsed) {
    return {};
  }
  const intervals: Record<string, number> = {};
  for (const [name, seconds] of Object.entries(parsed)) {
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0.05) {
      problems.push(`${where}.${name}: must be a number of seconds, at least 0.05`);
    } else {
      intervals[name] = seconds;
    }
  }
  return intervals;
}

function parseTagLimits(text: string, problems: string[]): TagConcurrencyLimit[] {
  const where = 'ORCH_TAG_CONCURRENCY_LIMITS';
  let parsed: unknown;
  try {
    parsed = JSON.parse(text || '[]');
  } catch {
    problems.push(`${where}: must be a JSON array like [{"key":"team","limit":2}]`);
    return [];
  }
  if (!Array.isArray(parsed)) {
    problems.push(`${where}: must be a JSON array like [{"key":"team","limit":2}]`);
    return [];
  }
  const limits: TagConcurrencyLimit[] = [];
  parsed.forEach((entry: unknown, index) => {
    const item = entry as Record<string, unknown> | null;
    const ok =
      item !== null &&
      typeof item === 'object' &&
      typeof item.key === 'string' &&
      item.key.length > 0 &&
      Number.isInteger(item.limit) &&
      (item.limit as number) >= 0 &&
      (item.value === undefined || typeof item.value === 'string') &&
      (item.perUniqueValue === undefined || typeof item.perUniqueValue === 'boolean') &&
      Object.keys(item).every((k) => ['key', 'value', 'perUniqueValue', 'limit'].includes(k));
    if (!ok) {
      problems.push(
        `${where}[${index}]: must be {"key": string, "limit": integer >= 0, "value"?: string, "perUniqueValue"?: boolean}`,
      );
      return;
    }
    limits.push({
      key: item.key as string,
      limit: item.limit as number,
      ...(item.value !== undefined ? { value: item.value as string } : {}),
      ...(item.perUniqueValue !== undefined ? { perUniqueValue: item.perUniqueValue as boolean } : {}),
    });
  });
  return limits;
}

/**
 * Every environment key the hub reads, in declaration order. Taken from the validation decorators rather
 * than from an instance, so optional keys without a default (LOG_PRETTY, GIT_COMMIT) are listed too.
 */
export const CONFIG_KEYS: readonly string[] = Object.freeze([
  ...new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(EnvironmentVariables, '', true, false)
      .map((metadata) => metadata.propertyName),
  ),
]);

export interface AppConfig {
  readonly env: NodeEnv;
  readonly role: AppRole;
  readonly service: { readonly name: string; readonly version: string; readonly commit?: string };
  readonly http: {
    readonly host: string;
    readonly port: number;
    readonly publicBaseUrl: string;
    readonly publicHostname: string;
    readonly bodyLimitBytes: number;
    readonly trustProxy: boolean;
    readonly shutdownTimeoutMs: number;
    /** After SIGTERM: how long readiness answers 503 while requests are still served, before closing. */
    readonly shutdownDrainMs: number;
    /** Origins browsers may call the API from: any, or the listed ones. */
    readonly corsOrigins: '*' | readonly string[];
  };
  readonly log: { readonly level: LogLevel; readonly pretty: boolean };
  readonly mongo: {
    readonly url: string;
    readonly database: string;
    readonly serverSelectionTimeoutMs: number;
    /** Connections to MongoDB per process; operations beyond it queue in the driver. */
    readonly poolMax: number;
  };
  readonly postgres: { readonly url: string; readonly schema: string; readonly poolMax: number };
  readonly redis: { readonly url: string; readonly prefix: string };
  readonly blobs: {
    readonly store: BlobStoreKindSetting;
    readonly dir: string;
    readonly s3: {
      readonly endpoint: string;
      readonly publicEndpoint: string;
      readonly region: string;
      readonly bucket: string;
      readonly keyPrefix: string;
      readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
      readonly forcePathStyle: boolean;
      /** Hand out presigned GET URLs of the store itself as DRS access URLs, instead of the hub's. */
      readonly presignedAccessUrls: boolean;
    };
  };
  readonly secrets: {
    readonly jwtSecret: string;
    readonly urlSigningKey: string;
    /** The secrets left at their public built-in values (never in production): start-up warns loudly. */
    readonly builtIn: readonly ('JWT_SECRET' | 'URL_SIGNING_KEY')[];
  };
  readonly health: { readonly timeoutMs: number };
  /** The workflow registry file; the one shipped in src/site when unset. */
  readonly registryPath?: string;
  /** Load the small demo dataset at start (missing documents only; see `runtime-hub demo load`). */
  readonly demoData: boolean;
  readonly jobs: { readonly operationRetentionDays: number };
  readonly auth: {
    readonly tokenTtlSeconds: number;
    readonly tokenRateLimit: number;
    readonly tokenRateWindowSeconds: number;
    /** Failed POST /token attempts one client address may make per window, whatever the accounts. */
    readonly tokenAddressFailureLimit: number;
    readonly cacheTtlMs: number;
    readonly bootstrapAdmin?: { readonly username: string; readonly password: string };
    readonly hubSiteId: string;
  };
  readonly orchestrator: OrchestratorConfig;
  readonly exports: {
    /** When daily_export_metadata runs: a five-field cron read in UTC. */
    readonly cron: string;
  };
  readonly metadata: {
    /** A JSON Schema file replacing the shipped one; absent means the shipped schema. */
    readonly schemaPath?: string;
    /**
     * A YAML or JSON map of class → parent class (e.g. `nmdc:NucleotideSequencing: nmdc:DataGeneration`),
     * which JSON Schemas do not carry: lets `linked_instances` match abstract types.
     */
    readonly classHierarchyPath?: string;
    readonly queryCursorTtlSeconds: number;
    readonly openCursorsMax: number;
    readonly openCursorIdleSeconds: number;
    readonly pidShoulder: string;
    /** The largest changesheet accepted, in bytes. */
    readonly changesheetMaxBytes: number;
  };
  readonly drs: {
    readonly specVersion: DrsSpecVersion;
    readonly maxBulkRequestLength: number;
    /** How long a resolved object may be served from a process's memory; 0 turns the cache off. */
    readonly cacheTtlMs: number;
    /** How many resolved objects a process keeps at most (the least recently used leave first). */
    readonly cacheMaxObjects: number;
    readonly serviceId: string;
    readonly organization: { readonly name: string; readonly url: string };
    readonly contactUrl?: string;
    readonly uploadLimitBytes: number;
    readonly signedUrlTtlSeconds: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function describe(error: ValidationError): string {
  const messages = Object.values(error.constraints ?? {});
  const sensitive = /SECRET|KEY|URL|PASSWORD/.test(error.property);
  const shown = typeof error.value === 'string' && !sensitive ? ` (got "${error.value}")` : '';
  return `${error.property}: ${messages.join('; ')}${shown}`;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) {
      deepFreeze(child);
    }
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates the environment once and returns the frozen configuration every other part of the hub reads.
 * Throws a {@link ConfigError} that names every bad key at once, so an operator fixes them in one go.
 */
export function loadConfig(
  source: Readonly<Record<string, string | undefined>>,
  packageVersion = '0.0.0',
): AppConfig {
  const relevant: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const value = source[key];
    if (value !== undefined && value !== '') {
      relevant[key] = value;
    }
  }
  const env = plainToInstance(EnvironmentVariables, relevant);
  const problems = validateSync(env, { forbidUnknownValues: false }).map(describe);

  if (env.NODE_ENV === 'production') {
    if (!source.JWT_SECRET || env.JWT_SECRET === DEV_JWT_SECRET) {
      problems.push('JWT_SECRET: must be set to a secret of your own in production');
    }
    if (!source.URL_SIGNING_KEY || env.URL_SIGNING_KEY === DEV_URL_SIGNING_KEY) {
      problems.push('URL_SIGNING_KEY: must be set to a secret of your own in production');
    }
  }
  if (env.SHUTDOWN_DRAIN_MS >= env.SHUTDOWN_TIMEOUT_MS) {
    problems.push('SHUTDOWN_DRAIN_MS: must be shorter than SHUTDOWN_TIMEOUT_MS, which also covers closing');
  }
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    problems.push(
      'S3_SECRET_ACCESS_KEY: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither (to use the AWS credential chain)',
    );
  }
  if (env.S3_PRESIGNED_ACCESS_URLS && env.BLOB_STORE !== 's3') {
    problems.push('S3_PRESIGNED_ACCESS_URLS: only applies with BLOB_STORE=s3');
  }
  if (env.ADMIN_USERNAME && !env.ADMIN_PASSWORD) {
    problems.push('ADMIN_PASSWORD: required when ADMIN_USERNAME is set');
  }
  if (env.ADMIN_PASSWORD && !env.ADMIN_USERNAME) {
    problems.push('ADMIN_USERNAME: required when ADMIN_PASSWORD is set');
  }
  const tagConcurrencyLimits = parseTagLimits(env.ORCH_TAG_CONCURRENCY_LIMITS, problems);
  const sensorIntervals = parseSensorIntervals(env.ORCH_SENSOR_INTERVALS, problems);
  const scheduleCrons = parseScheduleCrons(env.ORCH_SCHEDULE_CRONS, problems);
  if (env.ORCH_WORKER_TIMEOUT_MS <= env.ORCH_HEARTBEAT_INTERVAL_MS) {
    problems.push('ORCH_WORKER_TIMEOUT_MS: must be longer than ORCH_HEARTBEAT_INTERVAL_MS');
  }
  problems.push(...checkCron(env.EXPORT_METADATA_CRON, 'UTC').map((p) => `EXPORT_METADATA_CRON: ${p}`));
  if (problems.length > 0) {
    throw new ConfigError(problems.sort());
  }

  return deepFreeze<AppConfig>({
    env: env.NODE_ENV,
    role: env.APP_ROLE,
    service: {
      name: env.SERVICE_NAME,
      version: packageVersion,
      ...(env.GIT_COMMIT ? { commit: env.GIT_COMMIT } : {}),
    },
    http: {
      host: env.HOST,
      port: env.PORT,
      publicBaseUrl: env.PUBLIC_BASE_URL.replace(/\/+$/, ''),
      publicHostname: env.PUBLIC_HOSTNAME,
      bodyLimitBytes: env.BODY_LIMIT_BYTES,
      trustProxy: env.TRUST_PROXY,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
      corsOrigins: env.CORS_ALLOWED_ORIGINS === '*' ? '*' : env.CORS_ALLOWED_ORIGINS.split(','),
    },
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY ?? env.NODE_ENV === 'development' },
    mongo: {
      url: env.MONGO_URL,
      database: env.MONGO_DB,
      serverSelectionTimeoutMs: env.MONGO_SERVER_SELECTION_TIMEOUT_MS,
      poolMax: env.MONGO_POOL_MAX,
    },
    postgres: { url: env.DATABASE_URL, schema: env.PG_SCHEMA, poolMax: env.PG_POOL_MAX },
    redis: { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
    blobs: {
      store: env.BLOB_STORE,
      dir: env.BLOB_DIR,
      s3: {
        endpoint: env.S3_ENDPOINT.replace(/\/+$/, ''),
        publicEndpoint: (env.S3_PUBLIC_ENDPOINT ?? env.S3_ENDPOINT).replace(/\/+$/, ''),
        region: env.S3_REGION,
        bucket: env.S3_BUCKET,
        keyPrefix: env.S3_KEY_PREFIX ?? '',
        ...(env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
          ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } }
          : {}),
        forcePathStyle: env.S3_FORCE_PATH_STYLE,
        presignedAccessUrls: env.S3_PRESIGNED_ACCESS_URLS,
      },
    },
    secrets: {
      jwtSecret: env.JWT_SECRET,
      urlSigningKey: env.URL_SIGNING_KEY,
      builtIn: [
        ...(env.JWT_SECRET === DEV_JWT_SECRET ? (['JWT_SECRET'] as const) : []),
        ...(env.URL_SIGNING_KEY === DEV_URL_SIGNING_KEY ? (['URL_SIGNING_KEY'] as const) : []),
      ],
    },
    health: { timeoutMs: env.HEALTH_TIMEOUT_MS },
    ...(env.REGISTRY_PATH ? { registryPath: env.REGISTRY_PATH } : {}),
    demoData: env.DEMO_DATA,
    jobs: { operationRetentionDays: env.OPERATION_RETENTION_DAYS },
    auth: {
      tokenTtlSeconds: env.TOKEN_TTL_SECONDS,
      tokenRateLimit: env.TOKEN_RATE_LIMIT,
      tokenRateWindowSeconds: env.TOKEN_RATE_WINDOW_SECONDS,
      tokenAddressFailureLimit: env.TOKEN_ADDRESS_FAILURE_LIMIT,
      cacheTtlMs: env.AUTH_CACHE_TTL_MS,
      ...(env.ADMIN_USERNAME && env.ADMIN_PASSWORD
        ? { bootstrapAdmin: { username: env.ADMIN_USERNAME, password: env.ADMIN_PASSWORD } }
        : {}),
      hubSiteId: env.HUB_SITE_ID,
    },
    orchestrator: {
      maxConcurrentRuns: env.ORCH_MAX_CONCURRENT_RUNS,
      tagConcurrencyLimits,
      runWorkerConcurrency: env.ORCH_RUN_WORKER_CONCURRENCY,
      eagerStart: env.ORCH_EAGER_START,
      dequeueIntervalMs: env.ORCH_DEQUEUE_INTERVAL_MS,
      monitorIntervalMs: env.ORCH_MONITOR_INTERVAL_MS,
      startTimeoutMs: env.ORCH_START_TIMEOUT_MS,
      cancelTimeoutMs: env.ORCH_CANCEL_TIMEOUT_MS,
      maxResumeAttempts: env.ORCH_MAX_RESUME_ATTEMPTS,
      heartbeatIntervalMs: env.ORCH_HEARTBEAT_INTERVAL_MS,
      workerTimeoutMs: env.ORCH_WORKER_TIMEOUT_MS,
      sensorTimeoutMs: env.ORCH_SENSOR_TIMEOUT_MS,
      maxCatchupRuns: env.ORCH_MAX_CATCHUP_RUNS,
      eventRetentionDays: env.ORCH_EVENT_RETENTION_DAYS,
      outboxRetryMs: env.ORCH_OUTBOX_RETRY_MS,
      recoveryIntervalMs: env.ORCH_RECOVERY_INTERVAL_MS,
      codeLocations: env.ORCH_CODE_LOCATIONS.split(',')
        .map((p) => p.trim())
        .filter((p) => p.length > 0),
      sensorIntervals,
      scheduleCrons,
    },
    exports: { cron: env.EXPORT_METADATA_CRON.trim() },
    metadata: {
      ...(env.METADATA_SCHEMA_PATH ? { schemaPath: env.METADATA_SCHEMA_PATH } : {}),
      ...(env.METADATA_CLASS_HIERARCHY_PATH ? { classHierarchyPath: env.METADATA_CLASS_HIERARCHY_PATH } : {}),
      queryCursorTtlSeconds: env.METADATA_QUERY_CURSOR_TTL_SECONDS,
      openCursorsMax: env.METADATA_OPEN_CURSORS_MAX,
      openCursorIdleSeconds: env.METADATA_OPEN_CURSOR_IDLE_SECONDS,
      pidShoulder: env.PID_SHOULDER,
      changesheetMaxBytes: env.CHANGESHEET_MAX_BYTES,
    },
    drs: {
      specVersion: env.DRS_SPEC_VERSION,
      maxBulkRequestLength: env.DRS_MAX_BULK_REQUEST_LENGTH,
      cacheTtlMs: env.DRS_CACHE_TTL_MS,
      cacheMaxObjects: env.DRS_CACHE_MAX_OBJECTS,
      serviceId: env.DRS_SERVICE_ID ?? defaultServiceId(env.PUBLIC_HOSTNAME),
      organization: {
        name: env.ORGANIZATION_NAME,
        url: env.ORGANIZATION_URL ?? env.PUBLIC_BASE_URL.replace(/\/+$/, ''),
      },
      ...(env.CONTACT_URL ? { contactUrl: env.CONTACT_URL } : {}),
      uploadLimitBytes: env.UPLOAD_LIMIT_BYTES,
      signedUrlTtlSeconds: env.SIGNED_URL_TTL_SECONDS,
    },
  });
}

/** GA4GH service-info recommends reverse-DNS ids: `drs.example.org` becomes `org.example.drs`. */
function defaultServiceId(hostname: string): string {
  const reversed = hostname.split('.').filter(Boolean).reverse().join('.');
  return reversed.endsWith('.drs') || reversed === 'drs' ? reversed : `${reversed}.drs`;
}
