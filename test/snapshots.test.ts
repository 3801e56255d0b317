// What is published is held in memory by every process, and a change reaches every process within
// SNAPSHOT_REFRESH_MS: two hubs (gateways and subgraphs apart, nothing shared but the databases) over the same
// databases; an operator approves a creative through one, and a member sees it through the other within the bound,
// and archived, it leaves within the same bound. A product taken off sale leaves the pages and the recommendations
// that come with them within twice the bound: products' own snapshot, then content's reuse of what products answered
// about suitability. Demo data loaded by `npm run seed` into the databases of a running hub reaches its pages within the
// same bounds.
import { Revisions } from '@bank-hub/shared';
import { seedHub, startHub, type RunningHub } from '../scripts/hub';
import { bearer, clientToken, graphql, mongoUri, testConfig, testLogger, uniquePrefix } from './support/env';

const REFRESH_MS = 300;
const prefix = uniquePrefix('snapshots');
let editing: RunningHub;
let reading: RunningHub;

const hubOver = (seed: 'reset' | 'none', dbPrefix = prefix) =>
  startHub({
    config: { ...testConfig, SNAPSHOT_REFRESH_MS: REFRESH_MS },
    logger: testLogger,
    mongoUri: mongoUri(),
    dbPrefix,
    seed,
    history: 'short',
    gatewayPort: 0,
    subgraphPort: () => 0,
  });

beforeAll(async () => {
  editing = await hubOver('reset');
  reading = await hubOver('none');
});

afterAll(async () => {
  await Promise.all(Object.values(editing.connections).map((connection) => connection.dropDatabase()));
  await Promise.all([editing.stop(), reading.stop()]);
});

const HERO = `{ viewer { page(channel: APP, key: "home") { slots { code items { ... on PlacedItem { creativeId } } } } } }`;
const STEP = (name: string) =>
  `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status version } }`;

/**
 * How long after now a hub could still give an answer that is not `fresh` yet: when the last request that was not
 * fresh was sent (0 when none was), polling every 25 ms. Timing when a stale answer was asked for, not when the fresh
 * one arrived, keeps a slow page under a loaded machine from counting as staleness.
 */
async function staleUntil(fresh: () => Promise<boolean>, never: () => string): Promise<number> {
  const started = performance.now();
  let lastStale = 0;
  for (;;) {
    const sent = performance.now() - started;
    if (await fresh()) return lastStale;
    lastStale = sent;
    if (sent > 10_000) throw new Error(never());
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** How long the reading hub could still answer M0002's hero slot with creatives that fail `until`. */
async function staleFor(until: (placed: string[]) => boolean): Promise<number> {
  const member = bearer(await clientToken('M0002', 'member'));
  return staleUntil(
    async () => {
      const response = await graphql(reading.gatewayUrl, HERO, {}, member);
      const hero = response.data?.viewer.page.slots.find((slot: { code: string }) => slot.code === 'hero');
      return until(hero.items.map((item: { creativeId: string }) => item.creativeId));
    },
    () => 'the change never reached the other hub',
  );
}

it('shows a published creative through another process within SNAPSHOT_REFRESH_MS, and drops it when archived', async () => {
  const alice = bearer(await clientToken('ops.alice', 'operator'));
  const bob = bearer(await clientToken('ops.bob', 'operator'));
  // Both hubs have loaded what is published.
  expect(await staleFor(() => true)).toBe(0);
  const created = await graphql(
    editing.gatewayUrl,
    `
      mutation ($input: CreativeInput!) {
        createCreative(input: $input) {
          id
        }
      }
    `,
    {
      input: {
        pageId: 'PG-APP-home',
        slotCode: 'hero',
        name: 'flash sale',
        kind: 'BANNER',
        priority: 1_000,
        title: 'Flash sale',
        imageUrl: 'https://cdn.example/flash.jpg',
        link: '/flash',
        startsAt: '2026-01-01T00:00:00Z',
        endsAt: '2030-01-01T00:00:00Z',
      },
    },
    alice,
  );
  const target = { type: 'CREATIVE', id: created.data?.createCreative.id as string };
  const submitted = await graphql(editing.gatewayUrl, STEP('submitForReview'), { target }, alice);
  const reviewed = { ...target, expectedVersion: submitted.data?.submitForReview.version };
  const approved = await graphql(editing.gatewayUrl, STEP('approve'), { target: reviewed }, bob);
  expect(approved.data?.approve.status).toBe('PUBLISHED');
  // The process that made the change reloads before it answers again.
  const own = await graphql(editing.gatewayUrl, HERO, {}, bearer(await clientToken('M0002', 'member')));
  expect(JSON.stringify(own.data)).toContain(target.id);
  expect(await staleFor((placed) => placed.includes(target.id))).toBeLessThanOrEqual(REFRESH_MS + 100);

  const archived = await graphql(editing.gatewayUrl, STEP('archive'), { target }, alice);
  expect(archived.data?.archive.status).toBe('ARCHIVED');
  expect(await staleFor((placed) => !placed.includes(target.id))).toBeLessThanOrEqual(REFRESH_MS + 100);
});

it('drops a product card and recommendation within twice SNAPSHOT_REFRESH_MS once products takes it off sale', async () => {
  const member = bearer(await clientToken('M0002', 'member'));
  const CARDS = `{ viewer {
    page(channel: APP, key: "home") { slots { items { ... on ProductCard { product { id } } } } }
    recommendedProducts(first: 50) { id }
  } }`;
  /** The products on the page's cards, and those recommended with it. */
  const cards = async () => {
    const response = await graphql(reading.gatewayUrl, CARDS, {}, member);
    expect(response.errors).toBeUndefined();
    const viewer = response.data?.viewer as {
      page: { slots: { items: { product?: { id: string } }[] }[] };
      recommendedProducts: { id: string }[];
    };
    return [
      ...viewer.page.slots
        .flatMap((slot) => slot.items)
        .flatMap((item) => (item.product ? [item.product.id] : [])),
      ...viewer.recommendedProducts.map((product) => `recommended:${product.id}`),
    ];
  };
  const before = await cards();
  const placed = before[0];
  expect(placed).toBeDefined();
  expect(before).toContain(`recommended:${placed}`);
  const products = editing.connections.products;
  await products
    .collection('products')
    .updateOne({ _id: placed as never }, { $set: { status: 'SUSPENDED' } });
  await Revisions.open(products).bump();
  const lastStale = await staleUntil(
    async () => {
      const shown = await cards();
      return !shown.includes(placed!) && !shown.includes(`recommended:${placed}`);
    },
    () => 'the product never left the page',
  );
  expect(lastStale).toBeLessThanOrEqual(2 * REFRESH_MS + 100);
  await products.collection('products').updateOne({ _id: placed as never }, { $set: { status: 'ON_SALE' } });
  await Revisions.open(products).bump();
});

it('shows demo data seeded into a running hub within twice SNAPSHOT_REFRESH_MS', async () => {
  // Its subgraphs loaded their snapshots, all empty, when they started.
  const running = await hubOver('none', uniquePrefix('snapshots_seeded'));
  try {
    await seedHub(running.connections, 'reset', 'short', testConfig);
    const member = bearer(await clientToken('M0002', 'member'));
    const KINDS = `{ viewer { page(channel: APP, key: "home") { slots { items { __typename } } } } }`;
    let kinds = new Set<string>();
    const lastStale = await staleUntil(
      async () => {
        const response = await graphql(running.gatewayUrl, KINDS, {}, member);
        const slots: { items: { __typename: string }[] }[] = response.data?.viewer?.page?.slots ?? [];
        kinds = new Set(slots.flatMap((slot) => slot.items.map((item) => item.__typename)));
        // Cards from content's, products' and engagement's snapshots.
        return ['Banner', 'ProductCard', 'ActivityCard'].every((kind) => kinds.has(kind));
      },
      () => `the seeded page never came whole: ${[...kinds].join(', ')}`,
    );
    expect(lastStale).toBeLessThanOrEqual(2 * REFRESH_MS + 100);
  } finally {
    await Promise.all(Object.values(running.connections).map((connection) => connection.dropDatabase()));
    await running.stop();
  }
});
