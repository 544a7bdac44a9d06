import type { OrchestratorEvent } from './events.js';

/**
 * Where an execution records what happens. The in-process executor keeps everything in memory; the run
 * worker writes to PostgreSQL. Events are recorded synchronously (ops log from synchronous code) and
 * written when the host flushes.
 */
export interface RunHost {
  record(event: OrchestratorEvent): void;
  /** Writes every recorded event. */
  flush(): Promise<void>;
  /** Writes the recorded events and the step's outputs together, so a step is either done or not. */
  commitStep(stepKey: string, outputs: Readonly<Record<string, unknown>>): Promise<void>;
  /** The stored output of a step this execution did not run. */
  loadOutput(stepKey: string, output: string): Promise<unknown>;
  /** Checked at every step boundary: true when the run was canceled elsewhere. */
  isCanceled?(): Promise<boolean>;
}
