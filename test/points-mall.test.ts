// Spending points in the points mall (积分商城) through the gateway: concurrent redemptions never take a balance below
// zero nor spend twice for a key, members who lose the race for the last items get their points back, growth points
// never move, a purchase an operator revokes gives its points back; and rewards that tasks and referrals grant,
// idempotent by the caller's key.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BankCalendar, GraphClient } from '@bank-hub/shared';
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
import { ABANDONED_AFTER_MS, settlePurchases } from '../subgraphs/engagement/src/benefits/claim';
import { pointsPayment } from '../subgraphs/engagement/src/benefits/claims';
import { grantBenefit } from '../subgraphs/engagement/src/benefits/grant';
import { openRepositories as openMembers, type MembersRepositories } from '../subgraphs/members/src/models';
import { insertBenefits, publishedBenefit } from './support/benefits';
import {
  bearer,
  clientToken,
  errorCodes,
  graphql,
  testConfig,
  testLogger,
  type GraphQLResponse,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { storedState } from './support/stored';

const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);

/**
 * Sits between the gateway and members. `lose: 'answers'` passes each request on and hangs up on the gateway once
 * members has answered (members did the work, its answer is lost); `lose: 'requests'` hangs up without passing it on.
 */
async function startLossyProxy() {
  let target: URL | null = null;
  const state: { lose: 'answers' | 'requests' | null } = { lose: null };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (state.lose === 'requests' || !target) return void res.destroy();
      const lose = state.lose === 'answers';
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers },
        (answer) => {
          if (lose) return void answer.resume().on('end', () => res.destroy());
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    state,
    routeTo(url: string) {
      target = new URL(url);
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}${target.pathname}`;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let hub: RunningHub;
let engagement: EngagementRepositories;
let members: MembersRepositories;
let proxy: Awaited<ReturnType<typeof startLossyProxy>>;

beforeAll(async () => {
  proxy = await startLossyProxy();
  hub = await startTestHub('points-mall', {
    config: { SUBGRAPH_TIMEOUT_MS: 30_000 },
    routeSubgraph: (name, url) => (name === 'members' ? proxy.routeTo(url) : url),
  });
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
    publishedBenefit('B-MALL-ONE', { kind: 'POINTS_PRODUCT', pointsCost: 10 }),
    publishedBenefit('B-MALL-DEAR', { kind: 'POINTS_PRODUCT', pointsCost: 100 }),
  ]);
});

afterAll(async () => {
  await stopTestHub(hub);
  await proxy.stop();
});

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

/** One pass of the background settlement of abandoned purchases at `now`, paying through the gateway under `requestId`. */
const settleAt = (now: Date, requestId: string) =>
  settlePurchases(
    engagement,
    calendar,
    (memberId) =>
      pointsPayment(
        graphMemberPoints(new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET)),
        memberId,
        'points mall: settled',
        requestId,
      ),
    testLogger,
    now,
  );

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

  it('refuses a member’s 29 other concurrent purchases past the per-member limit for that reason, before they pay', async () => {
    const [memberId] = memberIds(1, 550);
    await setBalance(memberId!, 1_000);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => redeemAs(memberId!, 'B-MALL-DEAR', `dear-${memberId}-${i}`)),
    );
    expect(answers.filter((answer) => answer.data?.redeemPoints)).toHaveLength(1);
    expect(answers.flatMap(errorCodes)).toEqual(Array.from({ length: 29 }, () => 'CLAIM_LIMIT_REACHED'));
    // Only the purchase made paid: no loser spent and was refunded, so the balance never dipped below 900.
    const viewer = await graphql(
      hub.gatewayUrl,
      `
        {
          viewer {
            points
            pointsLedger(first: 50) {
              kind
              amount
            }
          }
        }
      `,
      {},
      bearer(await clientToken(memberId!, 'member')),
    );
    expect(viewer.data?.viewer).toEqual({ points: 900, pointsLedger: [{ kind: 'SPEND', amount: -100 }] });
    // A loser's key repeats its refusal, which was the true one.
    const loser = answers.findIndex((answer) => !answer.data?.redeemPoints);
    expect(errorCodes(await redeemAs(memberId!, 'B-MALL-DEAR', `dear-${memberId}-${loser}`))).toEqual([
      'CLAIM_LIMIT_REACHED',
    ]);
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

  it('with IDEMPOTENCY_KEY_REUSED, for good and paying nothing, when members applied its spend key to another entry', async () => {
    const [memberId] = memberIds(1, 980);
    await setBalance(memberId!, 200);
    // An operator's award under the ledger key this purchase would spend under.
    const requestId = claimRequestId(memberId!, 'POINTS', 'spend-key-taken');
    const taken = await graphql(
      hub.gatewayUrl,
      `
        mutation ($memberId: ID!, $key: String!) {
          awardPoints(memberId: $memberId, amount: 5, reason: "manual", idempotencyKey: $key) {
            id
          }
        }
      `,
      { memberId, key: `spend:${claimIdOf(requestId)}` },
      bearer(await clientToken('ops.alice', 'operator')),
    );
    expect(taken.errors).toBeUndefined();
    for (const attempt of [1, 2]) {
      const response = await redeemAs(memberId!, 'B-MALL', 'spend-key-taken');
      expect({ attempt, codes: errorCodes(response) }).toEqual({
        attempt,
        codes: ['IDEMPOTENCY_KEY_REUSED'],
      });
    }
    expect((await balances(memberId!)).points).toBe(205);
    expect(await engagement.claims.model.countDocuments({ memberId })).toBe(0);
    // Answered, so the settlement of abandoned purchases never tries it again.
    expect((await engagement.claimRequests.find(requestId))?.outcome).toMatchObject({
      claimId: null,
      refusal: { code: 'IDEMPOTENCY_KEY_REUSED', refund: null },
    });
    // Under another key the member buys as ever.
    expect((await redeemAs(memberId!, 'B-MALL', 'spend-key-free')).data?.redeemPoints).toBeTruthy();
    expect((await balances(memberId!)).points).toBe(105);
  });

  it('with SERVICE_UNAVAILABLE when members is down, moving nothing; the same key buys once it is back', async () => {
    const [memberId] = memberIds(1, 900);
    await setBalance(memberId!, 100);
    const before = await storedState({ engagement: hub.connections.engagement });
    delete before['engagement.claim_requests'];
    await hub.stopSubgraph('members');
    try {
      const response = await redeemAs(memberId!, 'B-MALL', 'while-members-down');
      expect(errorCodes(response)).toEqual(['SERVICE_UNAVAILABLE']);
    } finally {
      await hub.restartSubgraph('members');
    }
    const after = await storedState({ engagement: hub.connections.engagement });
    delete after['engagement.claim_requests'];
    expect(after).toEqual(before);
    // Whether the spend went through is not known here: the key's request stays, unanswered, for its retry.
    const requestId = claimRequestId(memberId!, 'POINTS', 'while-members-down');
    expect(await engagement.claimRequests.find(requestId)).toMatchObject({ outcome: null });
    expect((await balances(memberId!)).points).toBe(100);
    expect((await redeemAs(memberId!, 'B-MALL', 'while-members-down')).data?.redeemPoints).toBeTruthy();
    expect((await balances(memberId!)).points).toBe(0);
  });
});

describe('a product whose price changes between showing it and buying it', () => {
  const REDEEM_AT = `mutation ($productId: ID!, $key: String!, $expected: Int) {
    redeemPoints(productId: $productId, idempotencyKey: $key, expectedPointsCost: $expected) {
      id
      pointsPaid
      benefit { pointsCost }
    }
  }`;
  const redeemAt = async (memberId: string, key: string, expected: number) =>
    graphql(
      hub.gatewayUrl,
      REDEEM_AT,
      { productId: 'B-MALL-REPRICED', key, expected },
      bearer(await clientToken(memberId, 'member')),
    );
  /** An operator's price change, approved: written straight into engagement's database as the workflow would. */
  const reprice = (pointsCost: number) =>
    engagement.benefits.model.updateOne({ _id: 'B-MALL-REPRICED' }, { $set: { pointsCost } });
  const refusal = (response: GraphQLResponse) =>
    response.errors?.map(({ extensions }) => [extensions?.code, extensions?.pointsCost]);

  beforeAll(() =>
    insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-MALL-REPRICED', { kind: 'POINTS_PRODUCT', pointsCost: 10, perMemberLimit: 5 }),
    ]),
  );

  it('is POINTS_COST_CHANGED for the price the member agreed to, storing and moving nothing; the key then buys at the new one, shown on the claim', async () => {
    const memberId = 'M0972';
    await setBalance(memberId, 100);
    await reprice(40);
    const before = await storedState(hub.connections);
    for (const attempt of [1, 2]) {
      expect({ attempt, refusal: refusal(await redeemAt(memberId, 'repriced-1', 10)) }).toEqual({
        attempt,
        refusal: [['POINTS_COST_CHANGED', 40]],
      });
    }
    expect(await storedState(hub.connections)).toEqual(before);
    const bought = await redeemAt(memberId, 'repriced-1', 40);
    expect(bought.errors).toBeUndefined();
    expect((await balances(memberId)).points).toBe(60);
    // The key's price is fixed by the call that bought: a repeat naming it answers the purchase, paying nothing more,
    // also once the product costs another price; one naming another price is told what the purchase cost.
    await reprice(25);
    const repeated = await redeemAt(memberId, 'repriced-1', 40);
    expect(repeated.data?.redeemPoints).toEqual({
      id: bought.data?.redeemPoints.id,
      pointsPaid: 40,
      benefit: { pointsCost: 25 },
    });
    expect(refusal(await redeemAt(memberId, 'repriced-1', 25))).toEqual([['POINTS_COST_CHANGED', 40]]);
    expect((await balances(memberId)).points).toBe(60);
    expect((await members.ledger.newestFor(memberId, 10)).map((entry) => entry.amount)).toEqual([-40]);
  });

  it('answers a product members are not offered with why, never with its price, however often it is asked', async () => {
    const draft = 'B-MALL-DRAFT';
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit(draft, { kind: 'POINTS_PRODUCT', pointsCost: 777, status: 'DRAFT' }),
    ]);
    const memberId = 'M0973';
    await setBalance(memberId, 1_000);
    for (const attempt of [1, 2]) {
      const response = await graphql(
        hub.gatewayUrl,
        REDEEM_AT,
        { productId: draft, key: 'draft-price', expected: 10 },
        bearer(await clientToken(memberId, 'member')),
      );
      expect({ attempt, refusal: refusal(response) }).toEqual({
        attempt,
        refusal: [['BENEFIT_NOT_AVAILABLE', undefined]],
      });
      expect(JSON.stringify(response.errors)).not.toContain('777');
    }
    expect((await balances(memberId)).points).toBe(1_000);
  });

  it('refuses an expectedPointsCost outside 1 to 1,000,000 with BAD_USER_INPUT, storing and moving nothing', async () => {
    const memberId = 'M0973';
    await setBalance(memberId, 100);
    const before = await storedState(hub.connections);
    for (const expected of [0, -10, 1_000_001]) {
      const response = await redeemAt(memberId, `bad-price-${expected}`, expected);
      expect({
        expected,
        codes: errorCodes(response),
        field: response.errors?.[0]?.extensions?.field,
      }).toEqual({
        expected,
        codes: ['BAD_USER_INPUT'],
        field: 'expectedPointsCost',
      });
    }
    expect(await storedState(hub.connections)).toEqual(before);
  });
});

describe('a redemption whose spend went through at members but whose answer was lost', () => {
  const REDEEM_ONE = (key: string) => ({ productId: 'B-MALL-ONE', key });

  async function loseAnswerOf(memberId: string, key: string, lose: 'answers' | 'requests' = 'answers') {
    proxy.state.lose = lose;
    try {
      const response = await graphql(
        hub.gatewayUrl,
        REDEEM,
        REDEEM_ONE(key),
        bearer(await clientToken(memberId, 'member')),
      );
      expect(errorCodes(response)).toEqual(['SERVICE_UNAVAILABLE']);
    } finally {
      proxy.state.lose = null;
    }
  }

  it('is finished or refunded by a retry of its key — never refused before paying, never paid twice', async () => {
    const memberId = 'M0960';
    await setBalance(memberId, 100);
    await loseAnswerOf(memberId, 'lost-answer-1');
    expect((await balances(memberId)).points).toBe(90);
    // Another key buys the one item the member may have; the lost one's retry is then refused, and refunded.
    expect((await redeemAs(memberId, 'B-MALL-ONE', 'lost-answer-2')).data?.redeemPoints).toBeTruthy();
    expect((await balances(memberId)).points).toBe(80);
    for (const attempt of [1, 2]) {
      expect({ attempt, codes: errorCodes(await redeemAs(memberId, 'B-MALL-ONE', 'lost-answer-1')) }).toEqual(
        {
          attempt,
          codes: ['CLAIM_LIMIT_REACHED'],
        },
      );
    }
    expect((await balances(memberId)).points).toBe(90);
    expect(await engagement.claims.model.countDocuments({ memberId })).toBe(1);
    expect((await members.ledger.newestFor(memberId, 10)).map((entry) => entry.kind)).toEqual([
      'REFUND',
      'SPEND',
      'SPEND',
    ]);
  });

  it('alone, the retry of its key buys the item with the points already spent', async () => {
    const memberId = 'M0961';
    await setBalance(memberId, 100);
    await loseAnswerOf(memberId, 'lost-answer-3');
    const retried = await redeemAs(memberId, 'B-MALL-ONE', 'lost-answer-3');
    expect(retried.data?.redeemPoints).toMatchObject({ memberId, source: 'POINTS' });
    expect((await balances(memberId)).points).toBe(90);
    expect((await members.ledger.newestFor(memberId, 10)).map((entry) => entry.kind)).toEqual(['SPEND']);
  });

  it('is settled by the background pass when its key is never retried: points back, nothing bought', async () => {
    const settle = (now: Date) => settleAt(now, 'test-settle');
    // Spent with the answer lost; never reached members; and a writer that died after paying and reserving.
    await Promise.all(['M0962', 'M0963', 'M0964'].map((memberId) => setBalance(memberId, 100)));
    await loseAnswerOf('M0962', 'never-retried');
    await loseAnswerOf('M0963', 'never-retried', 'requests');
    await loseAnswerOf('M0964', 'never-retried');
    const died = claimIdOf(claimRequestId('M0964', 'POINTS', 'never-retried'));
    expect(await engagement.claimCounters.reserve('M|B-MALL-ONE|M0964', 1, died)).toBe(true);
    expect((await Promise.all(['M0962', 'M0963', 'M0964'].map(balances))).map((b) => b.points)).toEqual([
      90, 100, 90,
    ]);

    // Within the time a retry is waited for, nothing is settled.
    await settle(new Date());
    expect((await balances('M0962')).points).toBe(90);
    await settle(new Date(Date.now() + ABANDONED_AFTER_MS + 60_000));
    expect((await Promise.all(['M0962', 'M0963', 'M0964'].map(balances))).map((b) => b.points)).toEqual([
      100, 100, 90,
    ]);
    // The one that got as far as reserving is finished: bought, not refunded.
    expect(await engagement.claims.model.countDocuments({ _id: died, memberId: 'M0964' })).toBe(1);
    expect(await engagement.claims.model.countDocuments({ memberId: { $in: ['M0962', 'M0963'] } })).toBe(0);
    expect((await members.ledger.newestFor('M0962', 10)).map((entry) => entry.kind)).toEqual([
      'REFUND',
      'SPEND',
    ]);
    // A retry now is answered with the cancellation, and moves nothing.
    expect(errorCodes(await redeemAs('M0962', 'B-MALL-ONE', 'never-retried'))).toEqual([
      'FAILED_PRECONDITION',
    ]);
    expect((await redeemAs('M0964', 'B-MALL-ONE', 'never-retried')).data?.redeemPoints.id).toBe(died);
    await settle(new Date(Date.now() + ABANDONED_AFTER_MS + 60_000));
    expect((await Promise.all(['M0962', 'M0963', 'M0964'].map(balances))).map((b) => b.points)).toEqual([
      100, 100, 90,
    ]);
  });
});

describe('a purchase whose writer died after reserving the member’s count, before paying', () => {
  it('is finished by the background pass, paying once, or refused giving the count back when the balance is short', async () => {
    const settle = (now: Date) => settleAt(now, 'test-settle-held');
    const [rich, poor] = ['M0965', 'M0966'];
    await setBalance(rich!, 100);
    await setBalance(poor!, 0);
    for (const memberId of [rich!, poor!]) {
      const requestId = claimRequestId(memberId, 'POINTS', 'died-before-paying');
      const claimId = claimIdOf(requestId);
      await engagement.claimRequests.model.create({
        _id: requestId,
        memberId,
        source: 'POINTS',
        argumentsHash: argumentsHash({ benefitId: 'B-MALL-ONE' }),
        benefitId: 'B-MALL-ONE',
        claimId,
        pointsCost: 10,
        createdAt: new Date(),
        holder: 'dead-writer',
        leaseUntil: new Date(Date.now() - 1_000),
        outcome: null,
      });
      expect(await engagement.claimCounters.reserve(`M|B-MALL-ONE|${memberId}`, 1, claimId)).toBe(true);
    }
    await settle(new Date(Date.now() + ABANDONED_AFTER_MS + 60_000));
    expect([(await balances(rich!)).points, (await balances(poor!)).points]).toEqual([90, 0]);
    expect(await engagement.claims.model.countDocuments({ memberId: rich })).toBe(1);
    expect((await members.ledger.newestFor(rich!, 10)).map((entry) => entry.kind)).toEqual(['SPEND']);
    // The short one's count went back with its refusal: topped up, the member buys under a new key.
    expect(errorCodes(await redeemAs(poor!, 'B-MALL-ONE', 'died-before-paying'))).toEqual([
      'INSUFFICIENT_POINTS',
    ]);
    await setBalance(poor!, 10);
    expect((await redeemAs(poor!, 'B-MALL-ONE', 'after-top-up')).data?.redeemPoints).toBeTruthy();
  });
});

describe('a purchase taken over after its product ended', () => {
  const PRODUCT = 'B-MALL-ENDED';
  const ended = new Date(Date.now() - 60_000);
  const payment = (memberId: string) =>
    pointsPayment(
      graphMemberPoints(new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET)),
      memberId,
      `points mall: ${PRODUCT}`,
      'test-ended',
    );
  /** A purchase asked while on sale whose writer died: before paying, or having paid (and noted it) — nothing more. */
  async function diedWhileOnSale(memberId: string, key: string, paid: boolean) {
    const requestId = claimRequestId(memberId, 'POINTS', key);
    const claimId = claimIdOf(requestId);
    await engagement.claimRequests.model.create({
      _id: requestId,
      memberId,
      source: 'POINTS',
      argumentsHash: argumentsHash({ benefitId: PRODUCT }),
      benefitId: PRODUCT,
      claimId,
      pointsCost: 10,
      createdAt: new Date(ended.getTime() - 120_000),
      paidAt: paid ? new Date(ended.getTime() - 60_000) : null,
      holder: 'dead-writer',
      leaseUntil: new Date(ended.getTime() - 100_000),
      outcome: null,
    });
    if (paid) await payment(memberId).pay(claimId, 10);
    return claimId;
  }
  const ledgerKinds = async (memberId: string) =>
    (await members.ledger.newestFor(memberId, 10)).map((entry) => entry.kind);

  beforeAll(() =>
    insertBenefits(hub.connections.engagement, [
      publishedBenefit(PRODUCT, { kind: 'POINTS_PRODUCT', pointsCost: 10, endsAt: ended }),
    ]),
  );

  it('is cancelled when it had not paid: its retry buys nothing and leaves the balance as it was', async () => {
    const memberId = 'M0985';
    await setBalance(memberId, 100);
    await diedWhileOnSale(memberId, 'ended-unpaid', false);
    for (const attempt of [1, 2]) {
      const retried = await redeemAs(memberId, PRODUCT, 'ended-unpaid');
      expect({ attempt, codes: errorCodes(retried) }).toEqual({ attempt, codes: ['BENEFIT_NOT_AVAILABLE'] });
    }
    expect((await balances(memberId)).points).toBe(100);
    expect(await engagement.claims.model.countDocuments({ memberId, benefitId: PRODUCT })).toBe(0);
    expect(await engagement.claimCounters.find(`M|${PRODUCT}|${memberId}`)).toBeNull();
    // Whether the dead writer's spend went through nobody can tell: spent under its key, then given back.
    expect(await ledgerKinds(memberId)).toEqual(['REFUND', 'SPEND']);
  });

  it('is honoured when it had paid while on sale: its retry gets the item, paying nothing more', async () => {
    const memberId = 'M0986';
    await setBalance(memberId, 100);
    const claimId = await diedWhileOnSale(memberId, 'ended-paid', true);
    const stock = async () => (await engagement.benefits.findByIds([PRODUCT]))[0]!.remaining;
    const before = await stock();
    const retried = await redeemAs(memberId, PRODUCT, 'ended-paid');
    expect(retried.data?.redeemPoints).toMatchObject({ id: claimId, memberId, source: 'POINTS' });
    expect((await balances(memberId)).points).toBe(90);
    expect(await ledgerKinds(memberId)).toEqual(['SPEND']);
    expect(await stock()).toBe(before - 1);
  });

  it('is settled by the background pass the same way: the unpaid one cancelled, the paid one bought', async () => {
    const [unpaid, paid] = ['M0987', 'M0988'];
    await Promise.all([unpaid, paid].map((memberId) => setBalance(memberId, 100)));
    // The unpaid one got as far as counting the member, which the pass would otherwise finish by paying now.
    const unpaidClaim = await diedWhileOnSale(unpaid, 'ended-settled', false);
    expect(await engagement.claimCounters.reserve(`M|${PRODUCT}|${unpaid}`, 1, unpaidClaim)).toBe(true);
    const paidClaim = await diedWhileOnSale(paid, 'ended-settled', true);
    await settleAt(new Date(Date.now() + ABANDONED_AFTER_MS + 60_000), 'test-settle-ended');
    expect([(await balances(unpaid)).points, (await balances(paid)).points]).toEqual([100, 90]);
    expect(await engagement.claims.model.countDocuments({ _id: unpaidClaim })).toBe(0);
    expect(await engagement.claims.model.countDocuments({ _id: paidClaim })).toBe(1);
    expect(await engagement.claimCounters.find(`M|${PRODUCT}|${unpaid}`)).toBeNull();
    expect(errorCodes(await redeemAs(unpaid, PRODUCT, 'ended-settled'))).toEqual(['BENEFIT_NOT_AVAILABLE']);
    expect((await redeemAs(paid, PRODUCT, 'ended-settled')).data?.redeemPoints.id).toBe(paidClaim);
  });
});

describe('a purchase by a member members does not know', () => {
  it('is refused for good with the code members gave, leaving no purchase for the background pass to chase', async () => {
    const nobody = 'NOBODY-MALL-1';
    for (const attempt of [1, 2]) {
      expect({ attempt, codes: errorCodes(await redeemAs(nobody, 'B-MALL', 'nobody-buys-1')) }).toEqual({
        attempt,
        codes: ['NOT_FOUND'],
      });
    }
    // Answered, not left unanswered as a spend whose outcome is unknown: the settling pass reads the oldest 100 of
    // those first, and ones it can never settle would hold up everyone else's points behind them.
    const request = await engagement.claimRequests.find(claimRequestId(nobody, 'POINTS', 'nobody-buys-1'));
    expect(request?.outcome).toMatchObject({ claimId: null, refusal: { code: 'NOT_FOUND', refund: null } });
    expect(await engagement.claimCounters.find(`M|B-MALL|${nobody}`)).toBeNull();
  });

  it('left unanswered before, is cancelled by the background pass, which then settles the purchases behind it', async () => {
    const settle = (now: Date) => settleAt(now, 'test-settle-nobody');
    const stored = (memberId: string, createdAt: Date) => {
      const requestId = claimRequestId(memberId, 'POINTS', 'stuck-before');
      return {
        _id: requestId,
        memberId,
        source: 'POINTS' as const,
        argumentsHash: argumentsHash({ benefitId: 'B-MALL-ONE' }),
        benefitId: 'B-MALL-ONE',
        claimId: claimIdOf(requestId),
        pointsCost: 10,
        createdAt,
        holder: 'gone-writer',
        leaseUntil: new Date(0),
        outcome: null,
      };
    };
    // 100 purchases of nobody, the oldest unsettled ones (a pass reads 100), ahead of a real member's.
    const nobodies = Array.from({ length: 100 }, (_, i) => `NOBODY-MALL-${100 + i}`);
    const oldest = Date.now() - 2 * ABANDONED_AFTER_MS;
    await engagement.claimRequests.model.insertMany(
      nobodies.map((memberId, i) => stored(memberId, new Date(oldest + i))),
    );
    const member = 'M0967';
    await setBalance(member, 100);
    await engagement.claimRequests.model.create(stored(member, new Date(oldest + 1_000)));

    await settle(new Date());
    const cancelled = await engagement.claimRequests.model
      .find({ memberId: { $in: nobodies } })
      .lean()
      .exec();
    expect(cancelled.map((request) => request.outcome?.refusal)).toEqual(
      nobodies.map(() => expect.objectContaining({ code: 'FAILED_PRECONDITION', refund: null })),
    );
    await settle(new Date());
    const behind = await engagement.claimRequests.find(claimRequestId(member, 'POINTS', 'stuck-before'));
    expect(behind?.outcome?.refusal).toMatchObject({ code: 'FAILED_PRECONDITION', refund: 'DONE' });
    expect((await balances(member)).points).toBe(100);
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

describe('a purchase an operator revokes', () => {
  const REVOKE = `mutation ($claimId: ID!) { revokeClaim(claimId: $claimId, reason: "sold by mistake") { id state } }`;
  const revoke = async (claimId: string) =>
    graphql(hub.gatewayUrl, REVOKE, { claimId }, bearer(await clientToken('ops.alice', 'operator')));

  it('gives its points back, once however often it is revoked', async () => {
    const memberId = 'M0970';
    await setBalance(memberId, 100);
    const bought = await redeemAs(memberId, 'B-MALL', 'revoked-later-1');
    const claimId = bought.data?.redeemPoints.id as string;
    expect((await balances(memberId)).points).toBe(0);
    const answers = await Promise.all(Array.from({ length: 20 }, () => revoke(claimId)));
    expect(answers.flatMap((answer) => (answer.data?.revokeClaim ? [answer.data.revokeClaim] : []))).toEqual([
      { id: claimId, state: 'REVOKED' },
    ]);
    expect(new Set(answers.filter((answer) => answer.errors).flatMap(errorCodes))).toEqual(
      new Set(['FAILED_PRECONDITION']),
    );
    expect((await balances(memberId)).points).toBe(100);
    expect((await members.ledger.newestFor(memberId, 10)).map((entry) => [entry.kind, entry.amount])).toEqual(
      [
        ['REFUND', 100],
        ['SPEND', -100],
      ],
    );
  });

  it('revoked while members is down, gets its points back from the background pass', async () => {
    const memberId = 'M0971';
    await setBalance(memberId, 100);
    const claimId = (await redeemAs(memberId, 'B-MALL', 'revoked-later-2')).data?.redeemPoints.id as string;
    await hub.stopSubgraph('members');
    try {
      expect((await revoke(claimId)).data?.revokeClaim.state).toBe('REVOKED');
    } finally {
      await hub.restartSubgraph('members');
    }
    expect((await balances(memberId)).points).toBe(0);
    const settle = () => settleAt(new Date(Date.now() + 60_000), 'test-settle-revoked');
    await settle();
    await settle();
    expect((await balances(memberId)).points).toBe(100);
    expect((await members.ledger.newestFor(memberId, 10)).map((entry) => entry.kind)).toEqual([
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
    const granter = createRewardGranter({ repos: engagement, graph, calendar });
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
        { repos: engagement, calendar },
        { benefitId: 'B-TASK', memberId: 'M0002', idempotencyKey: 'task-T1-done', source: 'TASK_REWARD' },
      ),
    ).rejects.toMatchObject({ extensions: { code: 'OUT_OF_STOCK' } });
  });

  it("of a benefit whose day is full waits for the next day's room, keeping no answer under its key", async () => {
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-TASK-DAILY', { perDayLimit: 1 })]);
    const grant = () =>
      grantBenefit(
        { repos: engagement, calendar },
        {
          benefitId: 'B-TASK-DAILY',
          memberId: 'M1001',
          idempotencyKey: 'task-T2-done',
          source: 'TASK_REWARD',
        },
      );
    const today = calendar.dayOf(new Date());
    // Another member took today's one.
    expect(await engagement.claimCounters.reserve(`D|B-TASK-DAILY|${today}`, 1, 'CL-someone-else')).toBe(
      true,
    );
    await expect(grant()).rejects.toMatchObject({
      extensions: { code: 'DAILY_LIMIT_REACHED', retryAt: calendar.endOf(today).toISOString() },
    });
    const requestId = claimRequestId('M1001', 'TASK_REWARD', 'task-T2-done');
    expect(await engagement.claimRequests.find(requestId)).toBeNull();
    expect(await engagement.claimCounters.find('M|B-TASK-DAILY|M1001')).toBeNull();
    // The next day (its counter starts empty), the same key grants it, once.
    await engagement.claimCounters.model.deleteOne({ _id: `D|B-TASK-DAILY|${today}` });
    const granted = await grant();
    expect(granted).toMatchObject({ memberId: 'M1001', benefitId: 'B-TASK-DAILY', source: 'TASK_REWARD' });
    expect((await grant())._id).toBe(granted._id);

    // A grant whose writer died before it reserved the day, which has filled since: its key is given up the same way.
    const diedKey = 'task-T3-done';
    const diedRequest = claimRequestId('M1002', 'TASK_REWARD', diedKey);
    await engagement.claimRequests.model.create({
      _id: diedRequest,
      memberId: 'M1002',
      source: 'TASK_REWARD',
      argumentsHash: argumentsHash({ benefitId: 'B-TASK-DAILY' }),
      benefitId: 'B-TASK-DAILY',
      claimId: claimIdOf(diedRequest),
      pointsCost: 0,
      createdAt: new Date(),
      holder: 'dead-writer',
      leaseUntil: new Date(Date.now() - 1_000),
      outcome: null,
    });
    await expect(
      grantBenefit(
        { repos: engagement, calendar },
        { benefitId: 'B-TASK-DAILY', memberId: 'M1002', idempotencyKey: diedKey, source: 'TASK_REWARD' },
      ),
    ).rejects.toMatchObject({ extensions: { code: 'DAILY_LIMIT_REACHED', retryAt: expect.any(String) } });
    expect(await engagement.claimRequests.find(diedRequest)).toBeNull();
    expect(await engagement.claimCounters.find('M|B-TASK-DAILY|M1002')).toBeNull();
  });
});
