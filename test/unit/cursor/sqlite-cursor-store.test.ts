import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { SqliteCursorStore } from '../../../src/cursor/sqlite-cursor-store.js';
import { CursorStoreError } from '../../../src/cursor/cursor-store.js';
import { ValidationError } from '../../../src/errors.js';
import { createLogger } from '../../../src/observability/logger.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cursor-store-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A real pino logger writing JSON lines into an array. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ level: 'info', pretty: false, destination }), lines };
}

const ERROR = 50;

describe('SqliteCursorStore', () => {
  it('persists cursors across reopen', () => {
    const path = join(dir, 'cursors.db');
    const a = SqliteCursorStore.open({ path, walMode: true });
    expect(a.get('peer-b')).toBeNull();
    a.set('peer-b', '1735776000000-0');
    a.set('peer-c', '5-7');
    a.set('peer-b', '1735776000001-3');
    a.close();

    const b = SqliteCursorStore.open({ path, walMode: true });
    expect(b.recoveredFromCorruption).toBe(false);
    expect(b.get('peer-b')).toBe('1735776000001-3');
    expect(b.all()).toEqual(new Map([['peer-b', '1735776000001-3'], ['peer-c', '5-7']]));
    b.delete('peer-c');
    expect(b.get('peer-c')).toBeNull();
    b.close();
  });

  it('records updated_at from the injected clock', () => {
    const path = join(dir, 'cursors.db');
    const s = SqliteCursorStore.open({ path, walMode: true, now: () => 42_000 });
    s.set('peer-b', '1-1');
    s.close();
    const raw = new Database(path, { readonly: true });
    expect(raw.prepare('SELECT updated_at FROM cursors').get()).toEqual({ updated_at: 42_000 });
    raw.close();
  });

  it('uses WAL only when asked, visible through the pragma', () => {
    const walPath = join(dir, 'wal.db');
    const wal = SqliteCursorStore.open({ path: walPath, walMode: true });
    expect(wal.journalMode()).toBe('wal');
    wal.set('peer-b', '1-0');
    wal.close();
    const rawWal = new Database(walPath);
    expect(rawWal.pragma('journal_mode', { simple: true })).toBe('wal');
    rawWal.close();

    const delPath = join(dir, 'delete.db');
    const del = SqliteCursorStore.open({ path: delPath, walMode: false });
    expect(del.journalMode()).toBe('delete');
    del.close();
    const rawDel = new Database(delPath);
    expect(rawDel.pragma('journal_mode', { simple: true })).toBe('delete');
    rawDel.close();
  });

  it('creates missing parent directories', () => {
    const path = join(dir, 'a', 'b', 'cursors.db');
    const s = SqliteCursorStore.open({ path, walMode: true });
    s.set('peer-b', '0-0');
    s.close();
    expect(existsSync(path)).toBe(true);
  });

  it('refuses malformed stream ids and peer ids on write', () => {
    const s = SqliteCursorStore.open({ path: join(dir, 'c.db'), walMode: true });
    for (const bad of ['', '0', '1-', '-1', '1-2-3', 'abc', '$', '18446744073709551616-0']) {
      expect(() => s.set('peer-b', bad)).toThrow(ValidationError);
    }
    expect(() => s.set('', '1-0')).toThrow(ValidationError);
    expect(s.all().size).toBe(0);
    s.close();
  });

  it('moves a garbage file aside and starts empty, loudly', () => {
    const path = join(dir, 'cursors.db');
    const garbage = Buffer.from('this is definitely not an SQLite database '.repeat(200));
    writeFileSync(path, garbage);
    writeFileSync(`${path}-wal`, Buffer.from('junk wal'));
    const { logger, lines } = capturingLogger();

    const s = SqliteCursorStore.open({ path, walMode: true, logger, now: () => 1_700_000_000_000 });
    expect(s.recoveredFromCorruption).toBe(true);
    expect(s.corruptFilePath).toBe(`${path}.corrupt-1700000000000`);
    expect(readFileSync(`${path}.corrupt-1700000000000`)).toEqual(garbage);
    expect(readFileSync(`${path}.corrupt-1700000000000-wal`).toString()).toBe('junk wal');
    expect(s.all().size).toBe(0);
    s.set('peer-b', '9-9');
    expect(s.get('peer-b')).toBe('9-9');
    s.close();

    const errors = lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe(path);
    expect(String(errors[0]!.reason)).toMatch(/not a database/);

    const again = SqliteCursorStore.open({ path, walMode: true });
    expect(again.recoveredFromCorruption).toBe(false);
    expect(again.get('peer-b')).toBe('9-9');
    again.close();
  });

  it('does not overwrite an earlier corrupt copy with the same timestamp', () => {
    const path = join(dir, 'cursors.db');
    writeFileSync(path, 'garbage one'.repeat(100));
    SqliteCursorStore.open({ path, walMode: true, now: () => 5 }).close();
    rmSync(path);
    writeFileSync(path, 'garbage two'.repeat(100));
    const s = SqliteCursorStore.open({ path, walMode: true, now: () => 5 });
    expect(s.corruptFilePath).toBe(`${path}.corrupt-5-1`);
    s.close();
    expect(readFileSync(`${path}.corrupt-5`, 'utf8')).toMatch(/^garbage one/);
  });

  it('moves aside a database whose pages are damaged', () => {
    const path = join(dir, 'cursors.db');
    SqliteCursorStore.open({ path, walMode: false }).close();
    const raw = new Database(path);
    const insert = raw.prepare('INSERT INTO cursors VALUES (?, ?, 0)');
    raw.transaction(() => {
      for (let i = 0; i < 2000; i++) insert.run(`peer-${i}`, `${i}-${i}`);
    })();
    raw.close();
    // Overwrite the middle of the file (b-tree pages) with garbage, keeping the header intact.
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.alloc(8192, 0xa5), 0, 8192, 4096);
    closeSync(fd);

    const reopened = SqliteCursorStore.open({ path, walMode: false });
    expect(reopened.recoveredFromCorruption).toBe(true);
    expect(reopened.all().size).toBe(0);
    reopened.close();
  });

  it('moves aside a file whose cursors table has the wrong shape', () => {
    const path = join(dir, 'cursors.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE cursors (peer TEXT, position INTEGER)');
    raw.close();
    const { logger, lines } = capturingLogger();
    const s = SqliteCursorStore.open({ path, walMode: true, logger });
    expect(s.recoveredFromCorruption).toBe(true);
    expect(String(lines.find((l) => l.level === ERROR)?.reason)).toMatch(/unexpected shape/);
    s.set('peer-b', '1-0');
    expect(s.get('peer-b')).toBe('1-0');
    s.close();
  });

  it('drops a row whose stream id is malformed, with an error log', () => {
    const path = join(dir, 'cursors.db');
    const s = SqliteCursorStore.open({ path, walMode: true });
    s.set('peer-b', '1-0');
    s.set('peer-c', '2-0');
    s.close();
    const raw = new Database(path);
    raw.prepare("UPDATE cursors SET stream_id = 'not-an-id' WHERE peer_id = 'peer-c'").run();
    raw.close();

    const { logger, lines } = capturingLogger();
    const reopened = SqliteCursorStore.open({ path, walMode: true, logger });
    expect(reopened.recoveredFromCorruption).toBe(false);
    expect(reopened.get('peer-c')).toBeNull();
    expect(reopened.all()).toEqual(new Map([['peer-b', '1-0']]));
    reopened.close();
    const errors = lines.filter((l) => l.level === ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ peerId: 'peer-c', streamId: 'not-an-id' });

    const check = new Database(path, { readonly: true });
    expect(check.prepare('SELECT count(*) AS n FROM cursors').get()).toEqual({ n: 1 });
    check.close();
  });

  it('reports an unusable path without moving anything aside', () => {
    const path = join(dir, 'is-a-directory');
    mkdirSync(path);
    expect(() => SqliteCursorStore.open({ path, walMode: true })).toThrow(CursorStoreError);
    expect(readdirSync(dir)).toEqual(['is-a-directory']);
  });

  it('refuses use after close, and close is idempotent', () => {
    const s = SqliteCursorStore.open({ path: join(dir, 'c.db'), walMode: true });
    s.close();
    s.close();
    expect(() => s.get('peer-b')).toThrow(CursorStoreError);
    expect(() => s.set('peer-b', '1-0')).toThrow(/closed/);
  });

  it('keeps no -shm file in WAL mode, so nothing is mmap\'d that could fault (SIGBUS) under it', () => {
    const path = join(dir, 'c.db');
    const s = SqliteCursorStore.open({ path, walMode: true });
    s.set('peer-b', '1-0');
    expect(s.journalMode()).toBe('wal');
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(existsSync(`${path}-shm`)).toBe(false);
    s.close();
  });

  it('notices the file deleted while open: the next write fails with a typed error and fault() says why', () => {
    const path = join(dir, 'c.db');
    let now = 1_000_000;
    const s = SqliteCursorStore.open({ path, walMode: true, now: () => now });
    s.set('peer-b', '1-0');
    expect(s.fault()).toBeNull();
    for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    now += 1000;
    expect(() => s.set('peer-b', '2-0')).toThrow(expect.objectContaining({ code: 'cursor_file_lost', message: expect.stringContaining('was deleted') }));
    expect(s.fault()).toMatch(/was deleted/);
    s.close();
  });

  it('notices the file replaced by another one while open', () => {
    const path = join(dir, 'c.db');
    let now = 1_000_000;
    const s = SqliteCursorStore.open({ path, walMode: true, now: () => now });
    s.set('peer-b', '1-0');
    writeFileSync(join(dir, 'other.db'), '');
    renameSync(join(dir, 'other.db'), path);
    now += 1000;
    expect(() => s.set('peer-b', '2-0')).toThrow(expect.objectContaining({ code: 'cursor_file_lost', message: expect.stringContaining('replaced') }));
    s.close();
  });
});
