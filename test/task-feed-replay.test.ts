// Engagement's task-feed consumer reading a page again (a process that died after counting it, before saving its
// cursor): every event counts exactly once, however many events of one member the page holds.
import { BankCalendar, encodeFeedCursor } from '@bank-hub/shared';
import type { ActivityDoc, TaskDoc } from '../subgraphs/engagement/src/activities/model';
import { consumeTaskEvents, type FeedEvent } from '../subgraphs/engagement/src/activities/feed-consumer';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import type { RewardGranter } from '../subgraphs/engagement/src/rewards';
import { ScriptedGraph, signInOnceActivity } from './support/activities';
import { dropAndClose, testConfig, testDatabase, testLogger } from './support/env';

const task = (id: string, extra: Partial<TaskDoc>): TaskDoc => ({
  id,
  title: id,
  event: 'share',
  where: [],
  measure: 'COUNT',
  property: null,
  target: 100_000,
  reward: { points: 1, benefitId: null },
  ...extra,
});

describe('a page of the event feed read again', () => {
  let connection: Awaited<ReturnType<typeof testDatabase>>;
  let repos: EngagementRepositories;

  beforeEach(async () => {
    connection = await testDatabase('task-feed-replay');
    repos = await openEngagement(connection);
  });

  afterEach(() => dropAndClose(connection));

  it('counts each of one member’s 450 events in it once, and keeps the progress small', async () => {
    const now = new Date();
    const activity: ActivityDoc = {
      ...signInOnceActivity('A-REPLAY', now),
      tasks: [
        task('shares', {}),
        task('watched', { event: 'live_watch', measure: 'SUM', property: 'seconds' }),
      ],
    };
    await repos.activities.insert(activity);
    await repos.participations.join('A-REPLAY', 'M7201', new Date(now.getTime() - 600_000));
    await repos.participations.join('A-REPLAY', 'M7202', new Date(now.getTime() - 600_000));
    // One full page (500): M7201's 300 shares and 150 live watches of 10 s, M7202's 50 shares; some events arrived in
    // the same millisecond, which the feed orders by id.
    const start = encodeFeedCursor({ at: new Date(now.getTime() - 120_000), id: '' });
    const events: FeedEvent[] = Array.from({ length: 500 }, (_, i) => {
      const at = new Date(now.getTime() - 60_000 + Math.floor(i / 3)).toISOString();
      const base = {
        id: `E-${String(i).padStart(4, '0')}`,
        occurredAt: at,
        receivedAt: at,
        recordedBy: null,
      };
      if (i % 10 === 9) return { ...base, name: 'share', memberId: 'M7202', properties: {} };
      if (i % 10 < 3) return { ...base, name: 'live_watch', memberId: 'M7201', properties: { seconds: 10 } };
      return { ...base, name: 'share', memberId: 'M7201', properties: {} };
    });
    const last = events.at(-1)!;
    const end = encodeFeedCursor({ at: new Date(last.receivedAt), id: last.id });
    // The next page: one more share, received in the same millisecond as the last of the first.
    const next: FeedEvent = { ...last, id: 'E-0500', memberId: 'M7201' };
    const after = encodeFeedCursor({ at: new Date(next.receivedAt), id: next.id });
    const pages = new Map([
      [start, { events, cursor: end }],
      [end, { events: [next], cursor: after }],
    ]);
    const granter: RewardGranter = {
      grant: async () => ({ pointsEntryId: null, claim: null }),
    };
    const pass = () =>
      consumeTaskEvents({
        repos,
        referrals: repos,
        benefits: repos,
        // The feed hands out fixed pages, by the cursor asked after; nothing past the last.
        graph: new ScriptedGraph(async ({ after }) => ({
          eventFeed: pages.get(after as string) ?? { events: [], cursor: after },
        })),
        logger: testLogger,
        granter,
        leases: repos.leases,
        cursors: repos.cursors,
        calendar: new BankCalendar(testConfig.BANK_TIME_ZONE),
        bankCurrency: testConfig.BANK_CURRENCY,
      });
    const setCursor = (cursor: string) =>
      repos.cursors.model
        .updateOne({ _id: 'tasks' }, { $set: { cursor, updatedAt: now } }, { upsert: true })
        .exec();
    const progress = async (taskId: string, memberId = 'M7201') =>
      repos.progress.model.findById(`A-REPLAY|${taskId}|${memberId}`).lean().exec();

    await setCursor(start);
    expect(await pass()).toBe(true);
    expect(await repos.cursors.get('tasks')).toBe(after);
    // The process died after counting the pages, before its cursor was saved: the next pass reads them again, twice.
    await setCursor(start);
    expect(await pass()).toBe(true);
    await setCursor(start);
    expect(await pass()).toBe(true);

    expect({
      shares: (await progress('shares'))?.value,
      watched: (await progress('watched'))?.value,
      otherShares: (await progress('shares', 'M7202'))?.value,
    }).toEqual({ shares: 301, watched: 1_500, otherShares: 50 });
    // What progress keeps to know so does not grow with the events counted.
    expect(JSON.stringify(await progress('shares')).length).toBeLessThan(1_000);
  });
});
