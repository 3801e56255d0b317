// Operators design bundles (产品组合) through the gateway: created as a draft, four eyes to publish, offered to the
// members it targets through products' snapshot, edits waiting for approval while the published bundle keeps being
// offered, archived ones withdrawn; audited; every design checked against the catalogue, members and engagement, and
// refused with the field at fault and nothing stored.
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type ProductsRepositories } from '../subgraphs/products/src/models';
import { callerOf, errorCodes, testConfig, type GraphQLResponse, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let repos: ProductsRepositories;
let alice: Send;
let bob: Send;
let builder: Send;
let member: Send;
let segment: string;

beforeAll(async () => {
  hub = await startTestHub('bundle-operations');
  repos = await openRepositories(hub.connections.products);
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
  builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  member = await callerOf(hub.gatewayUrl, 'M0001', 'member');
  const viewer = await member('{ viewer { segmentCodes } }');
  segment = viewer.data?.viewer.segmentCodes[0];
  expect(segment).toEqual(expect.any(String));
});

afterAll(() => stopTestHub(hub));

const FIELDS = 'id name currency minTotalAmount rateBonus benefitIds status version lastEditedBy approvedBy';
const CREATE = `mutation ($input: BundleInput!) { createBundle(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: BundleInput!) { updateBundle(id: $id, input: $input) {
  ${FIELDS} pendingRevision { status changes { field before after } } } }`;
const STEP = `mutation ($id: ID!, $step: WorkflowStep!, $reason: String, $expectedVersion: Int) {
  productsWorkflow(type: BUNDLE, id: $id, step: $step, reason: $reason, expectedVersion: $expectedVersion) {
    type id status live version
  }
}`;
const OFFERED = '{ viewer { eligibleBundles { id name benefits { id } } } }';

// Both products are on sale in CNY and suit M0001 (the seed's starter bundle offers them to M0001).
const INPUT = {
  name: ' Campus starter ',
  description: 'Pocket savings and a travel deposit, with a welcome coupon.',
  productIds: ['P-WM-002', 'P-DP-007'],
  minTotalAmount: 1_000,
  validFrom: '2026-01-01T00:00:00+08:00',
  validTo: '2035-01-01T00:00:00Z',
  rateBonus: 0.2,
  benefitIds: ['B-WELCOME-50'],
};

async function ok(response: Promise<GraphQLResponse>) {
  const answer = await response;
  expect(answer.errors).toBeUndefined();
  return answer.data!;
}

/** The bundles offered to M0001 by id and name, once products' snapshot has had time to see a change. */
async function offeredToMember(): Promise<Map<string, { name: string; benefits: { id: string }[] }>> {
  await new Promise((resolve) => setTimeout(resolve, testConfig.SNAPSHOT_REFRESH_MS + 20));
  const { viewer } = await ok(member(OFFERED));
  return new Map(
    viewer.eligibleBundles.map((bundle: { id: string; name: string; benefits: { id: string }[] }) => [
      bundle.id,
      bundle,
    ]),
  );
}

describe('a bundle from design to members', () => {
  let id: string;

  it('is designed as a draft, in the currency of its products, and offered to nobody yet', async () => {
    const { createBundle } = await ok(alice(CREATE, { input: { ...INPUT, rule: rule() } }));
    expect(createBundle).toMatchObject({
      name: 'Campus starter',
      currency: 'CNY',
      minTotalAmount: 1_000,
      rateBonus: 0.2,
      benefitIds: ['B-WELCOME-50'],
      status: 'DRAFT',
      version: 1,
      lastEditedBy: 'ops.alice',
      approvedBy: null,
    });
    id = createBundle.id;
    expect((await offeredToMember()).has(id)).toBe(false);
  });

  it('is published by a second operator only, and then offered to the members it targets', async () => {
    expect((await ok(alice(STEP, { id, step: 'SUBMIT' }))).productsWorkflow).toMatchObject({
      status: 'IN_REVIEW',
      live: false,
      version: 2,
    });
    const { bundles } = await ok(alice('{ bundles(awaitingReview: true) { id status } }'));
    expect(bundles).toContainEqual({ id, status: 'IN_REVIEW' });
    expect(errorCodes(await alice(STEP, { id, step: 'APPROVE', expectedVersion: 2 }))).toEqual(['FORBIDDEN']);
    expect((await ok(bob(STEP, { id, step: 'APPROVE', expectedVersion: 2 }))).productsWorkflow).toEqual({
      type: 'BUNDLE',
      id,
      status: 'PUBLISHED',
      live: true,
      version: 3,
    });
    expect((await offeredToMember()).get(id)).toEqual({
      id,
      name: 'Campus starter',
      benefits: [{ id: 'B-WELCOME-50' }],
    });
  });

  it('keeps offering the published bundle while an edit waits for approval, then offers the edit', async () => {
    const { updateBundle } = await ok(alice(UPDATE, { id, input: { ...INPUT, name: 'Campus starter+' } }));
    expect(updateBundle).toMatchObject({
      name: 'Campus starter',
      status: 'PUBLISHED',
      pendingRevision: {
        status: 'DRAFT',
        // The rule is dropped too: the edit offers the bundle to everyone it suits.
        changes: [
          { field: 'name', before: 'Campus starter', after: 'Campus starter+' },
          { field: 'rule', before: rule(), after: null },
        ],
      },
    });
    const { version } = (await ok(alice(STEP, { id, step: 'SUBMIT' }))).productsWorkflow;
    expect((await offeredToMember()).get(id)?.name).toBe('Campus starter');
    expect(errorCodes(await alice(STEP, { id, step: 'APPROVE', expectedVersion: version }))).toEqual([
      'FORBIDDEN',
    ]);
    const approved = await ok(bob(STEP, { id, step: 'APPROVE', expectedVersion: version }));
    expect(approved.productsWorkflow.status).toBe('PUBLISHED');
    expect((await offeredToMember()).get(id)?.name).toBe('Campus starter+');
  });

  it('is withdrawn from members when archived, and no longer edited; every change is audited', async () => {
    expect((await ok(bob(STEP, { id, step: 'ARCHIVE' }))).productsWorkflow).toMatchObject({
      status: 'ARCHIVED',
      live: false,
    });
    expect((await offeredToMember()).has(id)).toBe(false);
    expect(errorCodes(await alice(UPDATE, { id, input: INPUT }))).toEqual(['FAILED_PRECONDITION']);
    const records = await hub.connections.products
      .collection('audit_log')
      .find({ targetType: 'BUNDLE', targetId: id })
      .toArray();
    expect(records.map((record) => [record.action, record.actor])).toEqual([
      ['createBundle', 'ops.alice'],
      ['submit', 'ops.alice'],
      ['approve', 'ops.bob'],
      ['updateBundle', 'ops.alice'],
      ['submit', 'ops.alice'],
      ['approve', 'ops.bob'],
      ['archive', 'ops.bob'],
    ]);
  });

  /** A rule M0001 matches: one of their segments. */
  function rule() {
    return { field: 'segment', op: 'eq', value: segment };
  }
});

describe('approving a bundle names the version its approver reviewed', () => {
  it('refuses an approval without one, changing nothing; a stale one is CONFLICT; the current one approves', async () => {
    const { createBundle } = await ok(alice(CREATE, { input: INPUT }));
    const { id } = createBundle;
    const reviewed = (await ok(alice(STEP, { id, step: 'SUBMIT' }))).productsWorkflow.version;
    const stored = async () => (await repos.bundles.findByIds([id]))[0];
    const before = await stored();

    const unversioned = await bob(STEP, { id, step: 'APPROVE' });
    expect(errorCodes(unversioned)).toEqual(['BAD_USER_INPUT']);
    expect(unversioned.errors?.[0]?.extensions).toMatchObject({
      reason: 'VERSION_REQUIRED',
      field: 'expectedVersion',
    });
    expect(await stored()).toEqual(before);

    // Edited and resubmitted after bob's review: his approval of what he saw is refused.
    await ok(alice(UPDATE, { id, input: { ...INPUT, name: 'Campus starter (swapped)' } }));
    const current = (await ok(alice(STEP, { id, step: 'SUBMIT' }))).productsWorkflow.version;
    const stale = await bob(STEP, { id, step: 'APPROVE', expectedVersion: reviewed });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(stale.errors?.[0]?.extensions).toMatchObject({ version: current });
    expect((await stored())?.status).toBe('IN_REVIEW');

    const approved = await ok(bob(STEP, { id, step: 'APPROVE', expectedVersion: current }));
    expect(approved.productsWorkflow).toMatchObject({ status: 'PUBLISHED', version: current + 1 });
    expect(await stored()).toMatchObject({ status: 'PUBLISHED', approvedBy: 'ops.bob' });
  });
});

describe("a bundle's minimum is compared in cents with its products' minimums together", () => {
  // Minimums whose sum as floats is not the sum in cents: 0.1 + 0.2 is 0.30000000000000004.
  const CHEAP = [
    ['P-MM-901', 0.1],
    ['P-MM-902', 0.2],
  ] as const;

  beforeAll(async () => {
    const template = await repos.products.model.findById('P-WM-002').lean().exec();
    await repos.products.model.insertMany(
      CHEAP.map(([_id, minAmount]) => ({ ...template, _id, name: _id, minAmount, maxAmount: null })),
    );
  });

  afterAll(() => repos.products.model.deleteMany({ _id: { $in: CHEAP.map(([id]) => id) } }).exec());

  const design = (minTotalAmount: number) => ({
    ...INPUT,
    productIds: CHEAP.map(([id]) => id),
    benefitIds: [],
    minTotalAmount,
  });

  it('takes a minimum equal to their exact sum', async () => {
    const { createBundle } = await ok(alice(CREATE, { input: design(0.3) }));
    expect(createBundle).toMatchObject({ minTotalAmount: 0.3, status: 'DRAFT' });
  });

  it('refuses one a cent below it, naming the exact sum, and stores nothing', async () => {
    const count = await repos.bundles.model.countDocuments();
    const refused = await alice(CREATE, { input: design(0.29) });
    expect(errorCodes(refused)).toEqual(['BAD_USER_INPUT']);
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      field: 'input.minTotalAmount',
      reason: 'MINIMUM_OUT_OF_REACH',
      least: 0.3,
    });
    expect(await repos.bundles.model.countDocuments()).toBe(count);
  });
});

describe('a design that cannot be sold is refused, naming the field, and nothing is stored', () => {
  it.each<[string, Record<string, unknown>, string, string | undefined]>([
    [
      'an unknown product',
      { productIds: ['P-WM-002', 'P-WM-999'] },
      'input.productIds[1]',
      'UNKNOWN_PRODUCT',
    ],
    // P-DP-010 is suspended in the seed.
    [
      'a product off sale',
      { productIds: ['P-WM-002', 'P-DP-010'] },
      'input.productIds[1]',
      'PRODUCT_NOT_ON_SALE',
    ],
    // P-DP-008 is a USD deposit.
    [
      'products in two currencies',
      { productIds: ['P-WM-002', 'P-DP-008'] },
      'input.productIds[1]',
      'MIXED_CURRENCIES',
    ],
    ['a minimum nobody can reach', { minTotalAmount: 3e12 }, 'input.minTotalAmount', 'MINIMUM_OUT_OF_REACH'],
    ['an unpublished benefit', { benefitIds: ['B-SPRING-DRAFT'] }, 'input.benefitIds[0]', 'UNKNOWN_BENEFIT'],
    [
      'a benefit bought with points',
      { benefitIds: ['B-WELCOME-50', 'B-PTS-COFFEE'] },
      'input.benefitIds[1]',
      'UNKNOWN_BENEFIT',
    ],
    [
      'a segment members does not have',
      { rule: { field: 'segment', op: 'eq', value: 'NO_SUCH' } },
      'input.rule.value',
      undefined,
    ],
    ['a product twice', { productIds: ['P-WM-002', 'P-WM-002'] }, 'input.productIds[1]', undefined],
    ['a window that ends before it starts', { validTo: '2025-01-01T00:00:00Z' }, 'input.validTo', undefined],
    ['a bidirectional override in the name', { name: 'Yield 8.88\u202E%' }, 'input.name', undefined],
  ])('refuses %s', async (_what, change, field, reason) => {
    const before = await repos.bundles.model.countDocuments();
    const answer = await alice(CREATE, { input: { ...INPUT, ...change } });
    expect(errorCodes(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ field, ...(reason ? { reason } : {}) });
    expect(answer.data).toBeNull();
    expect(await repos.bundles.model.countDocuments()).toBe(before);
  });

  it('refuses to approve a bundle whose product went off sale while it waited', async () => {
    const { createBundle } = await ok(alice(CREATE, { input: INPUT }));
    const { version } = (await ok(alice(STEP, { id: createBundle.id, step: 'SUBMIT' }))).productsWorkflow;
    await repos.products.model.updateOne({ _id: 'P-DP-007' }, { $set: { status: 'SUSPENDED' } });
    try {
      const refused = await bob(STEP, { id: createBundle.id, step: 'APPROVE', expectedVersion: version });
      expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        field: 'productIds[1]',
        reason: 'PRODUCT_NOT_ON_SALE',
      });
      expect((await repos.bundles.findByIds([createBundle.id]))[0]?.status).toBe('IN_REVIEW');
    } finally {
      await repos.products.model.updateOne({ _id: 'P-DP-007' }, { $set: { status: 'ON_SALE' } });
    }
  });
});

describe('who designs bundles', () => {
  it('is operators only: members and builders neither design nor list them', async () => {
    expect(errorCodes(await member(CREATE, { input: INPUT }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await builder(CREATE, { input: INPUT }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await member('{ bundles { id } }'))).toEqual(['FORBIDDEN']);
  });
});

describe('a bundle stored before bundles had a workflow', () => {
  it('reads as published and is edited as a pending revision, still offered meanwhile', async () => {
    await repos.bundles.model.collection.insertOne({
      _id: 'BD-LEGACY' as never,
      name: 'Legacy mix',
      description: 'Stored ACTIVE, without a version.',
      productIds: ['P-WM-002', 'P-DP-007'],
      rule: null,
      minTotalAmount: 1_000,
      validFrom: new Date('2025-01-01T00:00:00Z'),
      validTo: new Date('2035-01-01T00:00:00Z'),
      discountRate: null,
      rateBonus: null,
      benefitIds: [],
      status: 'ACTIVE',
    });
    const { bundles } = await ok(alice('{ bundles(status: PUBLISHED, first: 100) { id status version } }'));
    expect(bundles).toContainEqual({ id: 'BD-LEGACY', status: 'PUBLISHED', version: 0 });
    const { updateBundle } = await ok(
      alice(UPDATE, { id: 'BD-LEGACY', input: { ...INPUT, name: 'Legacy mix 2', benefitIds: [] } }),
    );
    expect(updateBundle).toMatchObject({
      name: 'Legacy mix',
      version: 1,
      pendingRevision: { status: 'DRAFT' },
    });
    expect((await offeredToMember()).get('BD-LEGACY')?.name).toBe('Legacy mix');
  });
});
