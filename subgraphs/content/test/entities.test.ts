// Content's entities over HTTP, as the gateway would call them: a Member representation must carry what
// `Member.page` and `Member.recommendedProducts` @require (or the field is an error, never an emptier page);
// Creative and Placement resolve from their keys, and members see what a creative shows but not how it is targeted
// or approved.
import { startSubgraph, type SubgraphUnderTest } from '../../../test/support/subgraph';
import content from '../src/descriptor';
import type { ContentRepositories } from '../src/models';

let subgraph: SubgraphUnderTest<ContentRepositories>;

beforeAll(async () => {
  subgraph = await startSubgraph('content_entities', content);
});

afterAll(() => subgraph.stop());

const MEMBER = {
  __typename: 'Member',
  id: 'M0001',
  segmentCodes: ['NEW_YOUNG'],
  level: { code: 'STANDARD', rank: 1 },
  riskLevel: 'R1',
  lifecycleStage: 'ACQUISITION',
  affinityKeys: ['student'],
};

const PAGE = `query ($r: [_Any!]!) {
  _entities(representations: $r) { ... on Member { page(channel: APP, key: "home") { slots { code } } } }
}`;

describe('Member representations', () => {
  it.each([
    ['affinityKeys', { affinityKeys: undefined }, ['affinityKeys']],
    ['segmentCodes', { segmentCodes: undefined }, ['segmentCodes']],
    ['a level without its rank', { level: { code: 'GOLD' } }, ['level.rank']],
    ['an unknown risk level', { riskLevel: 'R9' }, ['riskLevel']],
    ['a lifecycle stage that is not a string', { lifecycleStage: 7 }, ['lifecycleStage']],
  ])('without %s is INVALID_REPRESENTATION, never a page', async (_what, change, fields) => {
    const send = subgraph.as('M0001', ['member']);
    const response = await send(PAGE, { r: [{ ...MEMBER, ...change }] });
    expect(response.data?._entities).toEqual([{ page: null }]);
    expect(response.errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'INVALID_REPRESENTATION', typename: 'Member', fields }),
    ]);
  });

  it('with every field @requires names gives the page', async () => {
    // Alone, content cannot ask products which products suit the member: the page still comes, without them.
    const send = subgraph.as('M0001', ['member']);
    const response = await send(PAGE, { r: [MEMBER] });
    expect(response.data?._entities[0].page.slots.length).toBe(9);
    expect(response.errors?.map((error) => error.extensions?.serviceName)).toEqual(
      expect.arrayContaining(['products']),
    );
  });
});

const RECOMMENDED = `query ($r: [_Any!]!) {
  _entities(representations: $r) { ... on Member { id recommendedProducts(first: 3) { id name } } }
}`;

describe('Member representations for recommendedProducts', () => {
  it.each([
    ['no riskLevel', { riskLevel: undefined }, ['riskLevel']],
    ['an unknown risk level', { riskLevel: 'R0' }, ['riskLevel']],
    ['affinity keys that are not strings', { affinityKeys: [1] }, ['affinityKeys.0']],
  ])('%s: INVALID_REPRESENTATION, never a recommendation', async (_what, change, fields) => {
    const send = subgraph.as('M0001', ['member']);
    const response = await send(RECOMMENDED, {
      r: [{ __typename: 'Member', id: 'M0001', riskLevel: 'R1', affinityKeys: [], ...change }],
    });
    expect(response.data?._entities).toEqual([{ id: 'M0001', recommendedProducts: null }]);
    expect(response.errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'INVALID_REPRESENTATION', typename: 'Member', fields }),
    ]);
  });

  it('needs only what it @requires; content alone cannot ask products, and says so', async () => {
    const send = subgraph.as('M0001', ['member']);
    const response = await send(RECOMMENDED, {
      r: [{ __typename: 'Member', id: 'M0001', riskLevel: 'R1', affinityKeys: ['student'] }],
    });
    expect(response.data?._entities).toEqual([{ id: 'M0001', recommendedProducts: null }]);
    expect(response.errors?.map((error) => error.extensions)).toEqual([
      expect.objectContaining({ code: 'SERVICE_UNAVAILABLE', serviceName: 'products' }),
    ]);
  });
});

const CREATIVE = `query ($r: [_Any!]!) {
  _entities(representations: $r) { ... on Creative { id kind title rule } }
}`;

describe('Creative and Placement', () => {
  it('resolve from their keys, in one read for many', async () => {
    const send = subgraph.as('ops.alice', ['operator']);
    const response = await send(
      `query ($r: [_Any!]!) {
        _entities(representations: $r) {
          ... on Creative { id kind }
          ... on Placement { pageId slotCode creativeId creative { id title } }
        }
      }`,
      {
        r: [
          { __typename: 'Creative', id: 'CR-APP-home-hero-2' },
          { __typename: 'Creative', id: 'CR-nope' },
          {
            __typename: 'Placement',
            pageId: 'PG-APP-home',
            slotCode: 'hero',
            creativeId: 'CR-APP-home-hero-2',
          },
        ],
      },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?._entities).toEqual([
      { id: 'CR-APP-home-hero-2', kind: 'BANNER' },
      null,
      {
        pageId: 'PG-APP-home',
        slotCode: 'hero',
        creativeId: 'CR-APP-home-hero-2',
        creative: { id: 'CR-APP-home-hero-2', title: '新人礼包：最高888元 New-Member Gift' },
      },
    ]);
  });

  it('shows a member what a creative shows, and FORBIDDEN for how it is targeted', async () => {
    const r = [{ __typename: 'Creative', id: 'CR-APP-home-hero-2' }];
    const member = await subgraph.as('M0001', ['member'])(CREATIVE, { r });
    expect(member.data?._entities).toEqual([
      { id: 'CR-APP-home-hero-2', kind: 'BANNER', title: '新人礼包：最高888元 New-Member Gift', rule: null },
    ]);
    expect(member.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([
      ['_entities.0.rule', 'FORBIDDEN'],
    ]);
    const publicFields = await subgraph.as('M0001', ['member'])(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Creative { id kind title link } } }`,
      { r },
    );
    expect(publicFields.data?._entities).toEqual([
      {
        id: 'CR-APP-home-hero-2',
        kind: 'BANNER',
        title: '新人礼包：最高888元 New-Member Gift',
        link: '/activities/A-NEWBIE',
      },
    ]);
    const operator = await subgraph.as('ops.alice', ['operator'])(CREATIVE, { r });
    expect(operator.data?._entities[0].rule).toMatchObject({ any: expect.any(Array) });
  });
});
