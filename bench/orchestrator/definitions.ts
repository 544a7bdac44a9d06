/** The benchmark's own definitions, served through ORCH_CODE_LOCATIONS. */
import { graph, op, repository, runRequest, sensor } from '../../src/orchestrator/core/index.js';

const noop = op({ name: 'bench_noop' }, () => null);
export const benchNoop = graph('bench_noop_job', ({ call }) => call(noop)).toJob();

export const benchSensor = sensor(
  { name: 'bench_latency_sensor', job: benchNoop, minimumIntervalSeconds: 0.25 },
  () => runRequest({ runKey: `tick-${Date.now()}` }),
);

export const benchRepository = repository({ name: 'bench', jobs: [benchNoop], sensors: [benchSensor] });
