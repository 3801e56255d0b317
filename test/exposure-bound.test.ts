// A member's exposures (what frequency caps count) per bank day, through the gateway: a member's script naming a new
// made-up creative in every impression stores no more than EXPOSURES_PER_MEMBER_PER_DAY of them, while the real
// creative's impressions keep counting and its cap keeps applying on that member's page; another member is
// unaffected, the rebuild of the day keeps the same, and a second process (or a restart) keeps to what is stored.
import { BankCalendar } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { dayBoundsOf } from '../subgraphs/analytics/src/domain/rollups';
import { openRepositories, type AnalyticsRepositories } from '../subgraphs/analytics/src/models';
import { rebuildDay } from '../subgraphs/analytics/src/rollup-job';
import { MongoEventSink, RollupWriter, type ArrivingEvent } from '../subgraphs/analytics/src/sink';
import { insertPublishedPage, publishedBanner } from './support/content';
import {
  callerOf,
  capturingLogger,
  dropAndClose,
  testConfig,
  testDatabase,
  testLogger,
  type Send,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

/** Small, so a flood past it is quick to send. */
const CAP = 20;
const bounds = dayBoundsOf({ ...testConfig, EXPOSURES_PER_MEMBER_PER_DAY: CAP });
const CAPPED = 'CR-bound-capped';
const UNCAPPED = 'CR-bound-uncapped';
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);

let sequence = 0;
const next = () => `${++sequence}-${Date.now().toString(36)}`;

describe("a member's exposures per day, through the gateway", () => {
  let hub: RunningHub;
  let repos: AnalyticsRepositories;
  const log = capturingLogger('hub', 'warn');

  beforeAll(async () => {
    // The flood's sender is not held back by its rate limit: the bound is what this file is about.
    hub = await startTestHub('exposure-bound', {
      config: { EXPOSURES_PER_MEMBER_PER_DAY: CAP, EVENTS_PER_MEMBER_PER_MINUTE: 100_000 },
      logger: log.logger,
    });
    repos = await openRepositories(hub.connections.analytics);
    const hero = { code: 'hero', template: 'BANNER_CAROUSEL' as const, maxItems: 1 };
    await insertPublishedPage(
      hub.connections.content,
      'boundtest',
      [hero],
      [
        publishedBanner('PG-APP-boundtest', 'hero', CAPPED, { priority: 10, frequencyCap: 2 }),
        publishedBanner('PG-APP-boundtest', 'hero', UNCAPPED, { priority: 5 }),
      ],
    );
  });

  afterAll(() => stopTestHub(hub));

  const TRACK = `mutation ($deviceId: ID!, $events: [EventInput!]!) { trackEvents(deviceId: $deviceId, events: $events) { accepted } }`;
  const PAGE = `query { viewer { page(channel: APP, key: "boundtest") { slots { items { ... on PlacedItem { creativeId } } } } } }`;

  const impressions = (creativeIds: readonly string[]) =>
    creativeIds.map((creativeId) => ({
      id: `ev-${next()}`,
      name: 'creative_impression',
      occurredAt: new Date().toISOString(),
      channel: 'APP',
      properties: { creativeId },
    }));
  async function see(member: Send, creativeIds: readonly string[]): Promise<void> {
    const answer = await member(TRACK, {
      deviceId: `device-bound-${next()}`,
      events: impressions(creativeIds),
    });
    expect(answer.data?.trackEvents.accepted).toBe(creativeIds.length);
  }
  async function placed(member: Send): Promise<string[]> {
    const answer = await member(PAGE);
    expect(answer.errors).toBeUndefined();
    return answer.data?.viewer.page.slots[0].items.map((item: { creativeId: string }) => item.creativeId);
  }

  /** A member's exposures today, as stored: creative → impressions. */
  async function exposuresOf(memberId: string): Promise<Map<string, number>> {
    const docs = await repos.exposures.model
      .find({ memberId, day: calendar.dayOf(new Date()) })
      .lean()
      .exec();
    return new Map(docs.map((doc) => [doc.creativeId, doc.impressions]));
  }
  /** Waits until a member's exposures today reach `done` and stop changing (writes land within a quarter second). */
  async function settled(
    memberId: string,
    done: (exposures: Map<string, number>) => boolean,
  ): Promise<Map<string, number>> {
    let last = '';
    for (let i = 0; i < 100; i += 1) {
      const exposures = await exposuresOf(memberId);
      const seen = JSON.stringify([...exposures]);
      if (done(exposures) && seen === last) return exposures;
      last = seen;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error(`the exposures of ${memberId} never settled`);
  }

  it('keeps at most the cap of creatives for a member flooding made-up ids, the real one counting and capped', async () => {
    const [flooder, other] = await Promise.all(
      ['M0901', 'M0902'].map((member) => callerOf(hub.gatewayUrl, member, 'member')),
    );
    // The member sees the real creative once: it stays on the page (cap 2)...
    await see(flooder!, [CAPPED]);
    await settled('M0901', (exposures) => exposures.get(CAPPED) === 1);
    expect(await placed(flooder!)).toEqual([CAPPED]);

    // ...then their script names a new made-up creative in every impression, a batch per device id...
    const flood = Array.from({ length: 200 }, (_, n) => `CR-MADEUP-${n}`);
    for (let i = 0; i < flood.length; i += 100) await see(flooder!, flood.slice(i, i + 100));
    // ...and the real creative's next impression still counts: the page caps it.
    await see(flooder!, [CAPPED]);
    const live = await settled('M0901', (exposures) => exposures.get(CAPPED) === 2);
    // One process: no other writer races it, so the bound holds exactly (the real one and the first made-up ones).
    expect(live.size).toBe(CAP);
    expect([...live.keys()].sort()).toEqual([CAPPED, ...flood.slice(0, CAP - 1)].sort());
    expect(await placed(flooder!)).toEqual([UNCAPPED]);
    // Made-up ids already counted keep counting; new ones are still left out.
    await see(flooder!, [flood[0]!, 'CR-MADEUP-late']);
    const after = await settled('M0901', (exposures) => exposures.get(flood[0]!) === 2);
    expect(after.size).toBe(CAP);
    expect(after.has('CR-MADEUP-late')).toBe(false);

    // Another member's exposures are their own: counted in full, the real creative still on their page.
    await see(other!, [CAPPED, 'CR-bound-other-a', 'CR-bound-other-b', 'CR-bound-other-a']);
    const others = await settled('M0902', (exposures) => exposures.size === 3);
    expect(Object.fromEntries(others)).toEqual({ [CAPPED]: 1, 'CR-bound-other-a': 2, 'CR-bound-other-b': 1 });
    expect(await placed(other!)).toEqual([CAPPED]);

    // Logged once for the day, however many writes it left something out of.
    const bounded = log.lines().filter((line) => String(line.msg).includes("member's day keeps"));
    expect(bounded).toEqual([expect.objectContaining({ day: calendar.dayOf(new Date()), cap: CAP })]);

    // Rebuilt from its events, the day keeps the same creatives with the same counts.
    const refused = await rebuildDay(repos, calendar.dayOf(new Date()), bounds);
    expect(refused.exposures).toBe(flood.length - (CAP - 1) + 1);
    expect(await exposuresOf('M0901')).toEqual(after);
    expect(await exposuresOf('M0902')).toEqual(others);
  }, 120_000);
});

describe("a member's exposures across analytics processes", () => {
  let connection: Awaited<ReturnType<typeof testDatabase>>;
  let repos: AnalyticsRepositories;

  beforeEach(async () => {
    connection = await testDatabase('exposure-processes');
    repos = await openRepositories(connection);
  });

  afterEach(() => dropAndClose(connection));

  /** An analytics process's writer and sink over the shared database; it flushes when told to. */
  function analyticsProcess() {
    const writer = new RollupWriter(repos.rollups, repos.exposures, calendar, testLogger, bounds, 3_600_000);
    const sink = new MongoEventSink(repos.events, repos.writesInFlight, writer);
    return { writer, sink };
  }
  const impression = (memberId: string, creativeId: string): ArrivingEvent => {
    const occurredAt = new Date();
    return {
      _id: `device-processes:ev-${next()}`,
      name: 'creative_impression',
      memberId,
      deviceId: 'device-processes',
      channel: 'APP',
      occurredAt,
      day: calendar.dayOf(occurredAt),
      properties: { creativeId },
    };
  };
  const count = (memberId: string) => repos.exposures.model.countDocuments({ memberId });

  it('keeps to the bound another process (or this one before a restart) filled, counting what it holds', async () => {
    const first = analyticsProcess();
    await first.sink.store(Array.from({ length: CAP }, (_, n) => impression('M0001', `CR-first-${n}`)));
    await first.sink.close();
    expect(await count('M0001')).toBe(CAP);

    const second = analyticsProcess();
    await second.sink.store([impression('M0001', 'CR-first-0'), impression('M0001', 'CR-second')]);
    await second.sink.store([impression('M0002', 'CR-second')]);
    await second.sink.close();
    expect(await count('M0001')).toBe(CAP);
    const held = await repos.exposures.model.findOne({ memberId: 'M0001', creativeId: 'CR-first-0' }).lean();
    expect(held?.impressions).toBe(2);
    expect(await count('M0002')).toBe(1);
  });

  it('overshoots by at most one write per process when two fill the last room at once', async () => {
    const [a, b] = [analyticsProcess(), analyticsProcess()];
    await a.sink.store(Array.from({ length: CAP - 1 }, (_, n) => impression('M0001', `CR-fill-${n}`)));
    await a.writer.flush();
    // Both read one place left, and each writes its own new creatives into it.
    await a.sink.store([impression('M0001', 'CR-a-1'), impression('M0001', 'CR-a-2')]);
    await b.sink.store([impression('M0001', 'CR-b-1'), impression('M0001', 'CR-b-2')]);
    await Promise.all([a.writer.flush(), b.writer.flush()]);
    const stored = await count('M0001');
    expect(stored).toBeGreaterThanOrEqual(CAP);
    expect(stored).toBeLessThanOrEqual(CAP + 1);
    // From then on both keep to it.
    await a.sink.store([impression('M0001', 'CR-a-3')]);
    await b.sink.store([impression('M0001', 'CR-b-3')]);
    await Promise.all([a.sink.close(), b.sink.close()]);
    expect(await count('M0001')).toBe(stored);
  });
});
