import fastifyMultipart, { type FastifyMultipartOptions } from '@fastify/multipart';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';

/** The two hooks @fastify/multipart adds to every route, which exist only to delete saved temp files. */
const TEMP_FILE_HOOKS = new Set(['onRequest', 'onResponse']);

type AddHook = (this: FastifyInstance, name: string, ...rest: unknown[]) => FastifyInstance;

/**
 * @fastify/multipart's body parser and request API (`isMultipart()`, `parts()`), without its global
 * hooks. Those delete the temporary files of `request.saveRequestFiles()`; the hub streams every part to
 * the blob store and never saves request files, yet the hooks ran on every request of every route — an
 * async `onRequest` that adds a close listener and an async `onResponse`, two promises per request.
 * Nest registers all routes on the root instance, so the plugin cannot be scoped to the upload routes;
 * this registers it there minus the hooks. Nothing here may call `saveRequestFiles()`.
 */
export function registerMultipart(fastify: FastifyInstance, options: FastifyMultipartOptions): void {
  const plugin: FastifyPluginCallback<FastifyMultipartOptions> = (instance, pluginOptions, done) => {
    const addHook = Reflect.get(instance, 'addHook') as AddHook;
    const withoutTempFileHooks: AddHook = function (name, ...rest) {
      return TEMP_FILE_HOOKS.has(name) ? this : addHook.call(this, name, ...rest);
    };
    Reflect.set(instance, 'addHook', withoutTempFileHooks);
    try {
      fastifyMultipart(instance, pluginOptions, done);
    } finally {
      Reflect.set(instance, 'addHook', addHook);
    }
  };
  // Like fastify-plugin: on the root context, so every route can parse a form.
  Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: '@fastify/multipart',
  });
  void fastify.register(plugin, options);
}
