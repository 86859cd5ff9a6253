/**
 * `replication-engine check --config FILE`: validates a configuration and touches nothing — no
 * connection to any Redis, no cursor file, no listener. Exit 0 when valid, 2 with every problem
 * named by its field path otherwise.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../config/config-error.js';
import { parseConfigText } from '../../config/load.js';
import { redactRedisUrl } from '../../config/redact.js';
import type { ReplicationConfig } from '../../config/types.js';
import { EXIT } from '../exit-codes.js';

/** The lines `check` prints for a valid file: what the node would use, secrets left out. */
export function describeConfig(config: ReplicationConfig, localDefaulted: boolean): string[] {
  const { local } = config;
  return [
    `node ${config.local_node_id}, ${config.peers.length} peer(s)`,
    `  local: ${redactRedisUrl(local.redis_url)} prefix "${local.redis_prefix}"${localDefaulted ? ' (defaults: the file has no local section)' : ''}`,
    ...config.peers.map((p) => `  peer ${p.node_id}: ${redactRedisUrl(p.redis_url)} prefix "${p.redis_prefix}"`),
    `  http: ${config.http.enabled ? config.http.listen : 'disabled'}${config.http.api_token === undefined ? '' : ' (token required)'}`,
    `  cursors: ${config.cursor.sqlite_path}`,
  ];
}

function hasLocalSection(text: string): boolean {
  const local: unknown = parseDocument(text).getIn(['replication', 'local']);
  return local !== undefined;
}

export function checkConfigFile(path: string): { code: number; stdout: string; stderr: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { code: EXIT.config, stdout: '', stderr: `invalid configuration:\n${path}: ${code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'error'})`}\n` };
  }
  try {
    const config = parseConfigText(text, { source: path });
    return { code: EXIT.ok, stdout: `${path}: valid\n${describeConfig(config, !hasLocalSection(text)).join('\n')}\n`, stderr: '' };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { code: EXIT.config, stdout: '', stderr: `invalid configuration:\n${err.message}\n` };
  }
}

export function registerCheck(program: Command): void {
  program
    .command('check')
    .description('validate a configuration file without connecting to anything; exit 0 when valid, 2 otherwise')
    .requiredOption('-c, --config <file>', 'configuration file')
    .action((opts: { config: string }) => {
      const result = checkConfigFile(opts.config);
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.code;
    });
}
