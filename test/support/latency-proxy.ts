// A TCP proxy a test puts in front of the MongoDB-wire server: a database a few milliseconds away, as in production,
// where concurrent requests interleave between their reads and writes.
import net, { type AddressInfo } from 'node:net';
import type { RunningHub } from '../../scripts/hub';
import { callerOf, mongoUri, type Send } from './env';
import { startTestHub, stopTestHub } from './hub';

export interface LatencyProxy {
  /** The MongoDB URI to connect through the proxy. */
  readonly uri: string;
  /** How long every chunk is held each way; 0 passes them on at once. */
  delayMs: number;
  stop(): Promise<void>;
}

export async function startLatencyProxy(uri: string): Promise<LatencyProxy> {
  const target = new URL(uri);
  const sockets = new Set<net.Socket>();
  const later = (write: () => void) => (proxy.delayMs > 0 ? setTimeout(write, proxy.delayMs) : write());
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => later(() => to.write(chunk)));
      from.on('close', () => later(() => to.destroy()));
      from.on('error', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(uri);
  proxied.port = String((server.address() as AddressInfo).port);
  const proxy: LatencyProxy = {
    uri: proxied.toString(),
    delayMs: 0,
    stop: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((socket) => socket.destroy());
        server.close(() => resolve());
      }),
  };
  return proxy;
}

/** A test hub whose database is behind a latency proxy, and two operators, alice and bob, to race each other. */
export interface RacingOperators {
  proxy: LatencyProxy;
  hub: RunningHub;
  alice: Send;
  bob: Send;
  stop(): Promise<void>;
}

export async function racingOperators(label: string): Promise<RacingOperators> {
  const proxy = await startLatencyProxy(mongoUri());
  const hub = await startTestHub(label, {
    mongoUri: proxy.uri,
    // Many writes at once through the proxy keep members busy for a few seconds: these tests are about bounds alone.
    config: { SUBGRAPH_TIMEOUT_MS: 30_000 },
  });
  return {
    proxy,
    hub,
    alice: await callerOf(hub.gatewayUrl, 'ops.alice', 'operator'),
    bob: await callerOf(hub.gatewayUrl, 'ops.bob', 'operator'),
    async stop() {
      proxy.delayMs = 0;
      await stopTestHub(hub);
      await proxy.stop();
    },
  };
}
