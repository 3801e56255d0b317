// Operators' analyses over the seeded 90 days of history, through the gateway: active members per channel, a funnel
// and retention cohorts, checked against what the seed's events say; and every bad argument answered with a code.
import { BankCalendar, Cached, addDays } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { funnel, retention } from '../subgraphs/analytics/src/analysis';
import { cohortsOf, firstCohortWeek } from '../subgraphs/analytics/src/domain/retention';
import {
  openRepositories as openAnalytics,
  type AnalyticsRepositories,
} from '../subgraphs/analytics/src/models';
import type { Channel, EventRepository } from '../subgraphs/analytics/src/models/event';
import type { DailyActiveDoc } from '../subgraphs/analytics/src/models/rollup';
import { countedReads, type RowCount } from '../subgraphs/analytics/test/counted-reads';
import { bearer, clientToken, errorCodes, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;
let analytics: AnalyticsRepositories;

const DAY_MS = 86_400_000;
/** The bank's days analytics counts. */
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);

beforeAll(async () => {
  // The 90-day funnel over the demo history takes 1-2 s on the Java fallback alone, more while other suites run: the
  // gateway's 3 s deadline for one fetch would make a slow machine fail a correct answer.
  hub = await startTestHub('analyses', { config: { SUBGRAPH_TIMEOUT_MS: 20_000 }, history: 'full' });
  operator = bearer(await clientToken('ops.wu', 'operator'));
  analytics = await openAnalytics(hub.connections.analytics);
});

afterAll(() => stopTestHub(hub));

const ACTIVE = `query ($channel: Channel, $days: Int) {
  activeMembers(channel: $channel, days: $days) { channel dau mau stickiness daily { day members } }
}`;
const FUNNEL = `query ($steps: [String!]!, $from: DateTime!, $to: DateTime!, $within: Int, $channel: Channel) {
  funnel(steps: $steps, from: $from, to: $to, withinHours: $within, channel: $channel) {
    withinHours steps { name members conversion overall }
  }
}`;
const RETENTION = `query ($weeks: Int) { retention(weeks: $weeks) { week members active retained } }`;

describe('active members', () => {
  it('counts daily and monthly actives as the seeded history has them', async () => {
    const response = await graphql(hub.gatewayUrl, ACTIVE, { days: 30 }, operator);
    expect(response.errors).toBeUndefined();
    const answer = response.data?.activeMembers;
    const today = calendar.dayOf(new Date());
    const from = addDays(today, -29);
    const actives = await analytics.rollups.actives
      .find({ day: { $gte: from } })
      .lean()
      .exec();
    expect(answer.mau).toBe(new Set(actives.map((active) => active.memberId)).size);
    expect(answer.dau).toBe(new Set(actives.filter((a) => a.day === today).map((a) => a.memberId)).size);
    expect(answer.daily).toHaveLength(30);
    // Each day is given as the instant it begins: the bank's midnight.
    expect(answer.daily.at(-1)).toEqual({ day: calendar.startOf(today).toISOString(), members: answer.dau });
    expect(answer.mau).toBeGreaterThan(100);
    expect(answer.stickiness).toBeCloseTo(answer.dau / answer.mau, 10);
  });

  it('counts one channel apart', async () => {
    const all = (await graphql(hub.gatewayUrl, ACTIVE, {}, operator)).data?.activeMembers;
    const web = (await graphql(hub.gatewayUrl, ACTIVE, { channel: 'WEB' }, operator)).data?.activeMembers;
    expect(web.channel).toBe('WEB');
    expect(web.mau).toBeGreaterThan(0);
    expect(web.mau).toBeLessThan(all.mau);
  });
});

describe('funnels', () => {
  it('follows members from a page view to a product view to a completed flow, narrowing at each step', async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 90 * DAY_MS);
    const response = await graphql(
      hub.gatewayUrl,
      FUNNEL,
      { steps: ['page_view', 'product_view', 'flow_step', 'flow_completed'], from, to, within: 24 },
      operator,
    );
    expect(response.errors).toBeUndefined();
    const steps = response.data?.funnel.steps as { name: string; members: number; conversion: number }[];
    expect(steps.map((step) => step.name)).toEqual([
      'page_view',
      'product_view',
      'flow_step',
      'flow_completed',
    ]);
    const completed = await analytics.events.model.distinct('memberId', { name: 'flow_completed' }).exec();
    expect(steps[3]!.members).toBe(completed.length);
    for (let i = 1; i < steps.length; i++) {
      expect(steps[i]!.members).toBeLessThanOrEqual(steps[i - 1]!.members);
      expect(steps[i]!.conversion).toBeCloseTo(steps[i]!.members / steps[i - 1]!.members, 10);
    }
    expect(steps[3]!.members).toBeGreaterThan(0);
  });

  it('stops reading its range once the gateway stops waiting for the answer', async () => {
    // The gateway gives up on a slow funnel (and an operator sends it again): the first must not read on for nobody.
    const waiting = new AbortController();
    let read = 0;
    const events: EventRepository = Object.assign(Object.create(analytics.events) as EventRepository, {
      async *memberEventsInOrder(...args: Parameters<EventRepository['memberEventsInOrder']>) {
        for await (const event of analytics.events.memberEventsInOrder(...args)) {
          if (++read === 100) waiting.abort();
          yield event;
        }
      },
    });
    const plan = new Cached(
      async () => new Map((await analytics.plan.all()).map((event) => [event._id, event])),
    );
    const to = new Date();
    const counting = funnel(
      { repos: { ...analytics, events }, plan, calendar, signal: waiting.signal },
      {
        steps: ['page_view', 'product_view', 'flow_step', 'flow_completed'],
        from: new Date(to.getTime() - 90 * DAY_MS),
        to,
        withinHours: 24,
        channel: null,
      },
    );
    await expect(counting).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    expect(read).toBe(100);
  });

  it("answers a funnel at the end of the DateTime range, where the bank's last days are past year 9999", async () => {
    // In Shanghai the range's last day ends at 16:00 UTC, and the 30 days after `to` are in year 10000 there.
    const response = await graphql(
      hub.gatewayUrl,
      FUNNEL,
      {
        steps: ['page_view', 'product_view'],
        from: '9999-12-30T00:00:00Z',
        to: '9999-12-31T23:59:59.999Z',
        within: 720,
      },
      operator,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.funnel.steps.map((step: { members: number }) => step.members)).toEqual([0, 0]);
  });

  it('refuses a funnel without steps, with too many, inverted, too long or with an unknown event', async () => {
    const to = new Date();
    const from = new Date(to.getTime() - 7 * DAY_MS);
    const cases: [Record<string, unknown>, string][] = [
      [{ steps: [], from, to }, 'steps'],
      [{ steps: ['page_view'], from, to }, 'steps'],
      [{ steps: Array.from({ length: 9 }, () => 'page_view'), from, to }, 'steps'],
      [{ steps: ['page_view', 'no_such_event'], from, to }, 'steps[1]'],
      [{ steps: ['page_view', 'sign_in'], from: to, to: from }, 'to'],
      [{ steps: ['page_view', 'sign_in'], from: new Date(to.getTime() - 91 * DAY_MS), to }, 'to'],
      [{ steps: ['page_view', 'sign_in'], from, to, within: 0 }, 'withinHours'],
      [{ steps: ['page_view', 'sign_in'], from, to, within: 721 }, 'withinHours'],
    ];
    for (const [variables, field] of cases) {
      const started = performance.now();
      const response = await graphql(hub.gatewayUrl, FUNNEL, variables, operator);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(performance.now() - started).toBeLessThan(1_000);
    }
    const notAnInstant = await graphql(
      hub.gatewayUrl,
      FUNNEL,
      { steps: ['a', 'b'], from: 'yesterday', to },
      operator,
    );
    expect(errorCodes(notAnInstant)).toEqual(['BAD_USER_INPUT']);
  });
});

describe('retention cohorts', () => {
  it("groups members by their first week and counts each week's returners", async () => {
    const response = await graphql(hub.gatewayUrl, RETENTION, { weeks: 8 }, operator);
    expect(response.errors).toBeUndefined();
    const cohorts = response.data?.retention as {
      week: string;
      members: number;
      active: number[];
      retained: number[];
    }[];
    expect(cohorts).toHaveLength(8);
    expect(cohorts.map((cohort) => cohort.active.length)).toEqual([8, 7, 6, 5, 4, 3, 2, 1]);
    for (const cohort of cohorts) {
      // Week 0 is the week they were first seen: everyone of the cohort was active in it.
      expect(cohort.active[0]).toBe(cohort.members);
      for (const count of cohort.active) expect(count).toBeLessThanOrEqual(cohort.members);
    }
    expect(cohorts.reduce((sum, cohort) => sum + cohort.members, 0)).toBeGreaterThan(0);
    expect(errorCodes(await graphql(hub.gatewayUrl, RETENTION, { weeks: 27 }, operator))).toEqual([
      'BAD_USER_INPUT',
    ]);
  });

  it('reads only the members active in the cohort weeks, with the cohorts their whole history gives', async () => {
    const now = new Date();
    const today = calendar.dayOf(now);
    const count: RowCount = { rows: 0 };
    const ctx = {
      repos: { ...analytics, rollups: countedReads(analytics.rollups, count) },
      now,
      today,
      calendar,
    };
    const asked = async (weeks: number, channel: Channel | null) => {
      count.rows = 0;
      const cohorts = await retention(ctx, weeks, channel);
      return { cohorts, rows: count.rows };
    };
    // The cohorts from every member's every active day, as retention read them before.
    const fromWholeHistory = async (weeks: number, channel: Channel | null) => {
      const actives = await analytics.rollups.actives
        .find(channel ? { channel } : {})
        .lean<DailyActiveDoc[]>()
        .exec();
      const days = new Map<string, string[]>();
      for (const { memberId, day } of actives) days.set(memberId, [...(days.get(memberId) ?? []), day]);
      return cohortsOf(days, today, weeks).map((cohort) => ({
        ...cohort,
        week: calendar.startOf(cohort.week),
      }));
    };
    const activeSince = async (day: string) =>
      (await analytics.rollups.actives.distinct('memberId', { day: { $gte: day } }).exec()).length;

    const cases: [number, Channel | null][] = [
      [1, null],
      [8, null],
      [26, null],
      [8, 'WEB'],
    ];
    for (const [weeks, channel] of cases)
      expect((await asked(weeks, channel)).cohorts).toEqual(await fromWholeHistory(weeks, channel));
    const served = (await graphql(hub.gatewayUrl, RETENTION, { weeks: 8 }, operator)).data?.retention;
    const before = await asked(8, null);
    expect(before.cohorts.map((cohort) => ({ ...cohort, week: cohort.week.toISOString() }))).toEqual(served);
    const inWindow = await activeSince(firstCohortWeek(today, 8));
    // A row per member active in the cohort weeks, and at most one more for each seen before them.
    expect(before.rows).toBeLessThanOrEqual(2 * inWindow);

    // Three years ago: 20,000 member-days no cohort of the last 26 weeks needs.
    const old: DailyActiveDoc[] = Array.from({ length: 20_000 }, (_, i) => {
      const day = addDays(today, -(3 * 365 + (i % 200)));
      return { _id: `${day}|APP|OLD-${i}`, day, channel: 'APP', memberId: `OLD-${i}` };
    });
    for (let i = 0; i < old.length; i += 5_000)
      await analytics.rollups.actives.insertMany(old.slice(i, i + 5_000));
    try {
      const after = await asked(8, null);
      expect(after.cohorts).toEqual(before.cohorts);
      expect(after.rows).toBe(before.rows);
      expect((await asked(1, null)).rows).toBeLessThanOrEqual(
        2 * (await activeSince(firstCohortWeek(today, 1))),
      );
      expect((await asked(26, null)).cohorts).toEqual(await fromWholeHistory(26, null));
    } finally {
      await analytics.rollups.actives.deleteMany({ memberId: { $regex: '^OLD-' } }).exec();
    }
  }, 60_000);
});

describe('access', () => {
  it('keeps analyses for operators', async () => {
    const member = bearer(await clientToken('M0001', 'member'));
    for (const query of [ACTIVE, RETENTION, `{ lifecycleModel { version } }`, `{ models { name } }`]) {
      expect(errorCodes(await graphql(hub.gatewayUrl, query, {}, member))).toEqual(['FORBIDDEN']);
    }
  });
});
