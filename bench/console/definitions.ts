/** The console benchmark's own job, served through ORCH_CODE_LOCATIONS: a step that logs at a set rate. */
import { graph, op, repository } from '../../src/orchestrator/core/index.js';

const chatter = op<{ events: number; perSecond: number }>(
  {
    name: 'chatter',
    description: 'Logs `events` messages at `perSecond`',
    config: {
      type: 'object',
      properties: {
        events: { type: 'integer', minimum: 1, default: 5000 },
        perSecond: { type: 'integer', minimum: 1, default: 1000 },
      },
      additionalProperties: false,
    },
  },
  async (ctx) => {
    const started = Date.now();
    for (let n = 1; n <= ctx.config.events; n++) {
      ctx.log.info(`event ${n} of ${ctx.config.events}`);
      // Keep to the rate: wait whenever ahead of schedule, in 10 ms slices.
      const due = started + (n * 1000) / ctx.config.perSecond;
      if (n % 10 === 0 && due > Date.now()) {
        await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      }
    }
    return ctx.config.events;
  },
);

export const chattyJob = graph('bench_chatty_job', ({ call }) => call(chatter)).toJob();

export const consoleBenchRepository = repository({ name: 'bench_console', jobs: [chattyJob] });
