import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../../src/observability/logger.js';

describe('logger', () => {
  function capture() {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    return { lines, destination };
  }

  it('writes JSON and redacts secrets', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', pretty: false, destination });
    log.info(
      { password: 'p1', peer: { password: 'p2', api_token: 't1' }, authorization: 'a1', headers: { authorization: 'a2' }, req: { headers: { authorization: 'a3' } } },
      'hello',
    );
    log.debug('below level');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, any>;
    expect(entry.msg).toBe('hello');
    expect(entry.password).toBe('[redacted]');
    expect(entry.peer).toEqual({ password: '[redacted]', api_token: '[redacted]' });
    expect(entry.authorization).toBe('[redacted]');
    expect(entry.headers.authorization).toBe('[redacted]');
    expect(entry.req.headers.authorization).toBe('[redacted]');
    expect(lines[0]).not.toMatch(/p1|p2|t1|a1|a2|a3/);
  });

  it('pretty output is human-readable and still redacted', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', pretty: true, destination });
    log.warn({ password: 'secret' }, 'pretty line');
    const out = lines.join('');
    expect(out).toContain('pretty line');
    expect(out).toContain('WARN');
    expect(out).not.toContain('secret');
    expect(() => JSON.parse(out)).toThrow();
  });

  it('logs a Redis error with its stack but never the arguments of the failed command (an AUTH carries the password)', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', pretty: false, destination });
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), { command: { name: 'auth', args: ['peer-user', 'hunter2-secret'] } });
    log.warn({ err }, 'peer connection failed');
    const entry = JSON.parse(lines[0]!) as { err: { message: string; stack: string; command: unknown } };
    expect(entry.err.message).toContain('WRONGPASS');
    expect(entry.err.stack).toContain('WRONGPASS');
    expect(entry.err.command).toEqual({ name: 'auth' });
    expect(lines[0]).not.toContain('hunter2-secret');
    expect(lines[0]).not.toContain('peer-user');

    log.warn({ err: new AggregateError([err], 'both peers refused') }, 'peers failed');
    const nested = JSON.parse(lines[1]!) as { err: { aggregateErrors: { message: string; command: unknown }[] } };
    expect(nested.err.aggregateErrors[0]!.message).toContain('WRONGPASS');
    expect(nested.err.aggregateErrors[0]!.command).toEqual({ name: 'auth' });
    expect(lines[1]).not.toContain('hunter2-secret');
  });

  it('silentLogger writes nothing', () => {
    const log = silentLogger();
    expect(log.level).toBe('silent');
    expect(log.isLevelEnabled('error')).toBe(false);
  });
});
