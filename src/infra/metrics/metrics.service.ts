import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import { largeStreamsRelaying } from '../blob/heap-growth.js';

import { RouteHistogram } from './route-histogram.js';

/**
 * One Prometheus registry per application instance (not the global one), so that several hub instances
 * in one process — as in the test suite — never collide on metric names.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  readonly httpDuration: RouteHistogram;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    this.httpDuration = new RouteHistogram(
      'http_request_duration_seconds',
      'HTTP request latency by method, route template and status code',
      [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      this.registry,
    );
    // Read when scraped: while it is above 0 the process lets its heap grow further (see heap-growth.ts).
    new Gauge({
      name: 'blob_large_streams_relaying',
      help: 'Blob uploads and downloads of 16 MiB or more passing through this process now',
      registers: [this.registry],
      collect() {
        this.set(largeStreamsRelaying());
      },
    });
  }

  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe(method, route, statusCode, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    return this.registry.metrics();
  }
}
