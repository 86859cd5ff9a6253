// Vitest helpers: a Mesh for the enclosing describe block (started in beforeAll, stopped in afterAll).
import { afterAll, beforeAll } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../../src/demo/fault-proxy.js';
import { Mesh, type MeshOptions } from './mesh.js';

function getter<T>(name: string, value: () => T | undefined): () => T {
  return () => {
    const v = value();
    if (v === undefined) throw new Error(`${name}: only available inside tests (after beforeAll)`);
    return v;
  };
}

/** A mesh started with `options`; returns a getter. */
export function useMesh(options: MeshOptions): () => Mesh {
  let mesh: Mesh | undefined;
  beforeAll(async () => {
    mesh = await Mesh.start(options);
  });
  afterAll(async () => {
    await mesh?.stop();
  });
  return getter('useMesh()', () => mesh);
}

/**
 * Two nodes where node-1 reads node-0 only, through a fault proxy that the test drives (refuse,
 * black-hole, cut); node-0 reads nobody. Only node-1's engine is started.
 */
export function useProxiedPair(options: Omit<MeshOptions, 'nodes' | 'start' | 'link' | 'peerUrl'>): { mesh: () => Mesh; proxy: () => FaultProxy } {
  let mesh: Mesh | undefined;
  let proxy: FaultProxy | undefined;
  beforeAll(async () => {
    // Pointed at node-0's Redis once it exists.
    const p = await startFaultProxy({ host: '127.0.0.1', port: 1 });
    proxy = p;
    mesh = await Mesh.start({ ...options, nodes: 2, start: false, link: (from) => from === 1, peerUrl: () => p.url() });
    p.setTarget('127.0.0.1', mesh.node(0).server.port);
    await mesh.node(1).engine.start();
  });
  afterAll(async () => {
    await mesh?.stop();
    await proxy?.close();
  });
  return { mesh: getter('useProxiedPair()', () => mesh), proxy: getter('useProxiedPair()', () => proxy) };
}
