// Demo bundles: targeted by rule, mixing risk levels so that suitability shows, one whose window has ended.
import type { Rule } from '@bank-hub/targeting';
import type { BundleDoc } from './models/bundle';

const ALWAYS = {
  validFrom: new Date('2025-01-01T00:00:00.000Z'),
  validTo: new Date('2030-12-31T00:00:00.000Z'),
};
const bundle = (
  _id: string,
  name: string,
  description: string,
  productIds: string[],
  rule: Rule | null,
  extra: Partial<BundleDoc> = {},
): BundleDoc => ({
  _id,
  name,
  description,
  productIds,
  rule,
  minTotalAmount: 1_000,
  ...ALWAYS,
  discountRate: null,
  rateBonus: null,
  benefitIds: [],
  status: 'PUBLISHED',
  version: 1,
  lastEditedBy: 'ops.seed',
  approvedBy: 'ops.seed-reviewer',
  updatedAt: ALWAYS.validFrom,
  pending: null,
  ...extra,
});

export const BUNDLES: BundleDoc[] = [
  bundle(
    'BD-STARTER',
    '新客理财入门组合 Starter set',
    '零钱理财加旅行心愿存，新人加送50元礼包。',
    ['P-WM-002', 'P-DP-007'],
    {
      any: [
        { field: 'lifecycleStage', op: 'eq', value: 'ACQUISITION' },
        { field: 'segment', op: 'eq', value: 'NEW_YOUNG' },
      ],
    },
    { benefitIds: ['B-WELCOME-50'] },
  ),
  bundle(
    'BD-STEADY',
    '稳健配置组合 Steady mix',
    '理财、纯债基金与定期存款的稳健组合，组合加息0.1%。',
    ['P-WM-004', 'P-FD-001', 'P-DP-004'],
    null,
    {
      minTotalAmount: 50_000,
      rateBonus: 0.1,
    },
  ),
  bundle(
    'BD-GROWTH',
    '进取权益组合 Growth mix',
    '指数增强基金、固收+理财与平衡配置基金，申购费五折。',
    ['P-FD-009', 'P-WM-008', 'P-FD-003'],
    { field: 'segment', op: 'eq', value: 'WEALTH_CLIENTS' },
    { minTotalAmount: 500_000, discountRate: 50 },
  ),
  bundle(
    'BD-FAMILY',
    '家庭保障组合 Family cover',
    '医疗险、少儿险与教育金计划。',
    ['P-IN-003', 'P-IN-004', 'P-WM-006'],
    {
      field: 'tag.parenting',
      op: 'exists',
      value: true,
    },
    // At least the products' own minimums together (199 + 100 + 10,000): a bundle cannot ask less than its parts.
    { minTotalAmount: 20_000 },
  ),
  bundle(
    'BD-NATIONAL-DAY',
    '国庆理财组合 National Day mix (ended)',
    '已结束的节日组合。',
    ['P-WM-001', 'P-DP-003'],
    null,
    {
      validFrom: new Date('2025-10-01T00:00:00.000Z'),
      validTo: new Date('2025-10-08T00:00:00.000Z'),
    },
  ),
];
