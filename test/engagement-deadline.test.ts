// A claim or purchase whose key is still in progress — at engagement (another writer of the claim) or at members (the
// spend under the claim's key) — is answered CONFLICT (retry later) within the gateway's own time for a subgraph
// request (SUBGRAPH_TIMEOUT_MS, its default here), not SERVICE_UNAVAILABLE when that runs out first; and a daily
// sign-in whose reward members still has in progress answers the member's progress in that time; and a claim whose
// member members is slow to confirm gives up by then, whoever else waits longer for the same question.
import { createHash } from 'node:crypto';
import { BankCalendar, DEADLINE_HEADER, ON_BEHALF_OF_HEADER, Scope, signOnBehalfOf } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import {
  argumentsHash,
  claimIdOf,
  claimRequestId,
} from '../subgraphs/engagement/src/benefits/domain/claiming';
import type { ClaimSource } from '../subgraphs/engagement/src/benefits/models/claim';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { openRepositories as openMembers, type MembersRepositories } from '../subgraphs/members/src/models';
import { signInOnceActivity } from './support/activities';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { bearer, clientToken, errorCodes, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { startDelayingProxy, type DelayingProxy } from './support/proxy';

let hub: RunningHub;
let engagement: EngagementRepositories;
let members: MembersRepositories;
let membersProxy: DelayingProxy;

beforeAll(async () => {
  membersProxy = await startDelayingProxy();
  hub = await startTestHub('claims_deadline', {
    routeSubgraph: (name, url) => (name === 'members' ? membersProxy.routeTo(url) : url),
  });
  engagement = await openEngagement(hub.connections.engagement);
  members = await openMembers(hub.connections.members);
  await insertBenefits(hub.connections.engagement, [
    publishedBenefit('B-DEADLINE-COUPON'),
    publishedBenefit('B-DEADLINE-MALL', { kind: 'POINTS_PRODUCT', pointsCost: 10 }),
  ]);
});

afterAll(async () => {
  await stopTestHub(hub);
  await membersProxy.stop();
});

afterEach(() => {
  membersProxy.delayMs = 0;
});

const CLAIM = `mutation ($id: ID!, $key: String!) { claimBenefit(benefitId: $id, idempotencyKey: $key) { id } }`;
const REDEEM = `mutation ($id: ID!, $key: String!) { redeemPoints(productId: $id, idempotencyKey: $key) { id } }`;

const as = async (memberId: string) => bearer(await clientToken(memberId, 'member'));

/** Another writer of the member's key, holding its lease (still working on the claim) until `leaseUntil`. */
async function claimInProgress(
  memberId: string,
  source: ClaimSource,
  benefitId: string,
  key: string,
  leaseUntil = new Date(Date.now() + 60_000),
) {
  const id = claimRequestId(memberId, source, key);
  await engagement.claimRequests.model.create({
    _id: id,
    memberId,
    source,
    argumentsHash: argumentsHash({ benefitId }),
    benefitId,
    claimId: claimIdOf(id),
    pointsCost: source === 'POINTS' ? 10 : 0,
    createdAt: new Date(),
    holder: 'another-writer',
    leaseUntil,
    outcome: null,
  });
}

describe('a key whose claim another writer still works on', () => {
  it('answers claimBenefit CONFLICT before the gateway stops waiting for engagement', async () => {
    await claimInProgress('M0071', 'CLAIM', 'B-DEADLINE-COUPON', 'claim-in-progress-1');
    const response = await graphql(
      hub.gatewayUrl,
      CLAIM,
      { id: 'B-DEADLINE-COUPON', key: 'claim-in-progress-1' },
      await as('M0071'),
    );
    expect(errorCodes(response)).toEqual(['CONFLICT']);
    expect(response.errors?.[0]?.extensions).toMatchObject({ field: 'idempotencyKey' });
  });

  it('answers redeemPoints CONFLICT before the gateway stops waiting for engagement, spending nothing', async () => {
    const [before] = await members.members.findByIds(['M0072']);
    await claimInProgress('M0072', 'POINTS', 'B-DEADLINE-MALL', 'redeem-in-progress-1');
    const response = await graphql(
      hub.gatewayUrl,
      REDEEM,
      { id: 'B-DEADLINE-MALL', key: 'redeem-in-progress-1' },
      await as('M0072'),
    );
    expect(errorCodes(response)).toEqual(['CONFLICT']);
    const [after] = await members.members.findByIds(['M0072']);
    expect(after?.points).toBe(before?.points);
  });
});

describe("a purchase whose spend members still has in progress under the claim's key", () => {
  it('answers CONFLICT before the gateway stops waiting for engagement; a retry after its writer died buys once', async () => {
    const [before] = await members.members.findByIds(['M0073']);
    const key = 'redeem-spend-in-progress';
    const requestId = claimRequestId('M0073', 'POINTS', key);
    // The purchase's first writer is paying: its lease at engagement runs out in a second (it died), while the spend it
    // sent is still being applied at members. A retry takes the purchase over after that second and pays under the
    // same key, so members has less than the gateway's whole time left to answer it.
    await claimInProgress('M0073', 'POINTS', 'B-DEADLINE-MALL', key, new Date(Date.now() + 1_000));
    await members.ledger.model.create({
      _id: 'PE-redeem-spend-in-progress',
      memberId: 'M0073',
      kind: 'SPEND',
      amount: -10,
      reason: 'points mall: B-DEADLINE-MALL',
      idempotencyKey: `spend:${claimIdOf(requestId)}`,
      state: 'PENDING',
      leaseUntil: new Date(Date.now() + 60_000),
      balanceAfter: null,
      levelAfter: null,
      createdAt: new Date(),
      createdBy: 'svc.engagement',
    });
    const response = await graphql(hub.gatewayUrl, REDEEM, { id: 'B-DEADLINE-MALL', key }, await as('M0073'));
    expect(errorCodes(response)).toEqual(['CONFLICT']);
    const [after] = await members.members.findByIds(['M0073']);
    expect(after?.points).toBe(before?.points);
    expect(await engagement.claims.findByIds([claimIdOf(requestId)])).toEqual([]);
    // The spend's writer at members died too: a retry of the purchase finishes that spend, once, and claims.
    await members.ledger.model.updateOne({ _id: 'PE-redeem-spend-in-progress' }, { leaseUntil: new Date(0) });
    const retried = await graphql(hub.gatewayUrl, REDEEM, { id: 'B-DEADLINE-MALL', key }, await as('M0073'));
    expect(retried.errors).toBeUndefined();
    expect(retried.data?.redeemPoints.id).toBe(claimIdOf(requestId));
    const [paid] = await members.members.findByIds(['M0073']);
    expect(paid?.points).toBe(before!.points - 10);
  });
});

describe('a daily sign-in whose task rewards members still has in progress', () => {
  it("answers the member's progress before the gateway stops waiting for engagement, the rewards left for later", async () => {
    const now = new Date();
    const activityId = 'A-DEADLINE-SIGN-IN';
    await engagement.activities.model.create(
      signInOnceActivity(activityId, now, { taskIds: ['first', 'second'], points: 5 }),
    );
    await engagement.participations.join(activityId, 'M0074', new Date(now.getTime() - 60_000));
    const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 40);
    // Today's sign-in completed both tasks; each reward's award is still being applied at members by a background
    // pass that holds its lease there. The sign-in grants the member's rewards in turn: the second is asked of members
    // only once the first answered.
    for (const taskId of ['first', 'second']) {
      const progressId = `${activityId}|${taskId}|M0074`;
      await engagement.progress.model.create({
        _id: progressId,
        activityId,
        taskId,
        memberId: 'M0074',
        value: 1,
        days: [new BankCalendar(testConfig.BANK_TIME_ZONE).dayOf(now)],
        events: [],
        completedAt: now,
        reward: { points: 5, benefitId: null },
        rewardedAt: null,
      });
      await members.ledger.model.create({
        _id: `PE-sign-in-reward-in-progress-${taskId}`,
        memberId: 'M0074',
        kind: 'AWARD',
        amount: 5,
        reason: `task ${taskId} of activity ${activityId}`,
        idempotencyKey: `reward:${sha(`M0074|TASK_REWARD|task:${sha(progressId)}`)}`,
        state: 'PENDING',
        leaseUntil: new Date(Date.now() + 60_000),
        balanceAfter: null,
        levelAfter: null,
        createdAt: now,
        createdBy: 'svc.engagement',
      });
    }
    const response = await graphql(
      hub.gatewayUrl,
      `
        mutation ($id: ID!) {
          dailySignIn(activityId: $id) {
            tasks {
              completed
              rewarded
            }
          }
        }
      `,
      { id: activityId },
      await as('M0074'),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.dailySignIn.tasks).toEqual([
      { completed: true, rewarded: false },
      { completed: true, rewarded: false },
    ]);
    // The first reward took the request's time and waits out its backoff; the second, with too little time left to
    // ask members, was not tried: it is the background pass's at once, with no failure counted against it.
    const progress = await engagement.progress.model
      .find({ _id: { $in: ['first', 'second'].map((taskId) => `${activityId}|${taskId}|M0074`) } })
      .sort({ _id: 1 })
      .lean();
    expect(progress.map((p) => [p.taskId, p.rewardAttempts, p.rewardRetryAt !== null])).toEqual([
      ['first', 1, true],
      ['second', 0, false],
    ]);
  });
});

describe('a claim whose member members is slow to confirm', () => {
  it('answers SERVICE_UNAVAILABLE by its own deadline, storing nothing, though a more patient claim waits on the same question', async () => {
    const key = 'slow-members-claim-1';
    // A claim with less time than the gateway's for a subgraph request: made by a subgraph on the member's behalf,
    // with its caller's nearer deadline.
    const hurried = async () => ({
      [ON_BEHALF_OF_HEADER]: await signOnBehalfOf(
        { subject: 'M0075', scopes: new Set([Scope.MEMBER]) },
        testConfig.SUBGRAPH_SECRET,
      ),
      [DEADLINE_HEADER]: String(Date.now() + 1_500),
    });
    const asked = membersProxy.counts.received;
    // Members answers after the hurried claim's deadline, before the patient one's (the gateway's default).
    membersProxy.delayMs = 2_000;
    // Both sent at once, their tokens made before, so that engagement asks about both in one question.
    const patient = await as('M0076');
    const started = Date.now();
    const hurriedHeaders = await hurried();
    const [refused, claimed] = await Promise.all([
      graphql(hub.gatewayUrl, CLAIM, { id: 'B-DEADLINE-COUPON', key }, hurriedHeaders).then((response) => ({
        response,
        after: Date.now() - started,
      })),
      graphql(hub.gatewayUrl, CLAIM, { id: 'B-DEADLINE-COUPON', key: 'slow-members-claim-2' }, patient),
    ]);
    // Both members were asked about in one question.
    expect(membersProxy.counts.received - asked).toBe(1);
    expect(claimed.errors).toBeUndefined();
    // Engagement's own answer (members named, not the gateway's timeout of engagement), given before members answered
    // the question: the hurried claim did not wait for the patient one's answer.
    expect(refused.after).toBeLessThan(2_000);
    expect(refused.response.errors?.[0]?.extensions).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      serviceName: 'members',
    });
    expect(await engagement.claimRequests.model.countDocuments({ memberId: 'M0075' })).toBe(0);
    expect(await engagement.claims.model.countDocuments({ memberId: 'M0075' })).toBe(0);
    // Members' late answer was remembered: the member's retry goes through without asking members again.
    membersProxy.delayMs = 0;
    const retried = await graphql(hub.gatewayUrl, CLAIM, { id: 'B-DEADLINE-COUPON', key }, await as('M0075'));
    expect(retried.errors).toBeUndefined();
    expect(membersProxy.counts.received - asked).toBe(1);
  });
});
