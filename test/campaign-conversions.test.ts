// Campaign conversions, through the gateway: what the members a campaign reached bought in the 7 days after its first
// message reached them, overall and per variant, as the conversions job counts it with analytics through the graph (a
// page of members at a time). Purchases before the message, after the window, in another currency or only a device's
// word count for nothing; a member two campaigns reached counts in each; amounts add up in whole cents.
import { GraphClient, serviceIdentity, type GraphCaller, type GraphResponse } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import type { EventDoc } from '../subgraphs/analytics/src/models/event';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import { WINDOWS_PER_CALL, runConversionsJob } from '../subgraphs/messages/src/campaigns/conversions-job';
import type { OutboxEntryDoc } from '../subgraphs/messages/src/outbox/model';
import { receiptSignature } from '../subgraphs/messages/src/outbox/receipts';
import { seedMessages } from '../subgraphs/messages/src/seed';
import { errorCodes, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { queriesDuring, servingIndex } from './support/indexes';
import { IN_APP_TEMPLATE, logger, messaging, quietHoursNotNow, type Messaging } from './support/messages';

let hub: RunningHub;
let m: Messaging;
let templateId: string;

beforeAll(async () => {
  // The tests are about figures, never speed: a reseed and a thousand members' pages must not meet the default 3 s on a
  // loaded machine.
  hub = await startTestHub('conversions', { config: { SUBGRAPH_TIMEOUT_MS: 30_000 } });
  m = await messaging(hub);
  templateId = await m.publishedTemplate(IN_APP_TEMPLATE);
  // The campaigns' audience, never planned here: who they reached is what the tests store in the outbox.
  await m.alice(`mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`, {
    tags: [
      { code: 'conversions_one', name: 'One', category: 'test', valueType: 'BOOLEAN', source: 'MANUAL' },
    ],
  });
  const { members } = await openMembers(hub.connections.members);
  await members.model.updateOne({ _id: 'M0001' }, { $set: { 'tags.conversions_one': true } });
});

afterAll(() => stopTestHub(hub));

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const run = (now = new Date(), graph: GraphClient = m.graph) =>
  runConversionsJob({ repos: m.repos, graph, logger }, now);

/** A campaign with variants A and B, approved, due next year (the scheduler never runs here): its id. */
const campaign = (name: string) =>
  m.approvedCampaign({
    name,
    purpose: 'MARKETING',
    audience: { rule: { field: 'tag.conversions_one', op: 'exists', value: true } },
    trigger: { kind: 'ONCE', at: new Date(Date.now() + 365 * DAY).toISOString() },
    quietHours: quietHoursNotNow(),
    variants: [
      { key: 'A', weight: 1, templateIds: [templateId] },
      { key: 'B', weight: 1, templateIds: [templateId] },
    ],
  });

let messageCount = 0;
/** A message of the campaign to the member, delivered at `deliveredAt` (null: sent, never delivered). */
function message(
  campaignId: string,
  memberId: string,
  variant: string,
  deliveredAt: Date | null,
): OutboxEntryDoc {
  const at = deliveredAt ?? new Date();
  messageCount += 1;
  return {
    _id: `${campaignId}#${messageCount}:${memberId}`,
    campaignId,
    occurrenceId: `${campaignId}#${messageCount}`,
    batchId: `${campaignId}#${messageCount}#0`,
    memberId,
    variant,
    purpose: 'MARKETING',
    templates: { IN_APP: templateId },
    ladder: ['IN_APP'],
    channel: 'IN_APP',
    rung: 1,
    fallbackOf: null,
    to: null,
    timeZone: 'Asia/Shanghai',
    vars: {},
    state: 'SENT',
    reason: null,
    dueAt: at,
    expiresAt: null,
    attempts: 1,
    lastError: null,
    createdAt: at,
    sentAt: at,
    providerMessageId: null,
    deliveredAt,
    openedAt: null,
    clickedAt: null,
    unsubscribedAt: null,
    fellBackAt: null,
  };
}

let eventCount = 0;
/** A flow_completed with an amount, as products records a purchase (or, with `recordedBy: null`, a device says so). */
function purchase(
  memberId: string,
  occurredAt: Date,
  amount: number,
  currency = 'CNY',
  recordedBy: string | null = 'svc.products',
): EventDoc {
  eventCount += 1;
  return {
    _id: `svc.products:conv-${eventCount}`,
    name: 'flow_completed',
    memberId,
    deviceId: 'svc.products',
    ...(recordedBy ? { recordedBy } : {}),
    channel: 'APP',
    occurredAt,
    receivedAt: occurredAt,
    day: m.calendar.dayOf(occurredAt),
    properties: { flowId: 'F-buy', productId: 'P-deposit', amount, currency },
  };
}

async function stored(messages: OutboxEntryDoc[], purchases: EventDoc[]): Promise<void> {
  await m.repos.outbox.entries.insertMany(messages);
  if (purchases.length > 0)
    await (await openAnalytics(hub.connections.analytics)).events.model.insertMany(purchases);
}

const CONVERSIONS = `query ($id: ID!) {
  campaign(id: $id) {
    stats {
      conversions {
        window currency final
        total { reached members purchases amount rate }
        variants { variant counts { reached members purchases amount rate } }
      }
    }
  }
}`;

/** Receipts as the carrier signs them, posted through the gateway. */
async function postReceipts(receipts: unknown[]): Promise<number> {
  const body = JSON.stringify({ receipts });
  const timestamp = String(Math.floor(Date.now() / 1_000));
  const response = await fetch(hub.gatewayUrl.replace(/\/graphql$/, '/receipts'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-receipt-timestamp': timestamp,
      'x-receipt-signature': receiptSignature(testConfig.MESSAGES_RECEIPT_SECRET, timestamp, body),
    },
    body,
  });
  return response.status;
}

/** An SMS of the campaign handed to the carrier at `sentAt`, with no receipt yet. */
const smsSent = (campaignId: string, memberId: string, sentAt: Date): OutboxEntryDoc => ({
  ...message(campaignId, memberId, 'A', null),
  channel: 'SMS',
  ladder: ['SMS'],
  templates: { SMS: templateId },
  createdAt: sentAt,
  dueAt: sentAt,
  sentAt,
});

async function conversionsOf(campaignId: string) {
  const response = await m.alice(CONVERSIONS, { id: campaignId });
  expect(response.errors).toBeUndefined();
  return response.data?.campaign.stats.conversions;
}

/** A graph client that records the number of windows of every purchasesInWindows call it passes on. */
class CountingGraph extends GraphClient {
  readonly pages: number[] = [];
  override query<TData>(
    caller: GraphCaller,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphResponse<TData>> {
    if (Array.isArray(variables.windows)) this.pages.push(variables.windows.length);
    return super.query<TData>(caller, query, variables);
  }
}

describe('campaign conversions', () => {
  it('counts members, purchases and amount in the window after the first delivery, overall and per variant', async () => {
    const [first, second] = [await campaign('Conversions one'), await campaign('Conversions two')];
    // Within the last 8 days, so that the job counts both campaigns.
    const t0 = new Date(Date.now() - 7.5 * DAY);
    const plus = (ms: number) => new Date(t0.getTime() + ms);
    const [buyer, idle, cents, undelivered] = ['CV-buyer', 'CV-idle', 'CV-cents', 'CV-undelivered'];
    await stored(
      [
        message(first, buyer, 'A', t0),
        // A later message of the same campaign opens no second window.
        message(first, buyer, 'A', plus(5 * DAY)),
        message(first, idle, 'A', t0),
        message(first, cents, 'B', plus(DAY)),
        message(first, undelivered, 'B', null),
        // The other campaign reached the buyer a day and a half later: its window holds some of the same purchases.
        message(second, buyer, 'A', plus(1.5 * DAY)),
      ],
      [
        purchase(buyer, plus(-HOUR), 500),
        purchase(buyer, plus(DAY), 100.1),
        purchase(buyer, plus(2 * DAY), 200.2),
        purchase(buyer, plus(3 * DAY), 50, 'USD'),
        purchase(buyer, plus(DAY), 77, 'CNY', null),
        purchase(buyer, plus(7 * DAY + HOUR), 999),
        // 0.1 + 0.2 is 0.30000000000000004 as binary fractions; in cents, 30.
        purchase(cents, plus(DAY + HOUR), 0.1),
        purchase(cents, plus(DAY + 2 * HOUR), 0.2),
        purchase(undelivered, plus(DAY), 1_000),
      ],
    );
    expect(await conversionsOf(first)).toBeNull();

    expect(await run()).toMatchObject({ ran: true, finished: true });

    const a = { reached: 2, members: 1, purchases: 2, amount: 300.3, rate: 0.5 };
    const b = { reached: 1, members: 1, purchases: 2, amount: 0.3, rate: 1 };
    const expected = {
      window: 7,
      currency: testConfig.BANK_CURRENCY,
      // The cents member's window (from 6.5 days ago) is still open.
      final: false,
      total: { reached: 3, members: 2, purchases: 4, amount: 300.6, rate: 2 / 3 },
      variants: [
        { variant: 'A', counts: a },
        { variant: 'B', counts: b },
      ],
    };
    expect(await conversionsOf(first)).toEqual(expected);
    const other = { reached: 1, members: 1, purchases: 2, amount: 1_199.2, rate: 1 };
    expect(await conversionsOf(second)).toEqual({
      ...expected,
      total: other,
      variants: [{ variant: 'A', counts: other }],
    });

    // Counted again two days on, every window has closed: the same figures, final.
    await run(new Date(Date.now() + 2 * DAY));
    expect(await conversionsOf(first)).toEqual({ ...expected, final: true });
  });

  it('asks analytics a bounded page of members at a time, and a second run at once does nothing', async () => {
    const big = await campaign('Conversions many');
    const reachedAt = new Date(Date.now() - DAY);
    const members = Array.from({ length: 2 * WINDOWS_PER_CALL + 1 }, (_, i) => `CV-many-${i}`);
    await stored(
      members.map((memberId, i) => message(big, memberId, i % 2 === 0 ? 'A' : 'B', reachedAt)),
      [purchase(members[0]!, new Date(reachedAt.getTime() + HOUR), 12.34)],
    );
    const graph = new CountingGraph(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const reads = await queriesDuring(hub.connections.messages, () => run(new Date(), graph));
    // Each campaign's members are streamed in order by an index, never sorted in memory.
    const outbox = await hub.connections.messages.collection('outbox').indexes();
    const byCampaign = reads.filter((read) => read.collection === 'outbox' && 'campaignId' in read.filter);
    expect(byCampaign.length).toBeGreaterThan(0);
    for (const read of byCampaign) expect(servingIndex(outbox, read)).not.toBeNull();
    // Every campaign delivered lately is counted; this one in pages of at most WINDOWS_PER_CALL members.
    expect(graph.pages.filter((size) => size === WINDOWS_PER_CALL)).toHaveLength(2);
    expect(Math.max(...graph.pages)).toBe(WINDOWS_PER_CALL);
    expect((await conversionsOf(big)).total).toEqual({
      reached: members.length,
      members: 1,
      purchases: 1,
      amount: 12.34,
      rate: 1 / members.length,
    });

    expect(await m.repos.leases.acquire('campaign-conversions', 'another-run', 60_000, new Date())).toBe(
      true,
    );
    try {
      expect(await run()).toEqual({ ran: false, finished: false, campaigns: 0, members: 0, failed: [] });
    } finally {
      await m.repos.leases.release('campaign-conversions', 'another-run');
    }
  });

  it('purchasesInWindows answers the hub services only, and refuses windows out of bounds', async () => {
    const window = {
      memberId: 'CV-buyer',
      from: new Date(Date.now() - DAY).toISOString(),
      to: new Date().toISOString(),
    };
    const query = `query ($windows: [PurchaseWindowInput!]!) { purchasesInWindows(windows: $windows) { currency } }`;
    expect(errorCodes(await m.alice(query, { windows: [window] }))).toEqual(['FORBIDDEN']);

    const service: GraphCaller = { identity: serviceIdentity('messages') };
    const ask = (windows: unknown[]) => m.graph.query(service, query, { windows });
    expect((await ask([window])).data).toEqual({
      purchasesInWindows: { currency: testConfig.BANK_CURRENCY },
    });
    const refused = async (windows: unknown[], field: string) => {
      const { errors } = await ask(windows);
      expect(
        errors.map((error) => [error.extensions?.code, (error.extensions as { field?: string }).field]),
      ).toEqual([['BAD_USER_INPUT', field]]);
    };
    await refused([], 'windows');
    await refused(
      Array.from({ length: 501 }, () => window),
      'windows',
    );
    await refused([{ ...window, to: window.from }], 'windows[0].to');
    await refused(
      [window, { ...window, to: new Date(Date.now() + 91 * DAY).toISOString() }],
      'windows[1].to',
    );
    await refused([{ ...window, memberId: 'a b' }], 'windows[0].memberId');
  });

  it('counts a campaign once more when the job missed its last day, then leaves it be', async () => {
    const missed = await campaign('Conversions missed');
    const reachedAt = new Date(Date.now() - 7.5 * DAY);
    const bought = (hours: number, amount: number) =>
      purchase('CV-missed', new Date(reachedAt.getTime() + hours * HOUR), amount);
    await stored([message(missed, 'CV-missed', 'A', reachedAt)], [bought(1, 10)]);
    await run();
    // Final (its one window has closed), yet purchases relayed late may still come in for a day.
    expect(await conversionsOf(missed)).toMatchObject({ final: true, total: { purchases: 1, amount: 10 } });

    // A purchase in the window that analytics got late, and no run for two days (messages was down): the next run
    // still counts the campaign, though none of its messages was delivered in the last 8 days.
    const analytics = await openAnalytics(hub.connections.analytics);
    await analytics.events.model.insertMany([bought(6 * 24, 5)]);
    const later = new Date(Date.now() + 2 * DAY);
    await run(later);
    expect(await conversionsOf(missed)).toMatchObject({ final: true, total: { purchases: 2, amount: 15 } });

    // Counted once its window and late day had passed, it is settled: a later run reads nothing of it.
    await analytics.events.model.insertMany([bought(6 * 24 + 1, 1)]);
    await run(new Date(later.getTime() + DAY));
    expect((await conversionsOf(missed)).total).toMatchObject({ purchases: 2, amount: 15 });
  });

  it("takes a carrier's delivery time no earlier than the hand-over and no later than the receipt", async () => {
    const [backdated, future] = [
      await campaign('Conversions backdated'),
      await campaign('Conversions future'),
    ];
    const sentAt = new Date(Date.now() - 2 * DAY);
    const [early, late] = [smsSent(backdated, 'CV-early', sentAt), smsSent(future, 'CV-late', sentAt)];
    // Bought a day before the message was sent, and an hour after: only the second is the campaign's.
    await stored(
      [early, late],
      [
        purchase('CV-early', new Date(sentAt.getTime() - DAY), 100),
        purchase('CV-early', new Date(sentAt.getTime() + HOUR), 1),
        // Before the receipt came in: the hub cannot know it was after the delivery.
        purchase('CV-late', new Date(sentAt.getTime() + HOUR), 2),
      ],
    );
    // A carrier's clock (or time zone) off by days, and one far ahead.
    const receipts = [
      { messageId: early._id, status: 'DELIVERED', at: new Date(sentAt.getTime() - 3 * DAY).toISOString() },
      { messageId: late._id, status: 'DELIVERED', at: '9999-12-31T23:59:59Z' },
    ];
    expect(await postReceipts(receipts)).toBe(200);
    const before = Date.now();
    const deliveredAt = async (id: string) => (await m.repos.outbox.byIds([id]))[0]!.deliveredAt!.getTime();
    expect(await deliveredAt(early._id)).toBe(sentAt.getTime());
    expect(await deliveredAt(late._id)).toBeLessThanOrEqual(before);

    expect(await run()).toMatchObject({ ran: true, finished: true });
    expect((await conversionsOf(backdated)).total).toMatchObject({ reached: 1, purchases: 1, amount: 1 });
    // Counted, and every other campaign with it: a window that ends in year 10000 is none analytics takes.
    expect((await conversionsOf(future)).total).toMatchObject({ reached: 1, purchases: 0, amount: 0 });
  });

  // Last: it resets messages' data.
  it('counts the other campaigns when analytics refuses one, and tries that one again next run', async () => {
    const [broken, sound] = [await campaign('Conversions broken'), await campaign('Conversions sound')];
    const reachedAt = new Date(Date.now() - DAY);
    // Stored before receipts' times were bounded: a window no date-time can end, which analytics refuses.
    await stored(
      [
        message(broken, 'CV-broken', 'A', new Date('9999-12-30T00:00:00Z')),
        message(sound, 'CV-sound', 'B', reachedAt),
      ],
      [purchase('CV-sound', new Date(reachedAt.getTime() + HOUR), 7)],
    );
    const counted = await run();
    expect(counted).toMatchObject({ ran: true, finished: true });
    expect(counted.failed).toEqual([broken]);
    expect(await conversionsOf(sound)).toMatchObject({ total: { members: 1, purchases: 1, amount: 7 } });
    expect(await conversionsOf(broken)).toBeNull();
    expect((await run()).failed).toEqual([broken]);
  });

  it('keeps no conversions of a campaign a reset to the seed replaced', async () => {
    await stored([message('CMP-welcome0', 'CV-seeded', 'A', new Date(Date.now() - DAY))], []);
    await run();
    expect(await conversionsOf('CMP-welcome0')).not.toBeNull();
    await seedMessages(m.repos, { reset: true });
    expect(await conversionsOf('CMP-welcome0')).toBeNull();
  });
});
