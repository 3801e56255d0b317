// What a member is offered, through the gateway: products ranked by what they are worth to the member (the cheapest
// loan first) wherever they are ranked, and bundles only where a channel sells them whole.
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openProducts } from '../subgraphs/products/src/models';
import type { BundleDoc } from '../subgraphs/products/src/models/bundle';
import type { Channel, ProductDoc, ProductType } from '../subgraphs/products/src/models/product';
import { insertPublishedPage } from './support/content';
import { bearer, changedBehindTheHubsBack, clientToken, graphql, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let member: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

const EVERY_CHANNEL: Channel[] = ['APP', 'WEB', 'MINI_PROGRAM', 'PARTNER'];

function fixture(
  _id: string,
  type: ProductType,
  annualRate: number,
  tags: string[],
  channels = EVERY_CHANNEL,
): ProductDoc {
  return {
    _id,
    type,
    name: _id,
    description: _id,
    riskLevel: 'R1',
    annualRate,
    feeRate: null,
    termDays: null,
    minAmount: 100,
    currency: 'CNY',
    channels,
    tags,
    status: 'ON_SALE',
    issuer: 'test',
    createdAt: new Date(),
    updatedAt: new Date(),
  };
}

const bundle = (_id: string, productIds: string[]): BundleDoc => ({
  _id,
  name: _id,
  description: _id,
  productIds,
  rule: null,
  minTotalAmount: 1_000,
  validFrom: new Date('2025-01-01T00:00:00Z'),
  validTo: new Date('2035-01-01T00:00:00Z'),
  discountRate: null,
  rateBonus: null,
  benefitIds: [],
  status: 'PUBLISHED',
  version: 1,
  lastEditedBy: 'ops.a',
  approvedBy: 'ops.b',
  updatedAt: new Date(),
  pending: null,
});

// Two loans and two deposits that match the member equally well (every one of their affinity keys).
const RANKED = ['P-LN-9002', 'P-LN-9001', 'P-DP-9002', 'P-DP-9001'];
let affinityKeys: string[];

beforeAll(async () => {
  hub = await startTestHub('product-offers');
  const token = await clientToken('M0002', 'member');
  member = (query, variables = {}) => graphql(hub.gatewayUrl, query, variables, bearer(token));
  affinityKeys = (await member('{ viewer { affinityKeys } }')).data?.viewer.affinityKeys;
  expect(affinityKeys.length).toBeGreaterThan(0);
  const products = await openProducts(hub.connections.products);
  await products.products.model.insertMany([
    fixture('P-LN-9001', 'LOAN', 12.9, affinityKeys),
    fixture('P-LN-9002', 'LOAN', 3.1, affinityKeys),
    fixture('P-DP-9001', 'DEPOSIT', 1.2, affinityKeys),
    fixture('P-DP-9002', 'DEPOSIT', 2.6, affinityKeys),
    fixture('P-DP-9101', 'DEPOSIT', 1, [], ['APP', 'WEB']),
    fixture('P-DP-9102', 'DEPOSIT', 1, [], ['WEB', 'MINI_PROGRAM']),
    fixture('P-DP-9103', 'DEPOSIT', 1, [], ['MINI_PROGRAM']),
  ]);
  await products.bundles.model.insertMany([
    bundle('BD-PROBE-WEB', ['P-DP-9101', 'P-DP-9102']),
    bundle('BD-PROBE-SPLIT', ['P-DP-9101', 'P-DP-9103']),
  ]);
  await changedBehindTheHubsBack(hub.connections.products);
  await insertPublishedPage(
    hub.connections.content,
    'loans',
    [{ code: 'loans', template: 'PRODUCT_SHELF', maxItems: 20, autoFill: true, productType: 'LOAN' }],
    [],
  );
});

afterAll(() => stopTestHub(hub));

async function ok(response: Promise<GraphQLResponse>) {
  const answer = await response;
  expect(answer.errors).toBeUndefined();
  return answer.data!;
}

const ranked = (ids: string[]) => ids.filter((id) => RANKED.includes(id));
const idsOf = (products: { id: string }[]) => products.map((product) => product.id);

describe('ranking for a member', () => {
  const EXPECTED = ['P-DP-9002', 'P-DP-9001', 'P-LN-9002', 'P-LN-9001'];

  it("recommends what earns most first and the cheapest loan before a dearer one, in products' own answer", async () => {
    // `status` is a field only products gives, so the gateway asks products.
    const { viewer } = await ok(member('{ viewer { recommendedProducts(first: 50) { id status } } }'));
    expect(ranked(idsOf(viewer.recommendedProducts))).toEqual(EXPECTED);
  });

  it('recommends in the same order through content, which relays the answer it got with the page', async () => {
    const { viewer } = await ok(member('{ viewer { recommendedProducts(first: 50) { id name } } }'));
    expect(ranked(idsOf(viewer.recommendedProducts))).toEqual(EXPECTED);
  });

  it('fills a loan shelf with the cheaper loan first', async () => {
    const { viewer } = await ok(
      member(`{ viewer { page(channel: APP, key: "loans") {
        slots { items { ... on ProductCard { product { id annualRate } } } }
      } } }`),
    );
    const placed = viewer.page.slots[0].items.map((item: { product: { id: string } }) => item.product);
    expect(ranked(idsOf(placed))).toEqual(['P-LN-9002', 'P-LN-9001']);
  });

  it('answers suitableProducts in that order', async () => {
    const { suitableProducts } = await ok(
      member(
        `query ($keys: [String!]!) {
          suitableProducts(riskLevel: R1, affinityKeys: $keys, channel: APP) { productId }
        }`,
        { keys: affinityKeys },
      ),
    );
    const ids = suitableProducts.map((suitable: { productId: string }) => suitable.productId);
    expect(ranked(ids)).toEqual(EXPECTED);
  });
});

describe('bundles by channel', () => {
  const PROBES = ['BD-PROBE-WEB', 'BD-PROBE-SPLIT'];
  const offered = async (channel: Channel | null) => {
    const { viewer } = await ok(
      member(`query ($channel: Channel) { viewer { eligibleBundles(channel: $channel) { id channels } } }`, {
        channel,
      }),
    );
    return (viewer.eligibleBundles as { id: string; channels: Channel[] }[]).filter((offer) =>
      PROBES.includes(offer.id),
    );
  };

  it('offers a bundle on a channel that sells every product of it', async () => {
    expect(await offered('WEB')).toEqual([{ id: 'BD-PROBE-WEB', channels: ['WEB'] }]);
  });

  it('does not offer it on a channel where one of its products is not sold', async () => {
    expect(await offered('APP')).toEqual([]);
    expect(await offered('MINI_PROGRAM')).toEqual([]);
  });

  it('without a channel, offers only bundles some channel sells whole, saying which', async () => {
    expect(await offered(null)).toEqual([{ id: 'BD-PROBE-WEB', channels: ['WEB'] }]);
  });
});
