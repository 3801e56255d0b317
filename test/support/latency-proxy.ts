// A TCP proxy a test puts in front of the MongoDB-wire server: a database a few milliseconds away, as in production,
// where concurrent requests interleave between their reads and writes; or one request held back while its caller sees
// it fail, and applied by the server later (a write a driver timed out on that lands all the same).
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import type { RunningHub } from '../../scripts/hub';
import { callerOf, mongoUri, type Send } from './env';
import { startTestHub, stopTestHub } from './hub';

export interface LatencyProxy {
  /** The MongoDB URI to connect through the proxy. */
  readonly uri: string;
  /** How long every chunk is held each way; 0 passes them on at once. */
  delayMs: number;
  /**
   * Holds the next request whose bytes `matches`: its caller's connection is cut at once, so the caller sees it fail,
   * and the server gets it only when it is released.
   */
  holdNext(matches: (request: Buffer) => boolean): HeldRequest;
  stop(): Promise<void>;
}

export interface HeldRequest {
  /** Resolves once the request came and its caller's connection was cut. */
  readonly held: Promise<void>;
  /** Passes the request on to the server; resolves once the server answered it. */
  release(): Promise<void>;
}

export async function startLatencyProxy(uri: string): Promise<LatencyProxy> {
  const target = new URL(uri);
  const sockets = new Set<net.Socket>();
  const later = (write: () => void) => (proxy.delayMs > 0 ? setTimeout(write, proxy.delayMs) : write());
  let hold: {
    matches: (request: Buffer) => boolean;
    take: (request: Buffer, upstream: net.Socket) => void;
  } | null = null;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    // Once a request of this connection is held, its way to the server stays open for it alone.
    let holding = false;
    client.on('data', (chunk) => {
      if (hold?.matches(chunk)) {
        holding = true;
        hold.take(chunk, upstream);
        hold = null;
        client.destroy();
        return;
      }
      later(() => upstream.write(chunk));
    });
    client.on('close', () => {
      if (!holding) later(() => upstream.destroy());
    });
    client.on('error', () => {
      if (!holding) upstream.destroy();
    });
    upstream.on('data', (chunk) => {
      if (!holding) later(() => client.write(chunk));
    });
    upstream.on('close', () => later(() => client.destroy()));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxied = new URL(uri);
  proxied.port = String((server.address() as AddressInfo).port);
  const proxy: LatencyProxy = {
    uri: proxied.toString(),
    delayMs: 0,
    holdNext(matches) {
      let taken: { request: Buffer; upstream: net.Socket } | null = null;
      const held = new Promise<void>((resolve) => {
        hold = {
          matches,
          take: (request, upstream) => {
            taken = { request, upstream };
            resolve();
          },
        };
      });
      return {
        held,
        async release() {
          await held;
          const { request, upstream } = taken!;
          const answered = once(upstream, 'data');
          upstream.write(request);
          await answered;
          upstream.destroy();
        },
      };
    },
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
