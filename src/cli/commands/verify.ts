/**
 * `replication-engine verify --config FILE`: compares this node's Merkle tree with every
 * peer's, read-only, and prints per peer "in sync" or the divergent keys with which side
 * wins (`--json`: one JSON document). Exit 0 only when every peer is in sync (1 otherwise, 2 for a bad
 * configuration).
 */
import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { ConfigError } from '../../config/config-error.js';
import { loadConfigFile } from '../../config/load.js';
import type { RedisConnectionConfig, ReplicationConfig } from '../../config/types.js';
import { compareWithPeer, type DivergenceReport } from '../../cold-path/compare.js';
import { tombstoneHorizon } from '../../cold-path/diff.js';
import { createRedisClient } from '../../redis/connect.js';
import { RedisStoreReader } from '../../store/store-reader.js';
import { EXIT } from '../exit-codes.js';
import { errorMessage } from '../../errors.js';

export interface PeerVerdict {
  peerId: string;
  inSync: boolean;
  report?: DivergenceReport;
  error?: string;
}

function clientFor(c: RedisConnectionConfig, name: string): Redis {
  return createRedisClient(
    { redis_url: c.redis_url, username: c.username, password: c.password, tls: c.tls },
    { connectionName: name, maxRetriesPerRequest: 1, retryStrategy: () => null, enableOfflineQueue: true, connectTimeout: 5000 },
  );
}

/** Compares the local tree with each peer's; never writes to either side. */
export async function verifyMesh(config: ReplicationConfig, nowMs = Date.now()): Promise<PeerVerdict[]> {
  const localClient = clientFor(config.local, 're-verify:local');
  localClient.on('error', () => undefined);
  const local = new RedisStoreReader(localClient, config.local.redis_prefix);
  const horizon = tombstoneHorizon(nowMs, config.store.tombstone_ttl);
  try {
    const verdicts: PeerVerdict[] = [];
    for (const peer of config.peers) {
      const client = clientFor(peer, `re-verify:${peer.node_id}`);
      client.on('error', () => undefined);
      try {
        const report = await compareWithPeer(local, new RedisStoreReader(client, peer.redis_prefix), { tombstoneHorizonHlc: horizon });
        // Roots that differ only by tombstones past the horizon are as good as equal (docs/architecture.md).
        verdicts.push({ peerId: peer.node_id, inSync: report.inSync || (report.keys.length === 0 && !report.truncated), report });
      } catch (err) {
        verdicts.push({ peerId: peer.node_id, inSync: false, error: errorMessage(err) });
      } finally {
        client.disconnect();
      }
    }
    return verdicts;
  } finally {
    localClient.disconnect();
  }
}

export function renderVerdicts(verdicts: readonly PeerVerdict[], limit: number): string {
  const lines: string[] = [];
  for (const v of verdicts) {
    if (v.error) {
      lines.push(`${v.peerId}: ERROR ${v.error}`);
      continue;
    }
    if (v.inSync) {
      lines.push(`${v.peerId}: in sync`);
      continue;
    }
    const r = v.report!;
    lines.push(`${v.peerId}: ${r.keys.length}${r.truncated ? '+' : ''} divergent keys (peer wins ${r.peerWins}, local wins ${r.localWins}, conflicts ${r.conflicts})`);
    for (const k of r.keys.slice(0, limit)) {
      const side = (l: typeof k.local): string => (l ? `${l.deleted ? 'deleted' : 'live'} ${l.hlc} ${l.origin}` : 'absent');
      lines.push(`  ${k.key}: ${k.winner === 'equal' ? 'CONFLICT' : `${k.winner} wins`}  local: ${side(k.local)}  peer: ${side(k.peer)}`);
    }
    if (r.keys.length > limit) lines.push(`  … ${r.keys.length - limit} more`);
  }
  return lines.join('\n');
}

/** The `--json` document: stable snake_case fields for scripts; keys listed up to `limit` per peer. */
export function verdictsJson(nodeId: string, verdicts: readonly PeerVerdict[], limit: number): Record<string, unknown> {
  return {
    node_id: nodeId,
    in_sync: verdicts.every((v) => v.inSync),
    peers: verdicts.map((v) => {
      if (v.error !== undefined) return { peer_id: v.peerId, in_sync: false, error: v.error };
      const r = v.report!;
      return {
        peer_id: v.peerId,
        in_sync: v.inSync,
        local_root: r.localRoot,
        peer_root: r.peerRoot,
        divergent_keys: r.keys.length,
        truncated: r.truncated,
        peer_wins: r.peerWins,
        local_wins: r.localWins,
        conflicts: r.conflicts,
        keys: r.keys.slice(0, limit).map((k) => ({ key: k.key, winner: k.winner, local: k.local, peer: k.peer })),
      };
    }),
  };
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description("compare this node's data with every peer's (read-only); exit 0 only when all are in sync")
    .requiredOption('-c, --config <file>', 'configuration file')
    .option('-l, --limit <n>', 'divergent keys to list per peer', '20')
    .option('--json', 'print the verdicts as one JSON document')
    .action(async (opts: { config: string; limit: string; json?: boolean }) => {
      let config: ReplicationConfig;
      try {
        config = await loadConfigFile(opts.config);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`invalid configuration:\n${err.message}\n`);
        process.exitCode = EXIT.config;
        return;
      }
      const limit = Math.max(0, Number.parseInt(opts.limit, 10) || 0);
      const verdicts = await verifyMesh(config);
      process.stdout.write(opts.json
        ? `${JSON.stringify(verdictsJson(config.local_node_id, verdicts, limit))}\n`
        : `${config.local_node_id}: ${verdicts.length} peer(s)\n${renderVerdicts(verdicts, limit)}\n`);
      process.exitCode = verdicts.every((v) => v.inSync) ? EXIT.ok : EXIT.failure;
    });
}
