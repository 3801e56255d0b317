// The bank's own currency (BANK_CURRENCY), through the gateway: in a bank keeping USD, a task an operator writes to sum
// purchase amounts without naming a currency reads USD, and so does one stored before tasks named one — a purchase in
// CNY counts towards neither.
import { GraphClient, decodeFeedCursor, serviceIdentity } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import {
  openRepositories as openAnalytics,
  type AnalyticsRepositories,
} from '../subgraphs/analytics/src/models';
import type { TaskDoc } from '../subgraphs/engagement/src/activities/model';
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

beforeAll(async () => {
  hub = await startTestHub('bank_currency', { config: { BANK_CURRENCY: 'USD', TASK_FEED_INTERVAL_MS: 250 } });
  engagement = await openEngagement(hub.connections.engagement);
  analytics = await openAnalytics(hub.connections.analytics);
});

afterAll(() => stopTestHub(hub));

const WORKFLOW = `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
  engagementWorkflow(type: ACTIVITY, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
}`;
const TASKS = `query ($id: ID!) { activity(id: $id) { tasks { id currency } } }`;

/** Sums the amounts of completed wealth purchases; names no currency. */
const purchases = {
  id: 'buy',
  title: 'Buy wealth products',
  event: 'flow_completed',
  where: [{ property: 'flowKey', op: 'eq', value: 'buy-wealth' }],
  measure: 'SUM',
  property: 'amount',
  target: 100_000,
  reward: { points: 10 },
};

async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 120; tries++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('a bank keeping USD', () => {
  it('counts USD purchases, not CNY ones, towards an amount task that names no currency', async () => {
    const operator = bearer(await clientToken('ops.fang', 'operator'));
    const created = await graphql(
      hub.gatewayUrl,
      `
        mutation ($input: ActivityInput!) {
          createActivity(input: $input) {
            id
            tasks {
              id
              currency
            }
          }
        }
      `,
      {
        input: {
          title: 'Wealth week',
          summary: 'Buy wealth products.',
          imageUrl: 'https://cdn.example/wealth.jpg',
          kind: 'FINANCIAL',
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '2030-01-01T00:00:00Z',
          tasks: [purchases],
        },
      },
      operator,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createActivity.tasks).toEqual([{ id: 'buy', currency: 'USD' }]);
    const written = created.data?.createActivity.id as string;
    const submitted = await graphql(hub.gatewayUrl, WORKFLOW, { id: written, step: 'SUBMIT' }, operator);
    expect(submitted.errors).toBeUndefined();
    const approved = await graphql(
      hub.gatewayUrl,
      WORKFLOW,
      { id: written, step: 'APPROVE', expectedVersion: submitted.data?.engagementWorkflow.version },
      bearer(await clientToken('ops.bo', 'operator')),
    );
    expect(approved.errors).toBeUndefined();
    // The same task stored before tasks named a currency.
    const stored: TaskDoc = {
      ...purchases,
      where: [{ property: 'flowKey', op: 'eq', value: 'buy-wealth' }],
      measure: 'SUM',
      reward: { points: 10, benefitId: null },
    };
    await engagement.activities.insert({
      ...signInOnceActivity('A-USD-STORED', new Date()),
      kind: 'FINANCIAL',
      tasks: [stored],
    });
    const stock = await graphql(hub.gatewayUrl, TASKS, { id: 'A-USD-STORED' }, operator);
    expect(stock.data?.activity.tasks).toEqual([{ id: 'buy', currency: 'USD' }]);

    const headers = bearer(await clientToken('M0002', 'member'));
    for (const id of [written, 'A-USD-STORED']) {
      const joined = await graphql(
        hub.gatewayUrl,
        'mutation ($id: ID!) { joinActivity(activityId: $id) { joined } }',
        { id },
        headers,
      );
      expect(joined.errors).toBeUndefined();
    }
    // Products' word on two purchases: 20,000 CNY and 700 USD.
    const products = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const suffix = Date.now().toString(36);
    const purchase = (id: string, amount: number, currency: string) => ({
      id,
      name: 'flow_completed',
      memberId: 'M0002',
      occurredAt: new Date().toISOString(),
      channel: 'MINI_PROGRAM',
      properties: { flowKey: 'buy-wealth', amount, currency },
    });
    const recorded = await products.query<{ recordMemberEvents: { accepted: number } }>(
      { identity: serviceIdentity('products') },
      `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted } }`,
      { events: [purchase(`cny-${suffix}`, 20_000, 'CNY'), purchase(`usd-${suffix}`, 700, 'USD')] },
    );
    expect(recorded.data?.recordMemberEvents).toEqual({ accepted: 2 });
    // Until the task feed has read past both.
    const ids = [`svc.products:cny-${suffix}`, `svc.products:usd-${suffix}`];
    await until(async () => {
      const cursor = await engagement.cursors.get('tasks');
      const events = await analytics.events.model
        .find({ _id: { $in: ids } })
        .lean()
        .exec();
      if (!cursor || events.length !== 2) return false;
      const at = decodeFeedCursor(cursor, 'the task feed');
      return events.every(
        (event) =>
          at.at > event.receivedAt || (at.at.getTime() === event.receivedAt.getTime() && at.id >= event._id),
      );
    }, 'the task feed to read both purchases');
    const progress = await engagement.progress.model
      .find({ memberId: 'M0002', taskId: 'buy', activityId: { $in: [written, 'A-USD-STORED'] } })
      .lean()
      .exec();
    // Sums of money are counted in cents.
    expect(progress.map((p) => p.cents)).toEqual([70_000, 70_000]);
  });
});
