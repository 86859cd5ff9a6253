import { accessSync, constants as fsConstants, existsSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ValidationError, errorMessage } from '../errors.js';
import { assertNodeId } from '../model/node-id.js';
import { isStreamId } from '../cdc/stream-id.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { CursorStoreError, type CursorStore } from './cursor-store.js';

export interface SqliteCursorStoreOptions {
  /** File path; its parent directory is created if missing. */
  path: string;
  /** WAL journal with synchronous=NORMAL (recommended); otherwise a rollback journal with synchronous=FULL. */
  walMode: boolean;
  logger?: Logger;
  /** Clock for `updated_at` and the name of a moved-aside corrupt file. */
  now?: () => number;
}

/** How often, at most, a write also checks that the file at `path` is still the one open and writable. */
const FILE_CHECK_INTERVAL_MS = 1000;

interface CursorRow {
  peer_id: unknown;
  stream_id: unknown;
}

/** Expected `PRAGMA table_info(cursors)`: name, declared type, NOT NULL, primary-key position. */
const EXPECTED_COLUMNS = [
  { name: 'peer_id', type: 'TEXT', notnull: 0, pk: 1 },
  { name: 'stream_id', type: 'TEXT', notnull: 1, pk: 0 },
  { name: 'updated_at', type: 'INTEGER', notnull: 1, pk: 0 },
];

/** Raised inside `open` when the file is readable SQLite but not a cursor store we can trust. */
class CorruptCursorFile extends Error {}

/**
 * Cursor store on SQLite. Under WAL with synchronous=NORMAL a committed write survives
 * a process crash; a power loss may roll back the last few commits, which only makes
 * the hot path replay batches it already applied — harmless under last-writer-wins.
 *
 * A corrupt file is moved aside and replaced by an empty store rather than stopping the
 * engine: losing cursors costs a replay from the start of each stream, nothing more.
 */
export class SqliteCursorStore implements CursorStore {
  /** True when the file at `path` was corrupt and has been moved aside (for metrics). */
  readonly recoveredFromCorruption: boolean;
  /** Where the corrupt file was moved, when it was. */
  readonly corruptFilePath: string | null;
  readonly path: string;

  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly stmtGet: Database.Statement<[string], { stream_id: unknown }>;
  private readonly stmtSet: Database.Statement<[string, string, number]>;
  private readonly stmtDelete: Database.Statement<[string]>;
  private readonly stmtAll: Database.Statement<[], CursorRow>;
  private readonly stmtGetState: Database.Statement<[string], { value: unknown }>;
  private readonly stmtSetState: Database.Statement<[string, string]>;
  private closed = false;
  /** The open file's identity, to tell that `path` was deleted or replaced under us. */
  private readonly identity: string | null;
  private lastFileCheck = -Infinity;
  private currentFault: string | null = null;

  private constructor(path: string, db: Database.Database, logger: Logger, now: () => number, corruptFilePath: string | null) {
    this.path = path;
    this.db = db;
    this.logger = logger;
    this.now = now;
    this.corruptFilePath = corruptFilePath;
    this.recoveredFromCorruption = corruptFilePath !== null;
    this.identity = fileIdentity(path);
    this.stmtGet = db.prepare('SELECT stream_id FROM cursors WHERE peer_id = ?');
    this.stmtSet = db.prepare(
      'INSERT INTO cursors (peer_id, stream_id, updated_at) VALUES (?, ?, ?) ' +
        'ON CONFLICT(peer_id) DO UPDATE SET stream_id = excluded.stream_id, updated_at = excluded.updated_at',
    );
    this.stmtDelete = db.prepare('DELETE FROM cursors WHERE peer_id = ?');
    this.stmtAll = db.prepare('SELECT peer_id, stream_id FROM cursors ORDER BY peer_id');
    this.stmtGetState = db.prepare('SELECT value FROM engine_state WHERE name = ?');
    this.stmtSetState = db.prepare('INSERT INTO engine_state (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value');
  }

  static open(opts: SqliteCursorStoreOptions): SqliteCursorStore {
    const logger = opts.logger ?? silentLogger();
    const now = opts.now ?? Date.now;
    try {
      mkdirSync(dirname(opts.path), { recursive: true });
    } catch (err) {
      throw new CursorStoreError('cursor_store_unavailable', `cannot create the directory of cursor file ${opts.path}: ${errorMessage(err)}`, { cause: err });
    }

    let corruptFilePath: string | null = null;
    let db: Database.Database;
    try {
      db = openChecked(opts.path, opts.walMode);
    } catch (thrown) {
      const failure = thrown instanceof OpenFailure ? thrown : null;
      const err = failure ? failure.error : thrown;
      if (!isCorruption(err)) {
        failure?.close();
        throw new CursorStoreError('cursor_store_unavailable', `cannot open cursor file ${opts.path}: ${errorMessage(err)}`, { cause: err });
      }
      try {
        // Renamed while still open (fine on POSIX), so the companions go along intact.
        corruptFilePath = moveAside(opts.path, now());
      } catch (moveErr) {
        throw new CursorStoreError('cursor_store_unavailable', `cursor file ${opts.path} is corrupt (${errorMessage(err)}) and cannot be moved aside: ${errorMessage(moveErr)}`, { cause: moveErr });
      } finally {
        failure?.close();
      }
      logger.error(
        { path: opts.path, movedTo: corruptFilePath, reason: errorMessage(err), err },
        'cursor file is corrupt: moved it aside and started an empty cursor store; replication restarts from the beginning of each peer stream',
      );
      try {
        db = openChecked(opts.path, opts.walMode);
      } catch (retryThrown) {
        const retryErr = retryThrown instanceof OpenFailure ? retryThrown.error : retryThrown;
        if (retryThrown instanceof OpenFailure) retryThrown.close();
        throw new CursorStoreError('cursor_store_unavailable', `cannot create a fresh cursor file ${opts.path}: ${errorMessage(retryErr)}`, { cause: retryErr });
      }
    }

    const store = new SqliteCursorStore(opts.path, db, logger, now, corruptFilePath);
    store.dropMalformedRows();
    return store;
  }

  get(peerId: string): string | null {
    this.assertOpen();
    const row = this.stmtGet.get(peerId);
    if (row === undefined) return null;
    if (typeof row.stream_id !== 'string' || !isStreamId(row.stream_id)) {
      this.drop(peerId, row.stream_id);
      return null;
    }
    return row.stream_id;
  }

  set(peerId: string, streamId: string): void {
    this.assertOpen();
    assertNodeId(peerId, 'peer_id');
    if (!isStreamId(streamId)) {
      throw new ValidationError('invalid_stream_id', 'stream_id', `"${streamId}" is not a stream id (expected <ms>-<seq>)`);
    }
    const now = this.now();
    try {
      this.stmtSet.run(peerId, streamId, Math.trunc(now));
    } catch (err) {
      throw this.fail(new CursorStoreError(writeErrorCode(err), `cursor file ${this.path}: saving the cursor of ${peerId} failed: ${errorMessage(err)}`, { cause: err }));
    }
    if (now - this.lastFileCheck >= FILE_CHECK_INTERVAL_MS) {
      this.lastFileCheck = now;
      const problem = this.fileProblem();
      if (problem) throw this.fail(new CursorStoreError('cursor_file_lost', `cursor file ${this.path} ${problem}; cursors are not persisted (a restart replays from the last ones saved)`));
    }
    this.currentFault = null;
  }

  getState(name: string): string | null {
    this.assertOpen();
    const row = this.stmtGetState.get(name);
    return typeof row?.value === 'string' ? row.value : null;
  }

  setState(name: string, value: string): void {
    this.assertOpen();
    try {
      this.stmtSetState.run(name, value);
    } catch (err) {
      throw this.fail(new CursorStoreError(writeErrorCode(err), `cursor file ${this.path}: saving ${name} failed: ${errorMessage(err)}`, { cause: err }));
    }
  }

  fault(): string | null {
    return this.currentFault;
  }

  /**
   * A write into a file that was deleted or replaced succeeds but goes to the old inode, lost at
   * close; a file made immutable fails only at the next WAL write or checkpoint. So the path is
   * checked too: still the same file, still writable.
   */
  private fileProblem(): string | null {
    const now = fileIdentity(this.path);
    if (now === null) return 'was deleted while the engine ran';
    if (now !== this.identity) return 'was replaced by another file while the engine ran';
    try {
      accessSync(this.path, fsConstants.W_OK);
    } catch (err) {
      return `is no longer writable (${(err as NodeJS.ErrnoException).code ?? errorMessage(err)})`;
    }
    return null;
  }

  private fail(err: CursorStoreError): CursorStoreError {
    this.currentFault = err.message;
    return err;
  }

  delete(peerId: string): void {
    this.assertOpen();
    this.stmtDelete.run(peerId);
  }

  all(): Map<string, string> {
    this.assertOpen();
    const out = new Map<string, string>();
    for (const row of this.stmtAll.all()) {
      if (typeof row.peer_id === 'string' && typeof row.stream_id === 'string' && isStreamId(row.stream_id)) out.set(row.peer_id, row.stream_id);
      else this.drop(row.peer_id, row.stream_id);
    }
    return out;
  }

  /** The journal mode SQLite reports (`wal` or `delete`): for diagnostics and tests. */
  journalMode(): string {
    this.assertOpen();
    return String(this.db.pragma('journal_mode', { simple: true }));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Scrub at open so a bad row is reported once, not on every read. */
  private dropMalformedRows(): void {
    this.all();
  }

  private drop(peerId: unknown, streamId: unknown): void {
    this.logger.error({ path: this.path, peerId, streamId }, 'dropping a malformed cursor row; replication from that peer restarts from the beginning');
    this.db.prepare('DELETE FROM cursors WHERE peer_id IS ?').run(peerId);
  }

  private assertOpen(): void {
    if (this.closed) throw new CursorStoreError('cursor_store_closed', `cursor store ${this.path} is closed`);
  }
}

/**
 * Open and verify. On failure the connection is returned still open: closing it first
 * would let SQLite delete the -wal/-shm companions that belong with the corrupt file.
 */
function openChecked(path: string, walMode: boolean): Database.Database {
  const db = new Database(path);
  try {
    // Wait briefly for another connection's lock instead of failing at once.
    db.pragma('busy_timeout = 5000');
    // Set before the first WAL access, exclusive locking keeps the WAL index in heap memory instead
    // of a mmap'd -shm file (sqlite.org/wal.html, "Use of WAL Without Shared-Memory"): a -shm file
    // made immutable or truncated under a mapping killed the process with SIGBUS, no log line.
    // It also keeps a second engine off the same cursor file (it gets SQLITE_BUSY at open).
    db.pragma('locking_mode = EXCLUSIVE');
    if (walMode) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    } else {
      db.pragma('journal_mode = DELETE');
      db.pragma('synchronous = FULL');
    }
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new CorruptCursorFile(`integrity_check failed: ${String(check)}`);
    db.exec('CREATE TABLE IF NOT EXISTS cursors (peer_id TEXT PRIMARY KEY, stream_id TEXT NOT NULL, updated_at INTEGER NOT NULL)');
    db.exec('CREATE TABLE IF NOT EXISTS engine_state (name TEXT PRIMARY KEY, value TEXT NOT NULL)');
    checkShape(db);
    return db;
  } catch (err) {
    throw new OpenFailure(err, db);
  }
}

class OpenFailure extends Error {
  constructor(
    readonly error: unknown,
    readonly db: Database.Database,
  ) {
    super(errorMessage(error));
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // Already failing; the original error is the one to report.
    }
  }
}

function checkShape(db: Database.Database): void {
  const columns = db.pragma('table_info(cursors)') as Array<{ name: string; type: string; notnull: number; pk: number }>;
  const actual = columns.map(({ name, type, notnull, pk }) => ({ name, type: type.toUpperCase(), notnull, pk }));
  if (JSON.stringify(actual) !== JSON.stringify(EXPECTED_COLUMNS)) {
    throw new CorruptCursorFile(`table "cursors" has an unexpected shape: ${JSON.stringify(actual)}`);
  }
}

/** Corruption (recoverable by starting over), as opposed to I/O or locking problems that a restart may fix. */
function isCorruption(err: unknown): boolean {
  if (err instanceof CorruptCursorFile) return true;
  if (err instanceof Database.SqliteError) {
    return err.code === 'SQLITE_NOTADB' || err.code === 'SQLITE_FORMAT' || err.code.startsWith('SQLITE_CORRUPT');
  }
  return false;
}

/** Rename the file and its -wal/-shm companions to `<path>.corrupt-<timestamp>[-n]`; returns the new path. */
function moveAside(path: string, timestamp: number): string {
  let target = `${path}.corrupt-${timestamp}`;
  for (let n = 1; existsSync(target); n++) target = `${path}.corrupt-${timestamp}-${n}`;
  renameSync(path, target);
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(path + suffix)) renameSync(path + suffix, target + suffix);
  }
  return target;
}

/** dev:inode of the file at `path`, null when there is none. */
function fileIdentity(path: string): string | null {
  const stats = statSync(path, { throwIfNoEntry: false });
  return stats ? `${stats.dev}:${stats.ino}` : null;
}

/** A typed code for a failed write: the disk is full, the file is read-only, or another I/O error. */
function writeErrorCode(err: unknown): string {
  const code = err instanceof Database.SqliteError ? err.code : '';
  if (code.startsWith('SQLITE_FULL')) return 'cursor_disk_full';
  if (code.startsWith('SQLITE_READONLY')) return 'cursor_file_readonly';
  return 'cursor_write_failed';
}
