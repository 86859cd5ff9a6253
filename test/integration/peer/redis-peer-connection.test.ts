// RedisPeerConnection against a real Redis behind the fault proxy: what it reports as the cause of a
// connection that is down, when the link itself resets every connection the moment it is made.
import { afterEach, describe, expect, it } from 'vitest';
import { RedisPeerConnection } from '../../../src/peer/redis-peer-connection.js';
import { startFaultProxy, type FaultProxy } from '../../../src/demo/fault-proxy.js';
import { useRedis } from '../../support/use-redis.js';
import { waitFor } from '../../support/wait.js';

const PASSWORD = 'peer-secret';

describe('RedisPeerConnection', () => {
  const redis = useRedis({ aclUser: { username: 'peer', password: PASSWORD } });
  const opened: { connection: RedisPeerConnection; proxy: FaultProxy }[] = [];
  afterEach(async () => {
    for (const { connection, proxy } of opened.splice(0)) {
      await connection.close();
      await proxy.close();
    }
  });

  async function connectThroughProxy(commandTimeoutMs = 5000): Promise<{ connection: RedisPeerConnection; proxy: FaultProxy; errors: string[]; reconnects: () => number }> {
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: redis().port });
    const connection = new RedisPeerConnection({
      peerId: 'node-b',
      endpoint: { redis_url: proxy.url('redis'), username: 'peer', password: PASSWORD },
      prefix: 'b:',
      reconnectBaseMs: 10,
      reconnectMaxMs: 50,
      commandTimeoutMs,
    });
    opened.push({ connection, proxy });
    const errors: string[] = [];
    let reconnects = 0;
    connection.onStateChange((event) => {
      if (event.type === 'error') errors.push(event.error.message);
      if (event.type === 'reconnecting') reconnects++;
    });
    await waitFor(() => connection.connected, { what: 'the connection up through the proxy' });
    return { connection, proxy, errors, reconnects: () => reconnects };
  }

  it('a link that resets each connection as it is made: the cause is the reset, never ioredis\'s "gave up on this command"', async () => {
    const { connection, proxy, errors, reconnects } = await connectThroughProxy();
    proxy.setMode('refuse');
    proxy.cutConnections();
    // AUTH is sent on a socket the proxy has just reset: ioredis fails it with "Stream isn't writeable"
    // (or, once its retries are spent, "Reached the max retries per request limit") and reports that as an error.
    const before = reconnects();
    await waitFor(() => reconnects() >= before + 20, { what: 'twenty reconnect attempts into the reset link' });
    const calls = await Promise.allSettled([connection.read('0-0', 10, 10), connection.streamInfo(), connection.ping()]);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((message) => /Stream isn't writeable|Reached the max retries/.test(message))).toEqual([]);
    expect(connection.downCause).toMatch(/^peer node-b at 127\.0\.0\.1:\d+: not connected: .*ECONNRESET/);
    for (const call of calls) {
      expect(call.status).toBe('rejected');
      expect(String((call as PromiseRejectedResult).reason)).toMatch(/not connected: .*ECONNRESET/);
    }

    proxy.setMode('pass');
    await waitFor(() => connection.connected, { what: 'the connection up again once the link passes' });
    expect(connection.downCause).toBeNull();
  });

  it('a link that swallows every byte: the cause is the handshake that never finished, not the AUTH ioredis then gave up on', async () => {
    const { connection, proxy, errors, reconnects } = await connectThroughProxy(200);
    proxy.setMode('blackhole');
    proxy.cutConnections();
    const before = reconnects();
    await waitFor(() => reconnects() >= before + 3, { what: 'three reconnect attempts into the black hole' });
    // Each of the two connections (stream, query) names the cause once its own handshake has timed out.
    const pingFailure = async (): Promise<string> => String(await connection.ping().then(() => 'answered', (err: unknown) => err));
    const handshake = /^peer node-b at 127\.0\.0\.1:\d+: not connected: no answer to the connection handshake \(AUTH, ready check\) within 200 ms$/;
    await waitFor(async () => handshake.test(connection.downCause ?? '') && handshake.test((await pingFailure()).replace(/^\w+: /, '')), {
      what: 'both connections naming their handshake timeout',
    });
    expect(errors.filter((message) => /Stream isn't writeable|Reached the max retries/.test(message))).toEqual([]);
    expect(connection.downCause).toMatch(handshake);

    proxy.setMode('pass');
    await waitFor(() => connection.connected, { what: 'the connection up again once the link passes' });
    expect(connection.downCause).toBeNull();
  });
});
