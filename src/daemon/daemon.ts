/**
 * The long-running process behind `replication-engine run`: a node built from a YAML file,
 * reloaded on SIGHUP and on file change (an invalid or restart-only change is refused and
 * the running configuration stays), stopped gracefully on SIGTERM/SIGINT.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/config-error.js';
import type { Env } from '../config/env.js';
import { parseConfigText } from '../config/load.js';
import type { LogLevel, ReplicationConfig } from '../config/types.js';
import { LOG_LEVELS } from '../config/schema.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { startTracing, type TracingHandle } from '../observability/otel-sdk.js';
import { packageVersion } from '../version.js';
import { ConfigWatcher } from './config-watcher.js';
import { ReplicationNode } from './node.js';
import { errorMessage } from '../errors.js';

export interface DaemonOptions {
  configPath: string;
  env?: Env;
  /** Defaults to pino on stdout: JSON, or readable when stdout is a terminal. */
  logger?: Logger;
  /** Watch the file for changes (default true); SIGHUP works either way. */
  watch?: boolean;
}

export type ReloadOutcome = { applied: true } | { applied: false; reason: string };

async function readConfig(path: string, env: Env): Promise<{ text: string; config: ReplicationConfig }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: '', message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'error'})` }], path);
  }
  return { text, config: parseConfigText(text, { source: path, env }) };
}

/** LOG_LEVEL in the environment overrides the file, so an operator can turn on debug without editing it. */
export function effectiveLogLevel(config: ReplicationConfig, env: Env): LogLevel {
  const fromEnv = env.LOG_LEVEL?.toLowerCase();
  return fromEnv && (LOG_LEVELS as readonly string[]).includes(fromEnv) ? (fromEnv as LogLevel) : config.logging.level;
}

export class Daemon {
  readonly node: ReplicationNode;
  readonly logger: Logger;
  private readonly options: Required<Pick<DaemonOptions, 'configPath' | 'env'>>;
  private readonly watcher: ConfigWatcher | null;
  private reloading: Promise<ReloadOutcome> | null = null;
  private stopping: Promise<void> | null = null;
  private readonly tracing: TracingHandle | null;

  private constructor(node: ReplicationNode, logger: Logger, options: DaemonOptions, initialText: string, tracing: TracingHandle | null) {
    this.node = node;
    this.logger = logger;
    this.tracing = tracing;
    this.options = { configPath: options.configPath, env: options.env ?? process.env };
    this.watcher = options.watch === false ? null : new ConfigWatcher(options.configPath, () => void this.reload('file change'));
    this.watcher?.start(initialText);
  }

  /** Loads the file (ConfigError when it is invalid) and starts the node. */
  static async start(options: DaemonOptions): Promise<Daemon> {
    const env = options.env ?? process.env;
    const { text, config } = await readConfig(options.configPath, env);
    const logger = options.logger ?? createLogger({ level: effectiveLogLevel(config, env) });
    logger.info({ config: options.configPath, node_id: config.local_node_id }, 'starting replication-engine');
    // Before the node, so that its first spans are exported too; off (and not loaded) without OTEL_* variables.
    const tracing = await startTracing(env, { version: packageVersion(), nodeId: config.local_node_id }, logger);
    let node: ReplicationNode;
    try {
      node = await ReplicationNode.start(config, logger);
    } catch (err) {
      await tracing?.shutdown();
      throw err;
    }
    return new Daemon(node, logger, options, text, tracing);
  }

  /** Re-reads the file and applies it live; on any problem keeps the running configuration. */
  reload(trigger: string): Promise<ReloadOutcome> {
    if (this.stopping) return Promise.resolve({ applied: false, reason: 'shutting down' });
    // One reload at a time; a trigger during a reload re-reads once more afterwards.
    const run = (this.reloading ?? Promise.resolve<ReloadOutcome>({ applied: true })).then(() => this.reloadOnce(trigger));
    this.reloading = run;
    return run;
  }

  private async reloadOnce(trigger: string): Promise<ReloadOutcome> {
    const { configPath, env } = this.options;
    try {
      const { text, config } = await readConfig(configPath, env);
      this.watcher?.markLoaded(text);
      await this.node.reconfigure(config);
      this.logger.info({ trigger, peers: config.peers.map((p) => p.node_id) }, 'configuration reloaded');
      return { applied: true };
    } catch (err) {
      const reason = errorMessage(err);
      this.logger.error({ trigger, reason, err }, 'configuration reload refused; the running configuration stays in force');
      return { applied: false, reason };
    }
  }

  /** Graceful stop; idempotent. */
  shutdown(deadlineMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      this.watcher?.stop();
      await this.reloading?.catch(() => undefined);
      this.logger.info('shutting down');
      await this.node.stop({ deadlineMs });
      await this.tracing?.shutdown();
      this.logger.info('stopped');
    })();
    return this.stopping;
  }
}
