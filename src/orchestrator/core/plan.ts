import type { GraphNode } from './graph.js';
import type { JobDefinition } from './job.js';

export interface ExecutionStep {
  readonly key: string;
  readonly node: GraphNode;
  readonly upstream: readonly string[];
}

export interface ExecutionPlan {
  /** Every step of the job, in topological order. */
  readonly steps: readonly ExecutionStep[];
  /** The steps this execution runs; the others are done already and only supply their outputs. */
  readonly toExecute: readonly string[];
  readonly reused: readonly string[];
}

/**
 * The job's steps in topological order. `done` names steps whose outputs already exist (a resumed run,
 * or steps reused from a parent run when re-executing from failure); they are not executed again.
 */
export function buildPlan(job: JobDefinition, done: Iterable<string> = []): ExecutionPlan {
  const doneSet = new Set(done);
  const steps = job.graph.nodes.map((node) => ({
    key: node.name,
    node,
    upstream: job.graph.upstreamOf(node.name),
  }));
  return {
    steps,
    toExecute: steps.filter((s) => !doneSet.has(s.key)).map((s) => s.key),
    reused: steps.filter((s) => doneSet.has(s.key)).map((s) => s.key),
  };
}
