import { afterEach, describe, expect, it } from 'vitest';

import { ADMIN, passwordToken } from './support/auth.js';
import { isolatedEnv, startTestHub, type TestHub } from './support/harness.js';
import { adminClient, FAST_ORCHESTRATOR_ENV, waitFor, waitForStatus } from './support/orchestrator.js';

interface SseEvent {
  id?: number;
  event: string;
}

function parse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((block) => /^event: /m.test(block))
    .map((block) => {
      const id = /^id: (\d+)$/m.exec(block)?.[1];
      return { event: /^event: (\w+)$/m.exec(block)![1]!, ...(id ? { id: Number(id) } : {}) };
    });
}

/** Reads an SSE response until `until` is satisfied or the server ends it; returns what it read. */
async function readStream(
  res: Response,
  until: (events: SseEvent[]) => boolean = () => false,
): Promise<{ events: SseEvent[]; ended: boolean }> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return { events: parse(text), ended: true };
    }
    text += decoder.decode(value, { stream: true });
    const events = parse(text);
    if (until(events)) {
      await reader.cancel();
      return { events, ended: false };
    }
  }
}

const noReplyWarnings = (hub: TestHub): string[] =>
  hub.logs.filter((line) => /already sent|FST_ERR_REP_ALREADY_SENT|premature close/i.test(line));

/** The live tail of a run's events (`Accept: text/event-stream`). */
describe('run event stream', () => {
  const hubs: TestHub[] = [];
  afterEach(async () => {
    for (const hub of hubs.splice(0).reverse()) {
      await hub.close();
    }
  });

  async function launchSlow(hub: TestHub, ms: number): Promise<string> {
    const api = await adminClient(hub);
    const res = await api.inject({
      method: 'POST',
      url: '/orchestrator/jobs/slow_job/runs',
      payload: { runConfig: { ops: { wait: { config: { ms } } } } },
    });
    expect(res.statusCode).toBe(201);
    return res.json<{ runId: string }>().runId;
  }

  const tail = (hub: TestHub, token: string, runId: string, lastEventId?: number): Promise<Response> =>
    fetch(`${hub.url}/orchestrator/runs/${runId}/events`, {
      headers: {
        accept: 'text/event-stream',
        authorization: `Bearer ${token}`,
        ...(lastEventId !== undefined ? { 'last-event-id': String(lastEventId) } : {}),
      },
    });

  it('ends with an end event, and neither a finished nor an abandoned stream logs a warning', async () => {
    const hub = await startTestHub({ env: FAST_ORCHESTRATOR_ENV, listen: true });
    hubs.push(hub);
    const token = await passwordToken(hub, ADMIN.username, ADMIN.password);

    const finished = await readStream(await tail(hub, token, await launchSlow(hub, 200)));
    expect(finished.ended).toBe(true);
    expect(finished.events.at(-1)?.event).toBe('end');
    expect(finished.events.at(-2)?.event).toBe('RUN_SUCCESS');

    // A client that goes away in the middle of a run.
    const runId = await launchSlow(hub, 1500);
    const partial = await readStream(await tail(hub, token, runId), (events) =>
      events.some((e) => e.event === 'STEP_START'),
    );
    expect(partial.ended).toBe(false);
    await waitForStatus(await adminClient(hub), runId, ['SUCCESS'], 20_000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(noReplyWarnings(hub)).toEqual([]);
  });

  it('resumes from Last-Event-ID on a restarted hub: every event once, none missing', async () => {
    const names = isolatedEnv();
    const env = {
      ...FAST_ORCHESTRATOR_ENV,
      MONGO_DB: names.MONGO_DB!,
      PG_SCHEMA: names.PG_SCHEMA!,
      REDIS_PREFIX: names.REDIS_PREFIX!,
    };
    const first = await startTestHub({ env, listen: true, keepData: true });
    hubs.push(first);
    const token = await passwordToken(first, ADMIN.username, ADMIN.password);
    const runId = await launchSlow(first, 2500);
    const response = await tail(first, token, runId);
    const before = await readStream(response, (events) => events.some((e) => e.event === 'STEP_START'));
    const lastSeen = before.events.filter((e) => e.id !== undefined).at(-1)!.id!;
    expect(noReplyWarnings(first)).toEqual([]);
    await hubs.pop()!.close();

    const second = await startTestHub({ env, listen: true });
    hubs.push(second);
    const resumed = await readStream(await tail(second, token, runId, lastSeen));
    expect(resumed.ended).toBe(true);
    expect(resumed.events.at(-1)?.event).toBe('end');

    const api = await adminClient(second);
    const all = await waitFor('the complete event log', async () => {
      const res = await api.inject({ method: 'GET', url: `/orchestrator/runs/${runId}/events?limit=1000` });
      const page = res.json<{ resources: { id: number }[]; done: boolean }>();
      return page.done ? page.resources.map((e) => e.id) : undefined;
    });
    const streamed = [...before.events, ...resumed.events].flatMap((e) => (e.id === undefined ? [] : [e.id]));
    expect(streamed).toEqual(all);
    expect(noReplyWarnings(second)).toEqual([]);
  }, 60_000);
});
