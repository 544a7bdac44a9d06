import type { Run, RunEvent } from './api';
import type { StepState } from './components/graph';

export interface Attempt {
  attempt: number;
  start: number;
  end?: number;
  outcome: 'running' | 'success' | 'failure' | 'retry';
}

export interface StepTimeline {
  step: string;
  attempts: Attempt[];
}

/**
 * Folds a run's events into each step's attempts (STEP_START / STEP_RESTARTED open one; STEP_SUCCESS,
 * STEP_FAILURE and STEP_UP_FOR_RETRY close it) — the Gantt of the timeline and the graph's colours.
 */
export function timelineOf(events: readonly RunEvent[]): StepTimeline[] {
  const steps = new Map<string, StepTimeline>();
  for (const event of events) {
    if (!event.stepKey) {
      continue;
    }
    const at = Date.parse(event.timestamp);
    let step = steps.get(event.stepKey);
    if (!step) {
      step = { step: event.stepKey, attempts: [] };
      steps.set(event.stepKey, step);
    }
    const open = step.attempts.at(-1);
    switch (event.type) {
      case 'STEP_START':
      case 'STEP_RESTARTED':
        step.attempts.push({ attempt: step.attempts.length + 1, start: at, outcome: 'running' });
        break;
      case 'STEP_SUCCESS':
      case 'STEP_FAILURE':
      case 'STEP_UP_FOR_RETRY':
        if (open && open.outcome === 'running') {
          open.end = at;
          open.outcome =
            event.type === 'STEP_SUCCESS' ? 'success' : event.type === 'STEP_FAILURE' ? 'failure' : 'retry';
        }
        break;
      default:
        break;
    }
  }
  return [...steps.values()];
}

export function stepStates(run: Run, nodes: readonly string[], timeline: readonly StepTimeline[]) {
  const states: Record<string, StepState> = {};
  const byStep = new Map(timeline.map((t) => [t.step, t]));
  const finished = ['SUCCESS', 'FAILURE', 'CANCELED'].includes(run.status);
  for (const node of nodes) {
    const last = byStep.get(node)?.attempts.at(-1);
    if (run.stepKeysToExecute && !run.stepKeysToExecute.includes(node)) {
      states[node] = 'reused';
    } else if (!last) {
      states[node] = finished ? 'skipped' : 'pending';
    } else if (last.outcome === 'running') {
      states[node] = finished ? 'failure' : 'running';
    } else if (last.outcome === 'retry') {
      states[node] = 'retrying';
    } else {
      states[node] = last.outcome;
    }
  }
  return states;
}
