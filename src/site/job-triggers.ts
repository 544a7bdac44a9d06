import { graph, hostResource, op, runRequest, sensor, skipReason } from '../orchestrator/core/index.js';
import { WORK_TOPICS } from '../orchestrator/work-arrived.js';

/** What trigger processing needs from the hub; the worker binds the jobs service. */
export interface HubTriggers {
  /** (workflow, object) pairs a trigger asks for that have no job yet. */
  pendingTriggeredJobs(limit: number): Promise<{ workflowId: string; objectId: string }[]>;
  /** Creates the job unless one exists for the pair; the id of the job it created, if any. */
  createTriggeredJob(workflowId: string, objectId: string): Promise<string | undefined>;
}

export const HUB_TRIGGERS = 'hub_triggers';
const BATCH = 100;

export const createTriggeredJob = op<{ workflow_id: string; object_id: string }>(
  {
    name: 'create_triggered_job',
    description: 'Create the job of a workflow for a DRS object whose type triggers it (once per pair)',
    config: {
      type: 'object',
      properties: {
        workflow_id: { type: 'string', minLength: 1 },
        object_id: { type: 'string', minLength: 1 },
      },
      required: ['workflow_id', 'object_id'],
      additionalProperties: false,
    },
    requiredResources: [HUB_TRIGGERS],
  },
  async (ctx) => {
    const { workflow_id: workflowId, object_id: objectId } = ctx.config;
    const created = await (ctx.resources[HUB_TRIGGERS] as HubTriggers).createTriggeredJob(
      workflowId,
      objectId,
    );
    if (created) {
      ctx.materialize({ assetKey: `job/${workflowId}`, metadata: { job_id: created, object_id: objectId } });
      ctx.log.info(`created job ${created} of ${workflowId} for object ${objectId}`);
    } else {
      ctx.log.info(`a job of ${workflowId} for object ${objectId} exists already`);
    }
    return created ?? null;
  },
);

export const ensureJobs = graph(
  'ensure_jobs',
  ({ call }) => {
    call(createTriggeredJob);
  },
  { description: 'Creates the job a trigger asks for' },
).toJob({ resources: { [HUB_TRIGGERS]: hostResource<HubTriggers>(HUB_TRIGGERS) } });

/**
 * At once when an object is typed, and every 30 s as a safety net: one run of `ensure_jobs` per (workflow, object) pair that a trigger asks for and that has
 * no job. The run key is the pair, and the job's unique dedupe key is the pair too, so neither two
 * daemons nor a re-run can create a second job.
 */
export const processWorkflowJobTriggers = sensor(
  {
    name: 'process_workflow_job_triggers',
    description: 'Creates jobs for DRS objects whose types trigger workflows',
    job: ensureJobs,
    minimumIntervalSeconds: 30,
    defaultStatus: 'RUNNING',
    requiredResources: [HUB_TRIGGERS],
    wakeOn: [WORK_TOPICS.objectTyped],
  },
  async (ctx) => {
    const pending = await (ctx.resources[HUB_TRIGGERS] as HubTriggers).pendingTriggeredJobs(BATCH);
    if (pending.length === 0) {
      return skipReason('every triggered object has its jobs');
    }
    return pending.map(({ workflowId, objectId }) =>
      runRequest({
        runKey: `${workflowId}:${objectId}`,
        runConfig: {
          ops: { create_triggered_job: { config: { workflow_id: workflowId, object_id: objectId } } },
        },
        tags: { workflow: workflowId, object: objectId },
      }),
    );
  },
);
