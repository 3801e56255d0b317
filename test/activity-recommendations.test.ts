// Recommended activities (活动任务智能推荐) through the gateway: engagement ranks the activities a member may join by
// analytics' activity ranking model — the kind their lifecycle stage favours, aimed at them, often completed, ending
// soon, joined already — never one they completed; an operator's new model version reorders them within
// SNAPSHOT_REFRESH_MS, a malformed one is refused and stores nothing, and with analytics down the defaults rank them.
import { DEFAULT_ACTIVITY_RANKING_MODEL, type ActivityRankingModel } from '@bank-hub/targeting';
import type { RunningHub } from '../scripts/hub';
import type { ActivityDoc, ActivityKind } from '../subgraphs/engagement/src/activities/model';
import { openRepositories as openEngagement } from '../subgraphs/engagement/src/models';
import { signInOnceActivity } from './support/activities';
import {
  bearer,
  changedBehindTheHubsBack,
  clientToken,
  errorCodes,
  graphql,
  testConfig,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;

const DAY_MS = 86_400_000;
/** When the test's activities start and end from: activities ending on the same day end at the same instant. */
const NOW = Date.now();
/** Seeded members whose stage the test sets; other seeded members complete an activity. */
const NEWCOMER = 'M0911';
const AT_RISK = 'M0912';
const EARNER = 'M0913';
const COMPLETERS = ['M0921', 'M0922', 'M0923', 'M0924'];
const DROPPED_OUT = 'M0925';

const RECOMMENDED = `query ($first: Int) {
  viewer { recommendedActivities(first: $first) { activity { id kind } score reasons progress { joined } } }
}`;
const OF_MEMBER = `query ($id: ID!) { member(id: $id) { recommendedActivities(first: 20) { activity { id } } } }`;
const PUBLISH = `mutation ($parameters: JSON!) {
  publishModelVersion(name: "activity-ranking", parameters: $parameters) { version status }
}`;
const LATEST = `{ models { name latestVersion activeVersion } }`;
const MODEL = `{ activityRankingModel { version kindWeights { stage financial interactive game } targetedWeight
  completionWeight endingSoonDays endingSoonWeight joinedWeight } }`;

const activity = (
  id: string,
  kind: ActivityKind,
  endsInDays: number,
  rule: ActivityDoc['rule'] = null,
): ActivityDoc => ({
  ...signInOnceActivity(id, new Date(NOW)),
  kind,
  rule,
  startsAt: new Date(NOW - DAY_MS),
  endsAt: new Date(NOW + endsInDays * DAY_MS),
});

const completedProgress = (activityId: string, memberId: string) => ({
  _id: `${activityId}|once|${memberId}`,
  activityId,
  taskId: 'once',
  memberId,
  value: 1,
  days: [],
  events: [],
  completedAt: new Date(),
  rewardedAt: new Date(),
});

type Recommendation = { activity: { id: string }; score: number; reasons: string[]; progress: unknown };

async function recommended(memberId: string, first?: number) {
  const response = await graphql(
    hub.gatewayUrl,
    RECOMMENDED,
    { first },
    bearer(await clientToken(memberId, 'member')),
  );
  expect(response.errors).toBeUndefined();
  return response.data?.viewer.recommendedActivities as Recommendation[];
}

const ids = (list: Recommendation[]) => list.map((entry) => entry.activity.id);
const ranked = (list: Recommendation[]) =>
  list.map(({ activity: { id }, score, reasons }) => ({ id, score, reasons }));

/** Asks until `until` holds of the member's recommendations (models are kept for SNAPSHOT_REFRESH_MS). */
async function recommendedUntil(memberId: string, until: (list: Recommendation[]) => boolean) {
  let last: Recommendation[] = [];
  for (let tries = 0; tries < 40; tries++) {
    last = await recommended(memberId, 20);
    if (until(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, testConfig.SNAPSHOT_REFRESH_MS));
  }
  throw new Error(`recommendations stayed ${JSON.stringify(ids(last))}`);
}

/**
 * Publishes a version of the model with FINANCIAL and INTERACTIVE swapped at every stage, and waits until the
 * newcomer's recommendations follow it: within a few times SNAPSHOT_REFRESH_MS.
 */
async function publishFlipped() {
  const flipped: ActivityRankingModel = {
    ...DEFAULT_ACTIVITY_RANKING_MODEL,
    kindWeights: DEFAULT_ACTIVITY_RANKING_MODEL.kindWeights.map((entry) => ({
      ...entry,
      financial: entry.interactive,
      interactive: entry.financial,
    })),
  };
  const published = await graphql(hub.gatewayUrl, PUBLISH, { parameters: flipped }, operator);
  expect(published.errors).toBeUndefined();
  expect(published.data?.publishModelVersion).toMatchObject({ status: 'ACTIVE' });
  const started = Date.now();
  const list = await recommendedUntil(NEWCOMER, (entries) => entries[0]?.activity.id === 'R-FIN');
  expect(Date.now() - started).toBeLessThan(10 * testConfig.SNAPSHOT_REFRESH_MS + 1_000);
  return list;
}

beforeAll(async () => {
  hub = await startTestHub('activity_recommendations');
  operator = bearer(await clientToken('ops.qin', 'operator'));
  const engagement = await openEngagement(hub.connections.engagement);
  // The test's own activities only: no seeded one competes.
  await engagement.activities.model.deleteMany({});
  await engagement.activities.model.insertMany([
    activity('R-INT', 'INTERACTIVE', 60),
    activity('R-FIN', 'FINANCIAL', 60),
    activity('R-GAME', 'GAME', 60),
    // For members of the win-back segment (at risk or churned) only.
    activity('R-GAME-AIMED', 'GAME', 60, { field: 'segment', op: 'eq', value: 'WIN_BACK' }),
    activity('R-DONE', 'INTERACTIVE', 20),
    activity('R-LAST', 'FINANCIAL', 2),
  ]);
  const members = hub.connections.members.collection('members');
  for (const [id, stage] of [
    [NEWCOMER, 'ACQUISITION'],
    [AT_RISK, 'AT_RISK'],
    [EARNER, 'REVENUE'],
  ])
    await members.updateOne({ _id: id as never }, { $set: { lifecycleStage: stage } });
  const joined = new Date(Date.now() - DAY_MS);
  // R-FIN: 4 of the 5 members who joined completed it. The newcomer completed R-DONE and joined R-GAME.
  await engagement.participations.model.insertMany(
    [
      ...[...COMPLETERS, DROPPED_OUT].map((memberId) => ['R-FIN', memberId]),
      ['R-DONE', NEWCOMER],
      ['R-GAME', NEWCOMER],
    ].map(([activityId, memberId]) => ({
      _id: `${activityId}|${memberId}`,
      activityId,
      memberId,
      joinedAt: joined,
    })),
  );
  await engagement.progress.model.insertMany([
    ...COMPLETERS.map((memberId) => completedProgress('R-FIN', memberId)),
    completedProgress('R-DONE', NEWCOMER),
    // The one who dropped out completed a task an edit has since taken out of R-FIN: it counts for nothing.
    {
      ...completedProgress('R-FIN', DROPPED_OUT),
      _id: `R-FIN|taken-out|${DROPPED_OUT}`,
      taskId: 'taken-out',
    },
  ]);
  await changedBehindTheHubsBack(hub.connections.engagement);
});

afterAll(() => stopTestHub(hub));

describe("a member's recommended activities", () => {
  it("puts first the kind the member's stage favours, with why, and never one the member completed", async () => {
    expect(ranked(await recommended(NEWCOMER, 20))).toEqual([
      { id: 'R-INT', score: 3, reasons: ['KIND_FITS_STAGE'] },
      // 1 for a FINANCIAL activity at ACQUISITION, and 2 × 0.8 for 4 of its 5 joiners completing it.
      { id: 'R-FIN', score: 2.6, reasons: ['OFTEN_COMPLETED'] },
      { id: 'R-LAST', score: 2, reasons: ['ENDING_SOON'] },
      { id: 'R-GAME', score: 1, reasons: ['ALREADY_JOINED'] },
    ]);
    expect(ids(await recommended(EARNER, 2))).toEqual(['R-FIN', 'R-LAST']);
  });

  it('ranks an activity aimed at the member above an open one of the same kind; ties go to the one ending sooner', async () => {
    expect(ranked(await recommended(AT_RISK, 20))).toEqual([
      { id: 'R-GAME-AIMED', score: 4.5, reasons: ['KIND_FITS_STAGE', 'AIMED_AT_MEMBER'] },
      { id: 'R-GAME', score: 3, reasons: ['KIND_FITS_STAGE'] },
      { id: 'R-FIN', score: 2.6, reasons: ['OFTEN_COMPLETED'] },
      { id: 'R-LAST', score: 2, reasons: ['ENDING_SOON'] },
      { id: 'R-DONE', score: 2, reasons: [] },
      { id: 'R-INT', score: 2, reasons: [] },
    ]);
    // Three unless asked for more.
    expect(ids(await recommended(AT_RISK))).toEqual(['R-GAME-AIMED', 'R-GAME', 'R-FIN']);
  });

  it("shows the member's progress on what they joined only", async () => {
    const list = await recommended(NEWCOMER, 20);
    expect(list.map(({ activity: { id }, progress }) => [id, progress])).toEqual([
      ['R-INT', null],
      ['R-FIN', null],
      ['R-LAST', null],
      ['R-GAME', { joined: true }],
    ]);
  });

  it.each([0, 21, -1])('refuses first: %s with BAD_USER_INPUT naming first', async (first) => {
    const response = await graphql(
      hub.gatewayUrl,
      RECOMMENDED,
      { first },
      bearer(await clientToken(NEWCOMER, 'member')),
    );
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.extensions?.field).toBe('first');
  });

  it("gives an operator any member's, another member none, and a guest an empty list", async () => {
    const asOperator = await graphql(hub.gatewayUrl, OF_MEMBER, { id: AT_RISK }, operator);
    expect(asOperator.errors).toBeUndefined();
    expect(
      asOperator.data?.member.recommendedActivities.map((a: { activity: { id: string } }) => a.activity.id),
    ).toEqual(['R-GAME-AIMED', 'R-GAME', 'R-FIN', 'R-LAST', 'R-DONE', 'R-INT']);
    const asOther = await graphql(
      hub.gatewayUrl,
      OF_MEMBER,
      { id: AT_RISK },
      bearer(await clientToken(NEWCOMER, 'member')),
    );
    expect(errorCodes(asOther)).toContain('FORBIDDEN');
    const asGuest = await graphql(
      hub.gatewayUrl,
      RECOMMENDED,
      {},
      { 'x-device-id': 'recommendations-guest' },
    );
    expect(asGuest.errors).toBeUndefined();
    expect(asGuest.data?.viewer.recommendedActivities).toEqual([]);
  });
});

describe('the activity ranking model', () => {
  it('shows operators the active version, and members nothing', async () => {
    const response = await graphql(hub.gatewayUrl, MODEL, {}, operator);
    expect(response.errors).toBeUndefined();
    expect(response.data?.activityRankingModel).toEqual({ version: 1, ...DEFAULT_ACTIVITY_RANKING_MODEL });
    const member = bearer(await clientToken(NEWCOMER, 'member'));
    expect(errorCodes(await graphql(hub.gatewayUrl, MODEL, {}, member))).toEqual(['FORBIDDEN']);
  });

  it.each<[string, (model: Record<string, unknown>) => unknown, RegExp]>([
    [
      'a stage missing',
      (model) => ({ ...model, kindWeights: (model.kindWeights as unknown[]).slice(1) }),
      /^kindWeights/,
    ],
    ['a weight far too large', (model) => ({ ...model, targetedWeight: 1e300 }), /^targetedWeight/],
    ['a fraction of a day', (model) => ({ ...model, endingSoonDays: 2.5 }), /^endingSoonDays/],
    ['a weight that is text', (model) => ({ ...model, joinedWeight: '-1' }), /^joinedWeight/],
  ])('refuses %s with BAD_USER_INPUT naming the field, storing nothing', async (_name, change, problem) => {
    const before = await graphql(hub.gatewayUrl, LATEST, {}, operator);
    const parameters = change(JSON.parse(JSON.stringify(DEFAULT_ACTIVITY_RANKING_MODEL)));
    const response = await graphql(hub.gatewayUrl, PUBLISH, { parameters }, operator);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.extensions?.field).toBe('parameters');
    expect(response.errors?.[0]?.message).toMatch(problem);
    const after = await graphql(hub.gatewayUrl, LATEST, {}, operator);
    expect(after.data).toEqual(before.data);
  });

  it('reorders the recommendations within SNAPSHOT_REFRESH_MS once an operator publishes new weights', async () => {
    const list = await publishFlipped();
    expect(ranked(list)).toEqual([
      { id: 'R-FIN', score: 4.6, reasons: ['KIND_FITS_STAGE', 'OFTEN_COMPLETED'] },
      { id: 'R-LAST', score: 4, reasons: ['KIND_FITS_STAGE', 'ENDING_SOON'] },
      // A tie: both end on the same day.
      { id: 'R-GAME', score: 1, reasons: ['ALREADY_JOINED'] },
      { id: 'R-INT', score: 1, reasons: [] },
    ]);
  });

  it('ranks by the defaults, and still answers, while analytics is down', async () => {
    await publishFlipped();
    await hub.stopSubgraph('analytics');
    const list = await recommendedUntil(NEWCOMER, (entries) => entries[0]?.activity.id === 'R-INT');
    expect(ids(list)).toEqual(['R-INT', 'R-FIN', 'R-LAST', 'R-GAME']);
  });
});
