/**
 * Process-level series for a running node, in the node's own registry beside the engine's:
 * prom-client's default metrics (CPU, RSS, heap, event-loop lag, GC, handles) under their usual
 * names, and `replication_build_info{version,node_id}` so dashboards can tell which build runs where.
 * Kept apart from metrics.ts: an embedding application may already collect these itself.
 */
import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';

const registered = new WeakSet<Registry>();

export function registerProcessMetrics(registry: Registry, info: { version: string; nodeId: string }): void {
  // Once per registry: prom-client refuses a second metric of the same name.
  if (registered.has(registry)) return;
  registered.add(registry);
  collectDefaultMetrics({ register: registry });
  const buildInfo = new Gauge({
    name: 'replication_build_info',
    help: 'Always 1; the labels say which version runs as which node.',
    labelNames: ['version', 'node_id'],
    registers: [registry],
  });
  buildInfo.labels(info.version, info.nodeId).set(1);
}
