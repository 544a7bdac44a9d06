/**
 * The orchestrator's definition language and in-process executor: plain TypeScript, no framework, no
 * driver. Everything a site definition needs is exported here.
 */
export * from './config-schema.js';
export * from './errors.js';
export * from './events.js';
export * from './execute.js';
export * from './graph.js';
export * from './job.js';
export * from './op.js';
export * from './plan.js';
export * from './repository.js';
export * from './resource.js';
export * from './retry.js';
export * from './run-config.js';
export * from './schedule.js';
export * from './sensor.js';
