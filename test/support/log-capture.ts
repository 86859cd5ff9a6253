// A logger whose lines a test can read back: pino JSON lines, parsed, in memory.
import { pino } from 'pino';
import type { Logger } from '../../src/observability/logger.js';

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface CapturedLogs {
  logger: Logger;
  lines: LogLine[];
  /** Lines whose message contains `text` and whose fields include `fields`. */
  find(text: string, fields?: Record<string, unknown>): LogLine[];
}

export const WARN = 40;

export function captureLogs(level: pino.LevelWithSilent = 'debug'): CapturedLogs {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
  return {
    logger,
    lines,
    find: (text, fields = {}) =>
      lines.filter((l) => l.msg.includes(text) && Object.entries(fields).every(([k, v]) => l[k] === v)),
  };
}
