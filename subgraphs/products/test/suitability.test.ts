// Suitability over HTTP: whatever a member's risk tolerance, nothing recommended (Member entities) or answered by
// suitableProducts (what pages place) is riskier, checked against the seed rather than against the module that
// decides it. A representation without the fields @requires names is an error, never an emptier answer.
import type { RiskLevel } from '../src/domain/suitability';
import { PRODUCTS } from '../src/seed';
import { firstError, riskRank, seeded, startProducts, type ProductsUnderTest, type Send } from './support';

let products: ProductsUnderTest;
let send: Send;

beforeAll(async () => {
  products = await startProducts('suitability');
  send = products.as('M0001', ['member']);
});

afterAll(() => products.stop());

const MEMBERS = `query ($representations: [_Any!]!, $first: Int) {
  _entities(representations: $representations) {
    ... on Member {
      id
      recommendedProducts(first: $first) { id riskLevel status }
    }
  }
}`;

const SUITABLE = `query ($riskLevel: RiskLevel!, $affinityKeys: [String!]!, $channel: Channel) {
  suitableProducts(riskLevel: $riskLevel, affinityKeys: $affinityKeys, channel: $channel) { productId type }
}`;

interface MemberAnswer {
  id: string;
  recommendedProducts: { id: string; riskLevel: RiskLevel; status: string }[];
}

// Affinity keys as the members subgraph derives them for the two demo members.
const YOUNG_KEYS = ['aum', 'aum_band', 'interests', 'new_user', 'rfm_score', 'sports', 'student', 'travel'];
const MATURE_KEYS = [
  'aum',
  'credit_card_holder',
  'fund_investor',
  'healthcare',
  'insurance_holder',
  'investing',
  'salary_account',
  'travel',
  'wealth_holder',
];

async function membersAnswer(
  representations: Record<string, unknown>[],
  first = 50,
): Promise<MemberAnswer[]> {
  const response = await send(MEMBERS, {
    representations: representations.map((r) => ({ __typename: 'Member', ...r })),
    first,
  });
  expect(response.errors).toBeUndefined();
  return response.data?._entities as MemberAnswer[];
}

async function suitableAnswer(riskLevel: RiskLevel, affinityKeys: string[], channel: string | null = 'APP') {
  const response = await send(SUITABLE, { riskLevel, affinityKeys, channel });
  expect(response.errors).toBeUndefined();
  return response.data?.suitableProducts as { productId: string; type: string }[];
}

const risks: RiskLevel[] = ['R1', 'R2', 'R3', 'R4', 'R5'];

describe('suitability', () => {
  it.each(risks.flatMap((risk) => [YOUNG_KEYS, MATURE_KEYS].map((keys) => [risk, keys] as const)))(
    'a %s member with keys %j is offered nothing riskier, and every suitable product on sale',
    async (riskLevel, affinityKeys) => {
      const [member] = await membersAnswer([{ id: 'M9', riskLevel, affinityKeys }]);
      const suitable = await suitableAnswer(riskLevel, affinityKeys);
      const offered = [
        ...member!.recommendedProducts.map((product) => product.id),
        ...suitable.map((product) => product.productId),
      ];
      for (const id of offered) {
        expect(riskRank(seeded(id).riskLevel)).toBeLessThanOrEqual(riskRank(riskLevel));
        expect(seeded(id).status).toBe('ON_SALE');
      }
      const expected = PRODUCTS.filter(
        (product) =>
          product.status === 'ON_SALE' &&
          riskRank(product.riskLevel) <= riskRank(riskLevel) &&
          product.channels.includes('APP'),
      ).map((product) => product._id);
      expect(suitable.map((product) => product.productId).sort()).toEqual(expected.sort());
      expect(suitable.map((product) => product.type)).toEqual(
        suitable.map((product) => seeded(product.productId).type),
      );
      // Recommendations rank the same way (they are not limited to one channel).
      const onApp = new Set(suitable.map((product) => product.productId));
      expect(member!.recommendedProducts.map((product) => product.id).filter((id) => onApp.has(id))).toEqual(
        suitable
          .map((product) => product.productId)
          .filter((id) => member!.recommendedProducts.some((p) => p.id === id)),
      );
    },
  );

  it('leaves out of a conservative member the attractive high-risk products that match them best', async () => {
    const suitable = await suitableAnswer('R1', YOUNG_KEYS);
    const tempting = PRODUCTS.filter(
      (product) =>
        product.status === 'ON_SALE' &&
        riskRank(product.riskLevel) >= 4 &&
        product.tags.filter((tag) => YOUNG_KEYS.includes(tag)).length >= 2,
    );
    expect(tempting.length).toBeGreaterThanOrEqual(2);
    const offered = suitable.map((product) => product.productId);
    for (const product of tempting) expect(offered).not.toContain(product._id);
  });

  it('recommends differently to a young member and a mature investor', async () => {
    const [young, mature] = await membersAnswer(
      [
        { id: 'M0001', riskLevel: 'R1', affinityKeys: YOUNG_KEYS },
        { id: 'M0002', riskLevel: 'R1', affinityKeys: MATURE_KEYS },
      ],
      5,
    );
    expect(young!.recommendedProducts).toHaveLength(5);
    expect(young!.recommendedProducts).not.toEqual(mature!.recommendedProducts);
    // Same risk level, so the difference comes from affinity alone.
    expect(seeded(young!.recommendedProducts[0]!.id).tags).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(travel|sports|student|new_user)$/)]),
    );
  });

  it('ranks products sharing the most affinity keys first', async () => {
    const [member] = await membersAnswer([{ id: 'M0002', riskLevel: 'R4', affinityKeys: MATURE_KEYS }], 10);
    const scores = member!.recommendedProducts.map(
      (product) => seeded(product.id).tags.filter((tag) => MATURE_KEYS.includes(tag)).length,
    );
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(scores[0]).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['no risk level', { affinityKeys: YOUNG_KEYS }, ['riskLevel']],
    ['a null risk level', { riskLevel: null, affinityKeys: YOUNG_KEYS }, ['riskLevel']],
    ['an unknown risk level', { riskLevel: 'R9', affinityKeys: YOUNG_KEYS }, ['riskLevel']],
    ['a lowercase risk level', { riskLevel: 'r5', affinityKeys: YOUNG_KEYS }, ['riskLevel']],
    [
      'a risk level that names a property',
      { riskLevel: 'constructor', affinityKeys: YOUNG_KEYS },
      ['riskLevel'],
    ],
    ['no affinity keys', { riskLevel: 'R2' }, ['affinityKeys']],
    [
      'affinity keys that are not a list of strings',
      { riskLevel: 'R2', affinityKeys: 'travel' },
      ['affinityKeys'],
    ],
  ])(
    'answers INVALID_REPRESENTATION, not an emptier list, for a representation with %s',
    async (_what, fields, named) => {
      const response = await send(MEMBERS, {
        representations: [{ __typename: 'Member', id: 'M9', ...fields }],
      });
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'INVALID_REPRESENTATION',
        typename: 'Member',
        fields: named,
      });
      expect(response.data?._entities[0]?.recommendedProducts ?? null).toBeNull();
    },
  );

  it('recommends 5 products by default', async () => {
    const response = await send(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Member { recommendedProducts { id } } } }`,
      { r: [{ __typename: 'Member', id: 'M9', riskLevel: 'R3', affinityKeys: [] }] },
    );
    expect(response.data?._entities[0].recommendedProducts).toHaveLength(5);
  });

  it.each([0, 51, -3])(
    'rejects recommendedProducts(first: %i) as BAD_USER_INPUT naming first',
    async (first) => {
      const response = await send(MEMBERS, {
        representations: [{ __typename: 'Member', id: 'M9', riskLevel: 'R3', affinityKeys: [] }],
        first,
      });
      expect(firstError(response)).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
    },
  );
});

describe('suitableProducts', () => {
  it('answers only products sold on the channel asked about', async () => {
    const onMini = await suitableAnswer('R5', MATURE_KEYS, 'MINI_PROGRAM');
    expect(onMini.length).toBeGreaterThan(0);
    for (const { productId } of onMini) expect(seeded(productId).channels).toContain('MINI_PROGRAM');
    const notOnMini = PRODUCTS.filter((product) => !product.channels.includes('MINI_PROGRAM'));
    expect(notOnMini.length).toBeGreaterThan(0);
    for (const product of notOnMini) expect(onMini.map((p) => p.productId)).not.toContain(product._id);
  });

  it.each(risks)(
    'without a channel answers, for %s, what recommendedProducts recommends, in its order (what content relays)',
    async (riskLevel) => {
      for (const affinityKeys of [YOUNG_KEYS, MATURE_KEYS, []]) {
        const anyChannel = await suitableAnswer(riskLevel, affinityKeys, null);
        const [member] = await membersAnswer([{ id: 'M9', riskLevel, affinityKeys }]);
        // recommendedProducts gives at most 50 (membersAnswer asks for them all).
        expect(anyChannel.slice(0, 50).map((product) => product.productId)).toEqual(
          member!.recommendedProducts.map((product) => product.id),
        );
        const onApp = await suitableAnswer(riskLevel, affinityKeys, 'APP');
        expect(onApp).toEqual(
          anyChannel.filter(({ productId }) => seeded(productId).channels.includes('APP')),
        );
      }
    },
  );

  it.each([
    ['too many affinity keys', Array.from({ length: 201 }, (_, i) => `k${i}`)],
    ['an affinity key that is too long', ['x'.repeat(65)]],
  ])('refuses %s as BAD_USER_INPUT naming affinityKeys', async (_what, affinityKeys) => {
    const response = await send(SUITABLE, { riskLevel: 'R3', affinityKeys, channel: 'APP' });
    expect(firstError(response)).toEqual({ code: 'BAD_USER_INPUT', field: 'affinityKeys' });
  });
});
