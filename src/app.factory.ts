import type { ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { LogController } from 'fastify';
import type { Logger } from 'pino';

import { AppModule } from './app.module.js';
import { corsHook } from './common/http/cors.js';
import { frameworkErrorHandler, installJsonParser } from './common/http/input-safety.js';
import { serializeReply } from './common/http/json-once.js';
import { registerMultipart } from './common/http/multipart.js';
import { redactUrl } from './common/http/redact.js';
import { requestIdOf } from './common/http/request-id.js';
import { mountConsole } from './console/console.js';
import type { AppConfig } from './config/app-config.js';
import { buildOpenApiDocument } from './docs/openapi.js';
import { mountDocs } from './docs/docs.js';
import { createLogger } from './infra/logging/logger.js';
import { NestPinoLogger } from './infra/logging/nest-logger.js';
import { lazyChildrenOf } from './infra/logging/request-logger.js';
import { MetricsService } from './infra/metrics/metrics.service.js';
import { DrainState } from './health/drain-state.js';

export interface CreateAppOptions {
  readonly logger?: Logger;
  /** Additional modules to load (the test suite uses this for probe routes). */
  readonly extraModules?: ModuleMetadata['imports'];
}

/**
 * Builds a fully configured hub application without listening, so `main.ts`, the OpenAPI script and the
 * test harness all run exactly the same wiring.
 */
export async function createApp(
  config: AppConfig,
  options: CreateAppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = options.logger ?? createLogger(config);
  if (config.secrets.builtIn.length > 0) {
    logger.warn(
      { secrets: config.secrets.builtIn },
      `INSECURE: ${config.secrets.builtIn.join(' and ')} ${config.secrets.builtIn.length > 1 ? 'are' : 'is'} the public built-in development value, so anyone can forge this hub's tokens or signed URLs. Set your own (openssl rand -base64 48), or start through the hub's own entry points, which generate per-install secrets into DEV_SECRETS_FILE.`,
    );
  }
  const adapter = new FastifyAdapter({
    loggerInstance: lazyChildrenOf(logger),
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: config.http.bodyLimitBytes,
    trustProxy: config.http.trustProxy,
    genReqId: requestIdOf,
    routerOptions: { maxParamLength: 1024 },
    frameworkErrors: frameworkErrorHandler(logger),
    // Registered below, without the hooks the adapter's registration would put on every request.
    multipart: false,
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    AppModule.forRoot(config, logger, options.extraModules ?? []),
    adapter,
    {
      // Nest's start-up chatter (every mapped route) is only worth seeing when debugging.
      logger: new NestPinoLogger(
        logger.child(
          { component: 'nest' },
          { level: ['debug', 'trace'].includes(config.log.level) ? config.log.level : 'warn' },
        ),
      ),
      abortOnError: false,
    },
  );

  installJsonParser(app, config.http.bodyLimitBytes);
  const fastify = app.getHttpAdapter().getInstance();
  // Before any route exists: each route takes the serialiser its context has when it is added.
  fastify.setReplySerializer(serializeReply);
  // Uploads stream straight to the blob store, so their limit is the upload limit, not BODY_LIMIT_BYTES.
  // One byte more than the store's own limit: the store then refuses the file before the parser
  // truncates it.
  registerMultipart(fastify, { limits: { fileSize: config.drs.uploadLimitBytes + 1 } });
  // Changesheets may be sent as a raw TSV/CSV body; their bytes are decoded (and refused if not UTF-8)
  // by the changesheet service, which also owns their size limit.
  fastify.addContentTypeParser(
    ['text/tab-separated-values', 'text/csv'],
    { parseAs: 'buffer', bodyLimit: config.metadata.changesheetMaxBytes + 1 },
    (_request, body, done) => done(null, body),
  );
  // Signed blob uploads (PUT /blobs/{id}) stream their bytes to storage, which enforces the upload limit.
  fastify.addContentTypeParser('application/octet-stream', (_request, payload, done) => done(null, payload));
  const metrics = app.get(MetricsService);
  const drain = app.get(DrainState);
  const logsRequests = logger.isLevelEnabled('info');
  const cors = corsHook(config.http.corsOrigins);
  // One hook for everything every request needs before routing: each hook is a step of Fastify's chain.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    if (drain.draining) {
      // Clients then open their next connection elsewhere, so none is left mid-request at close.
      void reply.header('connection', 'close');
    }
    cors(request, reply, done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    metrics.observeHttp(request.method, route, reply.statusCode, seconds);
    // Skipped outright when info is off, rather than building the line for pino to drop.
    if (!logsRequests) {
      done();
      return;
    }
    // Through the root logger with the id as a field: request.log would make a child logger just for it.
    logger.info(
      {
        requestId: request.id,
        method: request.method,
        route,
        url: redactUrl(request.url),
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
    done();
  });

  if (config.role !== 'worker') {
    mountDocs(app, buildOpenApiDocument(app, config));
    await mountConsole(app);
  }
  return app;
}
