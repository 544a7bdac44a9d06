import { graph, hostResource, op } from '../orchestrator/core/index.js';
import {
  claimAndRunSensor,
  OPERATION_ID_CONFIG,
  reportingFailure,
  type ClaimedWork,
} from './claimed-work.js';

export const CHANGESHEETS = 'changesheets';
export const APPLY_CHANGESHEET_WORKFLOW = 'apply-changesheet-1.0.0';

export interface ChangesheetSummary {
  readonly object_id: string;
  /** Documents the sheet changes, as planned against the current documents. */
  readonly documents: number;
}

export interface ChangesheetApplied {
  readonly changed_ids: string[];
  readonly txn_id: string;
}

/**
 * What applying changesheets needs from the hub besides claiming: the blob store, the metadata store
 * and the transaction log, bound by the hosting process (see orchestrator/host-values.ts).
 */
export interface Changesheets extends ClaimedWork {
  /** Reads a stored sheet (a DRS object typed metadata-changesheet) and plans it against the current documents. */
  load(objectId: string): Promise<ChangesheetSummary>;
  /**
   * Applies a stored sheet: every document must still be as it was when the sheet was submitted, each
   * change is logged before it is written, and a failure midway restores what was written.
   */
  apply(objectId: string, operationId: string): Promise<ChangesheetApplied>;
}

interface OperationConfig {
  operation_id: string;
}

export const getChangesheetIn = op<OperationConfig & { object_id: string }>(
  {
    name: 'get_changesheet_in',
    description: 'Load a changesheet from the blob store and plan it against the current documents',
    config: {
      type: 'object',
      properties: { object_id: { type: 'string', minLength: 1 }, operation_id: OPERATION_ID_CONFIG },
      required: ['object_id', 'operation_id'],
      additionalProperties: false,
    },
    requiredResources: [CHANGESHEETS],
  },
  async (ctx) => {
    const port = ctx.resources[CHANGESHEETS] as Changesheets;
    const summary = await reportingFailure(port, ctx.config.operation_id, () =>
      port.load(ctx.config.object_id),
    );
    ctx.log.info(`changesheet ${summary.object_id} changes ${summary.documents} document(s)`);
    return summary;
  },
);

export const performChangesheetUpdates = op<OperationConfig, [ChangesheetSummary]>(
  {
    name: 'perform_changesheet_updates',
    description:
      "Apply the sheet's changes with optimistic concurrency and a transaction log; close the job's operation",
    ins: { changesheet: {} },
    config: {
      type: 'object',
      properties: { operation_id: OPERATION_ID_CONFIG },
      required: ['operation_id'],
      additionalProperties: false,
    },
    requiredResources: [CHANGESHEETS],
  },
  async (ctx, changesheet) => {
    const port = ctx.resources[CHANGESHEETS] as Changesheets;
    const applied = await reportingFailure(port, ctx.config.operation_id, () =>
      port.apply(changesheet.object_id, ctx.config.operation_id),
    );
    await port.finish(ctx.config.operation_id, { result: applied });
    ctx.materialize({
      assetKey: 'metadata_collections',
      description: 'Documents were changed by a changesheet',
      metadata: {
        object_id: changesheet.object_id,
        txn_id: applied.txn_id,
        changed: applied.changed_ids.length,
      },
    });
    return applied;
  },
);

export const applyChangesheet = graph(
  'apply_changesheet',
  ({ call }) => {
    call(performChangesheetUpdates, { changesheet: call(getChangesheetIn) });
  },
  { description: `Apply a changesheet (workflow ${APPLY_CHANGESHEET_WORKFLOW}) and close its operation` },
).toJob({ resources: { [CHANGESHEETS]: hostResource<Changesheets>(CHANGESHEETS) } });

/** Claims apply-changesheet jobs as the hub's own site and runs apply_changesheet once per claim. */
export const claimAndRunApplyChangesheetJobs = claimAndRunSensor({
  name: 'claim_and_run_apply_changesheet_jobs',
  workflowId: APPLY_CHANGESHEET_WORKFLOW,
  job: applyChangesheet,
  resource: CHANGESHEETS,
  minimumIntervalSeconds: 10,
  runConfig: (job, operationId) => ({
    ops: {
      get_changesheet_in: { config: { object_id: job.objectId, operation_id: operationId } },
      perform_changesheet_updates: { config: { operation_id: operationId } },
    },
  }),
});
