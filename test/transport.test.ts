// How the gateway talks to subgraphs: the request id a client sends comes back on the response and is in every
// process's log lines for that request (the subgraphs', and the gateway's again when a subgraph calls the graph on
// the caller's behalf); identical queries in flight at the same time reach a subgraph once, mutations always each.
import type { RunningHub } from '../scripts/hub';
import { bearer, capturingLogger, clientToken, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { startDelayingProxy, type DelayingProxy } from './support/proxy';

let hub: RunningHub;
let proxy: DelayingProxy;
let log: ReturnType<typeof capturingLogger>;

beforeAll(async () => {
  proxy = await startDelayingProxy();
  log = capturingLogger('test', 'debug');
  hub = await startTestHub('transport', {
    logger: log.logger,
    routeSubgraph: (name, url) => (name === 'members' ? proxy.routeTo(url) : url),
  });
});

afterAll(async () => {
  await stopTestHub(hub);
  await proxy.stop();
});

afterEach(() => {
  proxy.delayMs = 0;
});

describe('request ids', () => {
  it('echoes the client’s id and carries it into every process that served the request', async () => {
    const requestId = 'client-chosen-id-0001';
    const response = await fetch(hub.gatewayUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-request-id': requestId,
        ...bearer(await clientToken('M0001', 'member')),
      },
      body: JSON.stringify({
        query:
          '{ viewer { id page(channel: APP, key: "home") { slots { code } } recommendedProducts { id } } }',
      }),
    });
    expect(response.headers.get('x-request-id')).toBe(requestId);
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    const components = new Set(
      log
        .lines()
        .filter((line) => line.requestId === requestId)
        .map((line) => line.component),
    );
    // content asks products and engagement, through the gateway, what suits the member and which activities run:
    // same id there too.
    expect([...components].sort()).toEqual(['content', 'engagement', 'gateway', 'members', 'products']);
    // As written, each line names its component once: JSON.parse keeps the last of two, a log shipper may not.
    const written = log.written().filter((line) => line.includes(requestId));
    expect(written.length).toBeGreaterThan(0);
    for (const line of written) expect(line.match(/"component":/g)).toHaveLength(1);
  });

  it('replaces an id that is not well formed', async () => {
    const response = await fetch(hub.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'bad id\twith "stuff"' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('caching', () => {
  it('tells every cache on the way not to store a member’s answer', async () => {
    const response = await fetch(hub.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(await clientToken('M0001', 'member')) },
      // Not the page: the request-id test reads which processes a cold page reaches, and content keeps what it learnt.
      body: JSON.stringify({ query: '{ viewer { id level { name } unreadCount } }' }),
    });
    expect(((await response.json()) as { errors?: unknown }).errors).toBeUndefined();
    expect(response.headers.get('cache-control')).toBe('no-store');
    // Nothing to revalidate, so no body is hashed for a validator.
    expect(response.headers.get('etag')).toBeNull();
  });
});

describe('identical requests in flight', () => {
  it('reach the subgraph once and answer every caller', async () => {
    proxy.delayMs = 300;
    const token = await clientToken('M0002', 'member');
    const members = hub.gatewaySubgraphs.get('members')!;
    const before = { received: proxy.counts.received, shared: members.counts.shared };
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        graphql(hub.gatewayUrl, '{ viewer { id level { code } } }', {}, bearer(token)),
      ),
    );
    for (const answer of answers)
      expect(answer.data).toEqual({ viewer: { id: 'M0002', level: { code: 'DIAMOND' } } });
    expect(proxy.counts.received - before.received).toBe(1);
    expect(members.counts.shared - before.shared).toBe(7);
  });

  it('are never shared between callers with different identities', async () => {
    proxy.delayMs = 300;
    const before = proxy.counts.received;
    const [young, wealthy] = await Promise.all(
      ['M0001', 'M0002'].map(async (id) =>
        graphql(hub.gatewayUrl, '{ viewer { id } }', {}, bearer(await clientToken(id, 'member'))),
      ),
    );
    expect([young?.data?.viewer.id, wealthy?.data?.viewer.id]).toEqual(['M0001', 'M0002']);
    expect(proxy.counts.received - before).toBe(2);
  });

  it('are never shared between callers whose subject and scopes only read alike when joined', async () => {
    proxy.delayMs = 300;
    const before = proxy.counts.received;
    // An issuer writes whatever strings it likes (Auth0's subjects hold a "|"): a member with an odd extra scope, and a
    // caller whose subject spells the member's id and that scope, must not be one caller.
    const [member, lookalike] = await Promise.all(
      [
        ['M0001', 'member x|'],
        ['M0001|member x', ''],
      ].map(async ([subject, scope]) =>
        graphql(hub.gatewayUrl, '{ viewer { id } }', {}, bearer(await clientToken(subject!, scope!))),
      ),
    );
    expect(member?.data).toEqual({ viewer: { id: 'M0001' } });
    expect(lookalike?.data).toEqual({ viewer: null });
    expect(proxy.counts.received - before).toBe(2);
  });

  it('are shared by no two callers that differ in one thing the subgraph is told', async () => {
    proxy.delayMs = 300;
    const before = proxy.counts.received;
    const member = await clientToken('M0001', 'member');
    const withPii = await clientToken('M0001', 'member pii:read');
    const callers: Record<string, string>[] = [
      {},
      { 'x-device-id': 'device-transport-1' },
      { 'x-device-id': 'device-transport-2' },
      bearer(member),
      bearer(withPii),
    ];
    const answers = await Promise.all(
      callers.map((headers) => graphql(hub.gatewayUrl, '{ viewer { id } }', {}, headers)),
    );
    expect(answers.map((answer) => answer?.data?.viewer?.id ?? null)).toEqual([
      null,
      'guest:device-transport-1',
      'guest:device-transport-2',
      'M0001',
      'M0001',
    ]);
    expect(proxy.counts.received - before).toBe(callers.length);
  });

  it('are never shared for mutations', async () => {
    proxy.delayMs = 300;
    const operator = bearer(await clientToken('ops.alice', 'operator'));
    const before = proxy.counts.received;
    const award = `mutation {
      awardPoints(memberId: "M0003", amount: 5, reason: "dedupe test", idempotencyKey: "transport-dedupe-1") { id }
    }`;
    const [first, second] = await Promise.all([
      graphql(hub.gatewayUrl, award, {}, operator),
      graphql(hub.gatewayUrl, award, {}, operator),
    ]);
    expect(proxy.counts.received - before).toBe(2);
    // Idempotency, not the gateway, makes the two one award.
    expect(first?.data?.awardPoints.id).toBe(second?.data?.awardPoints.id);
  });
});

describe('readiness', () => {
  it('asks a subgraph once for 50 callers of /ready at the same moment, and again a second later', async () => {
    const ready = hub.gatewayUrl.replace(/\/graphql$/, '/ready');
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const before = proxy.counts.received;
    const answers = await Promise.all(Array.from({ length: 50 }, () => fetch(ready)));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    expect(proxy.counts.received - before).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await fetch(ready)).status).toBe(200);
    expect(proxy.counts.received - before).toBe(2);
  });
});
