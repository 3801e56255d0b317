// The suitability rule and the ranking, as plain functions.
import {
  RISK_LEVELS,
  affinityScore,
  isSuitable,
  memberGain,
  rankForMember,
  rankingTags,
  riskLevelsUpTo,
  type RankableProduct,
  type RiskLevel,
} from '../src/domain/suitability';
import { PRODUCTS } from '../src/seed';

const product = (
  id: string,
  riskLevel: RiskLevel,
  extra: Partial<RankableProduct> = {},
): RankableProduct => ({
  _id: id,
  type: 'DEPOSIT',
  riskLevel,
  status: 'ON_SALE',
  tags: [],
  annualRate: null,
  ...extra,
});

describe('isSuitable', () => {
  // Every product risk against every member tolerance: suitable exactly when the product is not riskier.
  const table = RISK_LEVELS.flatMap((productRisk, p) =>
    RISK_LEVELS.map((memberRisk, m) => [productRisk, memberRisk, p <= m] as const),
  );

  it.each(table)('a %s product for a %s member: %s', (productRisk, memberRisk, suitable) => {
    expect(isSuitable(productRisk, memberRisk)).toBe(suitable);
  });

  it('has 15 suitable pairs out of 25', () => {
    expect(table.filter(([, , suitable]) => suitable)).toHaveLength(15);
  });

  it.each([null, undefined, 'R0', 'R6', 'r5', '', 'toString', '__proto__'])(
    'never finds a product suitable for a member whose risk level is %p',
    (memberRisk) => {
      for (const productRisk of RISK_LEVELS)
        expect(isSuitable(productRisk, memberRisk as RiskLevel | null | undefined)).toBe(false);
    },
  );

  it('never finds a product of unknown risk suitable, even for the boldest member', () => {
    expect(isSuitable('R9' as RiskLevel, 'R5')).toBe(false);
  });
});

describe('riskLevelsUpTo', () => {
  it.each([
    ['R1', ['R1']],
    ['R3', ['R1', 'R2', 'R3']],
    ['R5', ['R1', 'R2', 'R3', 'R4', 'R5']],
  ] as const)('%s allows %j', (level, levels) => expect(riskLevelsUpTo(level)).toEqual(levels));
});

describe('affinityScore', () => {
  it('counts distinct product tags found among the keys', () => {
    const keys = new Set(['travel', 'sports', 'aum']);
    expect(affinityScore({ tags: ['travel', 'sports', 'travel', 'young'] }, keys)).toBe(2);
    expect(affinityScore({ tags: [] }, keys)).toBe(0);
  });
});

describe('rankForMember', () => {
  const catalogue = [
    product('P-FD-001', 'R5', { tags: ['travel', 'sports'], annualRate: 18 }),
    product('P-DP-001', 'R1', { tags: ['travel'], annualRate: 1.4 }),
    product('P-DP-002', 'R1', { tags: ['travel'], annualRate: 2.1 }),
    product('P-IN-001', 'R1', { tags: ['travel'], annualRate: null }),
    product('P-PY-001', 'R1', { tags: ['travel', 'sports'] }),
    product('P-DP-003', 'R1', { tags: ['dining'], annualRate: 3 }),
    product('P-DP-004', 'R1', { tags: ['dining'], annualRate: 3 }),
    product('P-WM-001', 'R2', { tags: ['travel', 'sports'], annualRate: 2.5 }),
    product('P-DP-005', 'R1', { tags: ['travel', 'sports'], status: 'SUSPENDED' }),
    product('P-DP-006', 'R1', { tags: ['travel', 'sports'], status: 'CLOSED' }),
  ];

  it('orders by affinity, then annual rate (none last), then id, leaving out unsuitable and unsold products', () => {
    const ranked = rankForMember(catalogue, {
      riskLevel: 'R1',
      affinityKeys: ['travel', 'sports'],
    });
    expect(ranked.map((p) => p._id)).toEqual([
      'P-PY-001',
      'P-DP-002',
      'P-DP-001',
      'P-IN-001',
      'P-DP-003',
      'P-DP-004',
    ]);
  });

  it('ranks by annual rate when the member has no affinity keys', () => {
    const ranked = rankForMember(catalogue, { riskLevel: 'R2', affinityKeys: [] });
    expect(ranked.map((p) => p._id)).toEqual([
      'P-DP-003',
      'P-DP-004',
      'P-WM-001',
      'P-DP-002',
      'P-DP-001',
      'P-IN-001',
      'P-PY-001',
    ]);
  });

  it('ranks the cheaper loan first (its rate is what the member pays), and loans after what earns', () => {
    const loans = [
      product('P-LN-001', 'R1', { type: 'LOAN', tags: ['home'], annualRate: 7.2 }),
      product('P-LN-002', 'R1', { type: 'LOAN', tags: ['home'], annualRate: 3.1 }),
      product('P-LN-003', 'R1', { type: 'LOAN', tags: ['home'], annualRate: null }),
      product('P-DP-001', 'R1', { tags: ['home'], annualRate: 1.2 }),
      product('P-DP-002', 'R1', { tags: ['home'], annualRate: 2.5 }),
      product('P-LN-004', 'R1', { type: 'LOAN', tags: ['home', 'car'], annualRate: 9.9 }),
    ];
    const ranked = rankForMember(loans, { riskLevel: 'R1', affinityKeys: ['home', 'car'] });
    // Affinity still comes first: the better-matching loan leads whatever its rate.
    expect(ranked.map((p) => p._id)).toEqual([
      'P-LN-004',
      'P-DP-002',
      'P-DP-001',
      'P-LN-002',
      'P-LN-001',
      'P-LN-003',
    ]);
  });

  it.each([
    ['DEPOSIT', 2, 2],
    ['WEALTH', 3.5, 3.5],
    ['FUND', -1.5, -1.5],
    ['LOAN', 4.2, -4.2],
    ['LOAN', null, null],
    ['INSURANCE', null, null],
  ] as const)('a %s at %p%% is worth %p to the member', (type, annualRate, gain) => {
    expect(memberGain({ type, annualRate })).toBe(gain);
  });

  it('offers nothing to a member whose risk level is unknown', () => {
    expect(rankForMember(catalogue, { riskLevel: null, affinityKeys: ['travel'] })).toEqual([]);
  });

  it('offers a conservative member nothing above R1 from the seeded catalogue, however well it matches', () => {
    const ranked = rankForMember(PRODUCTS, {
      riskLevel: 'R1',
      affinityKeys: ['new_user', 'student', 'travel', 'sports', 'young', 'investing'],
    });
    expect(ranked.length).toBeGreaterThan(10);
    expect(ranked.every((p) => p.riskLevel === 'R1' && p.status === 'ON_SALE')).toBe(true);
  });
});

describe('rankingTags', () => {
  it('names every tag of the products once, sorted', () => {
    expect(
      rankingTags([
        product('A', 'R1', { tags: ['travel', 'young'] }),
        product('B', 'R2', { tags: ['young', 'car'] }),
      ]),
    ).toEqual(['car', 'travel', 'young']);
    expect(rankingTags([])).toEqual([]);
  });

  it('are the only keys that rank: dropping every other key changes no ranking of the seed catalogue', () => {
    const catalogue = PRODUCTS as unknown as RankableProduct[];
    const tags = new Set(rankingTags(catalogue));
    const vocabulary = [...tags, 'active_days_30', 'churn_risk', 'student', 'HIGH', 'toString', '__proto__'];
    // Every member risk level with a spread of key sets, each with keys that are no product's tag.
    for (const riskLevel of RISK_LEVELS)
      for (let mask = 0; mask < 64; mask++) {
        const affinityKeys = vocabulary.filter((_, i) => (mask * 2654435761 + i * 40503) % 3 === 0);
        const relevant = affinityKeys.filter((key) => tags.has(key));
        expect(rankForMember(catalogue, { riskLevel, affinityKeys: relevant }).map((p) => p._id)).toEqual(
          rankForMember(catalogue, { riskLevel, affinityKeys }).map((p) => p._id),
        );
      }
  });
});
