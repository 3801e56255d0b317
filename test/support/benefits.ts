// Published benefits written straight into engagement's database: fixtures for tests whose subject is claiming, not
// how operators author benefits (test/benefit-operations.test.ts covers that).
import type { Connection } from 'mongoose';
import { openRepositories } from '../../subgraphs/engagement/src/models';
import type { BenefitDoc } from '../../subgraphs/engagement/src/benefits/models/benefit';

/** A published coupon anyone may claim once, for years; override what matters to the test. */
export function publishedBenefit(id: string, overrides: Partial<BenefitDoc> = {}): BenefitDoc {
  const stock = overrides.stock ?? 1_000;
  return {
    _id: id,
    title: id,
    kind: 'COUPON',
    value: 10,
    pointsCost: 0,
    stock,
    remaining: stock,
    recentClaims: [],
    perMemberLimit: 1,
    perDayLimit: null,
    startsAt: new Date('2025-01-01T00:00:00Z'),
    endsAt: new Date('2030-01-01T00:00:00Z'),
    validDays: 30,
    rule: null,
    levelCodes: [],
    status: 'PUBLISHED',
    version: 1,
    lastEditedBy: 'ops.a',
    approvedBy: 'ops.b',
    updatedAt: new Date(),
    createdAt: new Date(),
    pending: null,
    ...overrides,
  };
}

export async function insertBenefits(connection: Connection, benefits: readonly BenefitDoc[]): Promise<void> {
  const engagement = await openRepositories(connection);
  await engagement.benefits.model.insertMany(benefits);
}
