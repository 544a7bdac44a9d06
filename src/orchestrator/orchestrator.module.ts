import { Global, Module } from '@nestjs/common';

import { InstigatorService } from './api/instigators.service.js';
import {
  InstigatorsController,
  OrchestratorJobsController,
  RunsController,
} from './api/orchestrator.controllers.js';
import { RunService } from './api/runs.service.js';
import { InstigatorTicker } from './daemon/instigator-ticker.js';
import { OrchestratorQueues } from './daemon/orchestrator-queues.js';
import { OutboxRelay } from './daemon/outbox-relay.js';
import { RunCoordinator } from './daemon/run-coordinator.js';
import { RunMonitor } from './daemon/run-monitor.js';
import { SensorWakeUps } from './daemon/sensor-wake-ups.js';
import { SchedulerReconciler } from './daemon/scheduler-reconciler.js';
import { TransportRecovery } from './daemon/transport-recovery.js';
import { EventRepository } from './storage/event.repository.js';
import { InstigatorRepository } from './storage/instigator.repository.js';
import { LockRepository } from './storage/lock.repository.js';
import { OutboxRepository } from './storage/outbox.repository.js';
import { RunRepository } from './storage/run.repository.js';
import { OrchestratorDaemon } from './worker/orchestrator-daemon.js';
import { RunExecutor } from './worker/run-executor.js';
import { LocalRuns } from './local-runs.js';
import { WORK_ARRIVED } from './work-arrived.js';

const SHARED = [
  RunRepository,
  EventRepository,
  InstigatorRepository,
  OutboxRepository,
  LockRepository,
  OrchestratorQueues,
  OutboxRelay,
  SchedulerReconciler,
  RunService,
  InstigatorService,
  SensorWakeUps,
  LocalRuns,
];

/**
 * What every role (and the CLI) needs: storage, the queues as producers, and the run/instigator
 * services. The workspace of definitions (ORCH_WORKSPACE) and the host values (ORCH_HOST_VALUES) come from
 * a global module of whoever loads the orchestrator, since they name that application's own code.
 */
@Module({
  providers: [...SHARED],
  exports: [...SHARED],
})
export class OrchestratorCoreModule {}

/**
 * The {@link WORK_ARRIVED} port for every feature of the hub (changesheets, metadata, DRS, jobs): they
 * report work through it and the orchestrator wakes the sensors that would find it.
 */
@Global()
@Module({
  imports: [OrchestratorCoreModule],
  providers: [{ provide: WORK_ARRIVED, useExisting: SensorWakeUps }],
  exports: [WORK_ARRIVED],
})
export class WorkArrivedModule {}

/** The orchestrator's REST API, loaded by the `api` and `all` roles. */
@Module({
  imports: [OrchestratorCoreModule],
  controllers: [OrchestratorJobsController, RunsController, InstigatorsController],
})
export class OrchestratorApiModule {}

/** The orchestrator daemon (sensors, schedules, coordinator, monitor) and run workers: `worker`/`all`. */
@Module({
  imports: [OrchestratorCoreModule],
  providers: [
    InstigatorTicker,
    RunCoordinator,
    RunMonitor,
    RunExecutor,
    TransportRecovery,
    OrchestratorDaemon,
  ],
  exports: [InstigatorTicker, RunCoordinator, RunMonitor, RunExecutor],
})
export class OrchestratorWorkerModule {}
