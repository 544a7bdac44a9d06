import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';

import { RouteHistogram } from './route-histogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: [string, string, number, number][] = [
  ['GET', '/version', 200, 0.0004],
  ['GET', '/version', 200, 0.001],
  ['GET', '/version', 200, 0.05],
  ['GET', '/objects/:id', 404, 0.2],
  ['POST', '/objects', 201, 7],
  ['GET', '/version', 200, 0.0101],
];

/** The same observations through prom-client's Histogram and through RouteHistogram. */
function both(): { theirs: Registry; ours: Registry; route: RouteHistogram } {
  const theirs = new Registry();
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'latency',
    labelNames: ['method', 'route', 'status_code'],
    buckets: BUCKETS,
    registers: [theirs],
  });
  const ours = new Registry();
  const route = new RouteHistogram('http_request_duration_seconds', 'latency', BUCKETS, ours);
  for (const [method, path, status, seconds] of OBSERVATIONS) {
    histogram.observe({ method, route: path, status_code: String(status) }, seconds);
    route.observe(method, path, status, seconds);
  }
  return { theirs, ours, route };
}

describe('RouteHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const { theirs, ours } = both();
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toContain(
      'http_request_duration_seconds_bucket{le="0.01",method="GET",route="/version",status_code="200"} 2',
    );
    // prom-client's JSON adds an empty `exemplar` to each value; exemplars are not kept here.
    const withoutExemplars = async (registry: Registry) =>
      JSON.parse(
        JSON.stringify(await registry.getMetricsAsJSON(), (key, value: unknown) =>
          key === 'exemplar' ? undefined : value,
        ),
      ) as unknown;
    expect(await withoutExemplars(ours)).toEqual(await withoutExemplars(theirs));
  });

  it('starts over on reset', async () => {
    const { ours, route } = both();
    route.reset();
    expect(await ours.metrics()).not.toContain('_bucket');
  });
});
