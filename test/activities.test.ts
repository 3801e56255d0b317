// Activities and tasks through the gateway: the activities a member may join with their progress, joining (and the
// refusals), progress that moves from tracked events within seconds and never counts an event twice, daily
// sign-in, and operators creating and checking activities.
import { createHash } from 'node:crypto';
import { AuditLog, BankCalendar, ErrorCode, addDays, hubError } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { grantPendingRewards } from '../subgraphs/engagement/src/activities/progress';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import type { Reward, RewardGranter } from '../subgraphs/engagement/src/rewards';
import { signInOnceActivity } from './support/activities';
import { insertBenefits, publishedBenefit } from './support/benefits';
import {
  bearer,
  clientToken,
  dropAndClose,
  errorCodes,
  graphql,
  testConfig,
  testDatabase,
  testLogger,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let engagement: EngagementRepositories;
let operator: Record<string, string>;

const DAY_MS = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub('activities', { config: { TASK_FEED_INTERVAL_MS: 250 } });
  engagement = await openEngagement(hub.connections.engagement);
  operator = bearer(await clientToken('ops.fang', 'operator'));
  await insertBenefits(hub.connections.engagement, [
    publishedBenefit('B-ACT-ONCE'),
    publishedBenefit('B-ACT-SOON-GONE'),
    publishedBenefit('B-ACT-GONE'),
  ]);
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

  it('refuses a member an activity’s operator fields one by one, keeping the activities', async () => {
    const document = `{ viewer { activities { activity { id title status version participants } } } }`;
    const response = await graphql(hub.gatewayUrl, document, {}, await member('M0001'));
    const activities = response.data?.viewer.activities as {
      activity: { id: string; title: string; status: null; version: null; participants: null };
    }[];
    expect(activities.length).toBeGreaterThanOrEqual(3);
    for (const { activity } of activities)
      expect(activity).toEqual({
        id: expect.any(String),
        title: expect.any(String),
        status: null,
        version: null,
        participants: null,
      });
    const refused = (response.errors ?? []).map((error) => [error.path?.join('.'), error.extensions?.code]);
    expect(refused).toHaveLength(activities.length * 3);
    expect(refused).toEqual(
      expect.arrayContaining(
        ['status', 'version', 'participants'].map((field) => [
          `viewer.activities.0.activity.${field}`,
          'FORBIDDEN',
        ]),
      ),
    );
    const asOperator = await graphql(
      hub.gatewayUrl,
      `
        {
          member(id: "M0001") {
            activities {
              activity {
                status
                version
                participants
              }
            }
          }
        }
      `,
      {},
      operator,
    );
    expect(asOperator.errors).toBeUndefined();
    expect(asOperator.data?.member.activities[0].activity).toEqual({
      status: 'PUBLISHED',
      version: expect.any(Number),
      participants: expect.any(Number),
    });
  });

  describe("on the page's activity cards", () => {
    const PAGE_CARDS = `{
      viewer {
        page(channel: APP, key: "home") {
          slots {
            items {
              ... on ActivityCard { activity { id viewerProgress { joined tasks { task { id } value completed } } } }
            }
          }
        }
      }
    }`;
    type Card = { activity: { id: string; viewerProgress: { joined: boolean } | null } };
    const cardsOf = (response: Awaited<ReturnType<typeof graphql>>): Card[] => {
      expect(response.errors).toBeUndefined();
      return (response.data?.viewer.page.slots as { items: Partial<Card>[] }[])
        .flatMap((slot) => slot.items)
        .filter((item): item is Card => item.activity !== undefined);
    };

    it("shows the member's own progress in the page's one query", async () => {
      const headers = await member('M0011');
      const before = cardsOf(await graphql(hub.gatewayUrl, PAGE_CARDS, {}, headers));
      expect(before.length).toBeGreaterThan(0);
      expect(before.map((card) => card.activity.viewerProgress?.joined)).toEqual(before.map(() => false));
      const { id } = before[0]!.activity;
      expect((await graphql(hub.gatewayUrl, JOIN, { id }, headers)).errors).toBeUndefined();

      const after = cardsOf(await graphql(hub.gatewayUrl, PAGE_CARDS, {}, headers));
      const mine = (await graphql(hub.gatewayUrl, MY_ACTIVITIES, {}, headers)).data?.viewer.activities.find(
        (entry: { activity: { id: string } }) => entry.activity.id === id,
      );
      const card = after.find((candidate) => candidate.activity.id === id)!;
      expect(card.activity.viewerProgress).toEqual({
        joined: true,
        tasks: mine.tasks.map((task: { task: { id: string }; value: number; completed: boolean }) => ({
          task: { id: task.task.id },
          value: task.value,
          completed: task.completed,
        })),
      });
      // Another member's page says nothing of it.
      const others = cardsOf(await graphql(hub.gatewayUrl, PAGE_CARDS, {}, await member('M0012')));
      expect(others.find((candidate) => candidate.activity.id === id)?.activity.viewerProgress?.joined).toBe(
        false,
      );
    });

    it('is null for a guest and for an operator', async () => {
      const guest = cardsOf(
        await graphql(hub.gatewayUrl, PAGE_CARDS, {}, { 'x-device-id': 'activities-guest' }),
      );
      expect(guest.map((card) => card.activity.viewerProgress)).toEqual(guest.map(() => null));
      const asOperator = await graphql(
        hub.gatewayUrl,
        `
          {
            activity(id: "A-SIGNIN") {
              id
              viewerProgress {
                joined
              }
            }
          }
        `,
        {},
        operator,
      );
      expect(asOperator.errors).toBeUndefined();
      expect(asOperator.data?.activity).toEqual({ id: 'A-SIGNIN', viewerProgress: null });
    });
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

  it('refuses a token whose member members does not know, even for an activity open to everyone', async () => {
    const stranger = await member('M9995');
    expect(errorCodes(await graphql(hub.gatewayUrl, JOIN, { id: 'A-SIGNIN' }, stranger))).toEqual([
      'FORBIDDEN',
    ]);
    expect(await engagement.participations.model.countDocuments({ memberId: 'M9995' })).toBe(0);
  });
});

describe('progress from tracked events', () => {
  it('counts a day once however often it is sent, on the day it arrived, and counts nothing twice when the feed is read again', async () => {
    const headers = await member('M0001');
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-NEWBIE' }, headers);
    // Where the feed consumer stands before these events (it has read the feed at least once by now).
    let before: string | null = null;
    while (!before) {
      before = await engagement.cursors.get('tasks');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The events must arrive on the day the run below reaches up to: not across the bank's midnight.
    const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
    const untilMidnight = calendar.endOf(calendar.dayOf(new Date())).getTime() - Date.now();
    if (untilMidnight < 30_000) await new Promise((resolve) => setTimeout(resolve, untilMidnight + 1_000));
    // Signed in on the six days up to yesterday (the task counts 7 in a row); today's makes the seventh.
    const today = calendar.dayOf(new Date());
    await engagement.progress.model.create({
      _id: 'A-NEWBIE|sign-in-7|M0001',
      activityId: 'A-NEWBIE',
      taskId: 'sign-in-7',
      memberId: 'M0001',
      value: 6,
      runs: [`${addDays(today, -6)}/${addDays(today, -1)}`],
    });
    // Six sign-ins sent today, the device dating them one per day back, the oldest first: they count on today, the
    // day they arrived, once — counted by the days the device says, they would have added nothing to the run.
    const days = Array.from({ length: 6 }, (_, i) => new Date(Date.now() - (6 - i) * DAY_MS));
    const events = days.map((at, i) => ({
      id: `newbie-sign-in-${i}-${Date.now().toString(36)}`,
      name: 'sign_in',
      at,
    }));
    expect(await track(headers, events, 'newbie-phone-1')).toMatchObject({ accepted: 6 });
    // The same events again (a retry: analytics stores them once) and another sign-in dated each day.
    expect(await track(headers, events, 'newbie-phone-1')).toMatchObject({ accepted: 0, duplicates: 6 });
    expect(
      await track(
        headers,
        days.map((at) => ({ name: 'sign_in', at })),
      ),
    ).toMatchObject({ accepted: 6 });
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
    expect(progress).toMatchObject({ value: 7, runs: [`${addDays(today, -6)}/${today}`] });
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
    // Another member's share, sent after M0004 joined, shows how far the feed consumer has read: the feed hands events
    // out in the order analytics received them, so once that share counts, M0004's earlier one was read too.
    const marker = await member('M0006');
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }, marker);
    await track(headers, [{ name: 'share', at: new Date(), properties: { contentId: 'T-GOLD' } }]);
    // The join lands within the two seconds the feed holds the share back: the consumer reads it as one that arrived
    // before the join (on a machine too slow for that, as one of a member not yet joined: counted neither way).
    await graphql(hub.gatewayUrl, JOIN, { id: 'A-TRAVEL' }, headers);
    await track(marker, [{ name: 'share', at: new Date(), properties: { contentId: 'T-GOLD' } }]);
    await progressUntil(marker, 'A-TRAVEL', 'share-1', (task) => task.completed);
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

const CREATE = `mutation ($input: ActivityInput!) { createActivity(input: $input) { id status version tasks { id } } }`;
const WORKFLOW = `mutation ($id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
  engagementWorkflow(type: ACTIVITY, id: $id, step: $step, expectedVersion: $expectedVersion) { status version }
}`;
const SIGN_IN = `mutation ($id: ID!) { dailySignIn(activityId: $id) { tasks { completed rewarded } } }`;

/** A running INTERACTIVE activity whose one task a single daily sign-in completes, with `reward`. */
const signInOnce = (reward: Record<string, unknown>) => ({
  title: 'Sign in once',
  summary: 'Sign in once.',
  imageUrl: 'https://cdn.example/once.jpg',
  kind: 'INTERACTIVE',
  startsAt: '2026-01-01T00:00:00Z',
  endsAt: '2030-01-01T00:00:00Z',
  tasks: [{ id: 'once', title: 'Sign in', event: 'sign_in', measure: 'DISTINCT_DAYS', target: 1, reward }],
});

/** Creates an activity as ops.fang and submits it; ops.bo approves it unless told not to. */
async function publish(input: object, approve = true): Promise<string> {
  const created = await graphql(hub.gatewayUrl, CREATE, { input }, operator);
  expect(created.errors).toBeUndefined();
  const id = created.data?.createActivity.id as string;
  const submitted = await graphql(hub.gatewayUrl, WORKFLOW, { id, step: 'SUBMIT' }, operator);
  expect(submitted.errors).toBeUndefined();
  if (approve) {
    const approved = await graphql(
      hub.gatewayUrl,
      WORKFLOW,
      { id, step: 'APPROVE', expectedVersion: submitted.data?.engagementWorkflow.version },
      bearer(await clientToken('ops.bo', 'operator')),
    );
    expect(approved.errors).toBeUndefined();
  }
  return id;
}

describe('an activity that ends', () => {
  it('is no longer among the activities a member is shown once it has ended', async () => {
    const endsAt = new Date(Date.now() + 5_000);
    const id = await publish({ ...signInOnce({ points: 5 }), endsAt: endsAt.toISOString() });
    const headers = await member('M0012');
    const shown = async () =>
      (await graphql(hub.gatewayUrl, MY_ACTIVITIES, {}, headers)).data?.viewer.activities.map(
        (a: { activity: { id: string } }) => a.activity.id,
      );
    expect(await shown()).toContain(id);
    await new Promise((resolve) => setTimeout(resolve, endsAt.getTime() - Date.now() + 100));
    expect(await shown()).not.toContain(id);
    expect(errorCodes(await graphql(hub.gatewayUrl, JOIN, { id }, headers))).toEqual(['ACTIVITY_ENDED']);
  });
});

describe('an activity archived while its audit record could not be written', () => {
  it('leaves the activities members are shown all the same, within SNAPSHOT_REFRESH_MS', async () => {
    const id = await publish(signInOnce({ points: 5 }));
    const headers = await member('M0014');
    const shown = async () =>
      (await graphql(hub.gatewayUrl, MY_ACTIVITIES, {}, headers)).data?.viewer.activities.map(
        (a: { activity: { id: string } }) => a.activity.id,
      );
    expect(await shown()).toContain(id);
    // The archive is stored; the audit log cannot be written just then (a failover, a network blip).
    const failing = jest
      .spyOn(AuditLog.prototype, 'record')
      .mockRejectedValueOnce(new Error('audit log unreachable'));
    try {
      const archived = await graphql(
        hub.gatewayUrl,
        WORKFLOW,
        { id, step: 'ARCHIVE' },
        bearer(await clientToken('ops.bo', 'operator')),
      );
      expect(errorCodes(archived)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      failing.mockRestore();
    }
    await new Promise((resolve) => setTimeout(resolve, testConfig.SNAPSHOT_REFRESH_MS + 50));
    expect(await shown()).not.toContain(id);
  });
});

/** The spendable points of the member whose headers these are, as they read them. */
const pointsOf = async (headers: Record<string, string>) =>
  (await graphql(hub.gatewayUrl, '{ viewer { points } }', {}, headers)).data?.viewer.points as number;

/** A task's reward recorded as refused for good with `code`: no later pass tries it again. */
async function expectRefusedForGood(progressId: string, code: string): Promise<void> {
  const progress = await engagement.progress.model.findById(progressId).lean().exec();
  expect(progress).toMatchObject({ rewardedAt: null, rewardRefusal: { code, message: expect.any(String) } });
  const awaiting = await engagement.progress.awaitingReward(new Date(Date.now() + 86_400_000), 1_000);
  expect(awaiting.map((p) => p._id)).not.toContain(progressId);
}

describe('a task counted by a process that died before completing it', () => {
  it('completes, and is rewarded, when the same sign-in is counted again', async () => {
    const id = await publish(signInOnce({ points: 5 }));
    const headers = await member('M0013');
    await graphql(hub.gatewayUrl, JOIN, { id }, headers);
    const points = () => pointsOf(headers);
    const before = await points();
    // Today's sign-in (the bank's day) was counted; the process died before it marked the task complete.
    await engagement.progress.model.create({
      _id: `${id}|once|M0013`,
      activityId: id,
      taskId: 'once',
      memberId: 'M0013',
      value: 1,
      days: [new BankCalendar(testConfig.BANK_TIME_ZONE).dayOf(new Date())],
    });
    const signedIn = await graphql(hub.gatewayUrl, SIGN_IN, { id }, headers);
    expect(signedIn.data?.dailySignIn.tasks).toEqual([{ completed: true, rewarded: true }]);
    expect(await points()).toBe(before + 5);
  });
});

describe("a task's reward", () => {
  it('shows the benefit it grants', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          activity(id: "A-NEWBIE") {
            tasks {
              id
              reward {
                points
                benefit {
                  id
                  kind
                }
              }
            }
          }
        }
      `,
      {},
      await member('M0001'),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.activity.tasks).toEqual([
      { id: 'sign-in-7', reward: { points: 0, benefit: { id: 'B-WELCOME-50', kind: 'COUPON' } } },
      { id: 'open-account', reward: { points: 200, benefit: null } },
    ]);
  });

  it('shows members and guests no benefit that is no longer offered (archived or ended); operators still see it', async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-ACT-ARCHIVED-LATER'),
      publishedBenefit('B-ACT-ENDED-LATER'),
    ]);
    const base = signInOnce({});
    const task = (id: string, benefitId: string) => ({ ...base.tasks[0], id, reward: { benefitId } });
    const id = await publish({
      ...base,
      tasks: [
        task('archived', 'B-ACT-ARCHIVED-LATER'),
        task('ended', 'B-ACT-ENDED-LATER'),
        task('live', 'B-ACT-ONCE'),
      ],
    });
    await engagement.benefits.model.updateOne(
      { _id: 'B-ACT-ARCHIVED-LATER' },
      { $set: { status: 'ARCHIVED' } },
    );
    await engagement.benefits.model.updateOne(
      { _id: 'B-ACT-ENDED-LATER' },
      { $set: { endsAt: new Date(Date.now() - 1_000) } },
    );
    const rewards = async (headers: Record<string, string>) => {
      const response = await graphql(
        hub.gatewayUrl,
        'query ($id: ID!) { activity(id: $id) { tasks { id reward { benefit { id } } } } }',
        { id },
        headers,
      );
      expect(response.errors).toBeUndefined();
      return response.data?.activity.tasks;
    };
    const offered = [
      { id: 'archived', reward: { benefit: null } },
      { id: 'ended', reward: { benefit: null } },
      { id: 'live', reward: { benefit: { id: 'B-ACT-ONCE' } } },
    ];
    expect(await rewards(await member('M0014'))).toEqual(offered);
    expect(await rewards({ 'x-device-id': 'activities-guest-1' })).toEqual(offered);
    expect(await rewards(operator)).toEqual([
      { id: 'archived', reward: { benefit: { id: 'B-ACT-ARCHIVED-LATER' } } },
      { id: 'ended', reward: { benefit: { id: 'B-ACT-ENDED-LATER' } } },
      { id: 'live', reward: { benefit: { id: 'B-ACT-ONCE' } } },
    ]);
  });

  it('of a benefit that has not started yet waits for it, and is granted once it starts', async () => {
    const startsAt = new Date(Date.now() + 4_000);
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-ACT-LATER', { startsAt })]);
    // Operators may name a published benefit that has not started: members must not lose what they earn before.
    const id = await publish(signInOnce({ points: 3, benefitId: 'B-ACT-LATER' }));
    const headers = await member('M0015');
    await graphql(hub.gatewayUrl, JOIN, { id }, headers);
    const signedIn = await graphql(hub.gatewayUrl, SIGN_IN, { id }, headers);
    expect(signedIn.data?.dailySignIn.tasks).toEqual([{ completed: true, rewarded: false }]);
    const waiting = await engagement.progress.model.findById(`${id}|once|M0015`).lean().exec();
    expect(waiting).toMatchObject({ rewardedAt: null, rewardRefusal: null, rewardRetryAt: startsAt });
    expect(await progressUntil(headers, id, 'once', (task) => task.rewarded)).toMatchObject({
      completed: true,
    });
    const claims = await engagement.claims.model.find({ memberId: 'M0015', benefitId: 'B-ACT-LATER' }).lean();
    expect(claims.map((claim) => claim.source)).toEqual(['TASK_REWARD']);
    expect(claims[0]!.claimedAt.getTime()).toBeGreaterThanOrEqual(startsAt.getTime());
  });

  it('edited after its grant half went through is what the task promised at completion, benefit and all', async () => {
    const startsAt = new Date(Date.now() + 4_000);
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-ACT-EDITED', { startsAt })]);
    const input = signInOnce({ points: 3, benefitId: 'B-ACT-EDITED' });
    const id = await publish(input);
    const headers = await member('M0016');
    const points = () => pointsOf(headers);
    const before = await points();
    await graphql(hub.gatewayUrl, JOIN, { id }, headers);
    // Completed: the points are awarded, the benefit waits for its start.
    const signedIn = await graphql(hub.gatewayUrl, SIGN_IN, { id }, headers);
    expect(signedIn.data?.dailySignIn.tasks).toEqual([{ completed: true, rewarded: false }]);
    expect(await points()).toBe(before + 3);
    // Meanwhile an operator raises the task's points, and the change is approved.
    const raised = {
      ...input,
      tasks: [{ ...input.tasks[0]!, reward: { points: 30, benefitId: 'B-ACT-EDITED' } }],
    };
    const updated = await graphql(
      hub.gatewayUrl,
      `
        mutation ($id: ID!, $input: ActivityInput!) {
          updateActivity(id: $id, input: $input) {
            id
          }
        }
      `,
      { id, input: raised },
      operator,
    );
    expect(updated.errors).toBeUndefined();
    const submitted = await graphql(hub.gatewayUrl, WORKFLOW, { id, step: 'SUBMIT' }, operator);
    expect(submitted.errors).toBeUndefined();
    const approved = await graphql(
      hub.gatewayUrl,
      WORKFLOW,
      { id, step: 'APPROVE', expectedVersion: submitted.data?.engagementWorkflow.version },
      bearer(await clientToken('ops.bo', 'operator')),
    );
    expect(approved.errors).toBeUndefined();
    const activity = await engagement.activities.model.findById(id).lean().exec();
    expect(activity?.tasks[0]?.reward.points).toBe(30);

    // Once the benefit starts the reward goes through as promised: the 3 points once, and the benefit.
    expect(await progressUntil(headers, id, 'once', (task) => task.rewarded)).toMatchObject({
      completed: true,
    });
    expect(await points()).toBe(before + 3);
    const claims = await engagement.claims.model
      .find({ memberId: 'M0016', benefitId: 'B-ACT-EDITED' })
      .lean();
    expect(claims.map((claim) => claim.source)).toEqual(['TASK_REWARD']);
  });

  it('refused for good is recorded on the progress, and not tried again', async () => {
    const id = await publish(signInOnce({ points: 5, benefitId: 'B-ACT-ONCE' }));
    const headers = await member('M0010');
    // The member claimed the benefit themself already: one per member.
    const claimed = await graphql(
      hub.gatewayUrl,
      `
        mutation {
          claimBenefit(benefitId: "B-ACT-ONCE", idempotencyKey: "act-once-mine") {
            id
          }
        }
      `,
      {},
      headers,
    );
    expect(claimed.errors).toBeUndefined();
    await graphql(hub.gatewayUrl, JOIN, { id }, headers);
    const signedIn = await graphql(hub.gatewayUrl, SIGN_IN, { id }, headers);
    expect(signedIn.data?.dailySignIn.tasks).toEqual([{ completed: true, rewarded: false }]);
    await expectRefusedForGood(`${id}|once|M0010`, 'CLAIM_LIMIT_REACHED');
  });

  it('whose points key members applied to another award is refused for good, recorded and not tried again', async () => {
    const id = await publish(signInOnce({ points: 5 }));
    const headers = await member('M0017');
    // The ledger key the reward's award goes under (rewards.ts awardKey of progress.ts's task key), taken by an
    // operator's award of another amount.
    const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 40);
    const taskKey = `task:${sha(`${id}|once|M0017`)}`;
    const taken = await graphql(
      hub.gatewayUrl,
      `
        mutation ($key: String!) {
          awardPoints(memberId: "M0017", amount: 50, reason: "manual", idempotencyKey: $key) {
            id
          }
        }
      `,
      { key: `reward:${sha(`M0017|TASK_REWARD|${taskKey}`)}` },
      operator,
    );
    expect(taken.errors).toBeUndefined();
    const points = () => pointsOf(headers);
    const before = await points();
    await graphql(hub.gatewayUrl, JOIN, { id }, headers);
    const signedIn = await graphql(hub.gatewayUrl, SIGN_IN, { id }, headers);
    expect(signedIn.data?.dailySignIn.tasks).toEqual([{ completed: true, rewarded: false }]);
    await expectRefusedForGood(`${id}|once|M0017`, 'IDEMPOTENCY_KEY_REUSED');
    expect(await points()).toBe(before);
  });

  it('that cannot be granted, 500 of them, holds up neither a member’s own nor their sign-in', async () => {
    const good = await publish(signInOnce({ points: 7 }));
    const poisoned = await publish(signInOnce({ benefitId: 'B-ACT-GONE' }));
    // Its benefit withdrawn after the activity was published: every grant is refused.
    await engagement.benefits.model.updateOne({ _id: 'B-ACT-GONE' }, { $set: { status: 'ARCHIVED' } });
    const completedAt = new Date(Date.now() - 60_000);
    await engagement.progress.model.insertMany(
      Array.from({ length: 500 }, (_, i) => {
        const memberId = `M${String(300 + i).padStart(4, '0')}`;
        return {
          _id: `${poisoned}|once|${memberId}`,
          activityId: poisoned,
          taskId: 'once',
          memberId,
          value: 1,
          days: ['2026-11-01'],
          completedAt,
          rewardedAt: null,
        };
      }),
    );
    const headers = await member('M0011');
    await graphql(hub.gatewayUrl, JOIN, { id: good }, headers);
    const signedIn = await graphql(hub.gatewayUrl, SIGN_IN, { id: good }, headers);
    expect(signedIn.errors).toBeUndefined();
    expect(signedIn.data?.dailySignIn.tasks).toEqual([{ completed: true, rewarded: true }]);
    // The background pass records each refusal once and moves on.
    const refused = () =>
      engagement.progress.model
        .countDocuments({ activityId: poisoned, 'rewardRefusal.code': 'BENEFIT_NOT_AVAILABLE' })
        .exec();
    for (let tries = 0; tries < 150 && (await refused()) < 500; tries++)
      await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await refused()).toBe(500);
  });
});

describe('granting task rewards', () => {
  it('reads the oldest first, never retries a refusal, backs failures off and stops a pass after a few', async () => {
    const connection = await testDatabase('task-rewards');
    try {
      const repos = await openEngagement(connection);
      const now = new Date();
      await repos.activities.insert(signInOnceActivity('A-R', now));
      // Oldest first: 5 whose grants fail (members down), 200 refused for good, 5 granted.
      const memberIds = Array.from({ length: 210 }, (_, i) => `M${2000 + i}`);
      const failing = new Set(memberIds.slice(0, 5));
      const refusing = new Set(memberIds.slice(5, 205));
      await repos.progress.model.insertMany(
        memberIds.map((memberId, i) => ({
          _id: `A-R|once|${memberId}`,
          activityId: 'A-R',
          taskId: 'once',
          memberId,
          value: 1,
          days: ['2026-11-01'],
          completedAt: new Date(now.getTime() - 100_000 + i),
          rewardedAt: null,
        })),
      );
      const asked: string[] = [];
      const granter: RewardGranter = {
        async grant(reward: Reward) {
          asked.push(reward.memberId);
          if (failing.has(reward.memberId)) throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members is down');
          if (refusing.has(reward.memberId)) throw hubError(ErrorCode.OUT_OF_STOCK, 'none left');
          return { pointsEntryId: `PE-${reward.memberId}`, claim: null };
        },
      };
      const pass = (at: Date) => grantPendingRewards({ repos, granter, logger: testLogger }, at);
      const rewarded = () => repos.progress.model.countDocuments({ rewardedAt: { $ne: null } }).exec();

      await pass(now);
      expect(asked).toEqual([...failing]);
      await pass(now);
      await pass(now);
      expect(await rewarded()).toBe(5);
      await pass(now);
      expect(asked).toHaveLength(210);
      expect(await repos.progress.model.countDocuments({ 'rewardRefusal.code': 'OUT_OF_STOCK' })).toBe(200);

      // After their backoff the failed ones are tried again, and granted now that members is back.
      failing.clear();
      await pass(new Date(now.getTime() + 6_000));
      expect(asked).toHaveLength(215);
      expect(await rewarded()).toBe(10);
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('operators', () => {
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

  it('authors a task counting days in a row (CONSECUTIVE_DAYS)', async () => {
    const streak = { ...input.tasks[0]!, title: 'Sign in 2 days in a row', measure: 'CONSECUTIVE_DAYS' };
    const created = await graphql(
      hub.gatewayUrl,
      `
        mutation ($input: ActivityInput!) {
          createActivity(input: $input) {
            tasks {
              id
              measure
              target
              currency
            }
          }
        }
      `,
      { input: { ...input, tasks: [streak] } },
      operator,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createActivity.tasks).toEqual([
      { id: 'weekend', measure: 'CONSECUTIVE_DAYS', target: 2, currency: null },
    ]);
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
      [{ tasks: [{ ...task, measure: 'CONSECUTIVE_DAYS', target: 2.5 }] }, 'input.tasks[0].target'],
      [{ tasks: [{ ...task, measure: 'CONSECUTIVE_DAYS', currency: 'USD' }] }, 'input.tasks[0].currency'],
      [{ tasks: [task, task] }, 'input.tasks[1].id'],
      [
        { tasks: [{ ...task, where: [{ property: 'amount', op: 'gt', value: 'x' }] }] },
        'input.tasks[0].where[0].value',
      ],
      // Money is counted in whole cents: a sum of purchase amounts, or an amount condition, in fractions of one.
      [
        {
          tasks: [{ ...task, event: 'flow_completed', measure: 'SUM', property: 'amount', target: 0.805 }],
        },
        'input.tasks[0].target',
      ],
      [
        { tasks: [{ ...task, where: [{ property: 'amount', op: 'gte', value: 99.999 }] }] },
        'input.tasks[0].where[0].value',
      ],
      [
        { tasks: [{ ...task, where: [{ property: 'amount', op: 'eq', value: '100' }] }] },
        'input.tasks[0].where[0].value',
      ],
      [{ endsAt: '2025-01-01T00:00:00Z' }, 'input.endsAt'],
      [{ imageUrl: 'javascript:alert(1)' }, 'input.imageUrl'],
      [{ rule: { field: 'attr.city', op: 'eq', value: 'x' } }, 'input.rule.field'],
      [{ rule: { any: [{ field: 'tag.aum', op: 'gt', value: 1 }] } }, 'input.rule.any[0].op'],
      // A reward names a benefit members can be granted: a benefit id, of one that exists, published, not ended.
      [{ tasks: [{ ...task, reward: { benefitId: '$$ not an id' } }] }, 'input.tasks[0].reward.benefitId'],
      [
        { tasks: [task, { ...task, id: 'b', reward: { benefitId: 'B-NOPE' } }] },
        'input.tasks[1].reward.benefitId',
      ],
      [{ tasks: [{ ...task, reward: { benefitId: 'B-SPRING-DRAFT' } }] }, 'input.tasks[0].reward.benefitId'],
      [{ tasks: [{ ...task, reward: { benefitId: 'B-NATIONAL-DAY' } }] }, 'input.tasks[0].reward.benefitId'],
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

  it('lists what waits for a second operator: in review, or published with an edit in review', async () => {
    const draft = (await graphql(hub.gatewayUrl, CREATE, { input }, operator)).data?.createActivity
      .id as string;
    const inReview = await publish(input, false);
    const published = await publish(input);
    const revised = await publish(input);
    const UPDATE = `mutation ($id: ID!, $input: ActivityInput!) { updateActivity(id: $id, input: $input) { id } }`;
    const edited = await graphql(
      hub.gatewayUrl,
      UPDATE,
      { id: revised, input: { ...input, title: 'Edited' } },
      operator,
    );
    expect(edited.errors).toBeUndefined();
    expect(
      (await graphql(hub.gatewayUrl, WORKFLOW, { id: revised, step: 'SUBMIT' }, operator)).errors,
    ).toBeUndefined();

    const waiting = await graphql(
      hub.gatewayUrl,
      `
        {
          activities(awaitingReview: true, first: 100) {
            id
            status
            pendingRevision {
              status
            }
          }
        }
      `,
      {},
      operator,
    );
    const ids = (waiting.data?.activities as { id: string }[]).map((activity) => activity.id);
    expect(ids).toEqual(expect.arrayContaining([inReview, revised]));
    expect(ids).not.toEqual(expect.arrayContaining([draft]));
    expect(ids).not.toEqual(expect.arrayContaining([published]));
    const onlyPublished = await graphql(
      hub.gatewayUrl,
      `
        {
          activities(status: PUBLISHED, awaitingReview: true, first: 100) {
            id
          }
        }
      `,
      {},
      operator,
    );
    expect(onlyPublished.data?.activities).toContainEqual({ id: revised });
    expect(onlyPublished.data?.activities).not.toContainEqual({ id: inReview });
  });

  it('checks the benefits of its rewards again when it is approved', async () => {
    const id = await publish(signInOnce({ points: 1, benefitId: 'B-ACT-SOON-GONE' }), false);
    await engagement.benefits.model.updateOne({ _id: 'B-ACT-SOON-GONE' }, { $set: { status: 'ARCHIVED' } });
    const approved = await graphql(
      hub.gatewayUrl,
      WORKFLOW,
      // Created at version 1, submitted at 2.
      { id, step: 'APPROVE', expectedVersion: 2 },
      bearer(await clientToken('ops.bo', 'operator')),
    );
    expect(approved.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      field: 'tasks[0].reward.benefitId',
    });
    expect(await engagement.activities.model.findById(id).lean().exec()).toMatchObject({
      status: 'IN_REVIEW',
    });
  });

  const UPDATE = `mutation ($id: ID!, $input: ActivityInput!, $expectedVersion: Int) {
    updateActivity(id: $id, input: $input, expectedVersion: $expectedVersion) {
      version tasks { id measure } pendingRevision { status }
    }
  }`;
  const stored = (id: string) => engagement.activities.model.findById(id).lean().exec();

  it("refuses an edit of what a published task counts, storing nothing: members' progress was counted by it", async () => {
    const id = await publish(input);
    const before = await stored(id);
    const task = input.tasks[0]!;
    const cases: [Record<string, unknown>, string][] = [
      // Distinct days read as a run would complete a streak no member kept.
      [{ measure: 'CONSECUTIVE_DAYS' }, 'input.tasks[0].measure'],
      [{ event: 'flow_completed' }, 'input.tasks[0].event'],
      // Two sign-ins counted would be 2.00 of money.
      [{ event: 'flow_completed', measure: 'SUM', property: 'amount' }, 'input.tasks[0].event'],
      [{ measure: 'SUM', property: 'amount' }, 'input.tasks[0].measure'],
    ];
    for (const [change, field] of cases) {
      const response = await graphql(
        hub.gatewayUrl,
        UPDATE,
        { id, input: { ...input, tasks: [{ ...task, ...change }] } },
        operator,
      );
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field,
        reason: 'TASK_MEANING_FIXED',
      });
    }
    expect(await stored(id)).toEqual(before);

    // What decides what counts next or when it completes may change, and a task of a new id counts anew.
    const edited = await graphql(
      hub.gatewayUrl,
      UPDATE,
      {
        id,
        input: {
          ...input,
          tasks: [
            { ...task, title: 'Sign in three times', target: 3, reward: { points: 20 } },
            { ...task, id: 'weekend-streak', measure: 'CONSECUTIVE_DAYS' },
          ],
        },
      },
      operator,
    );
    expect(edited.errors).toBeUndefined();
    expect(edited.data?.updateActivity.pendingRevision).toEqual({ status: 'DRAFT' });
  });

  it('lets an activity never published change what its tasks count', async () => {
    const id = await publish(input, false);
    const task = input.tasks[0]!;
    const edited = await graphql(
      hub.gatewayUrl,
      UPDATE,
      { id, input: { ...input, tasks: [{ ...task, measure: 'CONSECUTIVE_DAYS' }] } },
      operator,
    );
    expect(edited.errors).toBeUndefined();
    expect(edited.data?.updateActivity.tasks).toEqual([{ id: 'weekend', measure: 'CONSECUTIVE_DAYS' }]);
  });

  it('refuses to approve a stored revision that changes what a published task counts', async () => {
    const id = await publish(input);
    const published = (await stored(id))!;
    const { title, summary, imageUrl, kind, startsAt, endsAt, rule, tasks } = published;
    // A revision stored before edits were checked: in review, by another editor than the approver.
    await engagement.activities.model.updateOne(
      { _id: id },
      {
        $set: {
          pending: {
            fields: {
              ...{ title, summary, imageUrl, kind, startsAt, endsAt, rule },
              tasks: [{ ...tasks[0]!, measure: 'CONSECUTIVE_DAYS' }],
            },
            status: 'IN_REVIEW',
            lastEditedBy: 'ops.fang',
            updatedAt: new Date(),
          },
        },
      },
    );
    const before = await stored(id);
    const approved = await graphql(
      hub.gatewayUrl,
      WORKFLOW,
      { id, step: 'APPROVE', expectedVersion: published.version },
      bearer(await clientToken('ops.bo', 'operator')),
    );
    expect(approved.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      field: 'tasks[0].measure',
      reason: 'TASK_MEANING_FIXED',
    });
    expect(await stored(id)).toEqual(before);
  });

  it('refuses a task under the id of one removed before, on which members have progress, at edit and at approval', async () => {
    const id = await publish(signInOnce({ points: 1 }));
    const headers = await member('M0007');
    expect((await graphql(hub.gatewayUrl, JOIN, { id }, headers)).errors).toBeUndefined();
    expect((await graphql(hub.gatewayUrl, SIGN_IN, { id }, headers)).errors).toBeUndefined();
    const [once] = signInOnce({ points: 1 }).tasks;
    const other = { ...once!, id: 'other', event: 'flow_completed' };
    // An edit removes the task members have progress on, and is approved.
    const removed = await graphql(
      hub.gatewayUrl,
      UPDATE,
      { id, input: { ...signInOnce({}), tasks: [other] } },
      operator,
    );
    expect(removed.errors).toBeUndefined();
    const submitted = await graphql(hub.gatewayUrl, WORKFLOW, { id, step: 'SUBMIT' }, operator);
    const approver = bearer(await clientToken('ops.bo', 'operator'));
    const expectedVersion = submitted.data?.engagementWorkflow.version;
    expect(
      (await graphql(hub.gatewayUrl, WORKFLOW, { id, step: 'APPROVE', expectedVersion }, approver)).errors,
    ).toBeUndefined();

    // Its id back, counting otherwise, would read the days counted as events.
    const reused = { ...once!, measure: 'COUNT' };
    const before = await stored(id);
    const edited = await graphql(
      hub.gatewayUrl,
      UPDATE,
      { id, input: { ...signInOnce({}), tasks: [other, reused] } },
      operator,
    );
    expect(edited.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.tasks[1].id',
      reason: 'TASK_ID_RETIRED',
    });
    expect(await stored(id)).toEqual(before);

    // A revision stored before edits were checked is refused when approved.
    const { title, summary, imageUrl, kind, startsAt, endsAt, rule, tasks } = before!;
    await engagement.activities.model.updateOne(
      { _id: id },
      {
        $set: {
          pending: {
            fields: { title, summary, imageUrl, kind, startsAt, endsAt, rule, tasks: [...tasks, reused] },
            status: 'IN_REVIEW',
            lastEditedBy: 'ops.fang',
            updatedAt: new Date(),
          },
        },
      },
    );
    const pending = await stored(id);
    const approved = await graphql(
      hub.gatewayUrl,
      WORKFLOW,
      { id, step: 'APPROVE', expectedVersion: pending!.version },
      approver,
    );
    expect(approved.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      field: 'tasks[1].id',
      reason: 'TASK_ID_RETIRED',
    });
    expect(await stored(id)).toEqual(pending);
  });

  it('refuses with CONFLICT an edit made from a version changed since, and takes one made from the current', async () => {
    const id = await publish(input, false);
    // Created at version 1, submitted at 2.
    const first = await graphql(
      hub.gatewayUrl,
      UPDATE,
      { id, input: { ...input, title: 'First editor' }, expectedVersion: 2 },
      operator,
    );
    expect(first.errors).toBeUndefined();
    expect(first.data?.updateActivity.version).toBe(3);
    const before = await stored(id);
    const stale = await graphql(
      hub.gatewayUrl,
      UPDATE,
      { id, input: { ...input, title: 'Second editor' }, expectedVersion: 2 },
      bearer(await clientToken('ops.bo', 'operator')),
    );
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 3 });
    expect(await stored(id)).toEqual(before);
  });
});
