// Analytics' days are the bank's business days (BANK_TIME_ZONE), through the graph: with the default Asia/Shanghai a
// day begins at 16:00 UTC the day before, so frequency caps, daily actives, rollups, stats, retention weeks and the
// lifecycle's active days split events there and not at UTC midnight; a hub set to UTC splits them at UTC midnight.
// Only the clock is faked (the hub runs in this process, its timers as ever), so the instants stay near bank midnight.
// They are weeks back: the hub's rollup job rebuilds and seals the days that just ended by the real clock too, and a
// sealed day would refuse this test's live counts.
import type { RunningHub } from '../scripts/hub';
import analyticsDescriptor from '../subgraphs/analytics/src/descriptor';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import type { AnalyticsRepositories } from '../subgraphs/analytics/src/models';
import { dayBoundsOf } from '../subgraphs/analytics/src/domain/rollups';
import { rebuildDay } from '../subgraphs/analytics/src/rollup-job';
import { insertPublishedPage, publishedBanner } from './support/content';
import {
  bearer,
  clientToken,
  graphql,
  internalIdentity,
  testConfig,
  type GraphQLResponse,
} from './support/env';
import { setClock } from './support/clock';
import { startTestHub, stopTestHub } from './support/hub';
import { startSubgraph, type SubgraphUnderTest } from './support/subgraph';

let hub: RunningHub;
let repos: AnalyticsRepositories;

const CAPPED = 'CR-bankday-capped';
const UNCAPPED = 'CR-bankday-uncapped';

beforeAll(async () => {
  hub = await startTestHub('bankdays');
  repos = await openAnalytics(hub.connections.analytics);
  const hero = { code: 'hero', template: 'BANNER_CAROUSEL' as const, maxItems: 1 };
  await insertPublishedPage(
    hub.connections.content,
    'bankdaycap',
    [hero],
    [
      publishedBanner('PG-APP-bankdaycap', 'hero', CAPPED, { priority: 10, frequencyCap: 1 }),
      publishedBanner('PG-APP-bankdaycap', 'hero', UNCAPPED, { priority: 5 }),
    ],
  );
});

afterAll(() => stopTestHub(hub));

/** Sets the clock of this process (the hub's too) to `iso`; it runs on from there. */
const clockAt = (iso: string) => setClock(iso, { running: true });

afterEach(() => jest.useRealTimers());

/** Sends a document, signed at the clock's time (a token signed before the clock moved would have expired). */
type Send = (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;
const viaGateway =
  (subject: string, scope: string): Send =>
  async (query, variables) =>
    graphql(hub.gatewayUrl, query, variables, bearer(await clientToken(subject, scope)));

const until = async (done: () => Promise<boolean>, what: string) => {
  for (let tries = 0; tries < 50; tries++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`never: ${what}`);
};

const TRACK = `mutation ($deviceId: ID!, $events: [EventInput!]!) {
  trackEvents(deviceId: $deviceId, events: $events) { accepted }
}`;

let sequence = 0;
async function track(send: Send, channel: string, name: string, at: string, properties = {}): Promise<void> {
  const id = `bankday-${++sequence}-${Date.now().toString(36)}`;
  const events = [{ id, name, occurredAt: at, channel, properties }];
  const response = await send(TRACK, { deviceId: `bankday-device-${sequence}`, events });
  expect(response.data?.trackEvents.accepted).toBe(1);
}

describe('frequency caps', () => {
  const PAGE = `query {
    viewer { page(channel: APP, key: "bankdaycap") { slots { items { ... on PlacedItem { creativeId } } } } }
  }`;
  const EXPOSURES = `query ($id: ID!) { memberExposures(memberId: $id) { creativeId impressions } }`;

  it("count a member's impressions per bank day: the cap resets at the bank's midnight, not at UTC midnight", async () => {
    const member = viaGateway('M0981', 'member');
    const placed = async () =>
      (await member(PAGE)).data?.viewer.page.slots[0].items.map(
        (item: { creativeId: string }) => item.creativeId,
      );
    const impressions = async () =>
      (await member(EXPOSURES, { id: 'M0981' })).data?.memberExposures.find(
        (exposure: { creativeId: string }) => exposure.creativeId === CAPPED,
      )?.impressions ?? 0;
    const impression = (at: string) =>
      track(member, 'APP', 'creative_impression', at, { creativeId: CAPPED, pageId: 'PG-APP-bankdaycap' });

    // 00:30 on 8 October in Shanghai (still the 7th in UTC): the member sees the creative capped at 1 a day.
    clockAt('2026-10-07T16:31:00Z');
    expect(await placed()).toEqual([CAPPED]);
    await impression('2026-10-07T16:30:00Z');
    await until(async () => (await impressions()) === 1, 'the impression is counted');
    // 23:30 the same bank day (the 8th in UTC): the cap still holds, so the page shows the other creative.
    clockAt('2026-10-08T15:30:00Z');
    expect(await impressions()).toBe(1);
    expect(await placed()).toEqual([UNCAPPED]);
    // A client that showed it anyway: its impression counts on the same bank day.
    await impression('2026-10-08T15:30:00Z');
    await until(async () => (await impressions()) === 2, 'the second impression is counted');
    // 00:30 on the 9th in Shanghai: a new bank day, and the creative is shown again.
    clockAt('2026-10-08T16:30:00Z');
    expect(await impressions()).toBe(0);
    expect(await placed()).toEqual([CAPPED]);
  });
});

const ACTIVE = `query { activeMembers(channel: PARTNER, days: 2) { dau mau daily { day members } } }`;
const STATS = `query ($r: [_Any!]!) {
  _entities(representations: $r) { ... on Creative { id stats(days: 1) { from impressions } } }
}`;
const RETENTION = `query { retention(weeks: 2, channel: PARTNER) { week members active } }`;

describe("the bank's days in Asia/Shanghai", () => {
  // PARTNER: a channel the demo history never uses, so what is counted there is this test's.
  it('puts an event at 15:30 UTC and one at 16:30 UTC on two days: actives, rollups, stats, retention, lifecycle', async () => {
    const operator = viaGateway('ops.bankday', 'operator');
    const member = viaGateway('M0988', 'member');
    const creativeId = 'CR-bankday-stats';
    const signInAndSee = async (at: string) => {
      await track(member, 'PARTNER', 'sign_in', at);
      await track(member, 'PARTNER', 'creative_impression', at, { creativeId });
    };
    // Monday 5 October, 00:30 in Shanghai (a Sunday in UTC): the member's first day.
    clockAt('2026-10-04T16:31:00Z');
    await signInAndSee('2026-10-04T16:30:00Z');
    // 23:30 on the 8th in Shanghai, then 00:30 on the 9th: one UTC day, two bank days.
    clockAt('2026-10-08T15:31:00Z');
    await signInAndSee('2026-10-08T15:30:00Z');
    await until(
      async () => (await repos.rollups.model.exists({ day: '2026-10-08', subject: creativeId })) !== null,
      "the 8th's impression is counted",
    );
    clockAt('2026-10-08T16:31:00Z');
    await signInAndSee('2026-10-08T16:30:00Z');
    await until(
      async () => (await repos.rollups.model.exists({ day: '2026-10-09', subject: creativeId })) !== null,
      "the 9th's impression is counted",
    );

    const stored = await repos.events.model
      .find({ memberId: 'M0988', name: 'sign_in' })
      .sort({ occurredAt: 1 });
    expect(stored.map((event) => event.day)).toEqual(['2026-10-05', '2026-10-08', '2026-10-09']);

    const active = (await operator(ACTIVE)).data?.activeMembers;
    expect(active).toEqual({
      dau: 1,
      mau: 1,
      daily: [
        { day: '2026-10-07T16:00:00.000Z', members: 1 },
        { day: '2026-10-08T16:00:00.000Z', members: 1 },
      ],
    });

    // Today's stats count today's impression only, from the bank's midnight on.
    const identity = { 'x-hub-identity': await internalIdentity('ops.bankday', ['operator']) };
    const stats = await graphql(
      hub.subgraphs.analytics.url,
      STATS,
      { r: [{ __typename: 'Creative', id: creativeId }] },
      identity,
    );
    expect(stats.data?._entities[0].stats).toEqual({ from: '2026-10-08T16:00:00.000Z', impressions: 1 });

    // The rebuild of the 8th reads that bank day's events: the 15:30 UTC impression and not the 16:30 one.
    await rebuildDay(repos, '2026-10-08', dayBoundsOf(testConfig));
    const rebuilt = await repos.rollups.model.find({ subject: creativeId }).sort({ day: 1 }).lean().exec();
    expect(rebuilt.map(({ day, impressions }) => [day, impressions])).toEqual([
      ['2026-10-05', 1],
      ['2026-10-08', 1],
      ['2026-10-09', 1],
    ]);

    // A funnel reads the bank's days its range covers: here only the 9th, where its events are.
    const funnel = await operator(
      `query { funnel(steps: ["sign_in", "creative_impression"], from: "2026-10-08T16:00:00Z",
        to: "2026-10-08T16:45:00Z", withinHours: 1, channel: PARTNER) { steps { members } } }`,
    );
    expect(funnel.data?.funnel.steps).toEqual([{ members: 1 }, { members: 1 }]);

    // Cohorts by the bank's Monday: first seen in the week of 5 October, active again in it.
    const cohorts = (await operator(RETENTION)).data?.retention;
    expect(cohorts).toEqual([
      { week: '2026-09-27T16:00:00.000Z', members: 0, active: [0, 0] },
      { week: '2026-10-04T16:00:00.000Z', members: 1, active: [1] },
    ]);

    // The lifecycle counts three active bank days (run again if the scheduled run held the lease just then).
    await until(
      async () => (await operator(`mutation { runLifecycleJob { ran } }`)).data?.runLifecycleJob.ran === true,
      'the lifecycle job runs',
    );
    const tags = (await operator(`query { member(id: "M0988") { tags { code value } } }`)).data?.member.tags;
    expect(tags).toEqual(
      expect.arrayContaining([
        { code: 'active_days_30', value: 3 },
        { code: 'days_since_active', value: 0 },
      ]),
    );
  }, 60_000);
});

describe('a hub whose BANK_TIME_ZONE is UTC', () => {
  let utc: SubgraphUnderTest<AnalyticsRepositories>;

  beforeAll(async () => {
    utc = await startSubgraph('bankdays-utc', analyticsDescriptor, { config: { BANK_TIME_ZONE: 'UTC' } });
  });

  afterAll(() => utc.stop());

  it('puts the same two events on one day, the UTC day', async () => {
    const member = utc.as('M0988', ['member']);
    const operator = utc.as('ops.bankday', ['operator']);
    const creativeId = 'CR-bankday-utc';
    clockAt('2026-10-08T16:31:00Z');
    for (const at of ['2026-10-08T15:30:00Z', '2026-10-08T16:30:00Z']) {
      await track(member, 'PARTNER', 'sign_in', at);
      await track(member, 'PARTNER', 'creative_impression', at, { creativeId });
    }
    await until(async () => {
      const stats = await operator(STATS, { r: [{ __typename: 'Creative', id: creativeId }] });
      return stats.data?._entities[0].stats.impressions === 2;
    }, 'both impressions are counted today');
    const stored = await utc.repos.events.model.find({ memberId: 'M0988', name: 'sign_in' }).lean().exec();
    expect(stored.map((event) => event.day)).toEqual(['2026-10-08', '2026-10-08']);
    expect((await operator(ACTIVE)).data?.activeMembers).toEqual({
      dau: 1,
      mau: 1,
      daily: [
        { day: '2026-10-07T00:00:00.000Z', members: 0 },
        { day: '2026-10-08T00:00:00.000Z', members: 1 },
      ],
    });
    const stats = await operator(STATS, { r: [{ __typename: 'Creative', id: creativeId }] });
    expect(stats.data?._entities[0].stats).toEqual({ from: '2026-10-08T00:00:00.000Z', impressions: 2 });
  });
});
