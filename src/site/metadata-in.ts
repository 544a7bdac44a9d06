import { graph, hostResource, op } from '../orchestrator/core/index.js';
import {
  claimAndRunSensor,
  OPERATION_ID_CONFIG,
  reportingFailure,
  type ClaimedWork,
} from './claimed-work.js';

export const METADATA_IN = 'metadata_in';
export const METADATA_IN_WORKFLOW = 'metadata-in-1.0.0';

/** How a submission fared, per collection. */
export type MetadataInResult = Record<string, { readonly inserted: number; readonly unchanged: number }>;

/**
 * What applying JSON submissions needs from the hub besides claiming: the metadata store and the
 * object registry, bound by the hosting process (see orchestrator/host-values.ts).
 */
export interface MetadataIn extends ClaimedWork {
  /** Reads a stored submission and checks it again (schema, its own ids, references); counts per collection. */
  check(objectId: string): Promise<Record<string, number>>;
  /** Writes the documents of a stored submission; documents a previous attempt wrote count as unchanged. */
  apply(objectId: string): Promise<MetadataInResult>;
}

interface OperationConfig {
  operation_id: string;
}

export const getJsonIn = op<OperationConfig & { object_id: string }>(
  {
    name: 'get_json_in',
    description: 'Read a stored JSON submission (a DRS object typed metadata-in) and check it again',
    config: {
      type: 'object',
      properties: { object_id: { type: 'string', minLength: 1 }, operation_id: OPERATION_ID_CONFIG },
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
      properties: { operation_id: OPERATION_ID_CONFIG },
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

/**
 * Claims pending metadata-in jobs as the hub's own site and requests one run of apply_metadata_in per
 * claim; the run key is the operation id, so a claim never runs twice.
 */
export const claimAndRunMetadataInJobs = claimAndRunSensor({
  name: 'claim_and_run_metadata_in_jobs',
  workflowId: METADATA_IN_WORKFLOW,
  job: applyMetadataIn,
  resource: METADATA_IN,
  minimumIntervalSeconds: 10,
  runConfig: (job, operationId) => ({
    ops: {
      get_json_in: { config: { object_id: job.objectId, operation_id: operationId } },
      perform_mongo_updates: { config: { operation_id: operationId } },
    },
  }),
});
