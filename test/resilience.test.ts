// A subgraph that is down, or never answers, costs the fields it gives and nothing else (content gives a member's
// recommendations with their page, as products answered them): the headline page still renders what the others give,
// carries an error with SERVICE_UNAVAILABLE and the subgraph's name on the path of what is missing, never places an
// unchecked product, and comes back whole when the subgraph does — without restarting the gateway. A client that
// hangs up cancels the subgraph requests made for it.
import type { RunningHub } from '../scripts/hub';
import { answersForgotten, bearer, clientToken, graphql, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { startDelayingProxy, type DelayingProxy } from './support/proxy';

const TIMEOUT_MS = 800;

let hub: RunningHub;
let proxy: DelayingProxy;
let token: string;
let healthy: GraphQLResponse;

const HOME = `query Home {
  viewer {
    id
    level { code }
    page(channel: APP, key: "home") {
      slots {
        code
        items {
          __typename
          ... on PlacedItem { creativeId }
          ... on Banner { title }
          ... on ProductCard { product { id riskLevel } }
          ... on TopicCard { topic { title } }
        }
      }
    }
    recommendedProducts(first: 2) { id }
  }
}`;

type Slot = { code: string; items: { __typename: string; creativeId: string | null }[] };

const home = () => graphql(hub.gatewayUrl, HOME, {}, bearer(token));
const slotsOf = (response: GraphQLResponse) => response.data?.viewer.page.slots as Slot[];
const errorsOf = (response: GraphQLResponse) =>
  (response.errors ?? []).map((error) => ({
    path: error.path?.join('.'),
    code: error.extensions?.code,
    serviceName: error.extensions?.serviceName,
  }));

/**
 * The first whole page within five tries. The first pages of a cold hub, or of a subgraph just started again (JIT,
 * pools, snapshots, the answers content reuses), may take longer than this test's short timeout on a busy machine.
 */
async function wholePage(): Promise<GraphQLResponse> {
  let response = await home();
  for (let attempt = 1; attempt < 5 && response.errors; attempt++) response = await home();
  return response;
}

beforeAll(async () => {
  proxy = await startDelayingProxy();
  hub = await startTestHub('resilience', {
    config: { SUBGRAPH_TIMEOUT_MS: TIMEOUT_MS },
    routeSubgraph: (name, url) => (name === 'products' ? proxy.routeTo(url) : url),
  });
  token = await clientToken('M0002', 'member');
  healthy = await wholePage();
  expect(healthy.errors).toBeUndefined();
});

afterAll(async () => {
  await stopTestHub(hub);
  await proxy.stop();
});

afterEach(() => {
  proxy.delayMs = 0;
});

describe('one subgraph down during the headline query', () => {
  it('products: every slot still renders, product cards are left out, each gap is an error naming products', async () => {
    await hub.stopSubgraph('products');
    // Which products suit a member is reused across members for SNAPSHOT_REFRESH_MS; past that, pages do without.
    await answersForgotten();
    try {
      const response = await home();
      const slots = slotsOf(response);
      expect(slots.map((slot) => slot.code)).toEqual(slotsOf(healthy).map((slot) => slot.code));
      const items = slots.flatMap((slot) => slot.items);
      expect(items.some((item) => item.__typename === 'ProductCard')).toBe(false);
      // Everything else the healthy page showed is still there, in order; a place a product card held goes to
      // the next creative in line.
      slotsOf(healthy).forEach((slot, i) => {
        const others = slot.items.filter((item) => item.__typename !== 'ProductCard');
        expect(slots[i]!.items.slice(0, others.length)).toEqual(others);
      });
      const withProducts = slotsOf(healthy).flatMap((slot, i) =>
        slot.items.some((item) => item.__typename === 'ProductCard') ? [i] : [],
      );
      expect(withProducts.length).toBeGreaterThanOrEqual(2);
      const errors = errorsOf(response);
      for (const i of withProducts) {
        expect(errors).toContainEqual({
          path: `viewer.page.slots.${i}.items`,
          code: 'SERVICE_UNAVAILABLE',
          serviceName: 'products',
        });
      }
      expect(errors).toContainEqual({
        path: 'viewer.recommendedProducts',
        code: 'SERVICE_UNAVAILABLE',
        serviceName: 'products',
      });
      expect(errors.every((error) => error.serviceName === 'products')).toBe(true);
      expect(response.data?.viewer).toMatchObject({
        id: 'M0002',
        level: { code: 'DIAMOND' },
        recommendedProducts: null,
      });
    } finally {
      await hub.restartSubgraph('products');
    }
    expect(await wholePage()).toEqual(healthy);
  });

  it('content: the member still answers, the page and what came with it are null with errors naming content', async () => {
    await hub.stopSubgraph('content');
    try {
      const response = await home();
      // The recommendations come with the page (content gives products' answer): they go with it.
      expect(response.data?.viewer).toMatchObject({
        id: 'M0002',
        level: { code: 'DIAMOND' },
        page: null,
        recommendedProducts: null,
      });
      expect(errorsOf(response)).toEqual([
        { path: 'viewer.page', code: 'SERVICE_UNAVAILABLE', serviceName: 'content' },
        { path: 'viewer.recommendedProducts', code: 'SERVICE_UNAVAILABLE', serviceName: 'content' },
      ]);
      // Asked for more than content gives with them, they come from products alone, and answer.
      const alone = await graphql(
        hub.gatewayUrl,
        '{ viewer { recommendedProducts(first: 2) { id status } } }',
        {},
        bearer(token),
      );
      expect(alone.errors).toBeUndefined();
      expect(alone.data?.viewer.recommendedProducts.map((product: { id: string }) => product.id)).toEqual(
        healthy.data?.viewer.recommendedProducts.map((product: { id: string }) => product.id),
      );
    } finally {
      await hub.restartSubgraph('content');
    }
    expect(await wholePage()).toEqual(healthy);
  });

  it('members: a clear SERVICE_UNAVAILABLE naming members', async () => {
    await hub.stopSubgraph('members');
    try {
      const response = await home();
      expect(response.status).toBe(200);
      expect(response.data).toEqual({ viewer: null });
      expect(errorsOf(response)).toEqual([
        { path: 'viewer', code: 'SERVICE_UNAVAILABLE', serviceName: 'members' },
      ]);
    } finally {
      await hub.restartSubgraph('members');
    }
    expect(await wholePage()).toEqual(healthy);
  });

  it('engagement: the member still answers; each field engagement adds to them is null with an error naming it', async () => {
    const withEngagement = `{ viewer {
      id level { code }
      activities { activity { id } }
      recommendedActivities { activity { id } }
      claims { id }
      claimsConnection { edges { node { id } } }
      invitations { code }
    } }`;
    const before = await graphql(hub.gatewayUrl, withEngagement, {}, bearer(token));
    expect(before.errors).toBeUndefined();
    await hub.stopSubgraph('engagement');
    try {
      const response = await graphql(hub.gatewayUrl, withEngagement, {}, bearer(token));
      expect(response.data?.viewer).toEqual({
        id: 'M0002',
        level: before.data?.viewer.level,
        activities: null,
        recommendedActivities: null,
        claims: null,
        claimsConnection: null,
        invitations: null,
      });
      expect(errorsOf(response).sort((a, b) => a.path!.localeCompare(b.path!))).toEqual(
        ['activities', 'claims', 'claimsConnection', 'invitations', 'recommendedActivities'].map((field) => ({
          path: `viewer.${field}`,
          code: 'SERVICE_UNAVAILABLE',
          serviceName: 'engagement',
        })),
      );
    } finally {
      await hub.restartSubgraph('engagement');
    }
    expect(await wholePage()).toEqual(healthy);
  });

  it('analytics: the page is whole; only the stats it contributes are null, each with an error naming it', async () => {
    // Stats are for operators: the page M0002 gets, as an operator previews it.
    const withStats = `{ member(id: "M0002") { pagePreview(channel: APP, key: "home") { page { slots { items { __typename ... on PlacedItem { creativeId creative { id stats { clicks } } } } } } } } }`;
    const operator = bearer(await clientToken('ops.resilience', 'operator'));
    const slots = (answer: GraphQLResponse) =>
      answer.data?.member.pagePreview.page.slots as { items: Record<string, any>[] }[];
    const before = await graphql(hub.gatewayUrl, withStats, {}, operator);
    expect(before.errors).toBeUndefined();
    await hub.stopSubgraph('analytics');
    try {
      const response = await graphql(hub.gatewayUrl, withStats, {}, operator);
      const items = slots(response).flatMap((slot) => slot.items);
      const expected = slots(before).flatMap((slot) => slot.items);
      expect(items.map((item) => [item.__typename, item.creativeId])).toEqual(
        expected.map((item) => [item.__typename, item.creativeId]),
      );
      const placed = items.filter((item) => item.creative);
      expect(placed.length).toBeGreaterThan(10);
      for (const item of placed) expect(item.creative.stats).toBeNull();
      const errors = errorsOf(response);
      expect(errors.length).toBe(placed.length);
      for (const error of errors) {
        expect(error).toMatchObject({ code: 'SERVICE_UNAVAILABLE', serviceName: 'analytics' });
        expect(error.path).toMatch(/^member\.pagePreview\.page\.slots\.\d+\.items\.\d+\.creative\.stats$/);
      }
    } finally {
      await hub.restartSubgraph('analytics');
    }
  });

  it('reports the unavailable subgraph on /ready, and ready again after the restart, within a second', async () => {
    const ready = () => fetch(hub.gatewayUrl.replace(/\/graphql$/, '/ready'));
    /** /ready answers what the subgraphs said at most a second ago. */
    const readyWithin = async (status: number) => {
      const deadline = Date.now() + 1_500;
      let response = await ready();
      while (response.status !== status && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        response = await ready();
      }
      return response;
    };
    await hub.stopSubgraph('content');
    try {
      const down = await readyWithin(503);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({
        status: 'unavailable',
        subgraphs: expect.arrayContaining([
          { name: 'content', ready: false },
          { name: 'members', ready: true },
        ]),
      });
    } finally {
      await hub.restartSubgraph('content');
    }
    expect((await readyWithin(200)).status).toBe(200);
  });
});

describe('a subgraph that never answers', () => {
  it(`costs the page no more than SUBGRAPH_TIMEOUT_MS (${TIMEOUT_MS} ms) and a small margin`, async () => {
    proxy.delayMs = Infinity;
    const started = performance.now();
    const response = await home();
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 500);
    const items = slotsOf(response).flatMap((slot) => slot.items);
    expect(items.length).toBeGreaterThan(10);
    expect(items.some((item) => item.__typename === 'ProductCard')).toBe(false);
    expect(errorsOf(response)).toContainEqual({
      path: 'viewer.recommendedProducts',
      code: 'SERVICE_UNAVAILABLE',
      serviceName: 'products',
    });
  });

  it('is asked nothing more once the client has hung up', async () => {
    proxy.delayMs = Infinity;
    const abandoned = proxy.nextAbandoned();
    const client = new AbortController();
    const request = fetch(hub.gatewayUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      // status: a field only products gives, so that the gateway asks products itself.
      body: JSON.stringify({ query: '{ viewer { recommendedProducts(first: 2) { id status } } }' }),
      signal: client.signal,
    }).catch(() => 'aborted');
    // Give the gateway time to reach products, then hang up well before the subgraph time limit.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const hungUp = performance.now();
    client.abort();
    expect(await request).toBe('aborted');
    await abandoned;
    expect(performance.now() - hungUp).toBeLessThan(TIMEOUT_MS / 2);
  });
});
