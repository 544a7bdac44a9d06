/**
 * The one port through which other features tell the orchestrator that work arrived which a sensor
 * would find (an object typed, a job becoming claimable). The orchestrator wakes the sensors that
 * declare the topic in `wakeOn`, so the work starts within a second instead of at the next interval;
 * the interval tick stays as the safety net. Fire and forget: `notify` never throws or waits, and a
 * lost notification only means the interval tick finds the work.
 */
export interface WorkArrived {
  notify(topic: string): void;
}

export const WORK_ARRIVED = Symbol('WORK_ARRIVED');

export const WORK_TOPICS = {
  /** A DRS object was registered with types, or its types changed: triggers may ask for jobs. */
  objectTyped: 'object-typed',
  /** A job of the workflow became claimable (created, or released by a site). */
  jobAvailable: (workflowId: string): string => `job-available:${workflowId}`,
} as const;
