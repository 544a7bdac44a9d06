import {
  graph,
  hostResource,
  op,
  runRequest,
  sensor,
  skipReason,
  type RunRequest,
} from '../orchestrator/core/index.js';

export const METADATA_IN = 'metadata_in';
export const METADATA_IN_WORKFLOW = 'metadata-in-1.0.0';

export interface PendingMetadataIn {
  readonly jobId: string;
  readonly objectId: string;
}

/** How a submission fared, per collection. */
export type MetadataInResult = Record<string, { readonly inserted: number; readonly unchanged: number }>;

export interface OperationFailure {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/**
 * What applying JSON submissions needs from the hub; the hosting process binds the metadata store, the
 * object registry and the job-claim services (see orchestrator/host-values.ts).
 */
export interface MetadataIn {
  /** metadata-in jobs the hub's own site may claim and has not failed (a failure is final). */
  pendingJobs(limit: number): Promise<PendingMetadataIn[]>;
  /** Claims a job as the hub's own site; answers the operation that tracks it. */
  claim(jobId: string): Promise<{ operationId: string }>;
  /** Reads a stored submission and checks it again (schema, its own ids, references); counts per collection. */
  check(objectId: string): Promise<Record<string, number>>;
  /** Writes the documents of a stored submission; documents a previous attempt wrote count as unchanged. */
  apply(objectId: string): Promise<MetadataInResult>;
  /** Closes the operation of a claim with its result or its failure. */
  finish(operationId: string, outcome: { result: unknown } | { error: OperationFailure }): Promise<void>;
  /** Turns any error into what the operation reports. */
  describeFailure(error: unknown): OperationFailure;
}

interface OperationConfig {
  operation_id: string;
}

const OPERATION_ID = { type: 'string', minLength: 1, description: 'The operation of the claim being run' };

/** Runs a step of a claimed job; a failure is reported on the job's operation before the run fails. */
async function reportingFailure<T>(
  port: MetadataIn,
  operationId: string,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    await port.finish(operationId, { error: port.describeFailure(error) });
    throw error;
  }
}

export const getJsonIn = op<OperationConfig & { object_id: string }>(
  {
    name: 'get_json_in',
    description: 'Read a stored JSON submission (a DRS object typed metadata-in) and check it again',
    config: {
      type: 'object',
      properties: { object_id: { type: 'string', minLength: 1 }, operation_id: OPERATION_ID },
      required: ['object_id', 'operation_id'],
      additionalProperties: false,
    },
    requiredResources: [METADATA_IN],
  },
  async (ctx) => {
    const port = ctx.resources[METADATA_IN] as MetadataIn;
    const counts = await reportingFailure(port, ctx.config.operation_id, () =>
      port.check(ctx.config.object_id),
    );
    ctx.log.info(`submission ${ctx.config.object_id} is valid`, { counts });
    return { object_id: ctx.config.object_id, counts };
  },
);

export const performMongoUpdates = op<OperationConfig, [{ object_id: string }]>(
  {
    name: 'perform_mongo_updates',
    description: "Insert the submission's documents and report the counts on the job's operation",
    ins: { submission: {} },
    config: {
      type: 'object',
      properties: { operation_id: OPERATION_ID },
      required: ['operation_id'],
      additionalProperties: false,
    },
    requiredResources: [METADATA_IN],
  },
  async (ctx, submission) => {
    const port = ctx.resources[METADATA_IN] as MetadataIn;
    const result = await reportingFailure(port, ctx.config.operation_id, () =>
      port.apply(submission.object_id),
    );
    await port.finish(ctx.config.operation_id, {
      result: { object_id: submission.object_id, collections: result },
    });
    ctx.materialize({
      assetKey: 'metadata_collections',
      description: 'Documents of a JSON submission were inserted',
      metadata: { object_id: submission.object_id, collections: result },
    });
    return result;
  },
);

export const applyMetadataIn = graph(
  'apply_metadata_in',
  ({ call }) => {
    call(performMongoUpdates, { submission: call(getJsonIn) });
  },
  { description: 'Apply a JSON metadata submission (workflow metadata-in-1.0.0) and close its operation' },
).toJob({ resources: { [METADATA_IN]: hostResource<MetadataIn>(METADATA_IN) } });

/** At most this many jobs are claimed per tick, so one tick stays short. */
const CLAIMS_PER_TICK = 20;

/**
 * Claims pending metadata-in jobs as the hub's own site and requests one run of apply_metadata_in per
 * claim; the run key is the operation id, so a claim never runs twice.
 */
export const claimAndRunMetadataInJobs = sensor(
  {
    name: 'claim_and_run_metadata_in_jobs',
    description: `Claims ${METADATA_IN_WORKFLOW} jobs as the hub's own site and runs apply_metadata_in for each`,
    job: applyMetadataIn,
    minimumIntervalSeconds: 10,
    defaultStatus: 'RUNNING',
    requiredResources: [METADATA_IN],
  },
  async (ctx) => {
    const port = ctx.resources[METADATA_IN] as MetadataIn;
    const requests: RunRequest[] = [];
    for (const job of await port.pendingJobs(CLAIMS_PER_TICK)) {
      let operationId: string;
      try {
        ({ operationId } = await port.claim(job.jobId));
      } catch (error) {
        ctx.log.warning(`could not claim job ${job.jobId}: ${port.describeFailure(error).message}`);
        continue;
      }
      requests.push(
        runRequest({
          runKey: operationId,
          runConfig: {
            ops: {
              get_json_in: { config: { object_id: job.objectId, operation_id: operationId } },
              perform_mongo_updates: { config: { operation_id: operationId } },
            },
          },
          tags: { job_id: job.jobId, object_id: job.objectId, operation_id: operationId },
        }),
      );
    }
    return requests.length > 0 ? requests : skipReason(`no ${METADATA_IN_WORKFLOW} job to claim`);
  },
);
