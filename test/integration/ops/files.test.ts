// The files under ops/: the systemd unit is clean under systemd-analyze and runs unprivileged; the
// Grafana dashboard and the Prometheus alerts use only metrics a running node exports, and the alerts
// are the ones docs/operations.md describes.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DaemonProcess } from '../../support/daemon-process.js';
import { useRedisServers } from '../../support/use-redis.js';

const run = promisify(execFile);
const ROOT = new URL('../../../', import.meta.url).pathname;
const UNIT = path.join(ROOT, 'ops/systemd/replication-engine.service');
const DASHBOARD = path.join(ROOT, 'ops/grafana/replication-engine.json');
const ALERTS = path.join(ROOT, 'ops/prometheus/alerts.yml');

/** `Key=value` settings per section; comments are whole lines only. */
function unitSettings(text: string): Map<string, string[]> {
  const settings = new Map<string, string[]>();
  let section = '';
  for (const line of text.split('\n').map((l) => l.trim())) {
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1]!;
      continue;
    }
    const eq = line.indexOf('=');
    const key = `${section}.${line.slice(0, eq)}`;
    settings.set(key, [...(settings.get(key) ?? []), line.slice(eq + 1)]);
  }
  return settings;
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('ops/systemd/replication-engine.service', () => {
  const text = readFileSync(UNIT, 'utf8');
  const s = unitSettings(text);
  const one = (key: string): string | undefined => s.get(key)?.at(-1);

  it('has no inline comments: systemd would take them into the value', () => {
    const inline = [...s.entries()].filter(([, values]) => values.some((v) => /\s#/.test(v)));
    expect(inline).toEqual([]);
  });

  it('runs unprivileged, waits for the network, keeps its state in a relative StateDirectory', () => {
    const unprivileged = one('Service.DynamicUser') === 'yes' || (one('Service.User') !== undefined && one('Service.User') !== 'root');
    expect(unprivileged).toBe(true);
    expect(one('Unit.Wants')).toContain('network-online.target');
    expect(one('Unit.After')).toContain('network-online.target');
    const state = one('Service.StateDirectory');
    expect(state).toBeDefined();
    expect(state!.startsWith('/')).toBe(false);
  });

  it('restarts on failure but not on an invalid configuration, and gives a graceful stop its time', () => {
    expect(one('Service.Restart')).toBe('on-failure');
    expect(one('Service.RestartPreventExitStatus')).toBe('2');
    // HTTP close grace 5 s + engine shutdown deadline 10 s + span flush 5 s.
    const stop = /^(\d+)s$/.exec(one('Service.TimeoutStopSec') ?? '');
    expect(Number(stop?.[1])).toBeGreaterThanOrEqual(20);
    expect(one('Service.ExecReload')).toBe('/bin/kill -HUP $MAINPID');
  });

  it('is clean under systemd-analyze verify', async () => {
    if (!hasCommand('systemd-analyze')) {
      // .ci/run installs it; elsewhere only this one call is left out.
      expect(process.env.CI, 'systemd-analyze is required in CI').not.toBe('true');
      console.warn('systemd-analyze not found: the unit was checked statically only');
      return;
    }
    const { stdout, stderr } = await run('systemd-analyze', ['verify', UNIT]);
    expect(`${stdout}${stderr}`.trim()).toBe('');
  });
});

/** Metric names (replication_*, process_*, nodejs_*) used in PromQL expressions. */
function metricNames(expressions: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const expr of expressions) {
    for (const m of expr.matchAll(/\b(?:replication|process|nodejs)_[a-z0-9_]+\b/g)) names.add(m[0]);
  }
  return names;
}

function dashboardExpressions(): string[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    panels: { targets?: { expr: string }[] }[];
    templating: { list: { query?: unknown }[] };
  };
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const v of dashboard.templating.list) {
    const q = v.query;
    if (typeof q === 'object' && q !== null && 'query' in q) exprs.push(String((q as { query: unknown }).query));
  }
  return exprs;
}

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description?: string };
}

function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(ALERTS, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

describe('ops/grafana and ops/prometheus against a running node', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 're-ops-'));
  const servers = useRedisServers(2);
  let daemon: DaemonProcess & { url: string };
  let exported: Set<string>;

  beforeAll(async () => {
    const config = path.join(tmp, 'node.yaml');
    writeFileSync(config, stringify({
      replication: {
        local_node_id: 'ops-a',
        local: { redis_url: servers()[0]!.url, redis_prefix: 'a:' },
        http: { listen: '127.0.0.1:0' },
        peers: [{ node_id: 'ops-b', redis_url: servers()[1]!.url, redis_prefix: 'b:' }],
        cursor: { sqlite_path: path.join(tmp, 'cursors.db') },
      },
    }));
    daemon = await DaemonProcess.run(config, ['--no-watch']);
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    exported = new Set<string>();
    for (const line of text.split('\n')) {
      const type = /^# TYPE (\S+) (\S+)/.exec(line);
      if (type) {
        exported.add(type[1]!);
        if (type[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) exported.add(`${type[1]}${suffix}`);
        continue;
      }
      const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
      if (sample) exported.add(sample[1]!);
    }
  });
  afterAll(async () => {
    await daemon?.kill();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('exports the process metrics and replication_build_info{version,node_id}', async () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(exported).toContain(name);
    }
    const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const text = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(text).toContain(`replication_build_info{version="${version}",node_id="ops-a"} 1`);
  });

  it('the dashboard uses only exported metrics, and shows every area an operator needs', () => {
    const used = metricNames(dashboardExpressions());
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    for (const needed of [
      'replication_lag_ms', 'replication_cdc_events_applied_total', 'replication_cdc_events_read_total',
      'replication_cdc_events_rejected_total', 'replication_peer_circuit_state', 'replication_repair_cycles_total',
      'replication_merkle_divergences_total', 'replication_backpressure_pauses_total', 'replication_slo_violations_total',
      'process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_eventloop_lag_p99_seconds',
    ]) expect(used).toContain(needed);
  });

  it('the alerts use only exported metrics and are the ones docs/operations.md describes', () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(0);
    const used = metricNames(rules.map((r) => r.expr));
    expect([...used].filter((n) => !exported.has(n))).toEqual([]);
    const operations = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');
    for (const rule of rules) {
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(0);
      expect(operations, `docs/operations.md describes ${rule.alert}`).toContain(`\`${rule.alert}\``);
    }
    // And the alerts the table documents are all in the file.
    const documented = [...operations.matchAll(/^\| `(Replication[A-Za-z]+)`/gm)].map((m) => m[1]!);
    expect(documented.length).toBe(rules.length);
    expect(documented.filter((name) => !rules.some((r) => r.alert === name))).toEqual([]);
  });
});
