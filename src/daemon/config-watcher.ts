/**
 * Notices changes to the configuration file. It watches the file's directory rather than the
 * file, because editors and config-management tools replace files by renaming a new one over
 * them, which ends a watch on the old inode. Bursts of events (write + rename + chmod) are
 * collapsed into one notification, and only a real content change is reported.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { createHash } from 'node:crypto';

const DEBOUNCE_MS = 200;

export class ConfigWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private lastDigest: string | null = null;

  constructor(
    private readonly path: string,
    private readonly onChange: () => void,
  ) {}

  /** Starts watching; `initialText` is the content already loaded, so it is not reported again. */
  start(initialText: string): void {
    this.lastDigest = digest(initialText);
    const name = basename(this.path);
    this.watcher = watch(dirname(this.path), { persistent: false }, (_event, file) => {
      if (file === null || file.toString() === name) this.schedule();
    });
    this.watcher.on('error', () => undefined);
  }

  /** The content now loaded (after a reload by signal), so the watcher does not reload it again. */
  markLoaded(text: string): void {
    this.lastDigest = digest(text);
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check();
    }, DEBOUNCE_MS);
  }

  private async check(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return; // mid-replace or removed: the next event (or a SIGHUP) will try again
    }
    const fileDigest = digest(text);
    if (fileDigest === this.lastDigest) return;
    this.lastDigest = fileDigest;
    this.onChange();
  }
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
