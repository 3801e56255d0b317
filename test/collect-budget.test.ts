// Anonymous events at POST /collect and through trackEvents at /graphql draw on one budget per client address, which
// made-up device ids cannot renew: past it a body or an operation is refused whole (RATE_LIMITED, HTTP 429,
// Retry-After) and nothing of it is stored. The address is the connection's, unless it comes from a trusted proxy:
// then the right-most X-Forwarded-For hop no proxy is.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import type { RunningServer } from '@bank-hub/shared';
import {
  documentIdOf,
  loadPersistedDocuments,
  type PersistedOperation,
} from '../gateway/src/persisted-documents';
import { buildGateway } from '../gateway/src/server';
import { SUPERGRAPH_PATH, type RunningHub } from '../scripts/hub';
import { SUBGRAPH_NAMES } from '../subgraphs/registry';
import { openRepositories, type AnalyticsRepositories } from '../subgraphs/analytics/src/models';
import { clientToken, testConfig, testLogger } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

const BUDGET = 300;
let hub: RunningHub;
/** The hub's gateway: it believes X-Forwarded-For from loopback, as from a load balancer in front of it. */
let behindProxy: string;
/** A gateway over the same subgraphs that trusts no proxy: the address is the connection's. */
let direct: RunningServer;
/** trackEvents as a channel's persisted document: the same door by id. */
const TRACK_BODY = `mutation Track($deviceId: ID!, $events: [EventInput!]!) {
  trackEvents(deviceId: $deviceId, events: $events) { accepted rejected { index code } }
}`;
const persistedTrack: PersistedOperation = {
  id: documentIdOf(TRACK_BODY),
  name: 'Track',
  type: 'mutation',
  body: TRACK_BODY,
};
let repos: AnalyticsRepositories;

beforeAll(async () => {
  const config = { EVENTS_PER_ADDRESS_PER_MINUTE: BUDGET };
  hub = await startTestHub('collect_budget', { config: { ...config, TRUSTED_PROXIES: ['loopback'] } });
  behindProxy = hub.gatewayUrl.replace(/\/graphql$/, '/collect');
  direct = await buildGateway({
    config: { ...testConfig, ...config },
    logger: testLogger,
    supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, hub.subgraphs[name].url])),
    persistedDocuments: (({ operations, ...manifest }) => ({
      ...manifest,
      operations: [...operations, persistedTrack],
    }))(loadPersistedDocuments()),
  }).listen(0, '127.0.0.1');
  repos = await openRepositories(hub.connections.analytics);
});

afterAll(async () => {
  await direct?.stop();
  if (hub) await stopTestHub(hub);
});

let sequence = 0;
const uniqueDevice = () => `budget-${process.pid}-${++sequence}-${Date.now().toString(36)}`;
const events = (length: number) =>
  Array.from({ length }, () => ({
    id: `event-${String(++sequence).padStart(6, '0')}`,
    name: 'sign_in',
    occurredAt: new Date().toISOString(),
    channel: 'WEB',
    properties: {},
  }));
const batch = (deviceId: string, length = 100, token?: string) =>
  JSON.stringify({ deviceId, token, events: events(length) });

/** A beacon, sent from `localAddress` (any of 127.0.0.0/8 is this machine) with the headers given. */
function post(
  url: string,
  body: string,
  options: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; retryAfter: string | undefined; body: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      {
        method: 'POST',
        localAddress: options.localAddress ?? '127.0.0.1',
        headers: { 'content-type': 'text/plain', ...options.headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers['retry-after'],
            body: JSON.parse(text) as Record<string, any>,
          }),
        );
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const stored = (devices: string[]) => repos.events.model.countDocuments({ deviceId: { $in: devices } });

/** What a test sends must fall in one minute, the budget's window. */
async function withinOneMinute(): Promise<void> {
  if (new Date().getUTCSeconds() > 45) await new Promise((resolve) => setTimeout(resolve, 16_000));
}

describe('POST /collect, per client address', () => {
  it('refuses anonymous events past the budget however many device ids they come under, and stores none of them', async () => {
    await withinOneMinute();
    const collect = direct.url.replace(/\/graphql$/, '/collect');
    const devices = Array.from({ length: BUDGET / 100 + 1 }, uniqueDevice);
    for (const deviceId of devices.slice(0, -1)) {
      const answer = await post(collect, batch(deviceId), { localAddress: '127.0.0.2' });
      expect(answer.body).toMatchObject({ accepted: 100, rejected: [] });
    }
    const past = await post(collect, batch(devices.at(-1)!), { localAddress: '127.0.0.2' });
    expect(past.status).toBe(429);
    expect(past.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(Number(past.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(past.retryAfter)).toBeLessThanOrEqual(60);
    // Even a single event of a new device is past it.
    const one = uniqueDevice();
    expect((await post(collect, batch(one, 1), { localAddress: '127.0.0.2' })).status).toBe(429);
    expect(await stored([...devices, one])).toBe(BUDGET);

    // Another address has a budget of its own.
    const other = uniqueDevice();
    const answer = await post(collect, batch(other), { localAddress: '127.0.0.3' });
    expect(answer.body).toMatchObject({ accepted: 100 });
    expect(await stored([other])).toBe(100);
  });

  it('ignores X-Forwarded-For from a peer that is no trusted proxy: a made-up one buys no fresh budget', async () => {
    await withinOneMinute();
    const collect = direct.url.replace(/\/graphql$/, '/collect');
    const devices = Array.from({ length: BUDGET / 100 }, uniqueDevice);
    for (const deviceId of devices)
      expect((await post(collect, batch(deviceId), { localAddress: '127.0.0.4' })).status).toBe(200);
    const spoofed = Array.from({ length: 3 }, uniqueDevice);
    for (const [i, deviceId] of spoofed.entries()) {
      const answer = await post(collect, batch(deviceId), {
        localAddress: '127.0.0.4',
        headers: { 'x-forwarded-for': `203.0.113.${i + 1}` },
      });
      expect(answer.status).toBe(429);
    }
    expect(await stored(spoofed)).toBe(0);
  });

  it("behind a trusted proxy, counts the right-most forwarded hop that is no proxy: the client's own", async () => {
    await withinOneMinute();
    const devices = Array.from({ length: BUDGET / 100 }, uniqueDevice);
    // The proxy appends what it saw; whatever the client put before that is its own to make up.
    for (const [i, deviceId] of devices.entries()) {
      const answer = await post(behindProxy, batch(deviceId), {
        headers: { 'x-forwarded-for': `192.0.2.${i + 1}, 198.51.100.7` },
      });
      expect(answer.body).toMatchObject({ accepted: 100 });
    }
    const past = uniqueDevice();
    const refused = await post(behindProxy, batch(past), {
      headers: { 'x-forwarded-for': '192.0.2.99, 198.51.100.7, 127.0.0.1' },
    });
    expect(refused.status).toBe(429);
    expect(refused.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    const neighbour = uniqueDevice();
    const answer = await post(behindProxy, batch(neighbour), {
      headers: { 'x-forwarded-for': '198.51.100.8' },
    });
    expect(answer.body).toMatchObject({ accepted: 100 });
    expect(await stored([...devices, past, neighbour])).toBe(BUDGET + 100);
  });

  it("leaves a member's events to the member's own limit, the address's budget spent or not", async () => {
    await withinOneMinute();
    const collect = direct.url.replace(/\/graphql$/, '/collect');
    for (let i = 0; i < BUDGET / 100; i++)
      await post(collect, batch(uniqueDevice()), { localAddress: '127.0.0.5' });
    expect((await post(collect, batch(uniqueDevice()), { localAddress: '127.0.0.5' })).status).toBe(429);
    const token = await clientToken('M0003', 'member');
    const deviceId = uniqueDevice();
    const answer = await post(collect, batch(deviceId, 100, token), { localAddress: '127.0.0.5' });
    expect(answer.body).toMatchObject({ accepted: 100, rejected: [] });
    expect(await stored([deviceId])).toBe(100);
  });
});

describe('trackEvents at /graphql, per client address', () => {
  /** A GraphQL request to the direct gateway from `localAddress`, the events of `operation` as sent. */
  const graphql = (
    localAddress: string,
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) =>
    post(direct.url, JSON.stringify(body), {
      localAddress,
      headers: { 'content-type': 'application/json', ...headers },
    });
  const track = (
    localAddress: string,
    deviceId: string,
    length = 100,
    headers: Record<string, string> = {},
  ) => graphql(localAddress, { query: TRACK_BODY, variables: { deviceId, events: events(length) } }, headers);
  /** Literal events, as a document may write them inline. */
  const literal = (length: number) =>
    `[${events(length)
      .map(
        (event) =>
          `{ id: "${event.id}", name: "${event.name}", occurredAt: "${event.occurredAt}", channel: WEB }`,
      )
      .join(', ')}]`;
  const expectRefused = (answer: Awaited<ReturnType<typeof post>>) => {
    expect(answer.status).toBe(429);
    expect(answer.body.errors[0].extensions.code).toBe('RATE_LIMITED');
    expect(answer.body.data).toBeUndefined();
    expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
  };

  it('refuses anonymous events past the budget however many device ids they come under, and stores none of them', async () => {
    await withinOneMinute();
    const devices = Array.from({ length: BUDGET / 100 }, uniqueDevice);
    for (const deviceId of devices) {
      const answer = await track('127.0.0.6', deviceId);
      expect(answer.body.data.trackEvents).toMatchObject({ accepted: 100, rejected: [] });
    }
    // Past it, a guest naming its device in the header too, and a made-up X-Forwarded-For from a peer no proxy is.
    const past = [uniqueDevice(), uniqueDevice(), uniqueDevice()];
    expectRefused(await track('127.0.0.6', past[0]!, 1));
    expectRefused(await track('127.0.0.6', past[1]!, 1, { 'x-device-id': past[1]! }));
    expectRefused(await track('127.0.0.6', past[2]!, 1, { 'x-forwarded-for': '203.0.113.9' }));
    expect(await stored([...devices, ...past])).toBe(BUDGET);
    // Another address has a budget of its own.
    const other = uniqueDevice();
    expect((await track('127.0.0.7', other)).body.data.trackEvents).toMatchObject({ accepted: 100 });
  });

  it('shares one budget with POST /collect: what one door took, the other cannot', async () => {
    await withinOneMinute();
    const collect = direct.url.replace(/\/graphql$/, '/collect');
    const collected = [uniqueDevice(), uniqueDevice()];
    for (const deviceId of collected)
      expect((await post(collect, batch(deviceId), { localAddress: '127.0.0.8' })).status).toBe(200);
    const tracked = uniqueDevice();
    expect((await track('127.0.0.8', tracked)).body.data.trackEvents).toMatchObject({ accepted: 100 });
    const refused = [uniqueDevice(), uniqueDevice()];
    expectRefused(await track('127.0.0.8', refused[0]!, 1));
    expect((await post(collect, batch(refused[1]!, 1), { localAddress: '127.0.0.8' })).status).toBe(429);
    expect(await stored([...collected, tracked, ...refused])).toBe(BUDGET);
  });

  it('counts the events of every trackEvents an operation aliases, inline or in variables, and refuses it whole', async () => {
    await withinOneMinute();
    const devices = Array.from({ length: 5 }, uniqueDevice);
    // Every alias but the last hands on the variable's events; the last writes its own inline.
    const aliased = (deviceIds: string[], inline: number) =>
      `mutation ($events: [EventInput!]!) { ${deviceIds
        .map((deviceId, i) => {
          const given = i === deviceIds.length - 1 ? literal(inline) : '$events';
          return `t${i}: trackEvents(deviceId: "${deviceId}", events: ${given}) { accepted }`;
        })
        .join(' ')} }`;
    // 305 events in one operation: past a budget of 300, so none of them, not the first 300.
    const refused = await graphql('127.0.0.9', {
      query: aliased(devices.slice(0, 4), 5),
      variables: { events: events(100) },
    });
    expectRefused(refused);
    expect(await stored(devices)).toBe(0);
    // 205 fit, whole, and 95 more; then nothing.
    const fits = await graphql('127.0.0.9', {
      query: aliased(devices.slice(0, 3), 5),
      variables: { events: events(100) },
    });
    expect(fits.body.data).toEqual({ t0: { accepted: 100 }, t1: { accepted: 100 }, t2: { accepted: 5 } });
    expect((await track('127.0.0.9', devices[3]!, 95)).body.data.trackEvents).toMatchObject({ accepted: 95 });
    expectRefused(await track('127.0.0.9', devices[4]!, 1));
    expect(await stored(devices)).toBe(BUDGET);
  });

  it('counts a persisted document sent by its id as the same text', async () => {
    await withinOneMinute();
    const byId = (deviceId: string, length: number) =>
      graphql('127.0.0.10', {
        documentId: `sha256:${persistedTrack.id}`,
        variables: { deviceId, events: events(length) },
      });
    const devices = Array.from({ length: BUDGET / 100 }, uniqueDevice);
    for (const deviceId of devices)
      expect((await byId(deviceId, 100)).body.data.trackEvents).toMatchObject({ accepted: 100 });
    const past = uniqueDevice();
    expectRefused(await byId(past, 1));
    expect(await stored([...devices, past])).toBe(BUDGET);
  });

  it("leaves a member's events to the member's own limit, the address's budget spent or not", async () => {
    await withinOneMinute();
    for (let i = 0; i < BUDGET / 100; i++) await track('127.0.0.11', uniqueDevice());
    expectRefused(await track('127.0.0.11', uniqueDevice(), 1));
    const member = { authorization: `Bearer ${await clientToken('M0003', 'member')}` };
    const deviceId = uniqueDevice();
    const answer = await track('127.0.0.11', deviceId, 100, member);
    expect(answer.body.data.trackEvents).toMatchObject({ accepted: 100, rejected: [] });
    expect(await stored([deviceId])).toBe(100);
  });
});
