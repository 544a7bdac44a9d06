/**
 * The floor under the API path, in its own process like the hub: a bare `node:http` server whose
 * `POST /runs` makes the durable writes a launch of `bench_noop_job` makes — the run created STARTED
 * with its RUN_ENQUEUED, RUN_STARTING and RUN_START events, answered 201 with the run once committed —
 * then "executes" it (no op is called) and writes its final status with the step's start, output and
 * success events, its output and RUN_SUCCESS. It uses the hub's own `RunRepository`, so its statements,
 * batching and commits are exactly the hub's; it has no framework, authentication, validation, executor,
 * heartbeat or metrics. What the hub spends beyond this server is the hub's software; what this server
 * cannot reach on the machine, no hub making these writes can.
 * Configured by DATABASE_URL, PG_SCHEMA, SERVICE_NAME and PORT.
 */
import 'reflect-metadata';

import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';

import { loadConfig } from '../../src/config/app-config.js';
import { PostgresService } from '../../src/infra/postgres/postgres.service.js';
import { makeEvent } from '../../src/orchestrator/core/index.js';
import { RunRepository } from '../../src/orchestrator/storage/run.repository.js';
import { requiredSetting } from '../lib/settings.js';

const JOB = 'bench_noop_job';
const STEP = 'bench_noop';
const WORKER = `bare-${randomUUID()}`;

const postgres = new PostgresService(
  loadConfig({
    DATABASE_URL: requiredSetting('DATABASE_URL'),
    PG_SCHEMA: requiredSetting('PG_SCHEMA'),
    SERVICE_NAME: requiredSetting('SERVICE_NAME'),
    PG_POOL_MAX: '20',
  }),
);
await postgres.migrate();
const runs = new RunRepository(postgres);

/** What the hub's worker writes when a one-op run succeeds, with its final status (core/step.ts). */
async function execute(runId: string): Promise<void> {
  const started = Date.now();
  const events = [
    makeEvent('STEP_START', `Started execution of step "${STEP}".`, { stepKey: STEP }),
    makeEvent('STEP_OUTPUT', `Yielded output "result" of step "${STEP}".`, {
      stepKey: STEP,
      level: 'debug',
      data: { output: 'result', bytes: 4, value: null },
    }),
    makeEvent('STEP_SUCCESS', `Finished execution of step "${STEP}" in ${Date.now() - started} ms.`, {
      stepKey: STEP,
      data: { durationMs: Date.now() - started, attempt: 1 },
    }),
    makeEvent('RUN_SUCCESS', `Finished execution of run for "${JOB}".`),
  ];
  await runs.finish(runId, {
    from: ['STARTED'],
    to: 'SUCCESS',
    fence: 0,
    workerId: WORKER,
    events,
    outputs: [{ stepKey: STEP, output: 'result', value: null }],
  });
}

async function launch(): Promise<string> {
  const run = await runs.insertRun({
    runId: randomUUID(),
    jobName: JOB,
    runConfig: {},
    tags: {},
    instigatorType: 'manual',
    createdBy: 'bench',
    startedBy: WORKER,
  });
  if (!run) {
    throw new Error('the run was not created');
  }
  setImmediate(() => void execute(run.runId).catch((error: unknown) => console.error(error)));
  return JSON.stringify({ runId: run.runId, status: run.status, createdAt: run.createdAt });
}

const server = createServer((request, response) => {
  if (request.method === 'POST' && request.url === '/runs') {
    // The body is read to its end, as a server that parsed it would.
    request.resume();
    request.on('end', () => {
      launch().then(
        (body) => response.writeHead(201, { 'content-type': 'application/json' }).end(body),
        (error: unknown) => response.writeHead(500).end(String(error)),
      );
    });
    return;
  }
  response.writeHead(200).end('ok');
});
server.listen(Number(requiredSetting('PORT')), '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => void postgres.onApplicationShutdown().finally(() => process.exit(0)));
});
