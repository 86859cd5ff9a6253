/**
 * The store's Lua scripts, loaded once from the .lua files beside this module: each is its own
 * file with the includes it names inlined (script-source.ts). A script runs with EVALSHA and falls
 * back to EVAL when the server does not know it yet (NOSCRIPT: a restarted or flushed Redis).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { assemble } from './script-source.js';

type Arg = string | Buffer | number;

export class LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;

  constructor(name: string, source: string) {
    this.name = name;
    this.source = source;
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  run(redis: Redis, args: readonly Arg[]): Promise<unknown> {
    return this.invoke((command, argv) => redis.call(command, argv), args);
  }

  /** As run(), with bulk replies as Buffers (a script that returns binary). */
  runBuffer(redis: Redis, args: readonly Arg[]): Promise<unknown> {
    return this.invoke((command, argv) => redis.callBuffer(command, argv), args);
  }

  private async invoke(send: (command: string, argv: Arg[]) => Promise<unknown>, args: readonly Arg[]): Promise<unknown> {
    // Arguments as one array, not spread into the call: spreading a long argument list into a
    // function call can overflow V8's stack.
    try {
      return await send('EVALSHA', [this.sha, 0, ...args]);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
        return send('EVAL', [this.source, 0, ...args]);
      }
      throw err;
    }
  }
}

function load(name: string): LuaScript {
  return new LuaScript(name, assemble(name).source);
}

export const scripts = {
  apply: load('apply'),
  write: load('write'),
  gc: load('gc'),
  migrateV2: load('migrate-v2'),
  migrateV3: load('migrate-v3'),
  bucketDigests: load('bucket-digests'),
  bucketLeaves: load('bucket-leaves'),
  fetchRecords: load('fetch-records'),
  scan: load('scan'),
  raiseClock: load('raise-clock'),
};
