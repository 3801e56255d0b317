// Tasks that sum money (SUM of purchase amounts), through the gateway: amounts add up exactly in whole cents — 0.7 + 0.1
// reaches 0.8, ten purchases of 0.1 at once reach 1 — and progress an older engagement kept as a float sum goes on from
// where it stood, rounded to cents once, counting nothing twice however many passes meet it.
import { BankCalendar, GraphClient, decodeFeedCursor, serviceIdentity } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import {
  openRepositories as openAnalytics,
  type AnalyticsRepositories,
} from '../subgraphs/analytics/src/models';
import type { ProgressDoc, TaskDoc } from '../subgraphs/engagement/src/activities/model';
import { countEvents } from '../subgraphs/engagement/src/activities/progress';
import type { CountedEvent } from '../subgraphs/engagement/src/activities/tasks';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { signInOnceActivity } from './support/activities';
import { bearer, clientToken, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let engagement: EngagementRepositories;
let analytics: AnalyticsRepositories;
let products: GraphClient;

beforeAll(async () => {
  hub = await startTestHub('money_tasks', { config: { TASK_FEED_INTERVAL_MS: 250 } });
  engagement = await openEngagement(hub.connections.engagement);
  analytics = await openAnalytics(hub.connections.analytics);
  products = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
});

afterAll(() => stopTestHub(hub));

/** Sums the amounts of completed wealth purchases in the bank's currency, up to `target`. */
const purchases = (id: string, target: number): TaskDoc => ({
  id,
  title: `Buy for ${target}`,
  event: 'flow_completed',
  where: [{ property: 'flowKey', op: 'eq', value: 'buy-wealth' }],
  measure: 'SUM',
  property: 'amount',
  currency: testConfig.BANK_CURRENCY,
  target,
  reward: { points: 1, benefitId: null },
});

/** A published activity of one purchase task, which `memberId` joined through the gateway. */
async function joinedPurchaseTask(activityId: string, memberId: string, target: number): Promise<void> {
  await engagement.activities.insert({
    ...signInOnceActivity(activityId, new Date()),
    kind: 'FINANCIAL',
    tasks: [purchases('buy', target)],
  });
  const joined = await graphql(
    hub.gatewayUrl,
    'mutation ($id: ID!) { joinActivity(activityId: $id) { joined } }',
    { id: activityId },
    bearer(await clientToken(memberId, 'member')),
  );
  expect(joined.errors).toBeUndefined();
}

let sequence = 0;
/** Products' word that `memberId` bought for `amount`, as products records it; the event's id at analytics. */
async function purchase(memberId: string, amount: number): Promise<string> {
  const id = `money-${++sequence}-${Date.now().toString(36)}`;
  const recorded = await products.query<{ recordMemberEvents: { accepted: number } }>(
    { identity: serviceIdentity('products') },
    `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted } }`,
    {
      events: [
        {
          id,
          name: 'flow_completed',
          memberId,
          occurredAt: new Date().toISOString(),
          channel: 'MINI_PROGRAM',
          properties: { flowKey: 'buy-wealth', amount, currency: testConfig.BANK_CURRENCY },
        },
      ],
    },
  );
  expect(recorded.data?.recordMemberEvents).toEqual({ accepted: 1 });
  return `svc.products:${id}`;
}

async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 120; tries++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until engagement's task feed has read past every one of the analytics events `ids`. */
async function counted(ids: readonly string[]): Promise<void> {
  await until(async () => {
    const cursor = await engagement.cursors.get('tasks');
    const events = await analytics.events.model
      .find({ _id: { $in: [...ids] } })
      .lean()
      .exec();
    if (!cursor || events.length !== ids.length) return false;
    const at = decodeFeedCursor(cursor, 'the task feed');
    return events.every(
      (event) =>
        at.at > event.receivedAt || (at.at.getTime() === event.receivedAt.getTime() && at.id >= event._id),
    );
  }, 'the task feed to read the purchases');
}

/** The task as the member sees it. */
async function shown(activityId: string, memberId: string) {
  const response = await graphql(
    hub.gatewayUrl,
    'query ($id: ID!) { activity(id: $id) { viewerProgress { tasks { target value completed } } } }',
    { id: activityId },
    bearer(await clientToken(memberId, 'member')),
  );
  expect(response.errors).toBeUndefined();
  return response.data?.activity.viewerProgress.tasks[0] as {
    target: number;
    value: number;
    completed: boolean;
  };
}

const stored = (activityId: string, memberId: string) =>
  engagement.progress.model.findById(`${activityId}|buy|${memberId}`).lean<ProgressDoc>().exec();

describe('a task summing purchase amounts', () => {
  it('completes at 0.8 with purchases of 0.7 and 0.1, which as floats add up to 0.7999999999999999', async () => {
    await joinedPurchaseTask('A-MONEY-08', 'M0002', 0.8);
    await counted([await purchase('M0002', 0.7), await purchase('M0002', 0.1)]);
    expect(await stored('A-MONEY-08', 'M0002')).toMatchObject({ cents: 80, completedAt: expect.any(Date) });
    expect(await shown('A-MONEY-08', 'M0002')).toEqual({ target: 0.8, value: 0.8, completed: true });
  });

  it('counts ten purchases of 0.1 made at once exactly: 1, its target', async () => {
    await joinedPurchaseTask('A-MONEY-TEN', 'M0003', 1);
    const ids = await Promise.all(Array.from({ length: 10 }, () => purchase('M0003', 0.1)));
    await counted(ids);
    expect(await stored('A-MONEY-TEN', 'M0003')).toMatchObject({ cents: 100, completedAt: expect.any(Date) });
    expect(await shown('A-MONEY-TEN', 'M0003')).toEqual({ target: 1, value: 1, completed: true });
  });

  it('goes on from a float sum an older engagement kept, rounded to cents', async () => {
    await joinedPurchaseTask('A-MONEY-OLD', 'M0004', 0.8);
    // Purchases of 0.1 and 0.2 as an older engagement counted them: a float value, no cents.
    await engagement.progress.model.collection.insertOne({
      _id: 'A-MONEY-OLD|buy|M0004' as never,
      activityId: 'A-MONEY-OLD',
      taskId: 'buy',
      memberId: 'M0004',
      value: 0.1 + 0.2,
      days: [],
      events: [],
      feedPosition: { at: new Date(Date.now() - 60_000), id: 'svc.products:earlier' },
      completedAt: null,
      rewardedAt: null,
    });
    expect(await shown('A-MONEY-OLD', 'M0004')).toEqual({ target: 0.8, value: 0.3, completed: false });
    await counted([await purchase('M0004', 0.5)]);
    expect(await stored('A-MONEY-OLD', 'M0004')).toMatchObject({ cents: 80, completedAt: expect.any(Date) });
    expect(await shown('A-MONEY-OLD', 'M0004')).toEqual({ target: 0.8, value: 0.8, completed: true });
  });
});

describe('float progress met by two passes over the feed at once', () => {
  it('is turned into cents once, and counts each event once', async () => {
    const activityId = 'A-MONEY-RACE';
    const memberId = 'M7301';
    await engagement.activities.insert({
      ...signInOnceActivity(activityId, new Date()),
      kind: 'FINANCIAL',
      tasks: [purchases('buy', 100)],
    });
    const joinedAt = new Date(Date.now() - 600_000);
    await engagement.participations.join(activityId, memberId, joinedAt);
    const at = (seconds: number) => new Date(joinedAt.getTime() + seconds * 1_000);
    const buy = (id: string, amount: number, seconds: number): CountedEvent => ({
      id,
      name: 'flow_completed',
      memberId,
      occurredAt: at(seconds),
      receivedAt: at(seconds),
      properties: { flowKey: 'buy-wealth', amount, currency: testConfig.BANK_CURRENCY },
      recordedBy: 'svc.products',
      fromFeed: true,
    });
    // An older engagement counted E-1 and E-2 (0.1 + 0.6) as a float, then died before saving its feed cursor.
    await engagement.progress.model.collection.insertOne({
      _id: `${activityId}|buy|${memberId}` as never,
      activityId,
      taskId: 'buy',
      memberId,
      value: 0.1 + 0.6,
      days: [],
      events: [],
      feedPosition: { at: at(2), id: 'E-2' },
      completedAt: null,
      rewardedAt: null,
    });
    const page = [buy('E-1', 0.1, 1), buy('E-2', 0.6, 2), ...[3, 4, 5, 6].map((i) => buy(`E-${i}`, 0.1, i))];
    const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
    const pass = () => countEvents(engagement, calendar, testConfig.BANK_CURRENCY, page, new Date());
    // Two passes read the page again at once (a pass that outlived its lease, and the one that took over).
    const moved = await Promise.all([pass(), pass(), pass()]);
    expect(moved.reduce((total, n) => total + n, 0)).toBe(4);
    expect(await stored(activityId, memberId)).toMatchObject({
      value: 0.1 + 0.6,
      cents: 110,
      feedPosition: { id: 'E-6' },
      completedAt: null,
    });
    // Once more: nothing moves.
    expect(await pass()).toBe(0);
    expect((await stored(activityId, memberId))?.cents).toBe(110);
  });
});
