import { pino, type DestinationStream, type LevelWithSilent, type Logger as PinoLogger } from 'pino';
import pinoPretty from 'pino-pretty';
import { colorAllowed } from './color.js';

export type Logger = PinoLogger;

export interface LoggerOptions {
  level: LevelWithSilent;
  /** Human-readable output; defaults to whether stdout is a terminal. */
  pretty?: boolean;
  /** Where lines go; defaults to stdout. */
  destination?: DestinationStream;
}

/**
 * Secrets that may appear in logged objects (config fragments, HTTP requests).
 * Pino cannot see inside strings, so a password embedded in a Redis URL must be
 * masked before it is logged (the config layer logs URLs without credentials).
 */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'api_token',
  '*.api_token',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
];

/**
 * pino's error serializer, less the arguments of the Redis command that failed: ioredis attaches
 * `command: { name, args }` to its errors, and an AUTH refused with WRONGPASS carries the password
 * there (other commands carry keys and record content). The name is kept.
 */
export function serializeError(err: unknown): unknown {
  const out: unknown = pino.stdSerializers.err(err as Error);
  if (typeof out !== 'object' || out === null || !('command' in out)) return out;
  const command = (out as { command: unknown }).command;
  const name = typeof command === 'object' && command !== null && 'name' in command ? (command as { name: unknown }).name : undefined;
  return { ...out, command: { name } };
}

export function createLogger(opts: LoggerOptions): Logger {
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  const options = { level: opts.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: { err: serializeError } };
  if (pretty) {
    // pino-pretty as an in-process stream rather than a transport: no worker thread, and
    // lines are written in order with the rest of the process output.
    const stream = pinoPretty({ destination: opts.destination ?? 1, sync: true, colorize: opts.destination === undefined && colorAllowed(process.stdout) });
    return pino(options, stream);
  }
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that drops everything: for tests and for library use without logging. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
