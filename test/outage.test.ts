// A database that cannot be reached: the subgraph that owns it answers SERVICE_UNAVAILABLE for its fields, quickly,
// stores nothing, and serves again once the database is back. The hub reaches MongoDB through a TCP relay this
// test can cut, the way a network partition or a stopped mongod would.
import net from 'node:net';
import type { RunningHub } from '../scripts/hub';
import { bearer, clientToken, errorCodes, graphql, mongoUri, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { storedState, type StoredState } from './support/stored';

/**
 * An answer bounded by the short server selection below (300 ms), not by the driver's default ten seconds or by the
 * gateway's SUBGRAPH_TIMEOUT_MS (3 s): twice the 827 ms seen once, on a machine shared with the rest of the suite.
 */
const FAST_MS = 2_000;
/**
 * How long an operation waits for a server here (the default is ten seconds), and how often the driver checks on the
 * server (also ten seconds by default; until it notices the outage, operations fail through slower paths).
 */
const OUTAGE_OPTIONS = 'serverSelectionTimeoutMS=300&heartbeatFrequencyMS=100';

/** Relays loopback connections to MongoDB until cut; `restore` listens again on the same port. */
class Relay {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    if (this.server) return;
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => this.sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', resolve);
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

let hub: RunningHub;
let relay: Relay;
let before: StoredState;
let member: Record<string, string>;
let operator: Record<string, string>;

beforeAll(async () => {
  const mongo = new URL(mongoUri());
  relay = new Relay({ host: mongo.hostname, port: Number(mongo.port) });
  await relay.open();
  const saved = process.env.HUB_TEST_MONGODB_URI;
  process.env.HUB_TEST_MONGODB_URI = `mongodb://127.0.0.1:${relay.port}/?${OUTAGE_OPTIONS}`;
  try {
    // Six databases connecting at once on a loaded machine may miss the short server selection time: starting is
    // not what this file tests, so a start that missed it is tried again.
    for (let attempt = 1; ; attempt++) {
      try {
        hub = await startTestHub('outage');
        break;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  } finally {
    process.env.HUB_TEST_MONGODB_URI = saved;
  }
  member = bearer(await clientToken('M0001', 'member'));
  operator = bearer(await clientToken('ops.alice', 'operator'));
  before = await storedState(hub.connections);
});

afterAll(async () => {
  await relay.open();
  await stopTestHub(hub);
  await relay.cut();
});

async function timed(
  query: string,
  headers: Record<string, string> = {},
): Promise<{ response: GraphQLResponse; ms: number }> {
  const started = performance.now();
  const response = await graphql(hub.gatewayUrl, query, {}, headers);
  return { response, ms: performance.now() - started };
}

describe('while the database cannot be reached', () => {
  beforeAll(() => relay.cut());

  it.each([
    ['a member reading their profile', 'members', '{ viewer { id points } }', () => member],
    ['anyone reading hot topics', 'content', '{ topics(first: 3) { id } }', () => ({})],
    ['anyone reading a service flow', 'products', '{ serviceFlow(key: "open-account") { id } }', () => ({})],
    [
      'an operator awarding points',
      'members',
      'mutation { awardPoints(memberId: "M0001", amount: 5, reason: "outage", idempotencyKey: "outage-0001") { id } }',
      () => operator,
    ],
  ])('%s gets SERVICE_UNAVAILABLE from %s, quickly', async (_name, serviceName, query, headers) => {
    const { response, ms } = await timed(query, headers());
    expect(response.status).toBe(200);
    expect(errorCodes(response)).toEqual(['SERVICE_UNAVAILABLE']);
    expect(response.errors?.[0]).toMatchObject({
      message: 'the database could not be reached; try again',
      extensions: { serviceName },
    });
    // The driver's reason names the database's address: for the log only.
    expect(JSON.stringify(response)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|Mongo/);
    expect(ms).toBeLessThan(FAST_MS);
  });
});

describe('once the database is back', () => {
  beforeAll(() => relay.open());

  it('serves again, and nothing was stored while it was away', async () => {
    let response: GraphQLResponse = { status: 0 };
    for (let attempt = 0; attempt < 50; attempt++) {
      response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, member);
      if (!response.errors) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(response.data).toEqual({ viewer: { id: 'M0001' } });
    // Each subgraph's driver sees the database again at its own next heartbeat; on a loaded machine one may not yet.
    let after: StoredState | null = null;
    for (let attempt = 0; after === null; attempt++) {
      try {
        after = await storedState(hub.connections);
      } catch (error) {
        if (attempt === 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    expect(after).toEqual(before);
  });
});
