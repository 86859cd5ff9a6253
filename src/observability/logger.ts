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
 * there (other commands carry keys and record content). The name is kept. Nested errors (an
 * AggregateError's) are serialized too, so they are scrubbed the same way.
 */
export function serializeError(err: unknown): unknown {
  return withoutCommandArgs(pino.stdSerializers.err(err as Error), 0);
}

function withoutCommandArgs(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => withoutCommandArgs(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    out[key] = key === 'command' && typeof field === 'object' && field !== null
      ? { name: (field as { name?: unknown }).name }
      : withoutCommandArgs(field, depth + 1);
  }
  return out;
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
