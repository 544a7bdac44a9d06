import { compileConfigSchema, type CompiledConfigSchema, type ConfigSchema } from './config-schema.js';
import { DefinitionError } from './errors.js';

export interface ResourceContext<TConfig = Record<string, unknown>> {
  readonly config: TConfig;
  readonly runId: string;
  /** Values the process running the job provides (database handles and such), by key. */
  readonly host: Readonly<Record<string, unknown>>;
}

export interface ResourceDefinition<T = unknown> {
  readonly kind: 'resource';
  readonly description?: string;
  readonly config?: CompiledConfigSchema;
  readonly setup: (context: ResourceContext<never>) => T | Promise<T>;
  // Declared through a method type so a definition of a specific T is assignable to ResourceDefinition.
  readonly teardown?: { bivariant(value: T): void | Promise<void> }['bivariant'];
}

export interface ResourceOptions<T, TConfig> {
  readonly description?: string;
  /** JSON Schema of `resources.<key>.config`. */
  readonly config?: ConfigSchema;
  readonly setup: (context: ResourceContext<TConfig>) => T | Promise<T>;
  /** Called once the run (or sensor evaluation) is over, in reverse order of setup. */
  readonly teardown?: (value: T) => void | Promise<void>;
}

/** A resource factory: built once per run from its config, torn down at the end. */
export function resource<T, TConfig = Record<string, unknown>>(
  options: ResourceOptions<T, TConfig>,
): ResourceDefinition<T> {
  let config: CompiledConfigSchema | undefined;
  if (options.config) {
    try {
      config = compileConfigSchema(options.config);
    } catch (error) {
      throw new DefinitionError('resource', [`config schema does not compile: ${(error as Error).message}`]);
    }
  }
  return Object.freeze({
    kind: 'resource' as const,
    ...(options.description ? { description: options.description } : {}),
    ...(config ? { config } : {}),
    setup: options.setup,
    ...(options.teardown ? { teardown: options.teardown } : {}),
  });
}

/**
 * A resource whose value the hosting process supplies under `key` (the worker binds its database
 * repositories this way), so definitions stay free of framework code.
 */
export function hostResource<T>(key: string, description?: string): ResourceDefinition<T> {
  return resource<T>({
    description: description ?? `provided by the hosting process as "${key}"`,
    setup: ({ host }) => {
      if (!(key in host)) {
        throw new Error(
          `resource "${key}" must be provided by the process running the job (or passed to executeInProcess)`,
        );
      }
      return host[key] as T;
    },
  });
}

/** A resource that is just a value (handy in tests and for executeInProcess overrides). */
export function valueResource<T>(value: T, description?: string): ResourceDefinition<T> {
  return resource<T>({ ...(description ? { description } : {}), setup: () => value });
}

function isResourceDefinition(value: unknown): value is ResourceDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'resource';
}

export interface OpenResourcesOptions {
  /** Values `hostResource(key)` resolves to. */
  readonly host: Readonly<Record<string, unknown>>;
  /** The run id (or another name for the owner, such as `sensor:<name>`). */
  readonly owner: string;
  /** Validated config by key; a key without one gets its schema's defaults. */
  readonly configs?: Readonly<Record<string, unknown>>;
  /** Values (or definitions) replacing the definitions, by key. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** Told about a teardown that threw; teardown failures never fail the owner. */
  readonly onTeardownError?: (key: string, error: unknown) => void;
}

/** Sets up the named resources in order; `close()` tears them down in reverse order. */
export async function openResources(
  definitions: Readonly<Record<string, ResourceDefinition>>,
  keys: Iterable<string>,
  options: OpenResourcesOptions,
): Promise<{ values: Record<string, unknown>; close: () => Promise<void> }> {
  const opened: { key: string; def: ResourceDefinition; value: unknown }[] = [];
  const close = async (): Promise<void> => {
    for (const { key, def, value } of opened.reverse()) {
      try {
        await def.teardown?.(value);
      } catch (error) {
        options.onTeardownError?.(key, error);
      }
    }
  };
  const values: Record<string, unknown> = {};
  try {
    for (const key of keys) {
      const override = options.overrides?.[key];
      if (override !== undefined && !isResourceDefinition(override)) {
        values[key] = override;
        continue;
      }
      const def = override ?? definitions[key];
      if (!def) {
        throw new Error(`resource "${key}" is required but not defined`);
      }
      let config = options.configs?.[key];
      if (config === undefined && def.config) {
        const defaults = def.config.validate(undefined, `resources.${key}.config`);
        if (defaults.problems.length > 0) {
          throw new Error(
            `resource "${key}" needs config: ${defaults.problems.map((p) => p.path).join(', ')}`,
          );
        }
        config = defaults.value;
      }
      const value = await def.setup({
        config: (config ?? {}) as never,
        runId: options.owner,
        host: options.host,
      });
      opened.push({ key, def, value });
      values[key] = value;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { values, close };
}
