/**
 * The values `hostResource(key)` resolves to when a job runs inside the hub (worker or CLI): a frozen
 * record from key to implementation. The orchestrator only passes it to the ops that ask; what it holds
 * is bound by whatever loads the orchestrator (for this hub, src/hub/host-values.ts).
 */
export const ORCH_HOST_VALUES = Symbol('ORCH_HOST_VALUES');
