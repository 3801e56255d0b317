// Demo benefits: the welcome coupon the seeded `welcome-benefit` flow and the starter bundle give (B-WELCOME-50), a
// rate bonus for wealth clients only, each membership level's privileges, points-mall products, an ended one and a
// draft. No claims: the demo's members make them.
import type { Rule } from '@bank-hub/targeting';
import type { ContentStatus } from '@bank-hub/shared';
import type { EngagementRepositories } from '../models';
import type { BenefitDoc, BenefitFields } from './models/benefit';

const SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');
const ALWAYS = {
  startsAt: new Date('2025-01-01T00:00:00.000Z'),
  endsAt: new Date('2030-12-31T00:00:00.000Z'),
};
const LEVELS_FROM = (rank: number) => ['STANDARD', 'SILVER', 'GOLD', 'PLATINUM', 'DIAMOND'].slice(rank - 1);

function benefit(
  _id: string,
  fields: Pick<BenefitFields, 'title' | 'kind' | 'value' | 'stock'> & Partial<BenefitFields>,
  status: ContentStatus = 'PUBLISHED',
): BenefitDoc {
  const stock = fields.stock;
  return {
    _id,
    pointsCost: 0,
    perMemberLimit: 1,
    perDayLimit: null,
    ...ALWAYS,
    validDays: 30,
    rule: null,
    levelCodes: [],
    ...fields,
    remaining: stock,
    recentClaims: [],
    status,
    version: 1,
    lastEditedBy: 'ops.seed',
    approvedBy: status === 'PUBLISHED' ? 'ops.seed-reviewer' : null,
    updatedAt: SEEDED_AT,
    createdAt: SEEDED_AT,
    pending: null,
  };
}

const wealthClients: Rule = { field: 'segment', op: 'eq', value: 'WEALTH_CLIENTS' };

export const BENEFITS: BenefitDoc[] = [
  benefit('B-WELCOME-50', {
    title: '新人礼包50元券 Welcome coupon',
    kind: 'COUPON',
    value: 50,
    stock: 100_000,
  }),
  benefit('B-WEALTH-RATE', {
    title: '财富客户加息券 Wealth rate bonus',
    kind: 'RATE_BONUS',
    value: 0.2,
    stock: 5_000,
    perDayLimit: 500,
    rule: wealthClients,
  }),
  benefit('B-LV-TRANSFER', {
    title: '跨行转账手续费九折 Transfer fee discount',
    kind: 'FEE_DISCOUNT',
    value: 10,
    stock: 1_000_000,
    perMemberLimit: 12,
    levelCodes: LEVELS_FROM(1),
  }),
  benefit('B-LV-CASHBACK', {
    title: '银卡消费返现 Silver cash-back',
    kind: 'CASH_BACK',
    value: 10,
    stock: 200_000,
    perMemberLimit: 3,
    levelCodes: LEVELS_FROM(2),
  }),
  benefit('B-LV-RATE', {
    title: '金卡存款加息 Gold deposit rate bonus',
    kind: 'RATE_BONUS',
    value: 0.15,
    stock: 50_000,
    levelCodes: LEVELS_FROM(3),
  }),
  benefit('B-LV-FUND-FEE', {
    title: '白金基金申购费五折 Platinum fund fee discount',
    kind: 'FEE_DISCOUNT',
    value: 50,
    stock: 20_000,
    perMemberLimit: 4,
    levelCodes: LEVELS_FROM(4),
  }),
  benefit('B-LV-DIAMOND', {
    title: '钻石专属理财券 Diamond wealth coupon',
    kind: 'COUPON',
    value: 500,
    stock: 2_000,
    levelCodes: LEVELS_FROM(5),
    validDays: 90,
  }),
  benefit('B-PTS-COFFEE', {
    title: '咖啡兑换券 Coffee voucher',
    kind: 'POINTS_PRODUCT',
    value: 25,
    pointsCost: 100,
    stock: 10_000,
    perMemberLimit: 5,
    validDays: 14,
  }),
  benefit('B-PTS-MOVIE', {
    title: '电影票 Movie ticket',
    kind: 'POINTS_PRODUCT',
    value: 45,
    pointsCost: 2_000,
    stock: 1_000,
    perMemberLimit: 2,
    perDayLimit: 100,
  }),
  benefit('B-NATIONAL-DAY', {
    title: '国庆理财券 National Day coupon (ended)',
    kind: 'COUPON',
    value: 20,
    stock: 10_000,
    startsAt: new Date('2025-10-01T00:00:00.000Z'),
    endsAt: new Date('2025-10-08T00:00:00.000Z'),
  }),
  benefit(
    'B-SPRING-DRAFT',
    { title: '春节红包 Spring Festival coupon', kind: 'CASH_BACK', value: 8.8, stock: 50_000 },
    'DRAFT',
  ),
];

export async function seedBenefits(
  repos: EngagementRepositories,
  options: { reset?: boolean },
): Promise<void> {
  if (options.reset) {
    await Promise.all([
      repos.benefits.model.deleteMany({}),
      repos.claims.model.deleteMany({}),
      repos.claimRequests.model.deleteMany({}),
      repos.claimCounters.model.deleteMany({}),
      repos.claimReservations.model.deleteMany({}),
    ]);
  }
  await repos.benefits.model.insertMany(BENEFITS);
}

export async function benefitsSeeded(repos: EngagementRepositories): Promise<boolean> {
  return (await repos.benefits.model.estimatedDocumentCount()) > 0;
}
