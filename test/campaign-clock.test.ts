// A recurring campaign's occurrences keep the bank's clock (BANK_TIME_ZONE), through the gateway: for a bank in Zurich,
// "daily at 09:00" and "weekly on Monday at 09:00" are still 09:00 there once the clocks have gone forward, as a
// monthly one is. The scheduler runs in-process at the instant the test names.
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
