// Engagement's task-feed consumer with several processes: a pass that outlived its lease, taken over by another
// process meanwhile, writes nothing more — no counting, no cursor, no rewards — and a cursor never moves back.
import { BankCalendar, encodeFeedCursor } from '@bank-hub/shared';
import { consumeTaskEvents } from '../subgraphs/engagement/src/activities/feed-consumer';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import type { Reward, RewardGranter } from '../subgraphs/engagement/src/rewards';
import { ScriptedGraph, signInOnceActivity } from './support/activities';
import { dropAndClose, testConfig, testDatabase, testLogger } from './support/env';

async function seedActivity(repos: EngagementRepositories, memberId: string, now: Date): Promise<void> {
  await repos.activities.insert(signInOnceActivity('A-LEASE', now));
  await repos.participations.join('A-LEASE', memberId, new Date(now.getTime() - 60_000));
}

describe('the task-feed consumer under a lease', () => {
  let connection: Awaited<ReturnType<typeof testDatabase>>;
  let repos: EngagementRepositories;

  beforeEach(async () => {
    connection = await testDatabase('task-feed-lease');
    repos = await openEngagement(connection);
  });

  afterEach(() => dropAndClose(connection));

  it('a pass whose feed answer arrives after another process took the lease over writes nothing more', async () => {
    const now = new Date();
    await seedActivity(repos, 'M7001', now);
    const start = encodeFeedCursor({ at: new Date(now.getTime() - 120_000), id: '' });
    const stalePage = encodeFeedCursor({ at: now, id: 'E-STALE-1' });
    const newer = encodeFeedCursor({ at: new Date(now.getTime() + 1_000), id: 'E-NEWER-9' });
    await repos.cursors.model
      .updateOne({ _id: 'tasks' }, { $set: { cursor: start, updatedAt: now } }, { upsert: true })
      .exec();
    let tookOver = false;
    // The feed's answer is handed over only after what happened while the gateway was slow.
    const graph = new ScriptedGraph(async () => {
      // While the gateway was slow the lease lapsed; another process took it and read the feed further.
      await repos.leases.model.updateOne({ _id: 'task-feed' }, { $set: { until: new Date(0) } }).exec();
      tookOver = await repos.leases.acquire('task-feed', 'other-process', 60_000, new Date());
      await repos.cursors.model.updateOne({ _id: 'tasks' }, { $set: { cursor: newer } }).exec();
      return {
        eventFeed: {
          events: [
            {
              id: 'E-STALE-1',
              name: 'sign_in',
              memberId: 'M7001',
              occurredAt: now.toISOString(),
              receivedAt: now.toISOString(),
              properties: {},
            },
          ],
          cursor: stalePage,
        },
      };
    });
    const asked: Reward[] = [];
    const granter: RewardGranter = {
      async grant(reward: Reward) {
        asked.push(reward);
        return { pointsEntryId: `PE-${reward.memberId}`, claim: null };
      },
    };

    const ran = await consumeTaskEvents({
      repos,
      referrals: repos,
      benefits: repos,
      graph,
      logger: testLogger,
      granter,
      leases: repos.leases,
      cursors: repos.cursors,
      calendar: new BankCalendar(testConfig.BANK_TIME_ZONE),
      bankCurrency: testConfig.BANK_CURRENCY,
    });

    expect(tookOver).toBe(true);
    // The other process's cursor stands; the stale page was neither counted nor rewarded, and the lease is still
    // the other process's.
    const progress = await repos.progress.model.findById('A-LEASE|once|M7001').lean().exec();
    const lease = await repos.leases.model.findById('task-feed').lean().exec();
    expect({
      ran,
      cursor: await repos.cursors.get('tasks'),
      progress,
      granted: asked.map((reward) => reward.memberId),
      holder: lease?.holder,
    }).toEqual({ ran: false, cursor: newer, progress: null, granted: [], holder: 'other-process' });
  });

  it('saving a cursor from a position another pass already moved past leaves the newer cursor', async () => {
    const now = new Date();
    const first = encodeFeedCursor({ at: now, id: 'E-1' });
    const second = encodeFeedCursor({ at: now, id: 'E-2' });
    const third = encodeFeedCursor({ at: now, id: 'E-3' });
    expect(await repos.cursors.save('tasks', null, first, now)).toBe(true);
    // Two passes read from `first`; the newer one saved `third`, then the older one tries `second`.
    expect(await repos.cursors.save('tasks', first, third, now)).toBe(true);
    expect(await repos.cursors.save('tasks', first, second, now)).toBe(false);
    expect(await repos.cursors.save('tasks', null, second, now)).toBe(false);
    expect(await repos.cursors.get('tasks')).toBe(third);
  });
});
