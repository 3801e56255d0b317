// An HTTP proxy a test puts between the gateway and one subgraph: it can hold requests for a while (or forever) before
// passing them on, and it counts what it saw — requests, and requests whose caller hung up before the answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DelayingProxy {
  /** Passes requests on to the server of `target`, path for path; returns the proxy's URL for `target`. */
  routeTo(target: string): string;
  /** How long to hold each request before passing it on; Infinity never passes it on. */
  delayMs: number;
  /** Requests received, and those the caller abandoned before they were answered. */
  readonly counts: { received: number; abandoned: number };
  /** Resolves when the next request is abandoned by its caller. */
  nextAbandoned(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDelayingProxy(): Promise<DelayingProxy> {
  let target: URL | null = null;
  const counts = { received: 0, abandoned: 0 };
  const abandonedWaiters: (() => void)[] = [];
  const proxy: DelayingProxy = {
    delayMs: 0,
    counts,
    routeTo(url) {
      target = new URL(url);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
    },
    nextAbandoned: () => new Promise((resolve) => abandonedWaiters.push(resolve)),
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = http.createServer((req, res) => {
    counts.received += 1;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('close', () => {
      if (res.writableFinished) return;
      counts.abandoned += 1;
      abandonedWaiters.splice(0).forEach((resolve) => resolve());
    });
    req.on('end', () => {
      const forward = () => {
        if (!target || res.destroyed) return;
        const upstream = http.request(
          new URL(req.url ?? '/', target),
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', () => res.destroy());
        upstream.end(Buffer.concat(chunks));
      };
      if (Number.isFinite(proxy.delayMs)) setTimeout(forward, proxy.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return proxy;
}
