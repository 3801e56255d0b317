// `_entities` costs one products query however many representations it carries, for products and members alike.
import { readCounter } from '../../../test/support/subgraph';
import { PRODUCTS } from '../src/seed';
import { startProducts, type ProductsUnderTest } from './support';

let products: ProductsUnderTest;
let readsDuring: ReturnType<typeof readCounter>;

beforeAll(async () => {
  // The catalogue is held in memory: checked rarely here, so that what is counted is what a request reads.
  products = await startProducts('batching', { config: { SNAPSHOT_REFRESH_MS: 60_000 } });
  readsDuring = readCounter(products.connection);
});

afterAll(() => products.stop());

describe('batching', () => {
  it('loads the catalogue before it listens, then answers from memory', async () => {
    const send = products.as('M0001', ['member']);
    expect(await readsDuring(() => send('{ product(id: "P-FD-001") { id } }'))).toEqual({});
    expect(await readsDuring(() => send('{ product(id: "P-DP-001") { id } }'))).toEqual({});
  });

  it('_entities for 50 products reads nothing, answering in the order asked', async () => {
    const ids = PRODUCTS.slice(0, 50)
      .map((product) => product._id)
      .reverse();
    const send = products.as('M0001', ['member']);
    let answer: unknown;
    const reads = await readsDuring(async () => {
      const response = await send(
        'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name riskLevel } } }',
        { r: ids.map((id) => ({ __typename: 'Product', id })) },
      );
      expect(response.errors).toBeUndefined();
      answer = response.data?._entities;
    });
    expect(reads).toEqual({});
    expect((answer as { id: string }[]).map((product) => product.id)).toEqual(ids);
  });

  it('answers null for unknown products in the order of the representations', async () => {
    const send = products.as('M0001', ['member']);
    const response = await send(
      'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id } } }',
      {
        r: [
          { __typename: 'Product', id: 'P-FD-001' },
          { __typename: 'Product', id: 'P-XX-404' },
          { __typename: 'Product', id: 'P-DP-001' },
        ],
      },
    );
    expect(response.data?._entities).toEqual([{ id: 'P-FD-001' }, null, { id: 'P-DP-001' }]);
  });

  it('_entities for 20 members reads no product', async () => {
    const risks = ['R1', 'R2', 'R3', 'R4', 'R5'];
    const representations = Array.from({ length: 20 }, (_, i) => ({
      __typename: 'Member',
      id: `M${String(i + 1).padStart(4, '0')}`,
      riskLevel: risks[i % risks.length],
      affinityKeys: i % 2 === 0 ? ['travel', 'sports'] : ['investing', 'healthcare'],
    }));
    const send = products.as('M0001', ['member']);
    let answer: unknown;
    const reads = await readsDuring(async () => {
      const response = await send(
        `query ($r: [_Any!]!) {
          _entities(representations: $r) {
            ... on Member { id recommendedProducts(first: 3) { id name } }
          }
        }`,
        { r: representations },
      );
      expect(response.errors).toBeUndefined();
      answer = response.data?._entities;
    });
    expect(reads).toEqual({});
    expect(answer).toHaveLength(20);
  });
});
