import { pino, type Logger } from 'pino';

import type { AppConfig } from '../../config/app-config.js';

/** Paths whose values never reach a log line, wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'password',
  'client_secret',
  'secret',
  'token',
  'access_token',
  'password_hash',
  'secret_hash',
  'body.password',
  'body.client_secret',
  'user.password_hash',
];

/**
 * Development output. `singleLine` keeps a logged object on its message's line, so each request is one
 * line (as pino-http's default is) rather than one line per field.
 */
export const PRETTY_OPTIONS = {
  colorize: true,
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: 'pid,hostname,service,role',
} as const;

export function createLogger(config: AppConfig, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level: config.log.level,
    base: { service: config.service.name, role: config.role },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: pino.stdSerializers.err },
  };
  if (destination) {
    return pino(options, destination);
  }
  if (config.log.pretty) {
    return pino({ ...options, transport: { target: 'pino-pretty', options: PRETTY_OPTIONS } });
  }
  return pino(options);
}
