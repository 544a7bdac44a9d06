import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

const LEVELS: readonly (Level | 'silent')[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The logger Fastify gives each request (`request.log`): a child of the hub's logger carrying the
 * request id, made only when something logs through it. Fastify makes the child eagerly, and pino's
 * `child()` serialises its bindings on the spot — 3 % of the CPU of a simple request, for a logger that
 * almost never logs (the access line is written through the root logger, with the id as a field). A
 * message below the level is dropped without making the child at all.
 */
class RequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  isLevelEnabled(level: string): boolean {
    const target = this.made ?? (this.options.level === undefined ? this.parent : this.logger());
    const check = (target as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
    return check ? check.call(target, level) : true;
  }

  /** As lazy as this one: Fastify makes each request's logger as a child of its own root logger. */
  child(bindings: Bindings, options: ChildLoggerOptions = {}): FastifyBaseLogger {
    return new RequestLogger(
      this as unknown as FastifyBaseLogger,
      bindings,
      options,
    ) as unknown as FastifyBaseLogger;
  }

  logger(): FastifyBaseLogger {
    if (this.made === undefined) {
      const parent = this.parent instanceof RequestLogger ? this.parent.logger() : this.parent;
      this.made = parent.child(this.bindings, this.options);
    }
    return this.made;
  }
}

for (const level of LEVELS) {
  Object.defineProperty(RequestLogger.prototype, level, {
    value(this: RequestLogger, ...args: unknown[]): void {
      if (level !== 'silent' && this.isLevelEnabled(level)) {
        const target = this.logger();
        target[level](...(args as Parameters<FastifyBaseLogger['info']>));
      }
    },
  });
}

/**
 * The `loggerInstance` to give Fastify so that its request loggers cost nothing until they log: Fastify
 * makes its root logger as a child of this one, and each request's logger as a child of that root,
 * through `child()`, which here answers a lazy logger. Unlike a custom `childLoggerFactory`, whose every
 * logger Fastify checks method by method on each request, a plain `child()` is trusted as it is.
 */
export function lazyChildrenOf<L extends FastifyBaseLogger>(logger: L): L {
  return Object.create(logger, {
    child: {
      // Fastify sets more fields on the options object after this call, so the child keeps a copy.
      value: (bindings: Bindings, options: ChildLoggerOptions = {}): FastifyBaseLogger =>
        new RequestLogger(logger, bindings, { ...options }) as unknown as FastifyBaseLogger,
    },
  }) as L;
}
