// Engagement's days are the bank's business days (BANK_TIME_ZONE) through the gateway: a benefit's daily limit starts
// again at the bank's midnight, a claim's valid days run to the end of a business day, and DISTINCT_DAYS and
// CONSECUTIVE_DAYS tasks count sign-ins on the days of the bank's zone — with the default zone (Asia/Shanghai, 16:00
// UTC) and with UTC.
import { BankCalendar, type HubConfig } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import type { ActivityDoc, TaskDoc } from '../subgraphs/engagement/src/activities/model';
import { countEvents } from '../subgraphs/engagement/src/activities/progress';
import { openRepositories, type EngagementRepositories } from '../subgraphs/engagement/src/models';
import { signInOnceActivity } from './support/activities';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { bearer, clientToken, errorCodes, graphql } from './support/env';
import { setClock } from './support/clock';
import { startTestHub, stopTestHub } from './support/hub';

/**
 * Sets the clock of the hub, which runs in this process, to `iso`. Instants are in the past, so that nothing a
 * background job stores meanwhile (a lease, a cursor) is ahead of the real clock after.
 */
const clockAt = (iso: string) => setClock(iso);

afterEach(() => jest.useRealTimers());

const CLAIM = `mutation ($benefitId: ID!, $key: String!) {
  claimBenefit(benefitId: $benefitId, idempotencyKey: $key) { id claimedAt expiresAt }
}`;
const JOIN = `mutation ($id: ID!) { joinActivity(activityId: $id) { joined } }`;
const SIGN_IN = `mutation ($id: ID!) { dailySignIn(activityId: $id) { tasks { value completed rewarded } } }`;
const PROGRESS = `query ($id: ID!) { activity(id: $id) { viewerProgress { tasks { value completed rewarded } } } }`;

interface TaskProgress {
  value: number;
  completed: boolean;
  rewarded: boolean;
}

/** How a sign-in task counts days: on up to 7 distinct days unless said. */
type DaysTask = Partial<Pick<TaskDoc, 'measure' | 'target'>>;

/** A running INTERACTIVE activity of one task counting sign-in days, rewarding 1 point. */
const signInDaysActivity = (id: string, days: DaysTask = {}): ActivityDoc => {
  const activity = signInOnceActivity(id, new Date('2026-11-01T00:00:00Z'));
  return { ...activity, tasks: activity.tasks.map((task) => ({ ...task, target: 7, ...days })) };
};

function daysOf(config: Partial<HubConfig>, label: string) {
  let hub: RunningHub;
  let engagement: EngagementRepositories;
  const member = async (id: string) => bearer(await clientToken(id, 'member'));

  beforeAll(async () => {
    hub = await startTestHub(label, { config });
    engagement = await openRepositories(hub.connections.engagement);
  });
  afterAll(() => stopTestHub(hub));

  return {
    /** Claims the benefit as `memberId` at `iso`: the claim, or the refusal's codes. */
    async claimAt(iso: string, memberId: string, benefitId: string) {
      clockAt(iso);
      const response = await graphql(
        hub.gatewayUrl,
        CLAIM,
        { benefitId, key: `days-${memberId}-${benefitId}` },
        await member(memberId),
      );
      return response.data?.claimBenefit ?? errorCodes(response);
    },
    benefit: (benefitId: string) =>
      insertBenefits(hub.connections.engagement, [
        publishedBenefit(benefitId, { perDayLimit: 1, perMemberLimit: 5, validDays: 7 }),
      ]),
    /** The member joins `activityId` at the first instant and signs in at each: the task's value after each. */
    async signInsAt(instants: string[], memberId: string, activityId: string, task: DaysTask = {}) {
      return (await this.progressOfSignIns(instants, memberId, activityId, task)).map((done) => done.value);
    },
    /** As signInsAt, the task's progress after each sign-in. */
    async progressOfSignIns(instants: string[], memberId: string, activityId: string, task: DaysTask = {}) {
      await this.join(instants[0]!, memberId, activityId, task);
      const progress: TaskProgress[] = [];
      for (const at of instants) progress.push(...(await this.signInAt(at, memberId, activityId)));
      return progress;
    },
    /** Creates `activityId` with its sign-in task and has the member join it at `iso`. */
    async join(iso: string, memberId: string, activityId: string, task: DaysTask = {}) {
      await engagement.activities.model.create(signInDaysActivity(activityId, task));
      clockAt(iso);
      const joined = await graphql(hub.gatewayUrl, JOIN, { id: activityId }, await member(memberId));
      expect(joined.errors).toBeUndefined();
    },
    /** The member signs in at `iso`, `times` times at once: the task's progress each sign-in answered. */
    async signInAt(iso: string, memberId: string, activityId: string, times = 1): Promise<TaskProgress[]> {
      clockAt(iso);
      // A token of the moment: one issued at the first instant has expired a day later.
      const headers = await member(memberId);
      const responses = await Promise.all(
        Array.from({ length: times }, () => graphql(hub.gatewayUrl, SIGN_IN, { id: activityId }, headers)),
      );
      return responses.map((response) => {
        expect(response.errors).toBeUndefined();
        return response.data?.dailySignIn.tasks[0] as TaskProgress;
      });
    },
    /** The member's progress on the activity's task as they see it at `iso`. */
    async progressAt(iso: string, memberId: string, activityId: string): Promise<TaskProgress> {
      clockAt(iso);
      const response = await graphql(hub.gatewayUrl, PROGRESS, { id: activityId }, await member(memberId));
      expect(response.errors).toBeUndefined();
      return response.data?.activity.viewerProgress.tasks[0] as TaskProgress;
    },
    /** The member's spendable points at `iso`. */
    async pointsAt(iso: string, memberId: string): Promise<number> {
      clockAt(iso);
      return (await graphql(hub.gatewayUrl, '{ viewer { points } }', {}, await member(memberId))).data?.viewer
        .points as number;
    },
    repos: () => engagement,
  };
}

describe("in the bank's default zone, Asia/Shanghai", () => {
  const days = daysOf({}, 'engagement_days_shanghai');

  it("lets a per-day limit of 1 refuse a second claim at 23:59 and take one at 00:01, the bank's midnight", async () => {
    await days.benefit('B-DAYS-SH');
    // 23:00, 23:59 on 25 November and 00:01 on the 26th in Shanghai.
    expect(await days.claimAt('2026-11-25T15:00:00Z', 'M0301', 'B-DAYS-SH')).toMatchObject({
      id: expect.any(String),
    });
    expect(await days.claimAt('2026-11-25T15:59:00Z', 'M0302', 'B-DAYS-SH')).toEqual(['DAILY_LIMIT_REACHED']);
    const claimed = await days.claimAt('2026-11-25T16:01:00Z', 'M0303', 'B-DAYS-SH');
    // Valid 7 days: the 26th is the first, and the claim is usable to the end of 2 December in Shanghai.
    expect(claimed).toMatchObject({
      claimedAt: '2026-11-25T16:01:00.000Z',
      expiresAt: '2026-12-02T16:00:00.000Z',
    });
  });

  it("counts sign-ins on the bank's days: 00:30 and 23:30 the same day once, 23:30 and 00:30 the next day twice", async () => {
    expect(
      await days.signInsAt(['2026-11-25T16:30:00Z', '2026-11-26T15:30:00Z'], 'M0311', 'A-DAYS-SH-1'),
    ).toEqual([1, 1]);
    expect(
      await days.signInsAt(['2026-11-25T15:30:00Z', '2026-11-25T16:30:00Z'], 'M0312', 'A-DAYS-SH-2'),
    ).toEqual([1, 2]);
  });
});

describe("sign-ins in a row (CONSECUTIVE_DAYS), on the bank's days in Asia/Shanghai", () => {
  const days = daysOf({}, 'engagement_streaks');
  const inARow = (target: number): DaysTask => ({ measure: 'CONSECUTIVE_DAYS', target });

  it("completes a 3-day task on the third day in a row, across the bank's midnight, rewarding it once", async () => {
    const before = await days.pointsAt('2026-11-24T08:00:00Z', 'M0331');
    // 23:59 on the 24th, 00:01 on the 25th (the next day in Shanghai), 12:00 on the 26th.
    const progress = await days.progressOfSignIns(
      ['2026-11-24T15:59:00Z', '2026-11-24T16:01:00Z', '2026-11-26T04:00:00Z'],
      'M0331',
      'A-STREAK-3',
      inARow(3),
    );
    expect(progress).toEqual([
      { value: 1, completed: false, rewarded: false },
      { value: 2, completed: false, rewarded: false },
      { value: 3, completed: true, rewarded: true },
    ]);
    // The next day, and a week on when the run has long broken, it stays complete; its point is granted once.
    expect(await days.signInAt('2026-11-27T04:00:00Z', 'M0331', 'A-STREAK-3')).toEqual([
      { value: 3, completed: true, rewarded: true },
    ]);
    expect(await days.progressAt('2026-12-03T04:00:00Z', 'M0331', 'A-STREAK-3')).toEqual({
      value: 3,
      completed: true,
      rewarded: true,
    });
    expect(await days.pointsAt('2026-12-03T04:00:00Z', 'M0331')).toBe(before + 1);
  });

  it('starts the count again after a day without a sign-in, and shows a run that broke as 0', async () => {
    // The 24th and 25th, none on the 26th, then the 27th and 28th: never 3 in a row.
    expect(
      await days.signInsAt(
        ['2026-11-24T02:00:00Z', '2026-11-25T02:00:00Z', '2026-11-27T02:00:00Z', '2026-11-28T02:00:00Z'],
        'M0332',
        'A-STREAK-GAP',
        inARow(3),
      ),
    ).toEqual([1, 2, 1, 2]);
    // The run is current the next day, when today's sign-in may still come; the day after, it has broken.
    expect(await days.progressAt('2026-11-29T15:59:00Z', 'M0332', 'A-STREAK-GAP')).toMatchObject({
      value: 2,
      completed: false,
    });
    expect(await days.progressAt('2026-11-29T16:01:00Z', 'M0332', 'A-STREAK-GAP')).toMatchObject({
      value: 0,
      completed: false,
    });
    // Signing in again starts a new run.
    expect(await days.signInAt('2026-11-30T02:00:00Z', 'M0332', 'A-STREAK-GAP')).toEqual([
      { value: 1, completed: false, rewarded: false },
    ]);
  });

  it('counts two sign-ins on one day once: 00:30 and 23:30', async () => {
    expect(
      await days.signInsAt(
        ['2026-11-24T16:30:00Z', '2026-11-25T15:30:00Z', '2026-11-25T16:30:00Z'],
        'M0333',
        'A-STREAK-ONE-DAY',
        inARow(3),
      ),
    ).toEqual([1, 1, 2]);
  });

  it('counts sign-ins sent at once on one day once, completing and rewarding the task once', async () => {
    const before = await days.pointsAt('2026-11-24T02:00:00Z', 'M0334');
    await days.join('2026-11-24T02:00:00Z', 'M0334', 'A-STREAK-AT-ONCE', inARow(3));
    expect(await days.signInAt('2026-11-24T02:00:00Z', 'M0334', 'A-STREAK-AT-ONCE', 4)).toEqual(
      Array(4).fill({ value: 1, completed: false, rewarded: false }),
    );
    expect(await days.signInAt('2026-11-25T02:00:00Z', 'M0334', 'A-STREAK-AT-ONCE', 4)).toEqual(
      Array(4).fill({ value: 2, completed: false, rewarded: false }),
    );
    const third = await days.signInAt('2026-11-26T02:00:00Z', 'M0334', 'A-STREAK-AT-ONCE', 4);
    expect(third.map((done) => [done.value, done.completed])).toEqual(Array(4).fill([3, true]));
    const stored = await days.repos().progress.model.findById('A-STREAK-AT-ONCE|once|M0334').lean().exec();
    expect(stored).toMatchObject({ value: 3, runs: ['2026-11-24/2026-11-26'], rewardedAt: expect.any(Date) });
    expect(await days.pointsAt('2026-11-26T02:00:00Z', 'M0334')).toBe(before + 1);
  });

  it('counts no run from what the task counted before an operator made it count days in a row', async () => {
    await days.join('2026-11-24T02:00:00Z', 'M0336', 'A-STREAK-CHANGED', inARow(5));
    // Six distinct days, counted while the task was DISTINCT_DAYS of 7.
    await days.repos().progress.model.create({
      _id: 'A-STREAK-CHANGED|once|M0336',
      activityId: 'A-STREAK-CHANGED',
      taskId: 'once',
      memberId: 'M0336',
      value: 6,
      days: ['2026-11-01', '2026-11-03', '2026-11-05', '2026-11-07', '2026-11-09', '2026-11-11'],
    });
    expect(await days.signInAt('2026-11-24T02:00:00Z', 'M0336', 'A-STREAK-CHANGED')).toEqual([
      { value: 1, completed: false, rewarded: false },
    ]);
  });

  /**
   * Engagement's own sign-ins of a member on these days of November (a service's word: each counts on the day it
   * happened), all counted at once as of `now`; a day named twice is the same event sent twice.
   */
  const signInsAtOnce = (memberId: string, novemberDays: number[], now: Date) =>
    Promise.all(
      novemberDays.map((day) =>
        countEvents(
          days.repos(),
          new BankCalendar('Asia/Shanghai'),
          'CNY',
          [
            {
              id: `${memberId}-sign-in-${day}`,
              name: 'sign_in',
              memberId,
              occurredAt: new Date(`2026-11-${String(day).padStart(2, '0')}T02:00:00Z`),
              receivedAt: now,
              properties: {},
              recordedBy: 'svc.engagement',
              fromFeed: false,
            },
          ],
          now,
        ),
      ),
    );

  it('counts each of fifteen days sent at once, every write landing however many race it', async () => {
    await days.join('2026-10-31T02:00:00Z', 'M0337', 'A-STREAK-CROWD', inARow(20));
    const fifteen = Array.from({ length: 15 }, (_, index) => index + 1);
    await signInsAtOnce('M0337', fifteen, new Date('2026-11-15T03:00:00Z'));
    expect(
      await days.repos().progress.model.findById('A-STREAK-CROWD|once|M0337').lean().exec(),
    ).toMatchObject({ value: 15, runs: ['2026-11-01/2026-11-15'] });
  });

  it('loses no day to events of other days counted at once, late ones among them', async () => {
    await days.join('2026-11-20T02:00:00Z', 'M0335', 'A-STREAK-RACE', inARow(5));
    await signInsAtOnce('M0335', [24, 21, 23, 22, 21, 25, 24], new Date('2026-11-25T03:00:00Z'));
    expect(
      await days.repos().progress.model.findById('A-STREAK-RACE|once|M0335').lean().exec(),
    ).toMatchObject({
      value: 5,
      runs: ['2026-11-21/2026-11-25'],
      completedAt: expect.any(Date),
    });
  });
});

describe('in a hub whose bank keeps UTC (BANK_TIME_ZONE)', () => {
  const days = daysOf({ BANK_TIME_ZONE: 'UTC' }, 'engagement_days_utc');

  it('starts the day, its limit and its sign-ins again at midnight UTC', async () => {
    await days.benefit('B-DAYS-UTC');
    expect(await days.claimAt('2026-11-25T15:59:00Z', 'M0321', 'B-DAYS-UTC')).toMatchObject({
      id: expect.any(String),
    });
    expect(await days.claimAt('2026-11-25T16:01:00Z', 'M0322', 'B-DAYS-UTC')).toEqual([
      'DAILY_LIMIT_REACHED',
    ]);
    const claimed = await days.claimAt('2026-11-26T00:01:00Z', 'M0323', 'B-DAYS-UTC');
    expect(claimed).toMatchObject({ expiresAt: '2026-12-03T00:00:00.000Z' });
    expect(
      await days.signInsAt(['2026-11-25T15:30:00Z', '2026-11-25T16:30:00Z'], 'M0324', 'A-DAYS-UTC'),
    ).toEqual([1, 1]);
  });
});
