// A recurring campaign's occurrences keep the bank's clock (BANK_TIME_ZONE), through the gateway: for a bank in Zurich,
// "daily at 09:00" and "weekly on Monday at 09:00" are still 09:00 there once the clocks have gone forward, as a
// monthly one is; and it runs at most once a day (a week, a month) whatever edits move its time. The scheduler runs
// in-process at the instant the test names.
import type { RunningHub } from '../scripts/hub';
import { runScheduler } from '../subgraphs/messages/src/campaigns/scheduler';
import { testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { IN_APP_TEMPLATE, logger, messaging, type Messaging } from './support/messages';

let hub: RunningHub;
let m: Messaging;
let template: string;

beforeAll(async () => {
  hub = await startTestHub('campaign_clock', { config: { BANK_TIME_ZONE: 'Europe/Zurich' } });
  m = await messaging(hub, { ...testConfig, BANK_TIME_ZONE: 'Europe/Zurich' });
  template = await m.publishedTemplate(IN_APP_TEMPLATE);
});

afterAll(() => stopTestHub(hub));

const OCCURRENCES = `query ($id: ID!) { campaign(id: $id) { occurrences(first: 5) { at } } }`;

it.each([
  // Saturday 28 March, 09:00 in Zurich (UTC+1); the clocks go forward on Sunday the 29th.
  ['DAILY', '2026-03-28T09:00:00+01:00'],
  // Monday 23 March, 09:00 in Zurich (UTC+1).
  ['WEEKLY', '2026-03-23T09:00:00+01:00'],
])(
  'opens a %s campaign at 09:00 in Zurich after the clocks went forward, not at 10:00',
  async (every, at) => {
    const id = await m.approvedCampaign({
      name: `Mornings (${every})`,
      purpose: 'SERVICE',
      audience: { segmentCode: 'GOLD_AND_ABOVE' },
      trigger: { kind: 'RECURRING', at, every },
      variants: [{ key: 'A', weight: 1, templateIds: [template] }],
    });
    // 09:30 on Monday 30 March in Zurich (UTC+2 since Sunday): that morning's occurrence, at 09:00 there, is due.
    await runScheduler(
      { repos: m.repos, graph: m.graph, logger, calendar: m.calendar },
      new Date('2026-03-30T07:30:00Z'),
    );
    const read = await m.alice(OCCURRENCES, { id });
    expect(read.errors).toBeUndefined();
    expect(read.data?.campaign.occurrences).toEqual([{ at: '2026-03-30T07:00:00.000Z' }]);
  },
);

const dailyAt = (at: string) => ({
  name: 'Daily digest',
  purpose: 'SERVICE',
  audience: { segmentCode: 'GOLD_AND_ABOVE' },
  trigger: { kind: 'RECURRING', at, every: 'DAILY' },
  variants: [{ key: 'A', weight: 1, templateIds: [template] }],
});

const scheduleAt = (at: string) =>
  runScheduler({ repos: m.repos, graph: m.graph, logger, calendar: m.calendar }, new Date(at));

const plannedFor = (id: string) => m.repos.outbox.entries.countDocuments({ campaignId: id });

it('runs a daily campaign once on a day it ran already though its time is moved later that day', async () => {
  const id = await m.approvedCampaign(dailyAt('2026-04-01T09:00:00+02:00'));
  // 09:30 on 2 April in Zurich: that morning's run goes out.
  await scheduleAt('2026-04-02T09:30:00+02:00');
  const members = await plannedFor(id);
  expect(members).toBeGreaterThan(0);

  await m.republishedCampaign(id, dailyAt('2026-04-01T15:00:00+02:00'));
  // 15:30 that day: nothing more that day; 15:30 the next day: the day's one run, at 15:00.
  await scheduleAt('2026-04-02T15:30:00+02:00');
  expect(await plannedFor(id)).toBe(members);
  await scheduleAt('2026-04-03T15:30:00+02:00');
  const read = await m.alice(OCCURRENCES, { id });
  expect(read.data?.campaign.occurrences).toEqual([
    { at: '2026-04-03T13:00:00.000Z' },
    { at: '2026-04-02T07:00:00.000Z' },
  ]);
  expect(await plannedFor(id)).toBe(2 * members);
});

it('finds the day’s run open when a scheduler died before recording it and the time was moved meanwhile', async () => {
  const id = await m.approvedCampaign(dailyAt('2026-04-01T09:00:00+02:00'));
  await scheduleAt('2026-04-02T09:30:00+02:00');
  const members = await plannedFor(id);
  // The pass that opened the morning's run died before the campaign recorded it.
  await m.repos.campaigns.model.updateOne({ _id: id }, { $set: { plannedThrough: null } });

  await m.republishedCampaign(id, dailyAt('2026-04-01T15:00:00+02:00'));
  await scheduleAt('2026-04-02T15:30:00+02:00');
  const read = await m.alice(OCCURRENCES, { id });
  expect(read.data?.campaign.occurrences).toEqual([{ at: '2026-04-02T07:00:00.000Z' }]);
  expect(await plannedFor(id)).toBe(members);
});
