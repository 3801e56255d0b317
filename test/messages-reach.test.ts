// Reaching members, through the gateway: the inbox and unread count in the headline page query (a member's own only; a
// guest's empty), FIVE_G falling back to SMS once when no receipt comes, receipts signed by the provider (a forged one
// changes nothing), unsubscribing by link and by reply, what a campaign's stats say, and its events at analytics.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import { relayMessageEvents as relayEvents } from '../subgraphs/messages/src/events/relay';
import { fallBack, fallBackOverdue } from '../subgraphs/messages/src/outbox/fallback';
import { ConsentRepository } from '../subgraphs/messages/src/consent/model';
import type { ProviderAdapter, ProviderMessage } from '../subgraphs/messages/src/outbox/adapters/adapter';
import { HttpProvider } from '../subgraphs/messages/src/outbox/adapters/http';
import { LocalProvider } from '../subgraphs/messages/src/outbox/adapters/local';
import { OutboxRepository, type OutboxEntryDoc } from '../subgraphs/messages/src/outbox/model';
import { applyReceipts, receiptSignature } from '../subgraphs/messages/src/outbox/receipts';
import { sendDue } from '../subgraphs/messages/src/outbox/worker';
import { sendRulesOf } from '../subgraphs/messages/src/server';
import { bearer, clientToken, errorCodes, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import {
  FIVE_G_TEMPLATE,
  IN_APP_TEMPLATE,
  SMS_TEMPLATE,
  logger,
  messaging,
  quietHoursNotNow,
  type Messaging,
} from './support/messages';
import { storedState } from './support/stored';

let hub: RunningHub;
let m: Messaging;
let receiptsUrl: string;

beforeAll(async () => {
  hub = await startTestHub('msg_reach');
  m = await messaging(hub);
  receiptsUrl = hub.gatewayUrl.replace(/\/graphql$/, '/receipts');
});

afterAll(() => stopTestHub(hub));

const now = () => new Date().toISOString();

/** A receipt request as a provider signs it (or forges it, with another secret or an old timestamp). */
async function postReceipts(
  receipts: unknown[],
  options: { secret?: string; timestamp?: number; body?: string } = {},
): Promise<{ status: number; body: Record<string, any> }> {
  const body = options.body ?? JSON.stringify({ receipts });
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1_000));
  const response = await fetch(receiptsUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-receipt-timestamp': timestamp,
      'x-receipt-signature': receiptSignature(
        options.secret ?? testConfig.MESSAGES_RECEIPT_SECRET,
        timestamp,
        body,
      ),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** An approved campaign to these seeded members only (a rule naming them by a tag set here), planned and sent. */
async function sentTo(
  memberIds: string[],
  templateIds: string[],
  purpose = 'MARKETING',
  provider?: ProviderAdapter,
): Promise<string> {
  const tag = `reach_${Math.random().toString(36).slice(2, 8)}`;
  const { members } = await openMembers(hub.connections.members);
  await members.model.updateMany({ _id: { $in: memberIds } }, { $set: { [`tags.${tag}`]: true } });
  await m.alice(`mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`, {
    tags: [{ code: tag, name: tag, category: 'test', valueType: 'BOOLEAN', source: 'MANUAL' }],
  });
  const id = await m.approvedCampaign({
    name: tag,
    purpose,
    audience: { rule: { field: `tag.${tag}`, op: 'exists', value: true } },
    trigger: { kind: 'ONCE', at: now() },
    // A service campaign is sent at any hour and takes no quiet hours.
    ...(purpose === 'MARKETING' ? { quietHours: quietHoursNotNow() } : {}),
    variants: [{ key: 'A', weight: 1, templateIds }],
  });
  await m.schedule();
  await m.send(provider ? { provider } : {});
  return id;
}

/** A provider that is down: every hand-over fails, to be retried. */
const unavailableProvider: ProviderAdapter = {
  name: 'down',
  send: async () => ({ ok: false, permanent: false, error: 'provider unavailable' }),
  close: async () => undefined,
};

const setConsent = (memberId: string, channel: string, granted: boolean) =>
  m.member(
    memberId,
    `mutation ($channel: MessageChannel!, $granted: Boolean!) {
      setMessageConsent(channel: $channel, purpose: MARKETING, granted: $granted) { granted }
    }`,
    { channel, granted },
  );

const marketingConsent = async (memberId: string, channel: string) =>
  (
    await m.member(memberId, `{ viewer { messageConsents { channel purpose granted source } } }`)
  ).data?.viewer.messageConsents.find(
    (consent: { channel: string; purpose: string }) =>
      consent.channel === channel && consent.purpose === 'MARKETING',
  );

/** The member's budget touches: the message keys, per channel. */
async function touchesOf(memberId: string) {
  const [contact] = await m.repos.contacts.byMembers([memberId]);
  const keys = (touches: { key: string }[] | undefined) => (touches ?? []).map((touch) => touch.key);
  return {
    marketing: keys(contact?.marketing),
    SMS: keys(contact?.channels.SMS),
    IN_APP: keys(contact?.channels.IN_APP),
    FIVE_G: keys(contact?.channels.FIVE_G),
  };
}

const entry = async (campaignId: string, memberId: string, rung = 1) =>
  (await m.repos.outbox.entries.findOne({ campaignId, memberId, rung }).lean())!;

const RECEIPT_TIMEOUT = testConfig.MESSAGES_FIVE_G_RECEIPT_TIMEOUT_MS;

/** Makes a sent message's receipt overdue: it was sent longer ago than the receipt timeout. */
const receiptOverdue = (id: string) =>
  m.repos.outbox.apply([{ id, set: { sentAt: new Date(Date.now() - RECEIPT_TIMEOUT - 1_000) } }]);

/** A 5G card sent to M0002, whose contact record is gone, its receipt overdue. */
async function overdueCardToM0002() {
  const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
  await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
  const card = await entry(await sentTo(['M0002'], [fiveG]), 'M0002');
  await receiptOverdue(card._id);
  return card;
}

const PAGE = `query Home {
  viewer {
    id
    page(channel: APP, key: "home") { slots { code } }
    unreadCount
    inbox(first: 5) { edges { cursor node { id title body purpose readAt unsubscribeLink } } pageInfo { hasNextPage endCursor } }
  }
}`;

describe('the inbox', () => {
  let campaignId: string;

  beforeAll(async () => {
    const inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
    campaignId = await sentTo(['M0001', 'M0002'], [inApp]);
  });

  it('comes with its unread count in the headline page query, newest first', async () => {
    const page = await m.member('M0001', PAGE);
    expect(page.errors).toBeUndefined();
    const { viewer } = page.data!;
    expect(viewer.page.slots.length).toBeGreaterThan(0);
    expect(viewer.unreadCount).toBe(2);
    expect(viewer.inbox.edges.map((edge: { node: { title: string } }) => edge.node.title)).toEqual([
      '理财季',
      '欢迎加入海川银行',
    ]);
    const [newest, welcome] = viewer.inbox.edges.map((edge: { node: unknown }) => edge.node);
    expect(newest).toMatchObject({ body: '林小雨，您好', purpose: 'MARKETING', readAt: null });
    expect(newest.unsubscribeLink).toMatch(/^https:\/\/m\.haichuan-bank\.example\/unsubscribe\?t=/);
    expect(welcome).toMatchObject({ purpose: 'SERVICE', unsubscribeLink: null });
    const next = await m.member(
      'M0001',
      `query ($after: String) { viewer { inbox(first: 1, after: $after) { edges { node { title } } } } }`,
      {
        after: viewer.inbox.edges[0].cursor,
      },
    );
    expect(next.data?.viewer.inbox.edges).toEqual([{ node: { title: '欢迎加入海川银行' } }]);
  });

  it('shows an operator without pii:read a member’s messages with their name starred out, and no unsubscribe link', async () => {
    const INBOX = `{ member(id: "M0001") { inbox(first: 1) { edges { node { title body unsubscribeLink } } } } }`;
    const newest = (response: { data?: Record<string, any> | null }) =>
      response.data?.member.inbox.edges[0].node;
    expect(newest(await m.alice(INBOX))).toEqual({
      title: '理财季',
      body: '***，您好',
      unsubscribeLink: null,
    });
    const unmasked = await graphql(
      hub.gatewayUrl,
      INBOX,
      {},
      bearer(await clientToken('ops.carol', 'operator pii:read')),
    );
    expect(newest(unmasked)).toEqual({ title: '理财季', body: '林小雨，您好', unsubscribeLink: null });
    // The operator saw the member's name, as on their profile: the read is in the audit trail, without the name.
    const trail = await graphql(
      hub.gatewayUrl,
      `
        {
          messagesAuditLog(filter: { target: { type: "Member", id: "M0001" }, actor: "ops.carol" }) {
            edges {
              node {
                action
                targetId
                after
              }
            }
          }
        }
      `,
      {},
      bearer(await clientToken('ops.audrey', 'audit')),
    );
    expect(trail.data?.messagesAuditLog.edges).toEqual([
      {
        node: {
          action: 'readPersonalData',
          targetId: 'M0001',
          after: { members: [{ id: 'M0001', fields: ['name'] }] },
        },
      },
    ]);
    expect(JSON.stringify(trail.data)).not.toContain('林小雨');
    // The member themself reads it as it came, with the link that is theirs alone.
    const own = await m.member('M0001', INBOX.replace('member(id: "M0001")', 'viewer'));
    expect(own.data?.viewer.inbox.edges[0].node).toMatchObject({
      body: '林小雨，您好',
      unsubscribeLink: expect.stringMatching(/^https:/),
    });
  });

  it('marks a message read once, and deletes it; another member’s message is NOT_FOUND and stays as it was', async () => {
    const mine = (await entry(campaignId, 'M0001'))._id;
    const theirs = (await entry(campaignId, 'M0002'))._id;
    const read = `mutation ($id: ID!) { markMessageRead(id: $id) { id readAt } }`;
    const first = await m.member('M0001', read, { id: mine });
    expect(first.data?.markMessageRead.readAt).toEqual(expect.any(String));
    const again = await m.member('M0001', read, { id: mine });
    expect(again.data?.markMessageRead.readAt).toBe(first.data?.markMessageRead.readAt);
    expect((await m.member('M0001', PAGE)).data?.viewer.unreadCount).toBe(1);

    const before = await storedState({ messages: hub.connections.messages });
    for (const document of [
      read,
      `mutation ($id: ID!) { clickMessage(id: $id) { id } }`,
      `mutation ($id: ID!) { deleteMessage(id: $id) }`,
      `query ($id: ID!) { inboxMessage(id: $id) { id } }`,
    ]) {
      for (const id of [theirs, 'no-such-message', 'x'.repeat(5_000)])
        expect(errorCodes(await m.member('M0001', document, { id }))).toEqual(['NOT_FOUND']);
    }
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);
    expect(errorCodes(await graphql(hub.gatewayUrl, read, { id: mine }))).toEqual(['UNAUTHENTICATED']);

    const deleted = await m.member('M0001', `mutation ($id: ID!) { deleteMessage(id: $id) }`, { id: mine });
    expect(deleted.data?.deleteMessage).toBe(mine);
    const after = await m.member('M0001', PAGE);
    expect(
      after.data?.viewer.inbox.edges.map((edge: { node: { id: string } }) => edge.node.id),
    ).not.toContain(mine);
    expect(errorCodes(await m.member('M0001', read, { id: mine }))).toEqual(['NOT_FOUND']);
    // Delivering it again (a worker retrying after a crash) does not bring it back.
    await m.repos.outbox.apply([{ id: mine, set: { state: 'SENDING' } }]);
    await m.repos.outbox.addBatch(
      {
        _id: `${campaignId}.retry`,
        campaignId,
        entryIds: [mine],
        state: 'OPEN',
        dueAt: new Date(0),
        holder: null,
        leaseUntil: new Date(0),
        createdAt: new Date(),
      },
      [],
    );
    await m.send();
    expect((await m.member('M0001', PAGE)).data?.viewer.inbox.edges).toHaveLength(1);
  });

  it('is empty for a guest, with an unread count of 0, never an error', async () => {
    const guest = await graphql(hub.gatewayUrl, PAGE, {}, { 'x-device-id': 'device-reach-01' });
    expect(guest.errors).toBeUndefined();
    expect(guest.data?.viewer).toMatchObject({
      id: 'guest:device-reach-01',
      unreadCount: 0,
      inbox: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
    });
  });

  it('pages past the newest 20 messages every page shows, and counts every unread one', async () => {
    const received = Date.now();
    for (let i = 0; i < 22; i += 1)
      await m.repos.inbox.deliver({
        _id: `reach-many-${String(i).padStart(2, '0')}`,
        memberId: 'M0005',
        campaignId: 'CMP-reach-many',
        purpose: 'SERVICE',
        format: 'TEXT',
        title: `notice ${i}`,
        body: 'body',
        mediaUrl: null,
        link: null,
        unsubscribeToken: null,
        receivedAt: new Date(received - i * 60_000),
        readAt: null,
        clickedAt: null,
        deletedAt: null,
      });
    const INBOX = `query ($first: Int, $after: String) {
      viewer { unreadCount inbox(first: $first, after: $after) { edges { cursor node { title } } pageInfo { hasNextPage endCursor } } }
    }`;
    const titles = (response: { data?: Record<string, any> | null }) =>
      response.data?.viewer.inbox.edges.map((edge: { node: { title: string } }) => edge.node.title);
    // Up to 20, from the member's summary; more, from the messages themselves: the same order either way.
    const twenty = await m.member('M0005', INBOX, { first: 20 });
    const more = await m.member('M0005', INBOX, { first: 21 });
    expect(twenty.data?.viewer.unreadCount).toBe(22);
    expect(titles(twenty)).toEqual(Array.from({ length: 20 }, (_, i) => `notice ${i}`));
    expect(twenty.data?.viewer.inbox.pageInfo.hasNextPage).toBe(true);
    expect(titles(more)).toEqual([...titles(twenty), 'notice 20']);
    const rest = await m.member('M0005', INBOX, {
      first: 5,
      after: twenty.data?.viewer.inbox.pageInfo.endCursor,
    });
    expect(titles(rest)).toEqual(['notice 20', 'notice 21']);
    expect(rest.data?.viewer.inbox.pageInfo.hasNextPage).toBe(false);
    // Reading one moves the count at once.
    await m.member('M0005', `mutation { markMessageRead(id: "reach-many-03") { id } }`);
    expect((await m.member('M0005', INBOX, { first: 1 })).data?.viewer.unreadCount).toBe(21);
  });

  it('refuses a bad page size or cursor with the field named', async () => {
    for (const [variables, field] of [
      [{ first: 0 }, 'first'],
      [{ first: 51 }, 'first'],
      [{ after: 'bm90LWEtY3Vyc29y' }, 'after'],
    ] as const) {
      const response = await m.member(
        'M0001',
        `query ($first: Int, $after: String) { viewer { id inbox(first: $first, after: $after) { edges { cursor } } } }`,
        variables,
      );
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0]?.extensions?.field).toBe(field);
      expect(response.data?.viewer.id).toBe('M0001');
    }
  });
});

describe('FIVE_G falling back to SMS', () => {
  it('sends the SMS rendering once when no delivery receipt comes in time, and not when one came', async () => {
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
    // M0002 takes 5G messages and consents to marketing on every channel.
    const campaignId = await sentTo(['M0002'], [fiveG]);
    const sent = await entry(campaignId, 'M0002');
    expect(sent).toMatchObject({ channel: 'FIVE_G', state: 'SENT', deliveredAt: null });
    const card = await m.repos.localDeliveries.findById(sent._id).lean();
    expect(card).toMatchObject({ channel: 'FIVE_G', to: '13900020002', card: { title: '理财季' } });

    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);
    // Its receipt is overdue: it was sent longer ago than the receipt timeout.
    await receiptOverdue(sent._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(1);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);
    await m.send();
    const fallback = await entry(campaignId, 'M0002', 2);
    expect(fallback).toMatchObject({
      _id: `${sent._id}:SMS`,
      channel: 'SMS',
      state: 'SENT',
      fallbackOf: sent._id,
    });
    expect((await entry(campaignId, 'M0002')).fellBackAt).toEqual(expect.any(Date));
    const sms = await m.repos.localDeliveries.findById(fallback._id).lean();
    expect(sms).toMatchObject({
      channel: 'SMS',
      text: '【海川银行】陈国华您好，理财季开启。回复TD退订',
      calls: 1,
    });
    // The fallback is the same touch: the member's budget counts one.
    const [contact] = await m.repos.contacts.byMembers(['M0002']);
    expect(contact!.marketing.filter((touch) => touch.key.startsWith(campaignId))).toHaveLength(1);

    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { rows { variant channel counts { sent delivered fellBack } } } } }`,
      { id: campaignId },
    );
    expect(stats.data?.campaign.stats.rows).toEqual([
      { variant: 'A', channel: 'FIVE_G', counts: { sent: 1, delivered: 0, fellBack: 1 } },
      { variant: 'A', channel: 'SMS', counts: { sent: 1, delivered: 0, fellBack: 0 } },
    ]);

    // A message whose receipt came does not fall back (on a fresh day for M0002's one 5G message a day).
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const other = await sentTo(['M0002'], [fiveG]);
    const delivered = await entry(other, 'M0002');
    const receipt = await postReceipts([{ messageId: delivered._id, status: 'DELIVERED' }]);
    expect(receipt).toEqual({ status: 200, body: { applied: 1, unknown: [] } });
    await receiptOverdue(delivered._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);
    // Sending again sends no second fallback: the one SMS went once.
    await m.send();
    expect(await m.repos.localDeliveries.countDocuments({ _id: `${sent._id}:SMS` })).toBe(1);
  });

  it("does not send the fallback SMS when the card's late receipt comes in before the SMS goes", async () => {
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const campaignId = await sentTo(['M0002'], [fiveG]);
    const sent = await entry(campaignId, 'M0002');
    await receiptOverdue(sent._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(1);
    // The carrier's receipt was only slow: the card reached the member after the sweep planned the SMS.
    expect(await postReceipts([{ messageId: sent._id, status: 'DELIVERED' }])).toEqual({
      status: 200,
      body: { applied: 1, unknown: [] },
    });
    await m.send();
    expect(await entry(campaignId, 'M0002', 2)).toMatchObject({
      state: 'SKIPPED',
      reason: 'DELIVERED_ALREADY',
    });
    expect(await m.repos.localDeliveries.countDocuments({ _id: `${sent._id}:SMS` })).toBe(0);
    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { skipped { reason messages } } } }`,
      { id: campaignId },
    );
    expect(stats.data?.campaign.stats.skipped).toEqual([{ reason: 'DELIVERED_ALREADY', messages: 1 }]);
  });

  it('never falls back once the card reached the member: delivered, then reported failed; or only clicked', async () => {
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);

    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const delivered = await entry(await sentTo(['M0002'], [fiveG]), 'M0002');
    // Both in one request, then the FAILED again on its own.
    const both = [
      { messageId: delivered._id, status: 'DELIVERED' },
      { messageId: delivered._id, status: 'FAILED', error: 'late carrier report' },
    ];
    expect(await postReceipts(both)).toEqual({ status: 200, body: { applied: 2, unknown: [] } });
    expect(await postReceipts([both[1]])).toMatchObject({ status: 200 });

    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const clicked = await entry(await sentTo(['M0002'], [fiveG]), 'M0002');
    expect(await postReceipts([{ messageId: clicked._id, status: 'CLICKED' }])).toMatchObject({
      status: 200,
    });
    await receiptOverdue(clicked._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);

    await m.send();
    for (const card of [delivered, clicked]) {
      expect(await m.repos.localDeliveries.countDocuments({ _id: `${card._id}:SMS` })).toBe(0);
      expect(await m.repos.outbox.entries.countDocuments({ _id: `${card._id}:SMS` })).toBe(0);
      expect(await m.repos.outbox.entries.findById(card._id).lean()).toMatchObject({
        state: 'SENT',
        fellBackAt: null,
        deliveredAt: expect.any(Date),
      });
    }
  });

  it('never falls back for a card whose delivery receipt came before the sender recorded the gateway’s answer', async () => {
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    // A carrier quick with its receipt: it reaches the hub before the gateway's answer reaches the sender.
    const local = new LocalProvider(m.repos.localDeliveries);
    const answers: unknown[] = [];
    const quick: ProviderAdapter = {
      name: 'quick-receipts',
      async send(message) {
        const result = await local.send(message);
        answers.push((await postReceipts([{ messageId: message.idempotencyKey, status: 'DELIVERED' }])).body);
        return result;
      },
      close: async () => undefined,
    };
    const card = await entry(await sentTo(['M0002'], [fiveG], 'MARKETING', quick), 'M0002');
    expect(answers).toEqual([{ applied: 1, unknown: [] }]);
    expect(card).toMatchObject({ channel: 'FIVE_G', state: 'SENT', deliveredAt: expect.any(Date) });
    expect(await m.repos.relay.model.countDocuments({ _id: `${card._id}.delivered` })).toBe(1);

    await receiptOverdue(card._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);
    await m.send();
    expect(await m.repos.outbox.entries.countDocuments({ _id: `${card._id}:SMS` })).toBe(0);
    expect(await m.repos.localDeliveries.countDocuments({ _id: `${card._id}:SMS` })).toBe(0);
  });

  it('hands a fallback swept by two processes at once over once, though both wrote it a batch', async () => {
    const card = await overdueCardToM0002();
    // Two processes' sweeps read the card overdue at the same moment; each writes the fallback a batch of its own.
    const [overdue] = await m.repos.outbox.byIds([card._id]);
    const sweptAt = Date.now();
    await fallBack(m.repos, [overdue!], new Date(sweptAt));
    await fallBack(m.repos, [overdue!], new Date(sweptAt + 1));
    const fallbackId = `${card._id}:SMS`;
    expect(await m.repos.outbox.batches.countDocuments({ entryIds: fallbackId })).toBe(2);

    // Worker A takes the first batch, its gateway slow to answer; worker B takes the second meanwhile.
    const handedOver: ProviderMessage[] = [];
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const slow: ProviderAdapter = {
      name: 'slow',
      async send(message) {
        handedOver.push(message);
        await answered;
        return { ok: true, providerMessageId: 'slow' };
      },
      close: async () => undefined,
    };
    const a = m.send({ provider: slow });
    const deadline = Date.now() + 10_000;
    while (handedOver.length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 10));
    const b = await m.send({
      provider: {
        name: 'other',
        send: async (message) => (handedOver.push(message), { ok: true, providerMessageId: 'other' }),
        close: async () => undefined,
      },
    });
    answer();
    await a;

    expect(b.sent).toBe(0);
    expect(handedOver.map((message) => message.idempotencyKey)).toEqual([fallbackId]);
    expect(await m.repos.outbox.entries.findById(fallbackId).lean()).toMatchObject({
      state: 'SENT',
      attempts: 1,
      providerMessageId: 'slow',
    });
  });

  it('hands over a fallback whose batch a worker leased before the fallback was stored, once', async () => {
    const card = await overdueCardToM0002();
    const [overdue] = await m.repos.outbox.byIds([card._id]);
    const handedOver: string[] = [];
    const provider: ProviderAdapter = {
      name: 'recording',
      send: async (message) => (
        handedOver.push(message.idempotencyKey),
        { ok: true, providerMessageId: 'recorded' }
      ),
      close: async () => undefined,
    };
    // The sweep is slow to store the fallback after writing its batch: a worker leases the batch in between.
    const sweeping = Object.create(m.repos.outbox) as OutboxRepository;
    sweeping.insertNew = async (entries) => {
      await m.send({ provider });
      return m.repos.outbox.insertNew(entries);
    };
    expect(await fallBack({ ...m.repos, outbox: sweeping }, [overdue!], new Date())).toBe(1);
    await m.send({ provider });

    const fallbackId = `${card._id}:SMS`;
    expect(handedOver.filter((key) => key === fallbackId)).toEqual([fallbackId]);
    expect(await m.repos.outbox.entries.findById(fallbackId).lean()).toMatchObject({
      state: 'SENT',
      attempts: 1,
      providerMessageId: 'recorded',
    });
  });
});

describe('receipts', () => {
  let campaignId: string;
  let messageId: string;

  beforeAll(async () => {
    const sms = await m.publishedTemplate(SMS_TEMPLATE);
    campaignId = await sentTo(['M0002'], [sms]);
    messageId = (await entry(campaignId, 'M0002'))._id;
  });

  it('refuses a forged receipt with INVALID_SIGNATURE, changing nothing', async () => {
    const before = await storedState(hub.connections);
    const forged = [
      await postReceipts([{ messageId, status: 'DELIVERED' }], { secret: 'f'.repeat(40) }),
      await postReceipts([{ messageId, status: 'DELIVERED' }], {
        timestamp: Math.floor(Date.now() / 1_000) - 3_600,
      }),
      await fetch(receiptsUrl, {
        method: 'POST',
        body: JSON.stringify({ receipts: [{ messageId, status: 'DELIVERED' }] }),
      }).then(async (response) => ({
        status: response.status,
        body: (await response.json()) as Record<string, any>,
      })),
    ];
    for (const answer of forged) {
      expect(answer.status).toBe(401);
      expect(answer.body.errors[0].extensions.code).toBe('INVALID_SIGNATURE');
    }
    expect(await storedState(hub.connections)).toEqual(before);
  });

  it('applies a signed receipt once and reports messages it does not know', async () => {
    const receipts = [
      { messageId, status: 'DELIVERED', at: now() },
      { messageId: 'no-such-message', status: 'DELIVERED' },
    ];
    expect(await postReceipts(receipts)).toEqual({ status: 200, body: { applied: 1, unknown: [1] } });
    const delivered = (await entry(campaignId, 'M0002')).deliveredAt;
    expect(await postReceipts(receipts)).toEqual({ status: 200, body: { applied: 1, unknown: [1] } });
    expect((await entry(campaignId, 'M0002')).deliveredAt).toEqual(delivered);
    expect(await m.repos.relay.model.countDocuments({ _id: `${messageId}.delivered` })).toBe(1);
    const malformed = await postReceipts([], { body: '{"receipts": "all of them"}' });
    expect(malformed.status).toBe(400);
  });

  it('withdraws marketing consent on the channel when the member replies TD, at once', async () => {
    expect(await postReceipts([{ messageId, status: 'REPLY', text: 'TD' }])).toMatchObject({ status: 200 });
    const consents = await m.member(
      'M0002',
      `{ viewer { messageConsents { channel purpose granted source } } }`,
    );
    expect(consents.data?.viewer.messageConsents).toContainEqual({
      channel: 'SMS',
      purpose: 'MARKETING',
      granted: false,
      source: 'UNSUBSCRIBE_REPLY',
    });
    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { total { delivered unsubscribed } } } }`,
      {
        id: campaignId,
      },
    );
    expect(stats.data?.campaign.stats.total).toEqual({ delivered: 1, unsubscribed: 1 });

    // The member gives consent again; the same reply, repeated by the provider, changes nothing more.
    await setConsent('M0002', 'SMS', true);
    expect(await postReceipts([{ messageId, status: 'REPLY', text: 'TD' }])).toMatchObject({ status: 200 });
    expect(await marketingConsent('M0002', 'SMS')).toMatchObject({ granted: true, source: 'MEMBER' });
    expect(
      await m.repos.consents.log.countDocuments({ memberId: 'M0002', source: 'UNSUBSCRIBE_REPLY' }),
    ).toBe(1);
  });

  it('dead-letters an SMS the carrier reports failed, and gives its budget touch back', async () => {
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const failed = await entry(await sentTo(['M0002'], [await m.publishedTemplate(SMS_TEMPLATE)]), 'M0002');
    expect((await touchesOf('M0002')).SMS).toEqual([failed._id]);
    expect(
      await postReceipts([{ messageId: failed._id, status: 'FAILED', error: 'no such number' }]),
    ).toMatchObject({ status: 200 });
    expect(await m.repos.outbox.entries.findById(failed._id).lean()).toMatchObject({
      state: 'DEAD',
      lastError: 'carrier: no such number',
    });
    expect(await touchesOf('M0002')).toMatchObject({ marketing: [], SMS: [] });
  });

  it('keeps the member’s phone number and name out of a failure an operator without pii:read reads', async () => {
    const { members } = await openMembers(hub.connections.members);
    const { phone, name } = (await members.model.findById('M0002').lean())!.personal;
    // A gateway refusing a message the way real ones do: echoing the number, written its own way, and the text.
    const echoing = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        const { to, sms } = JSON.parse(text) as { to: string; sms: { text: string } };
        const written = `+86 ${to.slice(0, 3)}-${to.slice(3, 7)}-${to.slice(7)}`;
        res.writeHead(422).end(JSON.stringify({ error: `refused ${to} (${written}): ${sms.text}` }));
      });
    });
    await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
    try {
      const sms = await m.publishedTemplate(SMS_TEMPLATE);
      await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
      const refused = await sentTo(
        ['M0002'],
        [sms],
        'MARKETING',
        new HttpProvider(`http://127.0.0.1:${(echoing.address() as AddressInfo).port}/sms`),
      );
      await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
      const reported = await sentTo(['M0002'], [sms]);
      const failed = await entry(reported, 'M0002');
      await postReceipts([
        { messageId: failed._id, status: 'FAILED', error: `${name}: number ${phone} is not in service` },
      ]);
      const lastErrors: string[] = [];
      for (const id of [refused, reported]) {
        const answer = await m.alice(
          `query ($id: ID!) { campaign(id: $id) { messages { edges { node { state lastError } } } } }`,
          { id },
        );
        const node = answer.data?.campaign.messages.edges[0].node;
        expect(node.state).toBe('DEAD');
        lastErrors.push(node.lastError);
      }
      expect(lastErrors[0]).toMatch(
        /^HTTP 422: \{"error":"refused \*+ \(\*+\): 【海川银行】\*+您好，理财季开启。/,
      );
      expect(lastErrors[1]).toBe(
        `carrier: ${'*'.repeat([...name].length)}: number ${'*'.repeat(phone.length)} is not in service`,
      );
      for (const lastError of lastErrors) {
        expect(lastError).not.toContain(name);
        expect(lastError).not.toMatch(/\d{4}/);
      }
    } finally {
      await new Promise((resolve) => echoing.close(resolve));
    }
  });

  it('keeps an SMS delivered and its touch taken when a FAILED receipt for it is handled at the same moment', async () => {
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const sent = await entry(await sentTo(['M0002'], [await m.publishedTemplate(SMS_TEMPLATE)]), 'M0002');
    const contact = await m.repos.contacts.model.findById('M0002').lean();
    expect((await touchesOf('M0002')).SMS).toEqual([sent._id]);
    const rounds: unknown[] = [];
    for (let round = 0; round < 20; round++) {
      // As sent, before any receipt; then the two receipts, as two processes would handle them.
      await m.repos.outbox.entries.replaceOne({ _id: sent._id }, sent);
      await m.repos.contacts.model.replaceOne({ _id: 'M0002' }, contact!);
      await Promise.all([
        applyReceipts(m.repos, [{ messageId: sent._id, status: 'FAILED', error: 'late carrier report' }]),
        applyReceipts(m.repos, [{ messageId: sent._id, status: 'DELIVERED' }]),
      ]);
      const after = (await m.repos.outbox.entries.findById(sent._id).lean())!;
      rounds.push([after.state, after.deliveredAt !== null, await touchesOf('M0002')]);
    }
    expect(rounds).toEqual(
      rounds.map(() => ['SENT', true, { marketing: [sent._id], SMS: [sent._id], IN_APP: [], FIVE_G: [] }]),
    );
  });
});

describe('a delivery receipt for a message whose gateway answer was lost', () => {
  /** A gateway that takes the message (the local provider records it) but whose answer reads as a failure. */
  const lostAnswer = (permanent: boolean): ProviderAdapter => {
    const local = new LocalProvider(m.repos.localDeliveries);
    return {
      name: 'lost-answer',
      async send(message) {
        await local.send(message);
        return { ok: false as const, permanent, error: 'HTTP 504: gateway timeout' };
      },
      close: async () => undefined,
    };
  };

  it('brings a dead letter back as delivered, with its budget touch, when the carrier reports it after', async () => {
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const sms = await m.publishedTemplate(SMS_TEMPLATE);
    const campaignId = await sentTo(['M0002'], [sms], 'MARKETING', lostAnswer(true));
    const dead = await entry(campaignId, 'M0002');
    expect(dead).toMatchObject({ state: 'DEAD', channel: 'SMS', deliveredAt: null });
    expect((await touchesOf('M0002')).SMS).toEqual([]);

    expect(await postReceipts([{ messageId: dead._id, status: 'DELIVERED' }])).toEqual({
      status: 200,
      body: { applied: 1, unknown: [] },
    });
    expect(await entry(campaignId, 'M0002')).toMatchObject({
      state: 'SENT',
      deliveredAt: expect.any(Date),
      lastError: null,
    });
    expect(await touchesOf('M0002')).toMatchObject({ marketing: [dead._id], SMS: [dead._id] });
    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { total { sent delivered failed } } } }`,
      { id: campaignId },
    );
    expect(stats.data?.campaign.stats.total).toEqual({ sent: 1, delivered: 1, failed: 0 });
    // A late failure report of the same message changes nothing: it reached the member.
    await postReceipts([{ messageId: dead._id, status: 'FAILED', error: 'late carrier report' }]);
    expect(await entry(campaignId, 'M0002')).toMatchObject({ state: 'SENT' });
    expect((await touchesOf('M0002')).SMS).toEqual([dead._id]);
  });

  /** An SMS whose attempt's answer was lost, skipped on its retry (consent withdrawn meanwhile, touch given back). */
  async function skippedAfterAttempt(): Promise<{ campaignId: string; skipped: OutboxEntryDoc }> {
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    await setConsent('M0002', 'SMS', true);
    const campaignId = await sentTo(
      ['M0002'],
      [await m.publishedTemplate(SMS_TEMPLATE)],
      'MARKETING',
      lostAnswer(false),
    );
    const waiting = await entry(campaignId, 'M0002');
    expect(waiting).toMatchObject({ state: 'PENDING', reason: 'RETRY', channel: 'SMS', attempts: 1 });
    expect((await touchesOf('M0002')).SMS).toEqual([waiting._id]);
    await setConsent('M0002', 'SMS', false);
    await m.repos.outbox.entries.updateOne({ _id: waiting._id }, { $set: { dueAt: new Date(0) } });
    await m.repos.outbox.batches.updateOne({ _id: waiting.batchId }, { $set: { dueAt: new Date(0) } });
    return { campaignId, skipped: waiting };
  }

  /** What the campaign's stats and the member's budget say of the message, once the carrier reported it delivered. */
  async function reachedAsDelivered(campaignId: string, id: string): Promise<void> {
    const after = await entry(campaignId, 'M0002');
    expect(after).toMatchObject({ state: 'SENT', reason: null, deliveredAt: expect.any(Date) });
    expect(after.sentAt).toEqual(after.deliveredAt);
    expect(await touchesOf('M0002')).toMatchObject({ marketing: [id], SMS: [id] });
    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { total { sent delivered skipped } skipped { reason } } } }`,
      { id: campaignId },
    );
    expect(stats.data?.campaign.stats).toEqual({ total: { sent: 1, delivered: 1, skipped: 0 }, skipped: [] });
  }

  it('brings a message skipped after its attempt back as delivered, with its budget touch', async () => {
    try {
      const { campaignId, skipped } = await skippedAfterAttempt();
      await m.send();
      expect(await entry(campaignId, 'M0002')).toMatchObject({ state: 'SKIPPED', reason: 'NO_CONSENT' });
      expect((await touchesOf('M0002')).SMS).toEqual([]);

      expect(await postReceipts([{ messageId: skipped._id, status: 'DELIVERED' }])).toEqual({
        status: 200,
        body: { applied: 1, unknown: [] },
      });
      await reachedAsDelivered(campaignId, skipped._id);
      // Repeated, it changes nothing more; nor does a late failure report: it reached the member.
      await postReceipts([
        { messageId: skipped._id, status: 'DELIVERED' },
        { messageId: skipped._id, status: 'FAILED', error: 'late carrier report' },
      ]);
      await reachedAsDelivered(campaignId, skipped._id);
    } finally {
      await setConsent('M0002', 'SMS', true);
    }
  });

  it('brings it back too when the receipt is handled after the sender decided to skip it, before it recorded that', async () => {
    try {
      const { campaignId, skipped } = await skippedAfterAttempt();
      const apply = m.repos.outbox.apply.bind(m.repos.outbox);
      const meanwhile = jest.spyOn(m.repos.outbox, 'apply').mockImplementationOnce(async (changes) => {
        await postReceipts([{ messageId: skipped._id, status: 'DELIVERED' }]);
        return apply(changes);
      });
      try {
        await m.send();
      } finally {
        meanwhile.mockRestore();
      }
      await reachedAsDelivered(campaignId, skipped._id);
    } finally {
      await setConsent('M0002', 'SMS', true);
    }
  });

  it('settles a card waiting for its retry as delivered: not handed over again, and no SMS of it follows', async () => {
    await m.repos.contacts.model.deleteOne({ _id: 'M0002' });
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
    const campaignId = await sentTo(['M0002'], [fiveG], 'MARKETING', lostAnswer(false));
    const waiting = await entry(campaignId, 'M0002');
    expect(waiting).toMatchObject({ state: 'PENDING', reason: 'RETRY', channel: 'FIVE_G', attempts: 1 });

    // The card reached the member; the carrier says so while the sender waits to try again. A failure report of the
    // same attempt leaves the retry to the sender, which decided it on its own answer.
    const receipts = [
      { messageId: waiting._id, status: 'DELIVERED' },
      { messageId: waiting._id, status: 'FAILED', error: 'late carrier report' },
    ];
    expect(await postReceipts(receipts)).toEqual({ status: 200, body: { applied: 2, unknown: [] } });
    expect(await entry(campaignId, 'M0002')).toMatchObject({
      state: 'PENDING',
      deliveredAt: expect.any(Date),
      fellBackAt: null,
    });
    expect(await m.repos.outbox.entries.countDocuments({ _id: `${waiting._id}:SMS` })).toBe(0);

    // Its retry is due.
    const due = new Date(Date.now() - 1_000);
    await m.repos.outbox.apply([{ id: waiting._id, set: { dueAt: due } }]);
    await m.repos.outbox.batches.updateOne({ _id: waiting.batchId }, { $set: { dueAt: due } });
    await m.send();
    const settled = await entry(campaignId, 'M0002');
    expect(settled).toMatchObject({ state: 'SENT', reason: null, attempts: 1, lastError: null });
    expect(settled.sentAt).toEqual(settled.deliveredAt);
    expect((await m.repos.localDeliveries.findById(waiting._id).lean())?.calls).toBe(1);
    expect((await touchesOf('M0002')).FIVE_G).toEqual([waiting._id]);

    await receiptOverdue(waiting._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);
    await m.send();
    expect(await m.repos.localDeliveries.countDocuments({ _id: `${waiting._id}:SMS` })).toBe(0);
  });
});

describe('unsubscribe links', () => {
  it('withdraw marketing consent on the message’s channel without a login, once; a forged link changes nothing', async () => {
    const inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
    await m.member(
      'M0003',
      `mutation { setMessageConsent(channel: IN_APP, purpose: MARKETING, granted: true) { granted } }`,
    );
    const campaignId = await sentTo(['M0003'], [inApp]);
    const inbox = await m.member(
      'M0003',
      `{ viewer { inbox(first: 1) { edges { node { unsubscribeLink } } } } }`,
    );
    const link: string = inbox.data?.viewer.inbox.edges[0].node.unsubscribeLink;
    const token = new URL(link).searchParams.get('t')!;
    const UNSUBSCRIBE = `mutation ($token: String!) { unsubscribe(token: $token) { channel at } }`;

    const before = await storedState({ messages: hub.connections.messages });
    for (const forged of [
      `${token.split('.')[0]}.AAAAAAAAAAAAAAAAAAAAAAAA`,
      'nonsense',
      `${token}x`,
      'a.'.repeat(300),
    ]) {
      const response = await graphql(hub.gatewayUrl, UNSUBSCRIBE, { token: forged });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0]?.extensions?.field).toBe('token');
    }
    expect(await storedState({ messages: hub.connections.messages })).toEqual(before);

    const first = await graphql(hub.gatewayUrl, UNSUBSCRIBE, { token });
    expect(first.data?.unsubscribe).toEqual({ channel: 'IN_APP', at: expect.any(String) });
    const again = await graphql(hub.gatewayUrl, UNSUBSCRIBE, { token });
    expect(again.data?.unsubscribe).toEqual(first.data?.unsubscribe);
    expect(await m.repos.consents.log.countDocuments({ memberId: 'M0003', source: 'UNSUBSCRIBE_LINK' })).toBe(
      1,
    );

    // The next marketing message in the app is not sent to M0003.
    const next = await sentTo(['M0003'], [inApp]);
    expect(await entry(next, 'M0003')).toMatchObject({ state: 'SKIPPED', reason: 'NO_CONSENT' });
    expect((await entry(campaignId, 'M0003')).unsubscribedAt).toEqual(expect.any(Date));
  });

  it('withdraw consent on the next try when writing it failed the first time', async () => {
    const inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
    await setConsent('M0004', 'IN_APP', true);
    await sentTo(['M0004'], [inApp]);
    const inbox = await m.member(
      'M0004',
      `{ viewer { inbox(first: 1) { edges { node { unsubscribeLink } } } } }`,
    );
    const token = new URL(inbox.data?.viewer.inbox.edges[0].node.unsubscribeLink).searchParams.get('t')!;
    const UNSUBSCRIBE = `mutation ($token: String!) { unsubscribe(token: $token) { channel at } }`;
    const blip = jest
      .spyOn(ConsentRepository.prototype, 'set')
      .mockRejectedValueOnce(new Error('the database went away'));
    try {
      expect(errorCodes(await graphql(hub.gatewayUrl, UNSUBSCRIBE, { token }))).toEqual([
        'INTERNAL_SERVER_ERROR',
      ]);
    } finally {
      blip.mockRestore();
    }
    expect(await marketingConsent('M0004', 'IN_APP')).toMatchObject({ granted: true });
    const retried = await graphql(hub.gatewayUrl, UNSUBSCRIBE, { token });
    expect(retried.data?.unsubscribe).toEqual({ channel: 'IN_APP', at: expect.any(String) });
    expect(await marketingConsent('M0004', 'IN_APP')).toMatchObject({
      granted: false,
      source: 'UNSUBSCRIBE_LINK',
    });
  });
});

describe('a retry after consent is withdrawn', () => {
  const retryNow = async (campaignId: string) => {
    await m.repos.outbox.entries.updateMany({ campaignId }, { $set: { dueAt: new Date(0) } });
    await m.repos.outbox.batches.updateMany({ campaignId }, { $set: { dueAt: new Date(0) } });
    await m.send();
  };

  afterAll(() => setConsent('M0001', 'SMS', true));

  it('goes on the next consented rung, its budget touch moving with it; with none left, gives the touch back', async () => {
    const sms = await m.publishedTemplate(SMS_TEMPLATE);
    const inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
    await m.repos.contacts.model.deleteOne({ _id: 'M0001' });
    await setConsent('M0001', 'SMS', true);
    // The provider is down for each message's first attempt. An SMS-only message first: with SMS withdrawn, its retry
    // does not go, and the touch it held is given back (else the day's one SMS would stay taken).
    const smsOnly = await sentTo(['M0001'], [sms], 'MARKETING', unavailableProvider);
    const stopping = await entry(smsOnly, 'M0001');
    expect(stopping).toMatchObject({ state: 'PENDING', reason: 'RETRY', channel: 'SMS', attempts: 1 });
    expect(await touchesOf('M0001')).toMatchObject({ marketing: [stopping._id], SMS: [stopping._id] });
    await setConsent('M0001', 'SMS', false);
    await retryNow(smsOnly);
    expect(await entry(smsOnly, 'M0001')).toMatchObject({ state: 'SKIPPED', reason: 'NO_CONSENT' });
    expect(await touchesOf('M0001')).toMatchObject({ marketing: [], SMS: [] });

    // Then SMS → in-app: its retry goes in the app, the touch moving from SMS to IN_APP.
    await setConsent('M0001', 'SMS', true);
    const twoRungs = await sentTo(['M0001'], [sms, inApp], 'MARKETING', unavailableProvider);
    const moving = await entry(twoRungs, 'M0001');
    expect(moving).toMatchObject({ state: 'PENDING', reason: 'RETRY', channel: 'SMS', attempts: 1 });
    await setConsent('M0001', 'SMS', false);
    await retryNow(twoRungs);
    expect(await entry(twoRungs, 'M0001')).toMatchObject({ state: 'SENT', channel: 'IN_APP' });
    expect(await m.repos.localDeliveries.countDocuments({ _id: { $in: [stopping._id, moving._id] } })).toBe(
      0,
    );
    expect(await touchesOf('M0001')).toMatchObject({
      marketing: [moving._id],
      SMS: [],
      IN_APP: [moving._id],
    });
  });
});

/** An outbox whose worker is slow to record its attempts (a busy database) while something else happens. */
class SlowRecordingOutbox extends OutboxRepository {
  private slowed = false;
  constructor(
    entries: OutboxRepository['entries'],
    batches: OutboxRepository['batches'],
    private readonly meanwhile: () => Promise<unknown>,
  ) {
    super(entries, batches);
  }
  override async apply(changes: Parameters<OutboxRepository['apply']>[0]): Promise<number> {
    if (!this.slowed) {
      this.slowed = true;
      await this.meanwhile();
      await new Promise((resolve) => setTimeout(resolve, 1_200));
    }
    return super.apply(changes);
  }
}

describe('a message whose worker died after handing it over', () => {
  it('goes again only on the channel it was handed to, never on another as well, whatever consent says since', async () => {
    const { members } = await openMembers(hub.connections.members);
    await members.model.updateOne(
      { _id: 'M0006' },
      { $set: { 'contact.phoneVerified': true, 'contact.fiveGCapable': false } },
    );
    const sms = await m.publishedTemplate(SMS_TEMPLATE);
    const inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
    const campaignId = await sentTo(['M0006'], [sms, inApp], 'SERVICE');
    const sent = await entry(campaignId, 'M0006');
    expect(sent).toMatchObject({ state: 'SENT', channel: 'SMS', attempts: 1 });
    // Its worker died after the provider took the SMS and before recording so: the entry still says SENDING on SMS,
    // and the batch's lease lapses.
    const crashed = async () => {
      await m.repos.outbox.apply([
        { id: sent._id, set: { state: 'SENDING', sentAt: null, providerMessageId: null } },
      ]);
      await m.repos.outbox.batches.updateOne(
        { _id: sent.batchId },
        { $set: { state: 'OPEN', dueAt: new Date(0), holder: null, leaseUntil: new Date(0) } },
      );
    };
    const serviceBySms = (granted: boolean) =>
      m.member(
        'M0006',
        `mutation ($granted: Boolean!) { setMessageConsent(channel: SMS, purpose: SERVICE, granted: $granted) { granted } }`,
        { granted },
      );

    // Consent unchanged: the SMS goes again under its key (the provider delivers it once), not in the app.
    await crashed();
    await m.send();
    expect(await entry(campaignId, 'M0006')).toMatchObject({ state: 'SENT', channel: 'SMS', attempts: 2 });
    expect(await m.repos.localDeliveries.findById(sent._id).lean()).toMatchObject({ calls: 2 });

    // Service messages by SMS withdrawn before the next worker takes over: the SMS may have reached the member, so the
    // message does not go in the app too; and it is not handed to SMS again either.
    await crashed();
    expect((await serviceBySms(false)).errors).toBeUndefined();
    try {
      await m.send();
      expect(await entry(campaignId, 'M0006')).toMatchObject({
        state: 'SKIPPED',
        reason: 'NO_CONSENT',
        channel: 'SMS',
      });
      expect(await m.repos.inbox.model.countDocuments({ _id: sent._id })).toBe(0);
      expect(await m.repos.localDeliveries.findById(sent._id).lean()).toMatchObject({ calls: 2 });

      // The same when the withdrawal comes after the next worker decided on SMS, while it records its attempt: it
      // hands nothing over, and decides again as the first did — not in the app either.
      await serviceBySms(true);
      await crashed();
      await sendDue({
        repos: {
          ...m.repos,
          outbox: new SlowRecordingOutbox(m.repos.outbox.entries, m.repos.outbox.batches, () =>
            serviceBySms(false),
          ),
        },
        provider: new LocalProvider(m.repos.localDeliveries),
        rules: sendRulesOf(testConfig),
        logger,
      });
      expect(await entry(campaignId, 'M0006')).toMatchObject({
        state: 'SKIPPED',
        reason: 'NO_CONSENT',
        channel: 'SMS',
      });
      expect(await m.repos.inbox.model.countDocuments({ _id: sent._id })).toBe(0);
      expect(await m.repos.localDeliveries.findById(sent._id).lean()).toMatchObject({ calls: 2 });
    } finally {
      await serviceBySms(true);
    }
  });
});

describe('an unsubscribe link followed from a 5G card', () => {
  /** The local provider, keeping the unsubscribe links it was handed. */
  const capturing = (links: Map<string, string>): ProviderAdapter => {
    const local = new LocalProvider(m.repos.localDeliveries);
    return {
      name: 'capturing',
      send: (message) => {
        if (message.unsubscribeUrl) links.set(message.idempotencyKey, message.unsubscribeUrl);
        return local.send(message);
      },
      close: () => local.close(),
    };
  };
  const UNSUBSCRIBE = `mutation ($token: String!) { unsubscribe(token: $token) { channel } }`;

  it('proves the card reached the member: no SMS of it follows, whether or not its fallback was planned', async () => {
    const { members } = await openMembers(hub.connections.members);
    await members.model.updateOne(
      { _id: 'M0007' },
      { $set: { 'contact.phoneVerified': true, 'contact.fiveGCapable': true } },
    );
    for (const channel of ['FIVE_G', 'SMS']) await setConsent('M0007', channel, true);
    const fiveG = await m.publishedTemplate(FIVE_G_TEMPLATE);
    const links = new Map<string, string>();

    const unsubscribe = async (id: string) => {
      const token = new URL(links.get(id)!).searchParams.get('t')!;
      const answer = await graphql(hub.gatewayUrl, UNSUBSCRIBE, { token });
      expect(answer.data?.unsubscribe).toEqual({ channel: 'FIVE_G' });
    };

    // The member follows the card's link before its receipt is overdue: it is delivered, and never falls back.
    await m.repos.contacts.model.deleteOne({ _id: 'M0007' });
    const first = await entry(await sentTo(['M0007'], [fiveG], 'MARKETING', capturing(links)), 'M0007');
    expect(first).toMatchObject({ channel: 'FIVE_G', state: 'SENT', deliveredAt: null });
    await unsubscribe(first._id);
    expect(await m.repos.outbox.entries.findById(first._id).lean()).toMatchObject({
      deliveredAt: expect.any(Date),
      unsubscribedAt: expect.any(Date),
    });
    await receiptOverdue(first._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(0);

    // The sweep planned the SMS already (the member had not tapped yet): the SMS does not go.
    await setConsent('M0007', 'FIVE_G', true);
    await m.repos.contacts.model.deleteOne({ _id: 'M0007' });
    const second = await entry(await sentTo(['M0007'], [fiveG], 'MARKETING', capturing(links)), 'M0007');
    await receiptOverdue(second._id);
    expect(await fallBackOverdue(m.repos, RECEIPT_TIMEOUT)).toBe(1);
    await unsubscribe(second._id);
    await m.send();
    expect(await entry(second.campaignId, 'M0007', 2)).toMatchObject({
      state: 'SKIPPED',
      reason: 'DELIVERED_ALREADY',
    });
    for (const card of [first, second])
      expect(await m.repos.localDeliveries.countDocuments({ _id: `${card._id}:SMS` })).toBe(0);
  });
});

describe('what happened, at analytics', () => {
  it('relays deliveries, opens and clicks as events, once each, never as the member being active', async () => {
    const inApp = await m.publishedTemplate(IN_APP_TEMPLATE);
    const campaignId = await sentTo(['M0001'], [inApp]);
    const id = (await entry(campaignId, 'M0001'))._id;
    await m.member('M0001', `mutation ($id: ID!) { clickMessage(id: $id) { id } }`, { id });
    await m.member('M0001', `mutation ($id: ID!) { clickMessage(id: $id) { id } }`, { id });
    while ((await relayEvents({ relay: m.repos.relay, graph: m.graph, logger })) > 0);
    const analytics = await openAnalytics(hub.connections.analytics);
    const events = await analytics.events.model.find({ 'properties.messageId': id }).sort({ name: 1 }).lean();
    expect(events.map((event) => [event.name, event.memberId, event.recordedBy])).toEqual([
      ['message_click', 'M0001', 'svc.messages'],
      ['message_delivered', 'M0001', 'svc.messages'],
      ['message_open', 'M0001', 'svc.messages'],
    ]);
    expect(events[0]!.properties).toMatchObject({
      campaignId,
      variant: 'A',
      messageChannel: 'IN_APP',
      link: '/wealth',
    });
    const stats = await m.alice(
      `query ($id: ID!) { campaign(id: $id) { stats { rows { variant channel counts { sent delivered opened clicked } } } } }`,
      { id: campaignId },
    );
    expect(stats.data?.campaign.stats.rows).toEqual([
      { variant: 'A', channel: 'IN_APP', counts: { sent: 1, delivered: 1, opened: 1, clicked: 1 } },
    ]);
  });

  it('keeps events while analytics is down, and relays them when it is back', async () => {
    await m.repos.relay.enqueue([
      {
        _id: 'CMP-aaaaaaaa.202611260000:M0001.delivered',
        name: 'message_delivered',
        memberId: 'M0001',
        occurredAt: new Date(),
        properties: {
          messageId: 'CMP-aaaaaaaa.202611260000:M0001',
          campaignId: 'CMP-aaaaaaaa',
          variant: 'A',
          messageChannel: 'SMS',
        },
      },
    ]);
    await hub.stopSubgraph('analytics');
    try {
      await expect(relayEvents({ relay: m.repos.relay, graph: m.graph, logger })).rejects.toThrow();
      expect(await m.repos.relay.model.countDocuments()).toBe(1);
    } finally {
      await hub.restartSubgraph('analytics');
    }
    expect(await relayEvents({ relay: m.repos.relay, graph: m.graph, logger })).toBe(1);
    expect(await m.repos.relay.model.countDocuments()).toBe(0);
  });
});

describe('messages down', () => {
  it('leaves the headline page whole: only the inbox and unread count are null, each with its error', async () => {
    await hub.stopSubgraph('messages');
    try {
      const page = await m.member('M0001', PAGE);
      expect(page.data?.viewer.page.slots.length).toBeGreaterThan(0);
      expect(page.data?.viewer).toMatchObject({ id: 'M0001', unreadCount: null, inbox: null });
      const failed = (page.errors ?? []).map((error) => [
        error.path?.join('.'),
        error.extensions?.code,
        error.extensions?.serviceName,
      ]);
      expect(failed).toEqual(
        expect.arrayContaining([
          ['viewer.unreadCount', 'SERVICE_UNAVAILABLE', 'messages'],
          ['viewer.inbox', 'SERVICE_UNAVAILABLE', 'messages'],
        ]),
      );
    } finally {
      await hub.restartSubgraph('messages');
    }
    expect((await m.member('M0001', PAGE)).errors).toBeUndefined();
  });
});
