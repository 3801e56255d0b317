// An operator's bundle design, checked as plain functions: its own fields, then against the catalogue; and which
// published bundles members are offered.
import { InputProblem } from '@bank-hub/shared';
import {
  BUNDLE_LIMITS,
  checkBundleInput,
  checkBundleProducts,
  type BundleInput,
  type BundleProductFacts,
} from '../src/domain/bundle-design';
import { eligibleBundles, type BundleProduct } from '../src/domain/bundles';
import { PURCHASE_AMOUNT_CEILING } from '../src/domain/purchase-limit';
import type { BundleDoc } from '../src/models/bundle';

const INPUT: BundleInput = {
  name: '  Starter set ',
  description: 'Pocket savings and a travel deposit.',
  productIds: ['P-WM-002', 'P-DP-007'],
  rule: { field: 'segment', op: 'eq', value: 'NEW_YOUNG' },
  minTotalAmount: 1_000,
  validFrom: new Date('2026-01-01T00:00:00Z'),
  validTo: new Date('2027-01-01T00:00:00Z'),
  discountRate: 50,
  rateBonus: 0.1,
  benefitIds: ['B-WELCOME-50'],
};

/** The problem a check throws: its field, and its reason when it has one. */
function problemOf(check: () => unknown): { field: string; reason?: unknown; code: string } {
  try {
    check();
  } catch (error) {
    if (error instanceof InputProblem) return { field: error.field, code: error.code, ...error.details };
    throw error;
  }
  throw new Error('no problem found');
}

describe('checkBundleInput', () => {
  it('trims the texts and keeps what was designed', () => {
    expect(checkBundleInput(INPUT)).toEqual({
      ...INPUT,
      name: 'Starter set',
      productIds: ['P-WM-002', 'P-DP-007'],
      benefitIds: ['B-WELCOME-50'],
    });
    expect(
      checkBundleInput({ ...INPUT, rule: null, discountRate: null, benefitIds: undefined }),
    ).toMatchObject({
      rule: null,
      discountRate: null,
      benefitIds: [],
    });
  });

  it.each<[string, Partial<BundleInput>, string]>([
    ['an empty name', { name: '   ' }, 'input.name'],
    ['a name too long', { name: 'x'.repeat(BUNDLE_LIMITS.name + 1) }, 'input.name'],
    ['a right-to-left override in the name', { name: 'rate 8.88\u202E%' }, 'input.name'],
    ['a zero-width space in the description', { description: 'safe\u200Bmix' }, 'input.description'],
    ['one product', { productIds: ['P-WM-002'] }, 'input.productIds'],
    [
      'eleven products',
      { productIds: Array.from({ length: 11 }, (_, i) => `P-WM-${100 + i}`) },
      'input.productIds',
    ],
    ['a product twice', { productIds: ['P-WM-002', 'P-DP-007', 'P-WM-002'] }, 'input.productIds[2]'],
    ['something that is no product id', { productIds: ['P-WM-002', 'DROP TABLE'] }, 'input.productIds[1]'],
    [
      'a rule on a profile attribute',
      { rule: { field: 'attr.ageGroup', op: 'eq', value: 'x' } },
      'input.rule.field',
    ],
    ['a rule on the channel', { rule: { field: 'channel', op: 'eq', value: 'APP' } }, 'input.rule.field'],
    ['a tag compared with a value', { rule: { field: 'tag.travel', op: 'eq', value: 1 } }, 'input.rule.op'],
    ['a zero minimum', { minTotalAmount: 0 }, 'input.minTotalAmount'],
    ['a negative minimum', { minTotalAmount: -5 }, 'input.minTotalAmount'],
    ['a minimum in fractions of a cent', { minTotalAmount: 1_000.001 }, 'input.minTotalAmount'],
    ['a minimum that is no number', { minTotalAmount: Number.NaN }, 'input.minTotalAmount'],
    ['a window that ends as it starts', { validTo: INPUT.validFrom }, 'input.validTo'],
    ['a zero discount', { discountRate: 0 }, 'input.discountRate'],
    ['a discount above the whole fee', { discountRate: 101 }, 'input.discountRate'],
    ['a rate bonus of ten points', { rateBonus: 10 }, 'input.rateBonus'],
    ['a negative rate bonus', { rateBonus: -0.1 }, 'input.rateBonus'],
    ['a benefit twice', { benefitIds: ['B-1', 'B-1'] }, 'input.benefitIds[1]'],
    ['eleven benefits', { benefitIds: Array.from({ length: 11 }, (_, i) => `B-${i}`) }, 'input.benefitIds'],
    ['a benefit id with a hidden character', { benefitIds: ['B-1\u200F'] }, 'input.benefitIds[0]'],
    ['an empty benefit id', { benefitIds: [''] }, 'input.benefitIds[0]'],
  ])('refuses %s', (_what, change, field) => {
    expect(problemOf(() => checkBundleInput({ ...INPUT, ...change }))).toMatchObject({
      field,
      code: 'BAD_USER_INPUT',
    });
  });
});

const product = (id: string, extra: Partial<BundleProductFacts> = {}): BundleProductFacts => ({
  _id: id,
  status: 'ON_SALE',
  currency: 'CNY',
  minAmount: 100,
  maxAmount: 10_000,
  ...extra,
});

const CATALOGUE = new Map(
  [
    product('P-WM-002'),
    product('P-DP-007', { minAmount: 500, maxAmount: null }),
    product('P-DP-008', { currency: 'USD' }),
    product('P-DP-010', { status: 'SUSPENDED' }),
    product('P-WM-001', { maxAmount: 2_000 }),
  ].map((facts) => [facts._id, facts]),
);

describe('checkBundleProducts', () => {
  const check = (productIds: string[], minTotalAmount = 1_000, code?: 'FAILED_PRECONDITION') =>
    checkBundleProducts({ productIds, minTotalAmount }, CATALOGUE, 'input.', code);

  it("answers the currency every product shares, the bundle's", () => {
    expect(check(['P-WM-002', 'P-DP-007'])).toBe('CNY');
  });

  it.each<[string, string[], number, string, string]>([
    ['an unknown product', ['P-WM-002', 'P-WM-999'], 1_000, 'input.productIds[1]', 'UNKNOWN_PRODUCT'],
    ['a product off sale', ['P-DP-010', 'P-WM-002'], 1_000, 'input.productIds[0]', 'PRODUCT_NOT_ON_SALE'],
    [
      'products in two currencies',
      ['P-WM-002', 'P-DP-008'],
      1_000,
      'input.productIds[1]',
      'MIXED_CURRENCIES',
    ],
    // 10,000 + 2,000 is the most one purchase of each may be.
    [
      'a minimum above their maximums together',
      ['P-WM-002', 'P-WM-001'],
      12_000.01,
      'input.minTotalAmount',
      'MINIMUM_OUT_OF_REACH',
    ],
    [
      'a minimum below their own minimums together',
      ['P-WM-002', 'P-DP-007'],
      599.99,
      'input.minTotalAmount',
      'MINIMUM_OUT_OF_REACH',
    ],
  ])('refuses %s', (_what, ids, minimum, field, reason) => {
    expect(problemOf(() => check(ids, minimum))).toMatchObject({ field, reason, code: 'BAD_USER_INPUT' });
  });

  it('takes the bounds themselves, and a product without a maximum up to the hub-wide ceiling', () => {
    expect(check(['P-WM-002', 'P-WM-001'], 12_000)).toBe('CNY');
    expect(check(['P-WM-002', 'P-DP-007'], 600)).toBe('CNY');
    expect(check(['P-WM-002', 'P-DP-007'], PURCHASE_AMOUNT_CEILING + 10_000)).toBe('CNY');
    expect(
      problemOf(() => check(['P-WM-002', 'P-DP-007'], PURCHASE_AMOUNT_CEILING + 10_000.01)),
    ).toMatchObject({
      reason: 'MINIMUM_OUT_OF_REACH',
      least: 600,
      most: PURCHASE_AMOUNT_CEILING + 10_000,
    });
  });

  it("takes a minimum equal to the exact sum of the products' minimums or maximums, a cent beyond it not", () => {
    // As floats 0.1 + 0.2 is above 0.3 and 199.99 + 100.01 is 300; 0.7 + 0.1 is below 0.8.
    const catalogue = new Map(
      [
        product('P-MM-001', { minAmount: 0.1 }),
        product('P-MM-002', { minAmount: 0.2 }),
        product('P-MM-003', { minAmount: 199.99 }),
        product('P-MM-004', { minAmount: 100.01 }),
        product('P-MM-005', { minAmount: 0.01, maxAmount: 0.7 }),
        product('P-MM-006', { minAmount: 0.01, maxAmount: 0.1 }),
      ].map((facts) => [facts._id, facts]),
    );
    const checkIn = (productIds: string[], minTotalAmount: number) => () =>
      checkBundleProducts({ productIds, minTotalAmount }, catalogue);
    expect(checkIn(['P-MM-001', 'P-MM-002'], 0.3)()).toBe('CNY');
    expect(problemOf(checkIn(['P-MM-001', 'P-MM-002'], 0.29))).toMatchObject({
      reason: 'MINIMUM_OUT_OF_REACH',
      least: 0.3,
    });
    expect(checkIn(['P-MM-003', 'P-MM-004'], 300)()).toBe('CNY');
    expect(problemOf(checkIn(['P-MM-003', 'P-MM-004'], 299.99))).toMatchObject({ least: 300 });
    expect(checkIn(['P-MM-005', 'P-MM-006'], 0.8)()).toBe('CNY');
    expect(problemOf(checkIn(['P-MM-005', 'P-MM-006'], 0.81))).toMatchObject({ most: 0.8 });
  });

  it('refuses with the code it is given: a stored bundle that no longer holds on approval', () => {
    expect(problemOf(() => check(['P-DP-010', 'P-WM-002'], 1_000, 'FAILED_PRECONDITION'))).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'PRODUCT_NOT_ON_SALE',
    });
  });
});

describe('eligibleBundles', () => {
  const NOW = new Date('2026-06-01T00:00:00Z');
  const offered = (extra: Partial<BundleProduct> = {}): BundleProduct => ({
    _id: 'P-X',
    riskLevel: 'R1',
    status: 'ON_SALE',
    channels: ['APP'],
    currency: 'CNY',
    maxAmount: null,
    ...extra,
  });
  const bundle = (status: BundleDoc['status'], productIds = ['P-A', 'P-B']): BundleDoc => ({
    _id: `BD-${status}`,
    name: 'b',
    description: 'b',
    productIds,
    rule: null,
    minTotalAmount: 1_000,
    validFrom: new Date('2026-01-01T00:00:00Z'),
    validTo: new Date('2027-01-01T00:00:00Z'),
    discountRate: null,
    rateBonus: null,
    benefitIds: [],
    status,
    version: 1,
    lastEditedBy: 'ops.a',
    approvedBy: null,
    updatedAt: NOW,
    pending: null,
  });
  const member = { riskLevel: 'R5' as const, segmentCodes: [], affinityKeys: [] };
  const products = new Map([
    ['P-A', offered({ _id: 'P-A' })],
    ['P-B', offered({ _id: 'P-B' })],
    ['P-U', offered({ _id: 'P-U', currency: 'USD' })],
  ]);

  it('offers published bundles only: never a draft, one in review or an archived one', () => {
    const bundles = (['DRAFT', 'IN_REVIEW', 'PUBLISHED', 'ARCHIVED'] as const).map((status) =>
      bundle(status),
    );
    expect(eligibleBundles(bundles, products, member, NOW).map((found) => found._id)).toEqual([
      'BD-PUBLISHED',
    ]);
  });

  it("offers a bundle whose minimum is exactly its products' maximums together, not one a cent above", () => {
    // As floats 0.7 + 0.1 is below 0.8.
    const small = new Map([
      ['P-A', offered({ _id: 'P-A', maxAmount: 0.7 })],
      ['P-B', offered({ _id: 'P-B', maxAmount: 0.1 })],
    ]);
    const atMost = (minTotalAmount: number) =>
      eligibleBundles([{ ...bundle('PUBLISHED'), minTotalAmount }], small, member, NOW).length;
    expect(atMost(0.8)).toBe(1);
    expect(atMost(0.81)).toBe(0);
  });

  it('withholds a bundle whose products no longer share one currency', () => {
    expect(eligibleBundles([bundle('PUBLISHED', ['P-A', 'P-U'])], products, member, NOW)).toEqual([]);
  });
});
