// Spending points in the points mall (积分商城) through the gateway: concurrent redemptions never take a balance below
// zero nor spend twice for a key, members who lose the race for the last items get their points back, growth points
// never move; and rewards that tasks and referrals grant, idempotent by the caller's key.
import { GraphClient } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { createRewardGranter } from '../subgraphs/engagement/src/rewards';
import {
  argumentsHash,
  claimIdOf,
  claimRequestId,
} from '../subgraphs/engagement/src/benefits/domain/claiming';
import { graphMemberPoints } from '../subgraphs/engagement/src/members-points';
import { grantBenefit } from '../subgraphs/engagement/src/benefits/grant';
import { openRepositories as openMembers, type MembersRepositories } from '../subgraphs/members/src/models';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { bearer, clientToken, errorCodes, graphql, testConfig, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { storedState } from './support/stored';

let hub: RunningHub;
let engagement: EngagementRepositories;
let members: MembersRepositories;

beforeAll(async () => {
  hub = await startTestHub('points-mall', { config: { SUBGRAPH_TIMEOUT_MS: 30_000 } });
  engagement = await openEngagement(hub.connections.engagement);
  members = await openMembers(hub.connections.members);
  await insertBenefits(hub.connections.engagement, [
    publishedBenefit('B-MALL', {
      kind: 'POINTS_PRODUCT',
      pointsCost: 100,
      stock: 1_000,
      perMemberLimit: 100,
    }),
    publishedBenefit('B-MALL-LAST', { kind: 'POINTS_PRODUCT', pointsCost: 10, stock: 5 }),
    publishedBenefit('B-MALL-VIP', {
      kind: 'POINTS_PRODUCT',
      pointsCost: 1,
      rule: { field: 'segment', op: 'eq', value: 'PRIVATE_BANKING' },
    }),
    publishedBenefit('B-MALL-ONCE', { kind: 'POINTS_PRODUCT', pointsCost: 10 }),
    publishedBenefit('B-MALL-GONE', { kind: 'POINTS_PRODUCT', pointsCost: 10, stock: 5, remaining: 0 }),
    publishedBenefit('B-COUPON'),
  ]);
});

afterAll(() => stopTestHub(hub));

const REDEEM = `mutation ($productId: ID!, $key: String!) {
  redeemPoints(productId: $productId, idempotencyKey: $key) { id memberId source state benefit { id } }
}`;

async function redeemAs(memberId: string, productId: string, key: string): Promise<GraphQLResponse> {
  return graphql(hub.gatewayUrl, REDEEM, { productId, key }, bearer(await clientToken(memberId, 'member')));
}

async function balances(memberId: string) {
  const [member] = await members.members.findByIds([memberId]);
  return { points: member!.points, growthPoints: member!.growthPoints };
}

/** Sets a member's spendable balance to exactly `points`: a fixture, written straight into members' database. */
async function setBalance(memberId: string, points: number): Promise<void> {
  await members.members.model.updateOne({ _id: memberId }, { $set: { points } });
}

const memberIds = (count: number, from: number) =>
  Array.from({ length: count }, (_, i) => `M${String(from + i).padStart(4, '0')}`);

describe('redeemPoints under contention', () => {
  it('gives exactly 10 of 50 concurrent redemptions against a balance that covers 10, and never goes below zero', async () => {
    const [memberId] = memberIds(1, 400);
    await setBalance(memberId!, 1_050);
    const before = await balances(memberId!);
    const token = await clientToken(memberId!, 'member');
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        graphql(hub.gatewayUrl, REDEEM, { productId: 'B-MALL', key: `mall-rush-${i}` }, bearer(token)),
      ),
    );
    const redeemed = responses.filter((response) => response.data?.redeemPoints);
    expect(redeemed).toHaveLength(10);
    expect(redeemed.every((response) => response.data?.redeemPoints.source === 'POINTS')).toBe(true);
    expect(new Set(responses.filter((response) => response.errors).flatMap(errorCodes))).toEqual(
      new Set(['INSUFFICIENT_POINTS']),
    );
    const after = await balances(memberId!);
    expect(after).toEqual({ points: 50, growthPoints: before.growthPoints });
    expect(await engagement.claims.model.countDocuments({ memberId, benefitId: 'B-MALL' })).toBe(10);
    const ledger = await members.ledger.newestFor(memberId!, 100);
    expect(ledger.filter((entry) => entry.kind === 'SPEND').map((entry) => entry.amount)).toEqual(
      Array.from({ length: 10 }, () => -100),
    );
  });

  it('gives back the points of members who paid for the last items and lost the race for them', async () => {
    const racers = memberIds(20, 700);
    await Promise.all(racers.map((memberId) => setBalance(memberId, 10)));
    const responses = await Promise.all(
      racers.map((memberId) => redeemAs(memberId, 'B-MALL-LAST', 'last-items')),
    );
    const winners = racers.filter((_, i) => responses[i]!.data?.redeemPoints);
    expect(winners).toHaveLength(5);
    expect(new Set(responses.filter((response) => response.errors).flatMap(errorCodes))).toEqual(
      new Set(['OUT_OF_STOCK']),
    );
    for (const memberId of racers) {
      const ledger = await members.ledger.newestFor(memberId, 10);
      // A loser refused after paying has a spend and its refund; one refused before, neither.
      expect({
        memberId,
        ...(await balances(memberId)),
        net: ledger.reduce((sum, entry) => sum + entry.amount, 0),
      }).toEqual({
        memberId,
        points: winners.includes(memberId) ? 0 : 10,
        growthPoints: expect.any(Number),
        net: winners.includes(memberId) ? -10 : 0,
      });
    }
    const [benefit] = await engagement.benefits.findByIds(['B-MALL-LAST']);
    expect(benefit!.remaining).toBe(0);
  });

  it('spends once for a key however often it is sent', async () => {
    const [memberId] = memberIds(1, 500);
    await setBalance(memberId!, 300);
    const token = await clientToken(memberId!, 'member');
    const responses = await Promise.all(
      Array.from({ length: 30 }, () =>
        graphql(hub.gatewayUrl, REDEEM, { productId: 'B-MALL', key: 'one-coffee-please' }, bearer(token)),
      ),
    );
    expect(responses.flatMap(errorCodes)).toEqual([]);
    expect(new Set(responses.map((response) => response.data?.redeemPoints.id)).size).toBe(1);
    expect((await balances(memberId!)).points).toBe(200);
  });
});

describe('redeemPoints refuses', () => {
  it('with a stable code, moving no points and storing no claim, and repeats the refusal for a repeated key', async () => {
    const [memberId] = memberIds(1, 600);
    await setBalance(memberId!, 99);
    expect((await redeemAs(memberId!, 'B-MALL-ONCE', 'first-item-1')).data?.redeemPoints).toBeTruthy();
    const before = await storedState(hub.connections);
    delete before['engagement.claim_requests'];
    const cases: [string, string, string][] = [
      ['B-MALL', 'too-expensive', 'INSUFFICIENT_POINTS'],
      ['B-MALL-ONCE', 'second-item', 'CLAIM_LIMIT_REACHED'],
      ['B-MALL-GONE', 'sold-out-1', 'OUT_OF_STOCK'],
      ['B-MALL-VIP', 'not-for-me-1', 'NOT_IN_AUDIENCE'],
      ['B-MALL', 'first-item-1', 'IDEMPOTENCY_KEY_REUSED'],
      ['B-COUPON', 'not-for-sale', 'BAD_USER_INPUT'],
      ['B-NOPE', 'unknown-one', 'NOT_FOUND'],
    ];
    for (const [productId, key, code] of cases) {
      for (const attempt of [1, 2]) {
        const response = await redeemAs(memberId!, productId, key);
        expect({ productId, attempt, codes: errorCodes(response) }).toEqual({
          productId,
          attempt,
          codes: [code],
        });
      }
    }
    const after = await storedState(hub.connections);
    delete after['engagement.claim_requests'];
    expect(after).toEqual(before);
  });

  it('with SERVICE_UNAVAILABLE when members is down, moving nothing; the same key buys once it is back', async () => {
    const [memberId] = memberIds(1, 900);
    await setBalance(memberId!, 100);
    const before = await storedState({ engagement: hub.connections.engagement });
    await hub.stopSubgraph('members');
    try {
      const response = await redeemAs(memberId!, 'B-MALL', 'while-members-down');
      expect(errorCodes(response)).toEqual(['SERVICE_UNAVAILABLE']);
    } finally {
      await hub.restartSubgraph('members');
    }
    expect(await storedState({ engagement: hub.connections.engagement })).toEqual(before);
    expect((await balances(memberId!)).points).toBe(100);
    expect((await redeemAs(memberId!, 'B-MALL', 'while-members-down')).data?.redeemPoints).toBeTruthy();
    expect((await balances(memberId!)).points).toBe(0);
  });
});

describe('a redemption refused after paying, whose writer died before the refund', () => {
  it('is refunded once by a retry of its key, which then repeats the refusal', async () => {
    const [memberId] = memberIds(1, 950);
    await setBalance(memberId!, 40);
    const requestId = claimRequestId(memberId!, 'POINTS', 'refund-me-later');
    const claimId = claimIdOf(requestId);
    // The writer paid, found the stock gone, recorded the refusal with the refund due, and stopped.
    await graphMemberPoints(new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET)).move(
      'spendPoints',
      {
        memberId: memberId!,
        amount: 10,
        reason: 'points mall: B-MALL-GONE',
        idempotencyKey: `spend:${claimId}`,
      },
      'test-died-before-refund',
    );
    await engagement.claimRequests.model.create({
      _id: requestId,
      memberId,
      source: 'POINTS',
      argumentsHash: argumentsHash({ benefitId: 'B-MALL-GONE' }),
      claimId,
      pointsCost: 10,
      createdAt: new Date(),
      holder: 'dead-writer',
      leaseUntil: new Date(Date.now() - 1_000),
      outcome: { claimId: null, refusal: { code: 'OUT_OF_STOCK', message: 'sold out', refund: 'DUE' } },
    });
    expect((await balances(memberId!)).points).toBe(30);
    expect(errorCodes(await redeemAs(memberId!, 'B-MALL-GONE', 'refund-me-later'))).toEqual(['OUT_OF_STOCK']);
    expect(errorCodes(await redeemAs(memberId!, 'B-MALL-GONE', 'refund-me-later'))).toEqual(['OUT_OF_STOCK']);
    expect((await balances(memberId!)).points).toBe(40);
    expect((await members.ledger.newestFor(memberId!, 10)).map((entry) => entry.kind)).toEqual([
      'REFUND',
      'SPEND',
    ]);
  });
});

describe('rewards for tasks and referrals', () => {
  it('award points and grant a benefit once per key, whoever the audience is', async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-TASK', {
        stock: 1,
        rule: { field: 'segment', op: 'eq', value: 'PRIVATE_BANKING' },
      }),
    ]);
    const graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const granter = createRewardGranter({ repos: engagement, graph });
    const [memberId] = memberIds(1, 1_000);
    await setBalance(memberId!, 0);
    const reward = {
      memberId: memberId!,
      points: 30,
      benefitId: 'B-TASK',
      idempotencyKey: 'task-T1-done',
      source: 'TASK_REWARD' as const,
      reason: 'task T1',
      requestId: 'test-reward-1',
    };
    const first = await granter.grant(reward);
    const again = await granter.grant(reward);
    expect(again.pointsEntryId).toBe(first.pointsEntryId);
    expect(again.claim?._id).toBe(first.claim?._id);
    expect(first.claim).toMatchObject({ memberId, benefitId: 'B-TASK', source: 'TASK_REWARD' });
    expect(await balances(memberId!)).toEqual({ points: 30, growthPoints: expect.any(Number) });
    // The stock still holds: a second member's grant finds none left.
    await expect(
      grantBenefit(
        { repos: engagement },
        { benefitId: 'B-TASK', memberId: 'M0002', idempotencyKey: 'task-T1-done', source: 'TASK_REWARD' },
      ),
    ).rejects.toMatchObject({ extensions: { code: 'OUT_OF_STOCK' } });
  });
});
