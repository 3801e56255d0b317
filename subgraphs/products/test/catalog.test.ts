// The catalogue queries over HTTP: product by id, cursor pagination, search, and input errors naming the field.
import type { Channel } from '../src/models/product';
import { PRODUCTS } from '../src/seed';
import { firstError, startProducts, type ProductsUnderTest, type Send } from './support';

let products: ProductsUnderTest;
let send: Send;

beforeAll(async () => {
  products = await startProducts('catalog');
  send = products.as('M0001', ['member']);
});

afterAll(() => products.stop());

const onSale = PRODUCTS.filter((product) => product.status === 'ON_SALE');
const idsOf = (list: readonly { _id: string }[]) => list.map((product) => product._id).sort();

const PRODUCT = `query ($id: ID!) {
  product(id: $id) {
    id type name description riskLevel annualRate feeRate termDays minAmount currency channels tags status issuer
  }
}`;

const PRODUCTS_PAGE = `query ($type: ProductType, $channel: Channel, $first: Int, $after: String) {
  products(type: $type, channel: $channel, first: $first, after: $after) {
    edges { cursor node { id type channels status } }
    pageInfo { hasNextPage endCursor }
  }
}`;

const SEARCH = `query (
  $text: String!, $type: ProductType, $channel: Channel, $maxRiskLevel: RiskLevel, $first: Int, $after: String
) {
  searchProducts(text: $text, type: $type, channel: $channel, maxRiskLevel: $maxRiskLevel, first: $first, after: $after) {
    edges { cursor node { id riskLevel type } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Page {
  edges: { cursor: string; node: { id: string } }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Walks every page of `field`, checking each page on the way, and returns the ids in the order served. */
async function walk(query: string, field: string, variables: Record<string, unknown>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 100; pages += 1) {
    const response = await send(query, { ...variables, after });
    expect(response.errors).toBeUndefined();
    const page = response.data?.[field] as Page;
    expect(page.edges.length).toBeLessThanOrEqual(Number(variables.first));
    ids.push(...page.edges.map((edge) => edge.node.id));
    expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
    if (!page.pageInfo.hasNextPage) return ids;
    after = page.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

describe('product(id)', () => {
  it('returns a product with every field as seeded', async () => {
    const response = await send(PRODUCT, { id: 'P-WM-001' });
    expect(response.errors).toBeUndefined();
    const {
      _id,
      createdAt: _createdAt,
      updatedAt: _updatedAt,
      ...fields
    } = PRODUCTS.find((product) => product._id === 'P-WM-001')!;
    expect(response.data?.product).toEqual({ id: _id, ...fields });
  });

  it('returns a product that is not on sale, with its status', async () => {
    const response = await send(PRODUCT, { id: 'P-FD-014' });
    expect(response.data?.product).toMatchObject({ id: 'P-FD-014', status: 'CLOSED' });
  });

  it('answers null and NOT_FOUND for an unknown id', async () => {
    const response = await send(PRODUCT, { id: 'P-XX-999' });
    expect(response.data?.product).toBeNull();
    expect(response.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(response.errors?.[0]?.path).toEqual(['product']);
  });
});

describe('products', () => {
  const types = ['DEPOSIT', 'WEALTH', 'FUND', 'LOAN', 'INSURANCE', 'PAYMENT'];

  it.each(types)('pages through every %s on sale, in id order, without repeats', async (type) => {
    const ids = await walk(PRODUCTS_PAGE, 'products', { type, first: 3 });
    const expected = idsOf(onSale.filter((product) => product.type === type));
    expect(expected.length).toBeGreaterThan(3);
    expect(ids).toEqual(expected);
  });

  it('pages through the whole on-sale catalogue when no type is given', async () => {
    const ids = await walk(PRODUCTS_PAGE, 'products', { first: 7 });
    expect(ids).toEqual(idsOf(onSale));
    expect(ids.length).toBeLessThan(PRODUCTS.length);
  });

  it('filters by channel', async () => {
    const ids = await walk(PRODUCTS_PAGE, 'products', { channel: 'MINI_PROGRAM', first: 10 });
    expect(ids).toEqual(idsOf(onSale.filter((product) => product.channels.includes('MINI_PROGRAM'))));
    expect(ids.length).toBeGreaterThan(0);
  });

  it('serves the default page size of 20', async () => {
    const response = await send('{ products { edges { node { id } } pageInfo { hasNextPage } } }');
    expect(response.data?.products.edges).toHaveLength(20);
    expect(response.data?.products.pageInfo.hasNextPage).toBe(true);
  });

  it.each([0, -1, 101])('rejects first: %i as BAD_USER_INPUT naming first', async (first) => {
    const response = await send(PRODUCTS_PAGE, { first });
    expect(firstError(response)).toEqual({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  it.each([
    ['not base64url', 'not a cursor!'],
    ['base64url of something else', Buffer.from('hello').toString('base64url')],
    ['a non-canonical encoding', `${Buffer.from('P-WM-001').toString('base64url')}=`],
    ['an empty id', Buffer.from('P-').toString('base64url')],
  ])('rejects a cursor that is %s as BAD_USER_INPUT naming after', async (_what, after) => {
    const response = await send(PRODUCTS_PAGE, { first: 5, after });
    expect(firstError(response)).toEqual({ code: 'BAD_USER_INPUT', field: 'after' });
  });
});

describe('searchProducts', () => {
  /** What a case-insensitive literal search should find, computed from the seed. */
  const expectedFor = (text: string) =>
    idsOf(
      onSale.filter((product) =>
        [product.name, product.description, ...product.tags].some((value) =>
          value.toLowerCase().includes(text.toLowerCase()),
        ),
      ),
    );

  it.each(['travel', 'TRAVEL', '理财', 'Fund', 'student'])(
    'finds %s case-insensitively in names, descriptions and tags',
    async (text) => {
      const ids = await walk(SEARCH, 'searchProducts', { text, first: 4 });
      expect(ids).toEqual(expectedFor(text));
      expect(ids.length).toBeGreaterThan(0);
    },
  );

  it('trims the text', async () => {
    expect(await walk(SEARCH, 'searchProducts', { text: '  sports  ', first: 50 })).toEqual(
      expectedFor('sports'),
    );
  });

  it('finds a tag with no trace in the name or description', async () => {
    const ids = await walk(SEARCH, 'searchProducts', { text: 'mortgage_holder', first: 50 });
    expect(ids).toEqual(expectedFor('mortgage_holder'));
    expect(ids.length).toBeGreaterThan(1);
  });

  it('combines type and maxRiskLevel', async () => {
    const response = await send(SEARCH, { text: 'investing', type: 'FUND', maxRiskLevel: 'R3', first: 50 });
    expect(response.errors).toBeUndefined();
    const nodes = (response.data?.searchProducts as Page).edges.map((edge) => edge.node) as {
      id: string;
      riskLevel: string;
      type: string;
    }[];
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.every((node) => node.type === 'FUND' && node.riskLevel <= 'R3')).toBe(true);
    expect(nodes.map((node) => node.id)).toEqual(
      expectedFor('investing').filter((id) => {
        const product = PRODUCTS.find((candidate) => candidate._id === id)!;
        return product.type === 'FUND' && ['R1', 'R2', 'R3'].includes(product.riskLevel);
      }),
    );
  });

  it.each<Channel>(['MINI_PROGRAM', 'PARTNER'])(
    'finds on %s only what that channel sells',
    async (channel) => {
      const ids = await walk(SEARCH, 'searchProducts', { text: 'young', channel, first: 5 });
      const sold = new Set(onSale.filter((product) => product.channels.includes(channel)).map((p) => p._id));
      expect(ids).toEqual(expectedFor('young').filter((id) => sold.has(id)));
      expect(ids.length).toBeGreaterThan(0);
      expect(ids.length).toBeLessThan(expectedFor('young').length);
    },
  );

  it.each(['(', '.*', '[', ']', '\\', '*', '?', 'a|b', '^', '$', '{', ')', ',', 'travel, young'])(
    'treats %s literally: no error, and no product matches',
    async (text) => {
      const response = await send(SEARCH, { text, first: 10 });
      expect(response.errors).toBeUndefined();
      expect(response.data?.searchProducts.edges).toEqual([]);
    },
  );

  it('treats a NUL literally: no error (MongoDB refuses one in a pattern), and no product matches', async () => {
    const response = await send(SEARCH, { text: 'travel\0', first: 10 });
    expect(response.errors).toBeUndefined();
    expect(response.data?.searchProducts.edges).toEqual([]);
  });

  it('treats + literally and finds the product whose name has it', async () => {
    const ids = await walk(SEARCH, 'searchProducts', { text: '固收+', first: 10 });
    expect(ids).toEqual(expectedFor('固收+'));
    expect(ids).toEqual(['P-WM-008']);
  });

  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['51 characters', 'x'.repeat(51)],
  ])('rejects %s text as BAD_USER_INPUT naming text', async (_what, text) => {
    const response = await send(SEARCH, { text });
    expect(firstError(response)).toEqual({ code: 'BAD_USER_INPUT', field: 'text' });
  });

  it('accepts 50 characters of text', async () => {
    const response = await send(SEARCH, { text: '理'.repeat(50) });
    expect(response.errors).toBeUndefined();
  });

  it('rejects bad first and after like products does', async () => {
    expect(firstError(await send(SEARCH, { text: 'fund', first: 101 }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'first',
    });
    expect(firstError(await send(SEARCH, { text: 'fund', after: 'nope' }))).toEqual({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
  });
});
