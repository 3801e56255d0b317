// Activities and tasks through the gateway: the activities a member may join with their progress, joining (and the
// refusals), progress that moves from tracked events within seconds and never counts an event twice, daily
// sign-in, and operators creating and checking activities.
import type { RunningHub } from '../scripts/hub';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { bearer, clientToken, errorCodes, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let engagement: EngagementRepositories;
let operator: Record<string, string>;

const DAY_MS = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub('activities', { config: { TASK_FEED_INTERVAL_MS: 250 } });
  engagement = await openEngagement(hub.connections.engagement);
  operator = bearer(await clientToken('ops.fang', 'operator'));
});

afterAll(() => stopTestHub(hub));

const member = async (id: string) => bearer(await clientToken(id, 'member'));

const MY_ACTIVITIES = `{
  viewer { activities { activity { id kind } joined tasks { task { id target } value completed rewarded } } }
}`;
const JOIN = `mutation ($id: ID!) {
  joinActivity(activityId: $id) { joined activity { id } tasks { task { id } value completed } }
}`;

let sequence = 0;
async function track(
  headers: Record<string, string>,
  events: { id?: string; name: string; at: Date; properties?: object }[],
  device = `activities-device-${++sequence}`,
) {
  const response = await graphql(
    hub.gatewayUrl,
    `
      mutation ($d: ID!, $e: [EventInput!]!) {
        trackEvents(deviceId: $d, events: $e) {
          accepted
          duplicates
        }
      }
    `,
    {
      d: device,
      e: events.map((event) => ({
        id: event.id ?? `act-${++sequence}-${Date.now().toString(36)}`,
        name: event.name,
        occurredAt: event.at.toISOString(),
        channel: 'APP',
        properties: event.properties ?? {},
      })),
    },
    headers,
  );
  return response.data?.trackEvents as { accepted: number; duplicates: number };
}

/** The member's progress on one task, polled until `until` holds (the feed hands events out two seconds behind). */
async function progressUntil(
  headers: Record<string, string>,
  activityId: string,
  taskId: string,
  until: (task: { value: number; completed: boolean; rewarded: boolean }) => boolean,
) {
  let last: { value: number; completed: boolean; rewarded: boolean } | undefined;
  for (let tries = 0; tries < 80; tries++) {
    const response = await graphql(hub.gatewayUrl, MY_ACTIVITIES, {}, headers);
    last = response.data?.viewer.activities
      .find((a: { activity: { id: string } }) => a.activity.id === activityId)
      ?.tasks.find((t: { task: { id: string } }) => t.task.id === taskId);
    if (last && until(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`progress of ${activityId}/${taskId} stopped at ${JSON.stringify(last)}`);
}

describe("a member's activities", () => {
  it('lists the running activities whose audience includes the member, with progress', async () => {
    const response = await graphql(hub.gatewayUrl, MY_ACTIVITIES, {}, await member('M0001'));
    expect(response.errors).toBeUndefined();
    const ids = response.data?.viewer.activities.map((a: { activity: { id: string } }) => a.activity.id);
    expect(ids).toEqual(expect.arrayContaining(['A-SIGNIN', 'A-NEWBIE', 'A-TRAVEL']));
    // Private banking clients only; at-risk members only.
    expect(ids).not.toContain('A-SALON');
    expect(ids).not.toContain('A-WINBACK');
    const newbie = response.data?.viewer.activities.find(
      (a: { activity: { id: string } }) => a.activity.id === 'A-NEWBIE',
    );
    expect(newbie).toMatchObject({
      joined: false,
      tasks: [{ task: { id: 'sign-in-7', target: 7 }, value: 0, completed: false }, { value: 0 }],
    });
    const wealthy = await graphql(hub.gatewayUrl, MY_ACTIVITIES, {}, await member('M0002'));
    expect(wealthy.data?.viewer.activities.map((a: { activity: { id: string } }) => a.activity.id)).toContain(
      'A-SALON',
    );
  });

  it("keeps a member's activities to themself and operators", async () => {
    const other = await graphql(
      hub.gatewayUrl,
      `
        {
          member(id: "M0001") {
            activities {
              joined
            }
          }
        }
      `,
      {},
      await member('M0002'),
    );
    expect(errorCodes(other)).toContain('FORBIDDEN');
    const asOperator = await graphql(
      hub.gatewayUrl,
      `
        {
          member(id: "M0001") {
            activities {
              joined
            }
          }
        }
      `,
      {},
      operator,
    );
    expect(asOperator.errors).toBeUndefined();
  });
});

describe('joining', () => {
  it('joins once, and refuses an ended activity, one outside the audience and an anonymous caller with a code', async () => {
    const headers = await member('M0003');
    const joined = await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }, headers);
    expect(joined.data?.joinActivity).toMatchObject({ joined: true, activity: { id: 'A-TRAVEL' } });
    const again = await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }, headers);
    expect(again.data?.joinActivity.joined).toBe(true);
    expect(await engagement.participations.model.countDocuments({ memberId: 'M0003' })).toBe(1);

    await engagement.activities.model.updateOne(
      { _id: 'A-DOUBLE11' },
      { $set: { endsAt: new Date(Date.now() - 1_000) } },
    );
    expect(errorCodes(await graphql(hub.gatewayUrl, JOIN, { id: 'A-DOUBLE11' }, headers))).toEqual([
      'ACTIVITY_ENDED',
    ]);
    expect(errorCodes(await graphql(hub.gatewayUrl, JOIN, { id: 'A-SALON' }, headers))).toEqual([
      'NOT_IN_AUDIENCE',
    ]);
    expect(errorCodes(await graphql(hub.gatewayUrl, JOIN, { id: 'A-NOPE' }, headers))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }))).toEqual(['UNAUTHENTICATED']);
    expect(await engagement.participations.model.countDocuments({ memberId: 'M0003' })).toBe(1);
  });
});

describe('progress from tracked events', () => {
  it('counts 7 distinct sign-in days, each sent twice, once, and counts nothing twice when the feed is read again', async () => {
    const headers = await member('M0001');
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-NEWBIE' }, headers);
    // Where the feed consumer stands before these events (it has read the feed at least once by now).
    let before: string | null = null;
    while (!before) {
      before = await engagement.cursors.get('tasks');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const days = Array.from({ length: 7 }, (_, back) => new Date(Date.now() - back * DAY_MS - 60_000));
    const events = days.map((at, i) => ({
      id: `newbie-sign-in-${i}-${Date.now().toString(36)}`,
      name: 'sign_in',
      at,
    }));
    expect(await track(headers, events, 'newbie-phone-1')).toMatchObject({ accepted: 7 });
    // The same events again (a retry: analytics stores them once) and another sign-in on each day (counted days).
    expect(await track(headers, events, 'newbie-phone-1')).toMatchObject({ accepted: 0, duplicates: 7 });
    expect(
      await track(
        headers,
        days.map((at) => ({ name: 'sign_in', at })),
      ),
    ).toMatchObject({ accepted: 7 });
    const done = await progressUntil(headers, 'A-NEWBIE', 'sign-in-7', (task) => task.rewarded);
    expect(done).toMatchObject({ value: 7, completed: true, rewarded: true });
    // The task's reward: the welcome coupon, granted once.
    const coupons = async () =>
      (
        await graphql(
          hub.gatewayUrl,
          `
            {
              viewer {
                claims {
                  benefit {
                    id
                  }
                  source
                  state
                }
              }
            }
          `,
          {},
          headers,
        )
      ).data?.viewer.claims.filter(
        (claim: { benefit: { id: string } }) => claim.benefit.id === 'B-WELCOME-50',
      );
    expect(await coupons()).toEqual([
      { benefit: { id: 'B-WELCOME-50' }, source: 'TASK_REWARD', state: 'CLAIMED' },
    ]);

    // A consumer that died before saving its cursor: the next one reads the same events again.
    await engagement.cursors.model.updateOne({ _id: 'tasks' }, { $set: { cursor: before } }).exec();
    for (let tries = 0; tries < 50; tries++) {
      if ((await engagement.cursors.get('tasks')) !== before) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await engagement.cursors.get('tasks')).not.toBe(before);
    const progress = await engagement.progress.model.findById('A-NEWBIE|sign-in-7|M0001').lean().exec();
    expect(progress).toMatchObject({ value: 7 });
    expect(progress?.days).toHaveLength(7);
    expect(await coupons()).toHaveLength(1);
  });

  it('counts only events that pass the conditions, and sums a property', async () => {
    const headers = await member('M0002');
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-SALON' }, headers);
    const now = new Date();
    await track(headers, [
      { name: 'live_watch', at: now, properties: { liveStreamId: 'L-1', seconds: 120 } },
      { name: 'live_watch', at: now, properties: { liveStreamId: 'L-1', seconds: 90 } },
    ]);
    expect(await progressUntil(headers, 'A-SALON', 'watch-5-min', (task) => task.value >= 210)).toMatchObject(
      {
        value: 210,
        completed: false,
      },
    );
    await track(headers, [
      { name: 'live_watch', at: now, properties: { liveStreamId: 'L-1', seconds: 100 } },
    ]);
    expect(await progressUntil(headers, 'A-SALON', 'watch-5-min', (task) => task.completed)).toMatchObject({
      value: 300,
      completed: true,
    });
  });

  it('does not count events from before the member joined', async () => {
    const headers = await member('M0004');
    await track(headers, [{ name: 'share', at: new Date(), properties: { contentId: 'T-GOLD' } }]);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }, headers);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const progress = await engagement.progress.model.findById('A-TRAVEL|share-1|M0004').lean().exec();
    expect(progress?.value ?? 0).toBe(0);
  });
});

describe('daily sign-in', () => {
  it('counts once a day in a joined INTERACTIVE activity, and only there', async () => {
    const headers = await member('M0005');
    const SIGN_IN = `mutation ($id: ID!) { dailySignIn(activityId: $id) { tasks { task { id } value } } }`;
    expect(errorCodes(await graphql(hub.gatewayUrl, SIGN_IN, { id: 'A-SIGNIN' }, headers))).toEqual([
      'FAILED_PRECONDITION',
    ]);
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-SIGNIN' }, headers);
    const first = await graphql(hub.gatewayUrl, SIGN_IN, { id: 'A-SIGNIN' }, headers);
    expect(first.data?.dailySignIn.tasks[0]).toEqual({ task: { id: 'sign-in-7' }, value: 1 });
    const second = await graphql(hub.gatewayUrl, SIGN_IN, { id: 'A-SIGNIN' }, headers);
    expect(second.data?.dailySignIn.tasks[0].value).toBe(1);
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }, headers);
    expect(errorCodes(await graphql(hub.gatewayUrl, SIGN_IN, { id: 'A-TRAVEL' }, headers))).toEqual([
      'FAILED_PRECONDITION',
    ]);
  });
});

describe('operators', () => {
  const CREATE = `mutation ($input: ActivityInput!) { createActivity(input: $input) { id status version tasks { id } } }`;
  const input = {
    title: '周末签到 Weekend sign-in',
    summary: 'Sign in on Saturday and Sunday.',
    imageUrl: 'https://cdn.example/weekend.jpg',
    kind: 'INTERACTIVE',
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '2027-01-01T00:00:00Z',
    tasks: [
      {
        id: 'weekend',
        title: 'Sign in twice',
        event: 'sign_in',
        measure: 'DISTINCT_DAYS',
        target: 2,
        reward: { points: 10 },
      },
    ],
  };

  it('creates a draft, audited, that members do not see', async () => {
    const created = await graphql(hub.gatewayUrl, CREATE, { input }, operator);
    expect(created.data?.createActivity).toMatchObject({
      status: 'DRAFT',
      version: 1,
      tasks: [{ id: 'weekend' }],
    });
    const id = created.data?.createActivity.id;
    const asMember = await graphql(
      hub.gatewayUrl,
      `
        query ($id: ID!) {
          activity(id: $id) {
            id
          }
        }
      `,
      { id },
      await member('M0001'),
    );
    expect(errorCodes(asMember)).toEqual(['NOT_FOUND']);
    const records = await engagement.audit.forTarget('ACTIVITY', id);
    expect(records[0]).toMatchObject({ actor: 'ops.fang', action: 'createActivity' });
  });

  it('refuses bad activities with a code naming the field, storing nothing', async () => {
    const before = await engagement.activities.model.countDocuments();
    const task = input.tasks[0]!;
    const cases: [Record<string, unknown>, string][] = [
      [{ tasks: [] }, 'input.tasks'],
      [{ tasks: [{ ...task, event: 'no_such_event' }] }, 'input.tasks[0].event'],
      [{ tasks: [{ ...task, target: 0 }] }, 'input.tasks[0].target'],
      [{ tasks: [{ ...task, reward: { points: 0 } }] }, 'input.tasks[0].reward'],
      [{ tasks: [{ ...task, measure: 'SUM' }] }, 'input.tasks[0].property'],
      [{ tasks: [task, task] }, 'input.tasks[1].id'],
      [
        { tasks: [{ ...task, where: [{ property: 'amount', op: 'gt', value: 'x' }] }] },
        'input.tasks[0].where[0].value',
      ],
      [{ endsAt: '2025-01-01T00:00:00Z' }, 'input.endsAt'],
      [{ imageUrl: 'javascript:alert(1)' }, 'input.imageUrl'],
      [{ rule: { field: 'attr.city', op: 'eq', value: 'x' } }, 'input.rule.field'],
    ];
    for (const [change, field] of cases) {
      const response = await graphql(hub.gatewayUrl, CREATE, { input: { ...input, ...change } }, operator);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    expect(errorCodes(await graphql(hub.gatewayUrl, CREATE, { input }, await member('M0001')))).toEqual([
      'FORBIDDEN',
    ]);
    expect(await engagement.activities.model.countDocuments()).toBe(before);
  });
});
