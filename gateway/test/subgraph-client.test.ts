// The gateway's HTTP client for one subgraph, against a plain loopback server that answers after a set delay:
// identical calls in flight share one request, and each caller is held to its own deadline only.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SubgraphClient, type SubgraphUnavailable } from '../src/subgraph-client';

let server: http.Server;
let url: string;
let received = 0;
const ANSWER_AFTER_MS = 300;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    received += 1;
    req.resume();
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end('{"data":{"ok":true}}');
    }, ANSWER_AFTER_MS);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const call = (deadline: number) => ({
  body: '{"query":"{ ok }"}',
  headers: { 'content-type': 'application/json' },
  signal: new AbortController().signal,
  deadline,
  shareKey: 'M0001\n{"query":"{ ok }"}',
});

const outcome = (answer: Promise<unknown>) =>
  answer.then(
    () => 'answered',
    (error: SubgraphUnavailable) => error.reason,
  );

describe('SubgraphClient', () => {
  it('sends identical calls in flight once', async () => {
    const client = new SubgraphClient('members', url, { connections: 4 });
    const before = received;
    const calls = [1, 2, 3].map(() => client.call(call(Date.now() + 5_000)));
    expect(await Promise.all(calls.map(outcome))).toEqual(['answered', 'answered', 'answered']);
    expect([received - before, client.counts]).toEqual([1, { sent: 1, shared: 2 }]);
    await client.close();
  });

  it('holds a caller sharing a request to its own deadline, not to the earlier one of the caller who sent it', async () => {
    const client = new SubgraphClient('members', url, { connections: 4 });
    const early = client.call(call(Date.now() + 100));
    const later = client.call(call(Date.now() + 2_000));
    expect(await Promise.all([outcome(early), outcome(later)])).toEqual(['timeout', 'answered']);
    // The later caller asked again once the shared request ran out of time.
    expect(client.counts).toEqual({ sent: 2, shared: 1 });
    await client.close();
  });

  it('sends afresh for a caller who comes just after the last one sharing a request hung up', async () => {
    const client = new SubgraphClient('members', url, { connections: 4 });
    const hangingUp = new AbortController();
    const gone = client.call({ ...call(Date.now() + 5_000), signal: hangingUp.signal });
    hangingUp.abort();
    const next = client.call(call(Date.now() + 5_000));
    expect(await Promise.all([outcome(gone), outcome(next)])).toEqual(['cancelled', 'answered']);
    expect(client.counts).toEqual({ sent: 2, shared: 0 });
    await client.close();
  });
});
