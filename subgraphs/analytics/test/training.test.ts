// Training the creative bandit on a real MongoDB-wire server: what a creative's posterior counts as trials and
// successes, from members' events as stored.
import { BankCalendar } from '@bank-hub/shared';
import { dropAndClose, testConfig, testDatabase } from '../../../test/support/env';
import { trainCreativeBandit } from '../src/bandit-job';
import type { Posterior } from '../src/domain/bandit';
import { openRepositories } from '../src/models';
import type { EventDoc } from '../src/models/event';

const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);

it('counts a click only on a day its member saw the creative: clicks from members who never saw it crown nothing', async () => {
  const connection = await testDatabase('bandit-training');
  try {
    const repos = await openRepositories(connection);
    const now = new Date();
    const at = new Date(now.getTime() - 60_000);
    const earlier = new Date(at.getTime() - 2 * 86_400_000);
    let n = 0;
    const event = (name: string, memberId: string, creativeId: string, when = at): EventDoc => ({
      _id: `training:${++n}`,
      name,
      memberId,
      deviceId: 'training',
      channel: 'APP',
      occurredAt: when,
      receivedAt: now,
      day: calendar.dayOf(when),
      properties: { creativeId },
    });
    const seen = Array.from({ length: 20 }, (_, i) => `M-seen-${i}`);
    await repos.events.insertNew([
      // Twenty members see the quiet creative today, two of them click it.
      ...seen.map((memberId) => event('creative_impression', memberId, 'CR-quiet')),
      ...seen.slice(0, 2).map((memberId) => event('creative_click', memberId, 'CR-quiet')),
      // Twenty members see the pushed one, one clicks it; twenty others, who never saw it, send a click each, and one
      // who saw it two days ago clicks it today.
      ...seen.map((memberId) => event('creative_impression', memberId, 'CR-pushed')),
      event('creative_click', seen[0]!, 'CR-pushed'),
      ...Array.from({ length: 20 }, (_, i) => event('creative_click', `M-never-${i}`, 'CR-pushed')),
      event('creative_impression', 'M-earlier', 'CR-pushed', earlier),
      event('creative_click', 'M-earlier', 'CR-pushed'),
    ]);

    const { version } = await trainCreativeBandit(repos, calendar, 'svc.analytics', now);
    const posteriors = (version.parameters as { posteriors: Posterior[] }).posteriors;
    expect([...posteriors].sort((a, b) => a.creativeId.localeCompare(b.creativeId))).toEqual([
      { creativeId: 'CR-pushed', alpha: 2, beta: 21 },
      { creativeId: 'CR-quiet', alpha: 3, beta: 19 },
    ]);
  } finally {
    await dropAndClose(connection);
  }
});
