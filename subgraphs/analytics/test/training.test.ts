// Training the creative bandit and the send-time model on a real MongoDB-wire server: what a creative's posterior
// counts as trials and successes, and what a member's hours count, from members' events as stored.
import { BankCalendar } from '@bank-hub/shared';
import { dropAndClose, testConfig, testDatabase } from '../../../test/support/env';
import { trainCreativeBandit } from '../src/bandit-job';
import type { Posterior } from '../src/domain/bandit';
import { openRepositories } from '../src/models';
import type { EventDoc } from '../src/models/event';
import { sendTimeParametersOf, trainSendTime } from '../src/send-time-job';

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

it('trains the send-time model from what messages recorded, member by member, under its version, deleting counts no version names', async () => {
  const connection = await testDatabase('send-time-training');
  try {
    const repos = await openRepositories(connection);
    const shanghai = new BankCalendar('Asia/Shanghai');
    const now = new Date('2026-12-01T01:00:00Z');
    let n = 0;
    const open = (memberId: string, at: string, recordedBy: string | null = 'svc.messages'): EventDoc => ({
      _id: `send-time:${++n}`,
      name: n % 2 ? 'message_open' : 'message_click',
      memberId,
      deviceId: recordedBy ?? 'device-1',
      ...(recordedBy ? { recordedBy } : {}),
      channel: 'APP',
      occurredAt: new Date(at),
      receivedAt: now,
      day: shanghai.dayOf(new Date(at)),
      properties: { messageId: `m-${n}` },
    });
    await repos.events.insertNew([
      // 20:xx in Shanghai on three days; a member's app saying the same at 07:00 counts for nothing.
      ...['2026-11-20', '2026-11-21', '2026-11-22'].map((day) => open('M-evening', `${day}T12:10:00Z`)),
      ...Array.from({ length: 5 }, (_, i) => open('M-evening', `2026-11-23T23:0${i}:00Z`, null)),
      open('M-once', '2026-11-24T00:30:00Z'),
      // Older than the 90 days.
      open('M-old', '2026-08-01T12:00:00Z'),
    ]);
    // A training that died after writing counts, before publishing its version; and a member's counts as stored
    // before they were kept per version.
    const died = await repos.models.reserve('send-time', 'svc.analytics', now);
    await repos.sendTimes.writePage([
      { _id: `${died}|M-gone`, version: died, memberId: 'M-gone', hours: Array(24).fill(1), trainedAt: now },
    ]);
    await repos.sendTimes.model.collection.insertOne({
      _id: 'M-legacy',
      hours: Array(24).fill(1),
      run: 'earlier',
      trainedAt: now,
    } as never);

    const { version } = await trainSendTime(repos, shanghai, 'svc.analytics', now);
    expect(version.version).toBe(died + 1);
    const parameters = sendTimeParametersOf(version);
    expect(parameters).toMatchObject({ windowDays: 90, priorOpens: 5, minOpens: 3 });
    expect(parameters.population[20]).toBe(3);
    expect(parameters.population[8]).toBe(1);
    expect(version.metrics).toEqual({ members: 2, personal: 1, opens: 4 });
    const stored = await repos.sendTimes.model.find().sort({ _id: 1 }).lean();
    expect(stored.map(({ version, memberId }) => [version, memberId])).toEqual([
      [version.version, 'M-evening'],
      [version.version, 'M-once'],
    ]);

    // Another training while this one's lease is held is refused, and writes nothing.
    await repos.leases.acquire('send-time:run', 'another', 60_000, new Date());
    await expect(trainSendTime(repos, shanghai, 'svc.analytics', now)).rejects.toMatchObject({
      extensions: { code: 'CONFLICT' },
    });
    expect((await repos.models.head('send-time'))?.latest).toBe(version.version);
    expect(await repos.sendTimes.model.countDocuments()).toBe(2);
    await repos.leases.release('send-time:run', 'another');

    // A training that dies half-way through writing its members' counts publishes nothing: the version before goes on
    // serving, and the next training deletes the dead one's counts.
    const sendTimes = Object.create(repos.sendTimes) as typeof repos.sendTimes;
    sendTimes.writePage = async (docs) => {
      await repos.sendTimes.writePage(docs.slice(0, 1));
      throw new Error('connection lost');
    };
    await expect(trainSendTime({ ...repos, sendTimes }, shanghai, 'svc.analytics', now)).rejects.toThrow(
      'connection lost',
    );
    expect(await repos.models.head('send-time')).toMatchObject({
      active: version.version,
      latest: version.version + 1,
    });
    expect(await repos.models.version('send-time', version.version + 1)).toBeNull();
    const next = await trainSendTime(repos, shanghai, 'svc.analytics', now);
    expect(next.version.version).toBe(version.version + 2);
    expect(await repos.sendTimes.model.distinct('version')).toEqual([version.version, next.version.version]);
  } finally {
    await dropAndClose(connection);
  }
});
