// A subgraph that is down costs the fields it owns, not the whole answer: the gateway returns the rest of the
// data with an error scoped to the missing part, and /ready says which subgraph is unavailable.
import type { RunningHub } from '../scripts/hub';
import { bearer, clientToken, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let token: string;

beforeAll(async () => {
  hub = await startTestHub('resilience');
  token = await clientToken('M0002', 'member');
  await hub.subgraphs.products.stop();
});

afterAll(() => stopTestHub(hub));

it('answers what the remaining subgraphs own when products is down', async () => {
  const response = await graphql(
    hub.gatewayUrl,
    '{ viewer { id level { code } segmentCodes recommendedProducts(first: 2) { id } } }',
    {},
    bearer(token),
  );
  expect(response.data?.viewer).toMatchObject({ id: 'M0002', level: { code: 'DIAMOND' } });
  expect(response.data?.viewer.recommendedProducts ?? null).toBeNull();
  expect(response.errors?.length).toBeGreaterThan(0);
  expect(response.errors?.[0]?.extensions?.serviceName).toBe('products');
});

it('fails the page closed, not the viewer, when products cannot vouch for suitability', async () => {
  const response = await graphql(
    hub.gatewayUrl,
    '{ viewer { id level { code } page(channel: APP, key: "home") { slots { code } } } }',
    {},
    bearer(token),
  );
  // The page @requires the products subgraph's suitability decision; without it no page is composed at all.
  expect(response.data?.viewer).toEqual({ id: 'M0002', level: { code: 'DIAMOND' }, page: null });
  expect(response.errors?.[0]?.extensions).toMatchObject({
    code: 'SERVICE_UNAVAILABLE',
    serviceName: 'products',
  });
});

it('reports the unavailable subgraph on /ready', async () => {
  const ready = await fetch(hub.gatewayUrl.replace(/\/graphql$/, '/ready'));
  expect(ready.status).toBe(503);
  expect(await ready.json()).toMatchObject({
    status: 'unavailable',
    subgraphs: expect.arrayContaining([
      { name: 'products', ready: false },
      { name: 'members', ready: true },
    ]),
  });
});
