import {
  runRequest,
  sensor,
  skipReason,
  type JobDefinition,
  type RunRequest,
  type SensorDefinition,
} from '../orchestrator/core/index.js';
import { WORK_TOPICS } from '../orchestrator/work-arrived.js';

export interface OperationFailure {
  readonly code: string;
  readonly message: string;
  readonly details?: unknown;
}

/** A job the hub's own site may claim, with the DRS object that triggered it. */
export interface PendingObjectJob {
  readonly jobId: string;
  readonly objectId: string;
}

/**
 * What the hub does for any workflow it runs as its own site, like a remote site would: find jobs,
 * claim them through the job-claim service and close the claim's operation. The hosting process binds
 * the hub's services behind it (see orchestrator/host-values.ts).
 */
export interface ClaimedWork {
  /** Jobs of the workflow the hub's own site may claim and has not failed (unless reopened since). */
  pendingJobs(limit: number): Promise<PendingObjectJob[]>;
  /** Claims a job as the hub's own site; answers the operation that tracks it. */
  claim(jobId: string): Promise<{ operationId: string }>;
  /** Closes the operation of a claim with its result or its failure (a closed one stays as it is). */
  finish(operationId: string, outcome: { result: unknown } | { error: OperationFailure }): Promise<void>;
  /** Turns any error into what the operation reports. */
  describeFailure(error: unknown): OperationFailure;
}

export const OPERATION_ID_CONFIG = {
  type: 'string',
  minLength: 1,
  description: 'The operation of the claim being run',
} as const;

/** Runs a step of a claimed job; a failure is reported on the job's operation before the run fails. */
export async function reportingFailure<T>(
  port: ClaimedWork,
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

/** At most this many jobs are claimed per tick, so one tick stays short. */
const CLAIMS_PER_TICK = 20;

/**
 * A sensor that claims pending jobs of one workflow as the hub's own site and requests one run of
 * `job` per claim. The run key is the operation id, so a claim never runs twice.
 */
export function claimAndRunSensor(options: {
  readonly name: string;
  readonly workflowId: string;
  readonly job: JobDefinition;
  readonly resource: string;
  readonly minimumIntervalSeconds: number;
  /** The run config of one claimed job. */
  readonly runConfig: (job: PendingObjectJob, operationId: string) => Record<string, unknown>;
}): SensorDefinition {
  return sensor(
    {
      name: options.name,
      description: `Claims ${options.workflowId} jobs as the hub's own site and runs ${options.job.name} for each`,
      job: options.job,
      minimumIntervalSeconds: options.minimumIntervalSeconds,
      defaultStatus: 'RUNNING',
      requiredResources: [options.resource],
      // A job created or released is claimed at once; the interval tick remains the safety net.
      wakeOn: [WORK_TOPICS.jobAvailable(options.workflowId)],
    },
    async (ctx) => {
      const port = ctx.resources[options.resource] as ClaimedWork;
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
            runConfig: options.runConfig(job, operationId),
            tags: { job_id: job.jobId, object_id: job.objectId, operation_id: operationId },
          }),
        );
      }
      return requests.length > 0 ? requests : skipReason(`no ${options.workflowId} job to claim`);
    },
  );
}
