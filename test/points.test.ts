// awardPoints is idempotent through the gateway, also under 100 concurrent calls with one key; a retry, or else the
// recovery pass, finishes an entry whose writer died at any step without counting it twice; and the level always
// follows the growth points.
import type { GraphQLError } from 'graphql';
import { GraphClient } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { startTestHub, stopTestHub } from './support/hub';
import { openRepositories, type MembersRepositories } from '../subgraphs/members/src/models';
import type { EntryKind } from '../subgraphs/members/src/models/points-ledger';
import { recoverPoints } from '../subgraphs/members/src/points-recovery';
import {
  bearer,
  changedBehindTheHubsBack,
  clientToken,
  graphql,
  testConfig,
  testLogger,
} from './support/env';
import { storedState } from './support/stored';
import { graphMemberPoints } from '../subgraphs/engagement/src/members-points';

let hub: RunningHub;
let repos: MembersRepositories;
let operatorToken: string;

beforeAll(async () => {
  // Time for 100 concurrent calls on a busy machine; points-deadline.test.ts keeps the gateway's default.
  hub = await startTestHub('points', { config: { SUBGRAPH_TIMEOUT_MS: 20_000 } });
  repos = await openRepositories(hub.connections.members);
  operatorToken = await clientToken('ops.alice', 'operator');
});

afterAll(() => stopTestHub(hub));

const AWARD = `mutation ($memberId: ID!, $amount: Int!, $key: String!) {
  awardPoints(memberId: $memberId, amount: $amount, reason: "double-eleven", idempotencyKey: $key) { id balanceAfter }
}`;

async function balanceOf(memberId: string) {
  const [member] = await repos.members.findByIds([memberId]);
  return { points: member!.points, growthPoints: member!.growthPoints, applied: member!.appliedEntries };
}

it('100 concurrent awards with one key make one ledger entry and one balance change', async () => {
  const before = await balanceOf('M0042');
  const responses = await Promise.all(
    Array.from({ length: 100 }, () =>
      graphql(
        hub.gatewayUrl,
        AWARD,
        { memberId: 'M0042', amount: 250, key: 'promo-2026-11-M0042' },
        bearer(operatorToken),
      ),
    ),
  );
  expect(responses.flatMap((response) => response.errors ?? [])).toEqual([]);
  const ids = new Set(responses.map((response) => response.data?.awardPoints.id));
  expect(ids.size).toBe(1);
  expect(await repos.ledger.countForKey('promo-2026-11-M0042')).toBe(1);
  const after = await balanceOf('M0042');
  expect(after.points - before.points).toBe(250);
  expect(after.growthPoints - before.growthPoints).toBe(250);
  expect(after.applied.filter((id) => id === ids.values().next().value)).toHaveLength(1);
  expect(responses.every((response) => response.data?.awardPoints.balanceAfter === after.points)).toBe(true);
});

it('concurrent awards with different keys all count', async () => {
  const before = await balanceOf('M0043');
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      graphql(
        hub.gatewayUrl,
        AWARD,
        { memberId: 'M0043', amount: 10, key: `daily-M0043-${i}` },
        bearer(operatorToken),
      ),
    ),
  );
  expect((await balanceOf('M0043')).points - before.points).toBe(200);
});

it('refuses an award that would take a balance past a GraphQL Int, also among concurrent awards, storing nothing', async () => {
  // 2,147,000,000 is where about 2,147 operator awards of 1,000,000 take a member.
  await repos.members.model.updateOne(
    { _id: 'M0046' },
    { $set: { points: 2_147_000_000, growthPoints: 2_147_000_000 } },
  );
  const responses = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      graphql(
        hub.gatewayUrl,
        AWARD,
        { memberId: 'M0046', amount: 100_000, key: `near-the-top-M0046-${i}` },
        bearer(operatorToken),
      ),
    ),
  );
  // Room for four: a fifth would make 2,147,500,000.
  expect(responses.filter((response) => response.data?.awardPoints)).toHaveLength(4);
  expect(
    responses.flatMap((response) => response.errors ?? []).map((error) => error.extensions?.code),
  ).toEqual(['BALANCE_LIMIT_REACHED', 'BALANCE_LIMIT_REACHED']);
  const viewer = await graphql(
    hub.gatewayUrl,
    `
      {
        viewer {
          points
          growthPoints
          pointsLedger(first: 10) {
            idempotencyKey
          }
        }
      }
    `,
    {},
    bearer(await clientToken('M0046', 'member')),
  );
  expect(viewer.errors).toBeUndefined();
  expect(viewer.data?.viewer).toMatchObject({ points: 2_147_400_000, growthPoints: 2_147_400_000 });
  const keys = (viewer.data?.viewer.pointsLedger as { idempotencyKey: string }[]).map(
    (entry) => entry.idempotencyKey,
  );
  expect(keys.filter((key) => key.startsWith('near-the-top-M0046-'))).toHaveLength(4);
  expect(
    await repos.ledger.model.countDocuments({ idempotencyKey: { $regex: '^near-the-top-M0046-' } }),
  ).toBe(4);
});

describe('an idempotency key reused for a different entry', () => {
  it('is IDEMPOTENCY_KEY_REUSED, saying what it moved only to its own member, and changes nothing', async () => {
    const first = await graphql(
      hub.gatewayUrl,
      AWARD,
      { memberId: 'M0053', amount: 40, key: 'reused-key-M0053' },
      bearer(operatorToken),
    );
    expect(first.errors).toBeUndefined();
    const before = await storedState({ members: hub.connections.members });
    const otherAmount = await graphql(
      hub.gatewayUrl,
      AWARD,
      { memberId: 'M0053', amount: 41, key: 'reused-key-M0053' },
      bearer(operatorToken),
    );
    const otherMember = await graphql(
      hub.gatewayUrl,
      AWARD,
      { memberId: 'M0054', amount: 40, key: 'reused-key-M0053' },
      bearer(operatorToken),
    );
    expect(otherAmount.errors).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({
          code: 'IDEMPOTENCY_KEY_REUSED',
          field: 'idempotencyKey',
          usedFor: { sameMember: true, kind: 'AWARD', amount: 40 },
        }),
      }),
    ]);
    // Nothing of M0053's entry reaches a caller asking about M0054.
    expect(otherMember.errors).toEqual([
      expect.objectContaining({
        extensions: expect.objectContaining({
          code: 'IDEMPOTENCY_KEY_REUSED',
          field: 'idempotencyKey',
          usedFor: { sameMember: false, kind: null, amount: null },
        }),
      }),
    ]);
    const after = await storedState({ members: hub.connections.members });
    expect(after).toEqual(before);
  });
});

/** Members' points mutations as engagement calls them: through the gateway, with the hub's service identity. */
const engagementPoints = () =>
  graphMemberPoints(new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET));

describe('refunds of a spend', () => {
  it('never give back more than the spend took, also when many under other keys arrive at once', async () => {
    const memberId = 'M0063';
    const points = engagementPoints();
    const move = { memberId, reason: 'points mall' };
    await points.move(
      'awardPoints',
      { ...move, amount: 100, idempotencyKey: 'refund-race-credit-M0063' },
      'test',
    );
    await points.move(
      'spendPoints',
      { ...move, amount: 100, idempotencyKey: 'refund-race-spend-M0063' },
      'test',
    );
    const before = await balanceOf(memberId);
    const refunds = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        points.refund(
          {
            ...move,
            spendKey: 'refund-race-spend-M0063',
            amount: 10,
            idempotencyKey: `refund-race-${i}-M0063`,
          },
          'test',
        ),
      ),
    );
    expect(refunds.filter((refund) => refund.status === 'fulfilled')).toHaveLength(10);
    expect(
      new Set(
        refunds.flatMap((refund) =>
          refund.status === 'rejected' ? [(refund.reason as GraphQLError).extensions.code] : [],
        ),
      ),
    ).toEqual(new Set(['REFUND_EXCEEDS_SPEND']));
    expect((await balanceOf(memberId)).points - before.points).toBe(100);
    expect(await repos.ledger.model.countDocuments({ memberId, kind: 'REFUND' })).toBe(10);
  });
});

describe('awards, spends and refunds of one member at once', () => {
  it('all count, each once, and the balance moves by the sum of their entries', async () => {
    const memberId = 'M0065';
    const points = engagementPoints();
    const move = { memberId, reason: 'points mall' };
    const before = await balanceOf(memberId);
    await points.move('awardPoints', { ...move, amount: 2_000, idempotencyKey: 'mix-credit-M0065' }, 'test');
    const spendId = await points.move(
      'spendPoints',
      { ...move, amount: 500, idempotencyKey: 'mix-spend-M0065' },
      'test',
    );
    const moves = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => [
        points.move('awardPoints', { ...move, amount: 10, idempotencyKey: `mix-award-${i}-M0065` }, 'test'),
        points.move('spendPoints', { ...move, amount: 90, idempotencyKey: `mix-spend-${i}-M0065` }, 'test'),
        points.refund(
          { ...move, spendKey: 'mix-spend-M0065', amount: 60, idempotencyKey: `mix-refund-${i}-M0065` },
          'test',
        ),
      ]).flat(),
    );
    const refused = moves.flatMap((settled) =>
      settled.status === 'rejected' ? [(settled.reason as GraphQLError).extensions.code] : [],
    );
    // 500 of the spend to give back: eight refunds of 60, the others refused; the spends all covered.
    expect(refused).toEqual(['REFUND_EXCEEDS_SPEND', 'REFUND_EXCEEDS_SPEND']);
    const entries = await repos.ledger.model.find({ memberId, idempotencyKey: { $regex: '^mix-' } }).lean();
    expect(entries.every((entry) => entry.state === 'APPLIED')).toBe(true);
    const after = await balanceOf(memberId);
    expect(after.points - before.points).toBe(entries.reduce((sum, entry) => sum + entry.amount, 0));
    expect(after.points - before.points).toBe(2_000 - 500 + 100 - 900 + 480);
    expect(after.growthPoints - before.growthPoints).toBe(2_100);
    expect(await repos.ledger.findById(spendId)).toMatchObject({ refunded: 480 });
  });
});

/** What an award of 70 does to a member: the change a stalled writer would apply. */
const AWARD_OF_70 = { points: 70, growthPoints: 70 };

/** A ledger entry whose writer stopped after inserting it: still PENDING, its lease run out. */
const stuck = (id: string, key: string, memberId: string) => ({
  _id: id,
  memberId,
  amount: 70,
  reason: 'double-eleven',
  idempotencyKey: key,
  state: 'PENDING' as const,
  leaseUntil: new Date(Date.now() - 1_000),
  balanceAfter: null,
  levelAfter: null,
  createdAt: new Date(),
  createdBy: 'ops.alice',
});

it('keeps a stalled writer from applying an entry a retry has already finished', async () => {
  const before = await balanceOf('M0045');
  await repos.ledger.model.create(stuck('PE-stalled', 'stalled-writer', 'M0045'));
  // The retry takes over the expired lease and finishes the award...
  const retry = await graphql(
    hub.gatewayUrl,
    AWARD,
    { memberId: 'M0045', amount: 70, key: 'stalled-writer' },
    bearer(operatorToken),
  );
  expect(retry.errors).toBeUndefined();
  // ...then the stalled writer wakes up and tries to apply the same entry.
  expect(await repos.members.applyPoints('M0045', 'PE-stalled', AWARD_OF_70)).toBeNull();
  expect((await balanceOf('M0045')).points - before.points).toBe(70);
});

describe('recovery of an award whose writer died', () => {
  const stuckEntry = (id: string, key: string) => stuck(id, key, 'M0044');

  it('applies an entry the writer recorded but never applied', async () => {
    const before = await balanceOf('M0044');
    await repos.ledger.model.create(stuckEntry('PE-died-before-apply', 'died-before-apply'));
    const response = await graphql(
      hub.gatewayUrl,
      AWARD,
      { memberId: 'M0044', amount: 70, key: 'died-before-apply' },
      bearer(operatorToken),
    );
    expect(response.data?.awardPoints.id).toBe('PE-died-before-apply');
    expect((await balanceOf('M0044')).points - before.points).toBe(70);
  });

  it('does not apply twice an entry the writer applied but never marked', async () => {
    await repos.ledger.model.create(stuckEntry('PE-died-after-apply', 'died-after-apply'));
    await repos.members.applyPoints('M0044', 'PE-died-after-apply', AWARD_OF_70);
    const before = await balanceOf('M0044');
    expect(before.applied).toContain('PE-died-after-apply');
    const response = await graphql(
      hub.gatewayUrl,
      AWARD,
      { memberId: 'M0044', amount: 70, key: 'died-after-apply' },
      bearer(operatorToken),
    );
    expect(response.data?.awardPoints.id).toBe('PE-died-after-apply');
    const after = await balanceOf('M0044');
    expect(after.points).toBe(before.points);
    expect(after.applied.filter((id) => id === 'PE-died-after-apply')).toHaveLength(1);
    expect(await repos.ledger.findByKey('died-after-apply')).toMatchObject({
      state: 'APPLIED',
      balanceAfter: after.points,
    });
  });
});

describe('the ledger a member and an operator read', () => {
  const LEDGER = `query ($id: ID!) { member(id: $id) { pointsLedger(first: 50) { id amount balanceAfter } } }`;
  const ledgerOf = async (memberId: string) => {
    const [asMember, asOperator] = await Promise.all([
      graphql(
        hub.gatewayUrl,
        `
          {
            viewer {
              pointsLedger(first: 50) {
                id
                amount
                balanceAfter
              }
            }
          }
        `,
        {},
        bearer(await clientToken(memberId, 'member')),
      ),
      graphql(hub.gatewayUrl, LEDGER, { id: memberId }, bearer(operatorToken)),
    ]);
    expect(asOperator.data?.member.pointsLedger).toEqual(asMember.data?.viewer.pointsLedger);
    return (asMember.data?.viewer.pointsLedger as { id: string }[]).map((entry) => entry.id);
  };

  it('shows the entries that moved the balance, never one still unapplied, until a retry applies it', async () => {
    await repos.ledger.model.create(stuck('PE-never-applied', 'ledger-never-applied', 'M0047'));
    await repos.ledger.model.create(stuck('PE-applied-unmarked', 'ledger-applied-unmarked', 'M0047'));
    await repos.members.applyPoints('M0047', 'PE-applied-unmarked', AWARD_OF_70);
    const before = await ledgerOf('M0047');
    expect(before).toContain('PE-applied-unmarked');
    expect(before).not.toContain('PE-never-applied');
    // The operator's retry applies it; from then on it is history.
    const retry = await graphql(
      hub.gatewayUrl,
      AWARD,
      { memberId: 'M0047', amount: 70, key: 'ledger-never-applied' },
      bearer(operatorToken),
    );
    expect(retry.errors).toBeUndefined();
    expect((await ledgerOf('M0047')).sort()).toEqual(['PE-never-applied', ...before].sort());
  });
});

describe('the reason a member reads in their ledger', () => {
  const AWARD_FOR = `mutation ($reason: String!, $key: String!) {
    awardPoints(memberId: "M0060", amount: 15, reason: $reason, idempotencyKey: $key) { id reason balanceAfter }
  }`;
  const award = (reason: string, key: string) =>
    graphql(hub.gatewayUrl, AWARD_FOR, { reason, key }, bearer(operatorToken));

  it.each([
    ['a right-to-left override', '签到奖励 \u202E01 分'],
    ['an invisible space', 'double\u200B-eleven'],
    ['a control character', 'double\u0007-eleven'],
    ['half a character', 'double-eleven \ud83d'],
    ['only spaces', '   '],
  ])('refuses a reason with %s, moving nothing', async (_what, reason) => {
    const key = `reason-refused-${reason.length}-${reason.codePointAt(reason.length - 1)}`;
    const before = await balanceOf('M0060');
    const response = await award(reason, key);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
    expect(await repos.ledger.countForKey(key)).toBe(0);
    expect(await balanceOf('M0060')).toEqual(before);
  });

  it('stores the reason trimmed, and a replay with the same untrimmed reason returns the first entry', async () => {
    const before = await balanceOf('M0060');
    const first = await award('  double-eleven bonus \n', 'reason-trimmed-1');
    expect(first.errors).toBeUndefined();
    expect(first.data?.awardPoints.reason).toBe('double-eleven bonus');
    const again = await award('  double-eleven bonus \n', 'reason-trimmed-1');
    expect(again.errors).toBeUndefined();
    expect(again.data?.awardPoints).toEqual(first.data?.awardPoints);
    expect(await repos.ledger.countForKey('reason-trimmed-1')).toBe(1);
    expect((await balanceOf('M0060')).points - before.points).toBe(15);
  });
});

describe('the level follows the growth points', () => {
  const LEVEL = `query ($id: ID!) { member(id: $id) { growthPoints level { code } } }`;
  const levelOf = async (memberId: string) =>
    (await graphql(hub.gatewayUrl, LEVEL, { id: memberId }, bearer(operatorToken))).data?.member;

  it('an award whose writer dies right after applying its points leaves the member at the level they reached', async () => {
    await repos.members.model.updateOne(
      { _id: 'M0048' },
      { $set: { growthPoints: 4_950, levelCode: 'SILVER', levelRank: 2 } },
    );
    // The writer dies at its next write to the member after the points: no separate level write gets through.
    const died = jest.spyOn(repos.members.model, 'updateOne').mockImplementation(() => {
      throw new Error('the writer died');
    });
    try {
      await graphql(
        hub.gatewayUrl,
        AWARD,
        { memberId: 'M0048', amount: 100, key: 'level-lag-M0048' },
        bearer(operatorToken),
      );
    } finally {
      died.mockRestore();
    }
    expect(await levelOf('M0048')).toEqual({ growthPoints: 5_050, level: { code: 'GOLD' } });
  });

  it('concurrent awards crossing several thresholds all count and leave the level their total reaches', async () => {
    await repos.members.model.updateOne(
      { _id: 'M0052' },
      { $set: { growthPoints: 0, levelCode: 'STANDARD', levelRank: 1 } },
    );
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        graphql(
          hub.gatewayUrl,
          AWARD,
          { memberId: 'M0052', amount: 200, key: `climb-M0052-${i}` },
          bearer(operatorToken),
        ),
      ),
    );
    expect(responses.flatMap((response) => response.errors ?? [])).toEqual([]);
    expect(await levelOf('M0052')).toEqual({ growthPoints: 6_000, level: { code: 'GOLD' } });
  });

  it('a lowered threshold raises the members who reach it at the next recovery pass; a raised one lowers no one', async () => {
    await repos.members.model.updateOne(
      { _id: 'M0049' },
      { $set: { growthPoints: 3_000, levelCode: 'SILVER', levelRank: 2 } },
    );
    try {
      await repos.levels.model.updateOne({ _id: 'GOLD' }, { $set: { threshold: 2_500 } });
      await recoverPoints(repos, testLogger);
      expect(await levelOf('M0049')).toEqual({ growthPoints: 3_000, level: { code: 'GOLD' } });
      // Raised past them again: they keep the level they reached, also through their next award.
      await repos.levels.model.updateOne({ _id: 'GOLD' }, { $set: { threshold: 6_000 } });
      const award = await graphql(
        hub.gatewayUrl,
        AWARD,
        { memberId: 'M0049', amount: 10, key: 'after-threshold-raised-M0049' },
        bearer(operatorToken),
      );
      expect(award.errors).toBeUndefined();
      expect(await levelOf('M0049')).toEqual({ growthPoints: 3_010, level: { code: 'GOLD' } });
    } finally {
      await repos.levels.model.updateOne({ _id: 'GOLD' }, { $set: { threshold: 5_000 } });
    }
  });
});

describe('a level an operator takes out or renames', () => {
  const VIEWER = '{ viewer { id growthPoints level { code rank } segmentCodes } }';
  const viewerOf = async (memberId: string) =>
    graphql(hub.gatewayUrl, VIEWER, {}, bearer(await clientToken(memberId, 'member')));
  const GOLD = { _id: 'GOLD', name: '金卡 Gold', rank: 3, threshold: 5_000 };

  afterAll(async () => {
    await repos.levels.model.deleteMany({ _id: { $in: ['GOLD', 'GOLD_CARD'] } });
    await repos.levels.model.create(GOLD);
    await repos.members.model.updateMany({ levelCode: 'GOLD_CARD' }, { $set: { levelCode: 'GOLD' } });
    await changedBehindTheHubsBack(hub.connections.members);
  });

  it('leaves its members at the level that replaced it, or the highest below it, never without one', async () => {
    for (const memberId of ['M0061', 'M0062'])
      await repos.members.model.updateOne(
        { _id: memberId },
        { $set: { growthPoints: 6_000, levelCode: 'GOLD', levelRank: 3 } },
      );
    const atGold = await repos.members.model.countDocuments({ levelCode: 'GOLD' });
    // GOLD renamed GOLD_CARD, the same rank and threshold.
    await repos.levels.model.deleteOne({ _id: 'GOLD' });
    await repos.levels.model.create({ ...GOLD, _id: 'GOLD_CARD' });
    await changedBehindTheHubsBack(hub.connections.members);
    const renamed = await viewerOf('M0061');
    expect(renamed.errors).toBeUndefined();
    expect(renamed.data?.viewer).toMatchObject({ id: 'M0061', level: { code: 'GOLD_CARD', rank: 3 } });
    // The recovery pass stores it, so that segments naming the level find its members.
    expect(await recoverPoints(repos, testLogger)).toMatchObject({ levelsReplaced: atGold });
    const [stored] = await repos.members.findByIds(['M0061']);
    expect(stored).toMatchObject({ levelCode: 'GOLD_CARD', levelRank: 3 });

    // Taken out with no level at its rank: the member keeps the highest level below it.
    await repos.levels.model.deleteOne({ _id: 'GOLD_CARD' });
    await repos.members.model.updateOne({ _id: 'M0062' }, { $set: { levelCode: 'GOLD', levelRank: 3 } });
    await changedBehindTheHubsBack(hub.connections.members);
    const removed = await viewerOf('M0062');
    expect(removed.errors).toBeUndefined();
    expect(removed.data?.viewer).toMatchObject({ id: 'M0062', level: { code: 'SILVER', rank: 2 } });
  });
});

describe('the points recovery pass', () => {
  /** An entry whose writer died after storing it, its lease long run out. */
  const died = (id: string, key: string, memberId: string, amount: number, kind: EntryKind = 'AWARD') => ({
    ...stuck(id, key, memberId),
    kind,
    amount,
    leaseUntil: new Date(Date.now() - 20 * 60_000),
  });
  const entriesOf = (memberId: string) =>
    repos.ledger.model.find({ memberId, idempotencyKey: { $regex: '^rec-' } }).lean();

  it('finishes entries whose writer died at any step, once, and abandons a spend no longer covered', async () => {
    const memberId = 'M0050';
    await repos.members.model.updateOne(
      { _id: memberId },
      { $set: { points: 1_000, growthPoints: 950, levelCode: 'STANDARD', levelRank: 1 } },
    );
    // Died after storing an award.
    await repos.ledger.model.create(died('PE-rec-stored', 'rec-stored-M0050', memberId, 70));
    // Died after applying an award (before awards moved the level with it), before marking it.
    await repos.ledger.model.create(died('PE-rec-applied', 'rec-applied-M0050', memberId, 30));
    await repos.members.applyPoints(memberId, 'PE-rec-applied', { points: 30, growthPoints: 30 });
    // Died after storing a spend the balance covers, one it does not, and a refund.
    await repos.ledger.model.create(died('PE-rec-spend', 'rec-spend-M0050', memberId, -400, 'SPEND'));
    await repos.ledger.model.create(
      died('PE-rec-overspend', 'rec-overspend-M0050', memberId, -5_000, 'SPEND'),
    );
    // A refund stored before refunds named their spend is finished as before.
    await repos.ledger.model.create(died('PE-rec-refund', 'rec-refund-M0050', memberId, 25, 'REFUND'));
    // A writer still within its lease is left alone.
    await repos.ledger.model.create({
      ...stuck('PE-rec-alive', 'rec-alive-M0050', memberId),
      leaseUntil: new Date(Date.now() + 30_000),
    });

    expect(await recoverPoints(repos, testLogger)).toMatchObject({ ran: true, abandoned: 1 });

    const entries = await entriesOf(memberId);
    expect(Object.fromEntries(entries.map((entry) => [entry._id, entry.state]))).toEqual({
      'PE-rec-stored': 'APPLIED',
      'PE-rec-applied': 'APPLIED',
      'PE-rec-spend': 'APPLIED',
      'PE-rec-refund': 'APPLIED',
      'PE-rec-alive': 'PENDING',
    });
    // The abandoned spend gave its key back, as a refused spend does.
    expect(await repos.ledger.countForKey('rec-overspend-M0050')).toBe(0);
    const applied = entries.filter((entry) => entry.state === 'APPLIED');
    const after = await balanceOf(memberId);
    expect(after.points).toBe(1_000 + applied.reduce((sum, entry) => sum + entry.amount, 0));
    expect(after.points).toBe(725);
    expect(after.growthPoints).toBe(1_050);
    for (const entry of applied) expect(after.applied.filter((id) => id === entry._id)).toHaveLength(1);
    const viewer = await graphql(
      hub.gatewayUrl,
      '{ viewer { points level { code } pointsLedger(first: 50) { id } } }',
      {},
      bearer(await clientToken(memberId, 'member')),
    );
    expect(viewer.data?.viewer).toMatchObject({ points: 725, level: { code: 'SILVER' } });
    const listed = (viewer.data?.viewer.pointsLedger as { id: string }[]).map((entry) => entry.id);
    expect(listed).toEqual(expect.arrayContaining(applied.map((entry) => entry._id)));
    expect(listed).not.toContain('PE-rec-alive');

    // A second pass finds nothing left to do.
    expect(await recoverPoints(repos, testLogger)).toMatchObject({ finished: 0, abandoned: 0 });
    expect(await balanceOf(memberId)).toEqual(after);
    await repos.ledger.model.deleteOne({ _id: 'PE-rec-alive' });
  });

  it('abandons a refund whose spend the refunds since gave back, giving its key back', async () => {
    const memberId = 'M0064';
    const points = engagementPoints();
    const move = { memberId, reason: 'points mall' };
    await points.move('awardPoints', { ...move, amount: 100, idempotencyKey: 'rec-credit-M0064' }, 'test');
    const spendId = await points.move(
      'spendPoints',
      { ...move, amount: 100, idempotencyKey: 'rec-spend-M0064' },
      'test',
    );
    // Its writer died before counting it against the spend; another refund took the room since.
    await repos.ledger.model.create({
      ...died('PE-rec-late-refund', 'rec-late-refund-M0064', memberId, 60, 'REFUND'),
      refundOf: spendId,
    });
    await points.refund(
      { ...move, spendKey: 'rec-spend-M0064', amount: 50, idempotencyKey: 'rec-refund-M0064' },
      'test',
    );
    const before = await balanceOf(memberId);
    expect(await recoverPoints(repos, testLogger)).toMatchObject({ ran: true, abandoned: 1 });
    expect(await repos.ledger.countForKey('rec-late-refund-M0064')).toBe(0);
    expect(await balanceOf(memberId)).toEqual(before);
    expect(await repos.ledger.findById(spendId)).toMatchObject({ refunded: 50 });
  });

  it.each([
    ['on time', 0],
    // Its clock behind, the pass's own lease on the entry lapses at once: the pass and the retry both own the entry.
    ['whose claim lapses at once', 10 * 60_000],
  ])('applies an entry once when a retry of its key runs during a pass %s', async (_, behindMs) => {
    const memberId = 'M0051';
    for (let i = 0; i < 5; i++) {
      const id = `PE-race-${behindMs}-${i}`;
      const key = `race-${behindMs}-${i}-M0051`;
      const before = await balanceOf(memberId);
      await repos.ledger.model.create(died(id, key, memberId, 70));
      const [, retry] = await Promise.all([
        recoverPoints(repos, testLogger, new Date(Date.now() - behindMs)),
        graphql(hub.gatewayUrl, AWARD, { memberId, amount: 70, key }, bearer(operatorToken)),
      ]);
      expect(retry.errors).toBeUndefined();
      expect(retry.data?.awardPoints.id).toBe(id);
      const after = await balanceOf(memberId);
      expect(after.points - before.points).toBe(70);
      expect(after.growthPoints - before.growthPoints).toBe(70);
      expect(after.applied.filter((applied) => applied === id)).toHaveLength(1);
      expect(await repos.ledger.findByKey(key)).toMatchObject({ state: 'APPLIED' });
    }
  });
});
