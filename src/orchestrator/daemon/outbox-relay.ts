import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { LOGGER } from '../../infra/logging/logging.module.js';
import { MicroBatcher } from '../storage/micro-batcher.js';
import { OutboxRepository, type OutboxMessage } from '../storage/outbox.repository.js';
import { OrchestratorQueues } from './orchestrator-queues.js';

/** Carries committed decisions to Redis. Relaying twice is harmless: jobs have ids, cancels are idempotent. */
@Injectable()
export class OutboxRelay {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly queues: OrchestratorQueues,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LOGGER) private readonly log: Logger,
  ) {}

  /** Relays the given messages right after their transaction committed. Failures are left to the sweep. */
  async relay(ids: readonly number[]): Promise<void> {
    if (ids.length === 0) {
      return;
    }
    try {
      await this.dispatch(await this.outbox.get(ids));
    } catch (error) {
      this.log.warn({ err: error, ids }, 'outbox relay failed; the run monitor will relay again');
    }
  }

  /**
   * Like {@link relay}, for messages the caller has in hand from the statement that wrote them, which
   * saves reading them back. Failures are left to the sweep.
   */
  async relayCommitted(messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) {
      return;
    }
    try {
      await this.dispatch(messages);
    } catch (error) {
      this.log.warn(
        { err: error, ids: messages.map((m) => m.id) },
        'outbox relay failed; the run monitor will relay again',
      );
    }
  }

  /**
   * Like {@link relayCommitted} for one message, sent with those other callers relay at the same moment
   * (launches committed by one statement), so a burst costs one `addBulk` and one mark, not one each.
   */
  relayOne(message: OutboxMessage): Promise<void> {
    return this.batched.submit(message);
  }

  private readonly batched = new MicroBatcher<OutboxMessage, void>(async (messages) => {
    await this.relayCommitted(messages);
    return messages.map(() => undefined);
  });

  /** Relays what nobody confirmed (the committing process died, or Redis was down). */
  async relayPending(): Promise<number> {
    const pending = await this.outbox.pending(this.config.orchestrator.outboxRetryMs);
    await this.dispatch(pending);
    return pending.length;
  }

  private async dispatch(messages: readonly OutboxMessage[]): Promise<void> {
    const executions = messages.filter((m) => m.kind === 'execute-run');
    await this.queues.enqueueExecutions(
      executions.map((m) => ({ runId: m.payload.runId, attempt: m.payload.attempt ?? 0 })),
    );
    for (const message of messages.filter((m) => m.kind === 'cancel-run')) {
      await this.queues.broadcastCancel(message.payload.runId, this.config.orchestrator.cancelTimeoutMs);
    }
    await this.outbox.markDispatched(messages.map((m) => m.id));
  }
}
