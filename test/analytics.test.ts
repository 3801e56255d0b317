// Tracking through the gateway, both doors (the trackEvents mutation and POST /collect): valid events are stored once
// per id whatever the retries, invalid ones are reported by index with a stable code and not stored, the member is
// only ever the one the verified token names, limits hold, and stats on Creative and Product move with the events.
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type AnalyticsRepositories } from '../subgraphs/analytics/src/models';
import { FEED_LAG_MS, feedPage } from '../subgraphs/analytics/src/feed';
import { EventRepository } from '../subgraphs/analytics/src/models/event';
import { dayBoundsOf, rollupCaps } from '../subgraphs/analytics/src/domain/rollups';
import { rebuildDay, rebuildRecentDays, recentClosedDays } from '../subgraphs/analytics/src/rollup-job';
import { openRepositories as openProducts } from '../subgraphs/products/src/models';
import { PRODUCTS } from '../subgraphs/products/src/seed';
import {
  FLOW_COMPLETED_CURRENCY,
  FLOW_COMPLETED_PRODUCT,
  PRODUCT_CARD_EVENTS,
  ensureRecordedProperties,
} from '../subgraphs/analytics/src/seed';
import { MongoEventSink, RollupWriter, type ArrivingEvent } from '../subgraphs/analytics/src/sink';
import {
  BankCalendar,
  GraphClient,
  WRITE_IN_FLIGHT_TTL_MS,
  WritesInFlight,
  encodeFeedCursor,
  serviceIdentity,
} from '@bank-hub/shared';
import {
  bearer,
  changedBehindTheHubsBack,
  clientToken,
  dropAndClose,
  errorCodes,
  graphql,
  internalIdentity,
  testConfig,
  testDatabase,
  testLogger,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let repos: AnalyticsRepositories;
let member: Record<string, string>;
let operator: Record<string, string>;
let base: string;

const RATE = 150;
// Above what M0001 sends here in a minute, whose tests are about other things.
const MEMBER_RATE = 1_000;

beforeAll(async () => {
  hub = await startTestHub('analytics', {
    config: { EVENTS_PER_DEVICE_PER_MINUTE: RATE, EVENTS_PER_MEMBER_PER_MINUTE: MEMBER_RATE },
  });
  repos = await openRepositories(hub.connections.analytics);
  member = bearer(await clientToken('M0001', 'member'));
  operator = bearer(await clientToken('ops.alice', 'operator'));
  base = hub.gatewayUrl.replace(/\/graphql$/, '');
});

afterAll(() => stopTestHub(hub));

const TRACK = `mutation ($deviceId: ID!, $events: [EventInput!]!) {
  trackEvents(deviceId: $deviceId, events: $events) { accepted duplicates rejected { index code field } }
}`;

let sequence = 0;
const uniqueDevice = () => `device-${process.pid}-${++sequence}-${Date.now().toString(36)}`;
const event = (
  name: string,
  properties: Record<string, unknown>,
  id = `ev-${++sequence}-${Date.now().toString(36)}`,
) => ({
  id,
  name,
  occurredAt: new Date().toISOString(),
  channel: 'APP',
  properties,
});

const storedFor = (deviceId: string) => repos.events.model.find({ deviceId }).lean().exec();

async function collect(body: string, headers: Record<string, string> = { 'content-type': 'text/plain' }) {
  const started = performance.now();
  const response = await fetch(`${base}/collect`, { method: 'POST', headers, body });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, any>,
    ms: performance.now() - started,
  };
}

describe('trackEvents', () => {
  it("refuses a device named like a hub service, whose events' ids a service's would then collide with", async () => {
    const events = [event('product_view', { productId: 'P-WM-001' })];
    const answer = await graphql(hub.gatewayUrl, TRACK, { deviceId: 'svc.products', events }, member);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'deviceId' });
    expect(await storedFor('svc.products')).toHaveLength(0);
  });

  it("refuses only the event whose properties hold an SDK's own keys ($os, a.b), not its batch", async () => {
    const deviceId = uniqueDevice();
    const events = [
      event('product_view', { productId: 'P-WM-001', $os: 'ios' }),
      event('product_view', { productId: 'P-WM-001', 'screen.name': 'home' }),
      event('product_view', { productId: 'P-WM-001' }),
    ];
    const answer = await graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member);
    expect(answer.data?.trackEvents).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [
        { index: 0, code: 'INVALID_PROPERTY', field: 'properties.$os' },
        { index: 1, code: 'INVALID_PROPERTY', field: 'properties.screen.name' },
      ],
    });
    expect(await storedFor(deviceId)).toHaveLength(1);
  });

  it('stores valid events, reports invalid ones by index, and stores a repeated batch once', async () => {
    const deviceId = uniqueDevice();
    const events = [
      event('creative_impression', { creativeId: 'CR-APP-home-hero-1' }),
      event('nope', {}),
      event('product_view', { productId: 'P-WM-001', memberId: 'M0002' }),
      event('product_view', { productId: 'P-WM-001' }),
    ];
    const first = await graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member);
    expect(first.data?.trackEvents).toEqual({
      accepted: 2,
      duplicates: 0,
      rejected: [
        { index: 1, code: 'UNKNOWN_EVENT', field: 'name' },
        { index: 2, code: 'INVALID_PROPERTY', field: 'properties.memberId' },
      ],
    });
    const again = await graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member);
    expect(again.data?.trackEvents).toMatchObject({ accepted: 0, duplicates: 2 });
    const stored = await storedFor(deviceId);
    expect(stored.map((doc) => doc.name).sort()).toEqual(['creative_impression', 'product_view']);
    expect(stored.every((doc) => doc.memberId === 'M0001')).toBe(true);
  });

  it("keeps apart two devices' events whose ids a colon would run together, and knows a replay of one stored before", async () => {
    const stem = uniqueDevice();
    const view = (id: string) => [event('product_view', { productId: 'P-WM-001' }, id)];
    // `<device>:<id>` is the same for both: `${stem}:a:evt-0001`.
    const first = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: `${stem}:a`, events: view('evt-0001') },
      member,
    );
    const second = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: stem, events: view('a:evt-0001') },
      member,
    );
    expect(first.data?.trackEvents).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(second.data?.trackEvents).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(await storedFor(stem)).toHaveLength(1);
    expect(await storedFor(`${stem}:a`)).toHaveLength(1);

    // An event stored before, keyed `<device>:<id>` (no colon in either, as the snippet makes them), is still a repeat.
    const deviceId = uniqueDevice();
    const [replayed] = view('evt-stored-before');
    const now = new Date();
    await repos.events.insertNew([
      {
        _id: `${deviceId}:${replayed!.id}`,
        name: 'product_view',
        memberId: 'M0001',
        deviceId,
        channel: 'APP',
        occurredAt: now,
        receivedAt: now,
        day: new BankCalendar(testConfig.BANK_TIME_ZONE).dayOf(now),
        properties: { productId: 'P-WM-001' },
      },
    ]);
    const replay = await graphql(hub.gatewayUrl, TRACK, { deviceId, events: [replayed] }, member);
    expect(replay.data?.trackEvents).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(await storedFor(deviceId)).toHaveLength(1);
  });

  it('attributes nothing to a member without a member token', async () => {
    const deviceId = uniqueDevice();
    const response = await graphql(hub.gatewayUrl, TRACK, { deviceId, events: [event('sign_in', {})] });
    expect(response.data?.trackEvents.accepted).toBe(1);
    expect((await storedFor(deviceId))[0]?.memberId).toBeNull();
  });

  it('refuses events past the batch limit, each by index, and stores the rest', async () => {
    const deviceId = uniqueDevice();
    const events = Array.from({ length: 105 }, () => event('sign_in', {}));
    const response = await graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member);
    expect(response.data?.trackEvents.accepted).toBe(100);
    expect(response.data?.trackEvents.rejected.map((r: { index: number }) => r.index)).toEqual([
      100, 101, 102, 103, 104,
    ]);
    expect(new Set(response.data?.trackEvents.rejected.map((r: { code: string }) => r.code))).toEqual(
      new Set(['BATCH_LIMIT_EXCEEDED']),
    );
    expect(await storedFor(deviceId)).toHaveLength(100);
  });

  it(`limits a device to ${RATE} events a minute`, async () => {
    // Two batches must fall in the same minute.
    if (new Date().getUTCSeconds() > 55) await new Promise((resolve) => setTimeout(resolve, 6_000));
    const deviceId = uniqueDevice();
    const batch = () => Array.from({ length: 100 }, () => event('sign_in', {}));
    await graphql(hub.gatewayUrl, TRACK, { deviceId, events: batch() }, member);
    const second = await graphql(hub.gatewayUrl, TRACK, { deviceId, events: batch() }, member);
    expect(second.data?.trackEvents.accepted).toBe(RATE - 100);
    expect(second.data?.trackEvents.rejected).toHaveLength(200 - RATE);
    expect(second.data?.trackEvents.rejected[0]).toMatchObject({ index: RATE - 100, code: 'RATE_LIMITED' });
    expect(await storedFor(deviceId)).toHaveLength(RATE);
  });

  it(`limits a member to ${MEMBER_RATE} events a minute across every device id, through both doors`, async () => {
    // Every batch must fall in the same minute.
    if (new Date().getUTCSeconds() > 50) await new Promise((resolve) => setTimeout(resolve, 11_000));
    const token = await clientToken('M0008', 'member');
    const batch = (length = 100) => Array.from({ length }, () => event('sign_in', {}));
    const devices = Array.from({ length: MEMBER_RATE / 50 + 1 }, uniqueDevice);
    // Each device stays under its own limit: only the member's holds them back.
    for (const deviceId of devices.slice(0, -2)) {
      const answer = await graphql(hub.gatewayUrl, TRACK, { deviceId, events: batch(50) }, bearer(token));
      expect(answer.data?.trackEvents.accepted).toBe(50);
    }
    const last = await collect(JSON.stringify({ deviceId: devices.at(-2), token, events: batch() }));
    expect(last.body).toMatchObject({ accepted: 50, duplicates: 0 });
    expect(last.body.rejected).toHaveLength(50);
    expect(last.body.rejected[0]).toMatchObject({ index: 50, code: 'RATE_LIMITED' });
    const past = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: devices.at(-1), events: batch() },
      bearer(token),
    );
    expect(past.data?.trackEvents.accepted).toBe(0);
    expect(new Set(past.data?.trackEvents.rejected.map((r: { code: string }) => r.code))).toEqual(
      new Set(['RATE_LIMITED']),
    );
    expect(await repos.events.model.countDocuments({ deviceId: { $in: devices } })).toBe(MEMBER_RATE);
    // Another member, and an anonymous device, still have their own.
    const other = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: uniqueDevice(), events: batch() },
      bearer(await clientToken('M0009', 'member')),
    );
    expect(other.data?.trackEvents.accepted).toBe(100);
    const anonymous = await graphql(hub.gatewayUrl, TRACK, { deviceId: uniqueDevice(), events: batch() });
    expect(anonymous.data?.trackEvents.accepted).toBe(100);
  });

  it('refuses a device id that is not one, storing nothing', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: 'x', events: [event('sign_in', {})] },
      member,
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'deviceId' });
    expect(await storedFor('x')).toHaveLength(0);
  });
});

describe('a member token whose subject can be no member id', () => {
  const SUBJECTS = [
    ['200 characters long', 'M'.repeat(200)],
    ['with a space', 'M 0001'],
    ['with a $', '$M0001'],
    ['in full-width letters and Chinese', 'Ｍ０００１会员'],
    ['naming a guest', 'guest:device-0001'],
  ];

  it.each(SUBJECTS)('is refused at both doors when %s, and nothing is stored', async (_what, subject) => {
    const token = await clientToken(subject, 'member');
    const deviceId = uniqueDevice();
    const tracked = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId, events: [event('sign_in', {})] },
      bearer(token),
    );
    expect(tracked.status).toBe(401);
    expect(tracked.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    const beacon = await collect(JSON.stringify({ deviceId, token, events: [event('sign_in', {})] }));
    expect(beacon.status).toBe(401);
    expect(await storedFor(deviceId)).toEqual([]);
    expect(await repos.events.model.countDocuments({ memberId: subject })).toBe(0);
  });

  it.each(SUBJECTS)(
    'past the gateway too, attributes nothing to one %s: its events are the device’s alone',
    async (_what, subject) => {
      const deviceId = uniqueDevice();
      const identity = { 'x-hub-identity': await internalIdentity(subject, ['member']) };
      const tracked = await graphql(
        hub.subgraphs.analytics.url,
        TRACK,
        { deviceId, events: [event('sign_in', {})] },
        identity,
      );
      expect(tracked.data?.trackEvents).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
      expect((await storedFor(deviceId)).map((doc) => doc.memberId)).toEqual([null]);
    },
  );

  it('named by an event stored before such ids were refused, reaches the feed as the device’s alone: not at all', async () => {
    const name = `feed_legacy_${process.pid}`;
    const receivedAt = new Date(Date.now() - 60_000);
    const stored = (memberId: string | null, index: number) => ({
      _id: `device-legacy:ev-${name}-${index}`,
      name,
      memberId,
      deviceId: 'device-legacy',
      channel: 'APP' as const,
      occurredAt: receivedAt,
      receivedAt,
      day: new BankCalendar(testConfig.BANK_TIME_ZONE).dayOf(receivedAt),
      properties: {},
    });
    const legacy = [...SUBJECTS.map(([, subject]) => subject!), 'M0001\n', ''];
    await repos.events.model.insertMany([
      ...legacy.map((subject, index) => stored(subject, index)),
      stored(null, legacy.length),
      stored('M0001', legacy.length + 1),
    ]);
    const feed = await graphql(
      hub.subgraphs.analytics.url,
      `
        query ($after: String, $names: [String!]!) {
          eventFeed(after: $after, names: $names) {
            events {
              id
              memberId
            }
          }
        }
      `,
      { after: encodeFeedCursor({ at: new Date(receivedAt.getTime() - 1), id: '' }), names: [name] },
      { 'x-hub-identity': await internalIdentity('svc.engagement', ['service']) },
    );
    expect(feed.errors).toBeUndefined();
    expect(feed.data?.eventFeed.events).toEqual([
      { id: `device-legacy:ev-${name}-${legacy.length + 1}`, memberId: 'M0001' },
    ]);
  });
});

describe('recordMemberEvents', () => {
  const RECORD = `mutation ($events: [MemberEventInput!]!) {
    recordMemberEvents(events: $events) { accepted duplicates rejected { index code field } }
  }`;
  const delivered = (id: string, memberId = 'M0007') => ({
    id,
    name: 'message_delivered',
    memberId,
    occurredAt: new Date().toISOString(),
    channel: 'APP',
    properties: { messageId: id, campaignId: 'CMP-test', variant: 'A', messageChannel: 'SMS' },
  });

  it('stores a hub service’s events about members once, checked against the plan, never as activity', async () => {
    const graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const caller = { identity: serviceIdentity('messages') };
    const id = `dlv-${Date.now().toString(36)}`;
    const events = [
      delivered(id),
      { ...delivered(`${id}-x`), name: 'no_such_event' },
      delivered(`${id}-g`, 'guest:device-1'),
    ];
    const first = await graph.query<{ recordMemberEvents: unknown }>(caller, RECORD, { events });
    expect(first.data?.recordMemberEvents).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [
        { index: 1, code: 'UNKNOWN_EVENT', field: 'name' },
        { index: 2, code: 'INVALID_ID', field: 'memberId' },
      ],
    });
    const again = await graph.query<{ recordMemberEvents: unknown }>(caller, RECORD, {
      events: [delivered(id)],
    });
    expect(again.data?.recordMemberEvents).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    const stored = await repos.events.model
      .find({ _id: `svc.messages:${id}` })
      .lean()
      .exec();
    expect(stored).toMatchObject([
      { memberId: 'M0007', recordedBy: 'svc.messages', name: 'message_delivered' },
    ]);
    const day = stored[0]!.day;
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await repos.rollups.actives.countDocuments({ day, memberId: 'M0007' })).toBe(0);
  });

  it("takes a service's events queued through an outage longer than a device's week, up to 90 days", async () => {
    const graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const caller = { identity: serviceIdentity('messages') };
    const id = `dlv-late-${Date.now().toString(36)}`;
    const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const recorded = await graph.query<{ recordMemberEvents: unknown }>(caller, RECORD, {
      events: [
        { ...delivered(`${id}-10`), occurredAt: daysAgo(10) },
        { ...delivered(`${id}-91`), occurredAt: daysAgo(91) },
      ],
    });
    expect(recorded.data?.recordMemberEvents).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 1, code: 'INVALID_TIME', field: 'occurredAt' }],
    });
    // A device's event of ten days ago is as late as ever.
    const tracked = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: uniqueDevice(), events: [{ ...event('sign_in', {}), occurredAt: daysAgo(10) }] },
      member,
    );
    expect(tracked.data?.trackEvents.rejected).toEqual([
      { index: 0, code: 'INVALID_TIME', field: 'occurredAt' },
    ]);
  });

  it('is for the hub’s services only', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      RECORD,
      { events: [delivered('dlv-member-0001')] },
      member,
    );
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(await repos.events.model.countDocuments({ _id: /dlv-member-0001/ })).toBe(0);
  });
});

describe('the tracking plan of a hub stored before amounts carried a currency or a product', () => {
  it('gains flow_completed’s currency as analytics starts, once, so products’ purchases are not refused', async () => {
    await repos.plan.model.updateOne(
      { _id: 'flow_completed' },
      { $pull: { properties: { name: 'currency' } } },
    );
    await ensureRecordedProperties(repos);
    await ensureRecordedProperties(repos);
    const stored = await repos.plan.findByName('flow_completed');
    expect(stored?.properties.filter((property) => property.name === 'currency')).toEqual([
      FLOW_COMPLETED_CURRENCY,
    ]);
    const graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const recorded = await graph.query<{ recordMemberEvents: unknown }>(
      { identity: serviceIdentity('products') },
      `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted rejected { code } } }`,
      {
        events: [
          {
            id: `FS-currency-${Date.now().toString(36)}`,
            name: 'flow_completed',
            memberId: 'M0002',
            occurredAt: new Date().toISOString(),
            channel: 'MINI_PROGRAM',
            properties: { flowKey: 'buy-wealth', amount: 2_000, currency: 'USD' },
          },
        ],
      },
    );
    expect(recorded.data?.recordMemberEvents).toEqual({ accepted: 1, rejected: [] });
  });

  it('gains the product bought and the product cards’ events as analytics starts, and keeps an operator’s own', async () => {
    await repos.plan.model.updateOne(
      { _id: 'flow_completed' },
      { $pull: { properties: { name: 'productId' } } },
    );
    await repos.plan.model.deleteOne({ _id: 'product_impression' });
    const own = await repos.plan.save({
      ...PRODUCT_CARD_EVENTS[1]!,
      description: 'An operator’s own words.',
      updatedAt: new Date(),
      updatedBy: 'ops.alice',
    });
    await ensureRecordedProperties(repos);
    await ensureRecordedProperties(repos);
    const flowCompleted = await repos.plan.findByName('flow_completed');
    expect(flowCompleted?.properties.filter((property) => property.name === 'productId')).toEqual([
      FLOW_COMPLETED_PRODUCT,
    ]);
    expect(await repos.plan.findByName('product_impression')).toMatchObject(PRODUCT_CARD_EVENTS[0]!);
    expect(await repos.plan.findByName('product_click')).toEqual(own);
  });
});

describe('POST /collect', () => {
  it('takes a beacon (text/plain) with the token in the body, and ignores a forged member id', async () => {
    const deviceId = uniqueDevice();
    const token = member.authorization!.replace('Bearer ', '');
    const answer = await collect(
      JSON.stringify({
        deviceId,
        token,
        memberId: 'M0002',
        events: [event('page_view', { page: '/demo/' }), { junk: true }],
      }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [expect.objectContaining({ index: 1, code: 'MALFORMED_EVENT' })],
    });
    expect((await storedFor(deviceId)).map((doc) => doc.memberId)).toEqual(['M0001']);
  });

  it('takes a JSON array with the device in a header; without a token the events are anonymous', async () => {
    const deviceId = uniqueDevice();
    const answer = await collect(JSON.stringify([event('page_view', { page: '/' })]), {
      'content-type': 'application/json',
      'x-device-id': deviceId,
    });
    expect(answer.body.accepted).toBe(1);
    expect((await storedFor(deviceId))[0]?.memberId).toBeNull();
  });

  it.each([
    ['malformed JSON', '{"events": [', { 'content-type': 'text/plain' }, 400, 'BAD_REQUEST'],
    [
      'no events list',
      '{"deviceId": "device-00000001"}',
      { 'content-type': 'text/plain' },
      400,
      'BAD_REQUEST',
    ],
    ['no device id', '[]', { 'content-type': 'application/json' }, 400, 'BAD_USER_INPUT'],
    [
      'a forged token',
      '{"deviceId":"device-00000001","token":"x.y.z","events":[]}',
      { 'content-type': 'text/plain' },
      401,
      'UNAUTHENTICATED',
    ],
    [
      'a body over the limit',
      JSON.stringify({ deviceId: 'device-00000001', events: [], pad: 'x'.repeat(300_000) }),
      { 'content-type': 'text/plain' },
      413,
      'REQUEST_TOO_LARGE',
    ],
  ])('answers %s with a code, fast, storing nothing', async (_what, body, headers, status, code) => {
    const before = await repos.events.model.estimatedDocumentCount();
    const answer = await collect(body, headers);
    expect(answer.status).toBe(status);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe(code);
    expect(answer.ms).toBeLessThan(800);
    expect(await repos.events.model.estimatedDocumentCount()).toBe(before);
  });

  it.each([
    [
      '60 items that are not events and 90 events',
      () => [
        ...Array(60).fill(0),
        ...Array(90)
          .fill(null)
          .map(() => event('page_view', { page: '/' })),
      ],
    ],
    ['9,000 zeros', () => Array(9_000).fill(0)],
  ])(
    'refuses a beacon of more than 100 items (%s) whole, in a few bytes, storing nothing',
    async (_what, items) => {
      const deviceId = uniqueDevice();
      const answer = await collect(JSON.stringify({ deviceId, events: items() }));
      expect(answer.status).toBe(400);
      expect(answer.body).toEqual({
        errors: [
          {
            message: 'a batch holds at most 100 events',
            extensions: { code: 'BATCH_LIMIT_EXCEEDED', field: 'events' },
          },
        ],
      });
      expect(await storedFor(deviceId)).toHaveLength(0);
    },
  );

  it('answers 100 items that are not events each by index, and 85,000 with one error', async () => {
    const deviceId = uniqueDevice();
    const hundred = await collect(JSON.stringify({ deviceId, events: Array(100).fill(0) }));
    expect(hundred.body.accepted).toBe(0);
    expect(hundred.body.rejected.map((rejection: { code: string }) => rejection.code)).toEqual(
      Array(100).fill('MALFORMED_EVENT'),
    );
    // 170 KB of zeros once came back as 12.9 MB of rejections; the gateway now refuses what holds over 10,000 values.
    const flood = `{"deviceId":"${deviceId}","events":[${Array(85_000).fill('0').join(',')}]}`;
    const answer = await collect(flood);
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(answer.body).length).toBeLessThan(200);
  });

  /** A beacon of one page_view whose `page` is `depth` nested arrays; its innermost is 4 + depth levels deep. */
  const nestedPage = (deviceId: string, depth: number) =>
    JSON.stringify({ deviceId, events: [event('page_view', { page: '/' })] }).replace(
      '{"page":"/"}',
      `{"page":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    );

  it.each([
    ['a property nested 50,000 levels deep', (deviceId: string) => nestedPage(deviceId, 50_000)],
    ['JSON nested 33 levels deep', (deviceId: string) => nestedPage(deviceId, 29)],
    [
      'a token that is not a string, and events nested 50,000 levels deep',
      (deviceId: string) =>
        `{"token":1,"deviceId":"${deviceId}","events":[${'['.repeat(50_000)}${']'.repeat(50_000)}]}`,
    ],
    [
      "a member's token, and events nested 50,000 levels deep",
      (deviceId: string) =>
        `{"token":"${member.authorization!.replace('Bearer ', '')}","deviceId":"${deviceId}","events":[${'['.repeat(50_000)}${']'.repeat(50_000)}]}`,
    ],
  ])('answers %s with BAD_USER_INPUT, storing nothing', async (_what, body) => {
    const deviceId = uniqueDevice();
    const answer = await collect(body(deviceId));
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await storedFor(deviceId)).toHaveLength(0);
  });

  it('takes JSON 32 levels deep to the tracking plan, and ignores a token that is not a string', async () => {
    const deviceId = uniqueDevice();
    const deepest = await collect(nestedPage(deviceId, 28));
    expect(deepest.body).toEqual({
      accepted: 0,
      duplicates: 0,
      rejected: [expect.objectContaining({ index: 0, code: 'INVALID_PROPERTY', field: 'properties.page' })],
    });
    const answer = await collect(
      JSON.stringify({ token: { not: 'a token' }, deviceId, events: [event('page_view', { page: '/' })] }),
    );
    expect(answer.body).toMatchObject({ accepted: 1, rejected: [] });
    expect((await storedFor(deviceId)).map((doc) => doc.memberId)).toEqual([null]);
  });

  it('serves the codeless snippet', async () => {
    const response = await fetch(`${base}/collect.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('javascript');
    // Browsers revalidate it once its max-age passes.
    expect(response.headers.get('etag')).toBeTruthy();
    expect(await response.text()).toContain('sendBeacon');
  });
});

describe('stats', () => {
  const STATS = `query ($r: [_Any!]!, $days: Int) {
    _entities(representations: $r) {
      ... on Creative { id stats(days: $days) { impressions clicks ctr variants { variant impressions clicks } } }
      ... on Product { id stats(days: $days) { views } }
    }
  }`;

  it('counts what was tracked today on the creative and the product, per variant', async () => {
    const creativeId = `CR-stats-${Date.now()}`;
    const productId = `P-stats-${Date.now()}`;
    const deviceId = uniqueDevice();
    const events = [
      ...Array.from({ length: 4 }, () => event('creative_impression', { creativeId, variant: 'A' })),
      ...Array.from({ length: 2 }, () => event('creative_impression', { creativeId, variant: 'B' })),
      event('creative_click', { creativeId, variant: 'A' }),
      event('product_view', { productId }),
    ];
    await graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member);
    const representations = [
      { __typename: 'Creative', id: creativeId },
      { __typename: 'Product', id: productId },
    ];
    // Rollups follow the events within a moment. Asked of the subgraph as the gateway would (entities by key).
    const identity = { 'x-hub-identity': await internalIdentity('ops.alice', ['operator']) };
    let stats: any;
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await graphql(
        hub.subgraphs.analytics.url,
        STATS,
        { r: representations, days: 1 },
        identity,
      );
      stats = answer.data?._entities;
      // One bulk write carries both; a read may fall between its documents.
      if (stats[0].stats.impressions === 6 && stats[1].stats.views === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stats[0]).toEqual({
      id: creativeId,
      stats: {
        impressions: 6,
        clicks: 1,
        ctr: 1 / 6,
        variants: [
          { variant: 'A', impressions: 4, clicks: 1 },
          { variant: 'B', impressions: 2, clicks: 0 },
        ],
      },
    });
    expect(stats[1]).toEqual({ id: productId, stats: { views: 1 } });
  });

  it('lists a handful of variants, however many keys clients make up', async () => {
    const creativeId = `CR-madeup-${Date.now()}`;
    const shown = Array.from({ length: 3 }, () => event('creative_impression', { creativeId, variant: 'A' }));
    // Anyone can send events: 300 made-up variant keys were 300 more entries in every page's stats of the creative.
    for (let device = 0; device < 3; device++) {
      const events = Array.from({ length: 100 }, (_, i) =>
        event('creative_impression', { creativeId, variant: `FAKE_${device}_${i}` }),
      );
      await graphql(hub.gatewayUrl, TRACK, { deviceId: uniqueDevice(), events }, {});
    }
    await graphql(hub.gatewayUrl, TRACK, { deviceId: uniqueDevice(), events: shown }, member);
    const identity = { 'x-hub-identity': await internalIdentity('ops.alice', ['operator']) };
    let stats: any;
    for (let attempt = 0; attempt < 20; attempt++) {
      const answer = await graphql(
        hub.subgraphs.analytics.url,
        STATS,
        { r: [{ __typename: 'Creative', id: creativeId }], days: 1 },
        identity,
      );
      stats = answer.data?._entities[0].stats;
      if (stats?.impressions === 303) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stats.impressions).toBe(303);
    // Content's five variants at most, and the creative's own content.
    expect(stats.variants).toHaveLength(6);
    expect(stats.variants[0]).toEqual({ variant: 'A', impressions: 3, clicks: 0 });
  });

  const PAGE_STATS = `{
    viewer {
      page(channel: APP, key: "home") {
        slots { items { __typename ... on PlacedItem { creativeId creative { id stats { impressions } } } } }
      }
    }
  }`;
  const PREVIEW_STATS = `query ($days: Int) {
    member(id: "M0001") {
      pagePreview(channel: APP, key: "home") {
        page { slots { items { ... on PlacedItem { creativeId creative { id stats(days: $days) { impressions } } } } } }
      }
    }
  }`;
  type Item = { __typename?: string; creativeId: string | null; creative: { stats: unknown } | null };
  const itemsOf = (slots: { items: Item[] }[]) => slots.flatMap((slot) => slot.items);

  it('shows stats on the placed items of the page an operator previews, in the same query', async () => {
    const response = await graphql(hub.gatewayUrl, PREVIEW_STATS, {}, operator);
    expect(response.errors).toBeUndefined();
    const placed = itemsOf(response.data?.member.pagePreview.page.slots).filter((item) => item.creative);
    expect(placed.length).toBeGreaterThan(0);
    for (const item of placed) {
      expect(item.creative?.stats).toEqual({ impressions: expect.any(Number) });
    }
  });

  // What a creative earns (impressions, clicks, CTR) is the bank's business, not its members' or visitors'.
  it.each([
    ['a member', () => member, 'FORBIDDEN'],
    ['a guest', () => ({ 'x-device-id': 'device-stats-guest' }), 'UNAUTHENTICATED'],
  ])('refuses %s the stats, and still gives the whole page', async (_who, headers, code) => {
    const withoutStats = await graphql(
      hub.gatewayUrl,
      PAGE_STATS.replace(' stats { impressions }', ''),
      {},
      headers(),
    );
    expect(withoutStats.errors).toBeUndefined();
    const response = await graphql(hub.gatewayUrl, PAGE_STATS, {}, headers());
    const items = itemsOf(response.data?.viewer.page.slots);
    expect(items.map((item) => [item.__typename, item.creativeId])).toEqual(
      itemsOf(withoutStats.data?.viewer.page.slots).map((item) => [item.__typename, item.creativeId]),
    );
    const placed = items.filter((item) => item.creative);
    expect(placed.length).toBeGreaterThan(0);
    for (const item of placed) expect(item.creative?.stats).toBeNull();
    expect(response.errors).toHaveLength(placed.length);
    for (const error of response.errors ?? []) {
      expect(error.extensions?.code).toBe(code);
      expect(error.path?.join('.')).toMatch(/^viewer\.page\.slots\.\d+\.items\.\d+\.creative\.stats$/);
    }
  });

  it.each([
    ['a member', () => member, 'FORBIDDEN'],
    ['a guest', () => ({ 'x-device-id': 'device-stats-guest' }), 'UNAUTHENTICATED'],
  ])('refuses %s the views of a product, and still gives the product', async (_who, headers, code) => {
    const query = '{ product(id: "P-WM-001") { id name stats { views } } }';
    const response = await graphql(hub.gatewayUrl, query, {}, headers());
    expect(response.data?.product).toEqual({ id: 'P-WM-001', name: expect.any(String), stats: null });
    expect(errorCodes(response)).toEqual([code]);
    expect(response.errors?.[0]?.path).toEqual(['product', 'stats']);
    const asOperator = await graphql(hub.gatewayUrl, query, {}, operator);
    expect(asOperator.data?.product.stats).toEqual({ views: expect.any(Number) });
  });

  it("counts a product's cards seen and clicked, with a creative or without, and the purchases products recorded", async () => {
    // A product id of its own (P-XX-digits): the seed's history counts the demo ones.
    const productId = `P-ST-${String(Date.now()).slice(-6)}`;
    const catalogue = await openProducts(hub.connections.products);
    await catalogue.products.model.insertMany([{ ...PRODUCTS[0]!, _id: productId }]);
    await changedBehindTheHubsBack(hub.connections.products);
    const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
    const closed = new Date(Date.now() - 2 * 86_400_000);
    const on = (at: Date, sent: ReturnType<typeof event>) => ({ ...sent, occurredAt: at.toISOString() });
    // A card a shelf filled in itself has no creative; one a creative placed has.
    const card = { productId, pageId: 'PG-APP-home', slotCode: 'picks' };
    const seen = await graphql(
      hub.gatewayUrl,
      TRACK,
      {
        deviceId: uniqueDevice(),
        events: [
          ...Array.from({ length: 3 }, () => event('product_impression', card)),
          event('product_impression', { ...card, creativeId: 'CR-APP-home-picks-3' }),
          event('product_click', card),
          on(closed, event('product_impression', card)),
          on(closed, event('product_impression', card)),
          on(closed, event('product_click', card)),
          // A member's device saying they bought it buys nothing.
          event('flow_completed', { flowKey: 'buy-wealth', productId, amount: 5_000, currency: 'CNY' }),
        ],
      },
      member,
    );
    expect(seen.data?.trackEvents).toEqual({ accepted: 9, duplicates: 0, rejected: [] });
    const productsService = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const completion = (at: Date, properties: Record<string, unknown>) => ({
      id: `stats-buy-${++sequence}-${Date.now().toString(36)}`,
      name: 'flow_completed',
      memberId: 'M0002',
      occurredAt: at.toISOString(),
      channel: 'APP',
      properties: { flowKey: 'buy-wealth', ...properties },
    });
    const bought = (amount: number, currency = 'CNY') => ({ productId, amount, currency });
    const recorded = await productsService.query<{ recordMemberEvents: { accepted: number } }>(
      { identity: serviceIdentity('products') },
      `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted } }`,
      {
        events: [
          completion(new Date(), bought(1_000)),
          completion(new Date(), bought(2_500.5)),
          // Purchases whose amounts are not added in: another currency's, and an absurd one.
          completion(new Date(), bought(300, 'USD')),
          completion(new Date(), bought(1e15)),
          // A completed flow that bought nothing.
          completion(new Date(), {}),
          completion(closed, bought(4_000)),
        ],
      },
    );
    expect(recorded.data?.recordMemberEvents.accepted).toBe(6);
    // The closed day is the rebuild's, as the job runs it.
    await rebuildDay(repos, calendar.dayOf(closed), dayBoundsOf(testConfig));
    const query = `query ($id: ID!) {
      product(id: $id) {
        today: stats(days: 1) { views impressions clicks ctr purchases purchaseAmount currency }
        week: stats(days: 7) { impressions clicks ctr purchases purchaseAmount }
      }
    }`;
    let product: any;
    for (let attempt = 0; attempt < 20; attempt++) {
      const response = await graphql(hub.gatewayUrl, query, { id: productId }, operator);
      expect(response.errors).toBeUndefined();
      product = response.data?.product;
      if (product.today.impressions === 4 && product.today.purchases === 4) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(product).toEqual({
      today: {
        views: 0,
        impressions: 4,
        clicks: 1,
        ctr: 0.25,
        purchases: 4,
        purchaseAmount: 3_500.5,
        currency: 'CNY',
      },
      week: { impressions: 6, clicks: 2, ctr: 2 / 6, purchases: 5, purchaseAmount: 7_500.5 },
    });
  });

  it.each([0, 91])('refuses a window of %i days', async (days) => {
    const response = await graphql(hub.gatewayUrl, PREVIEW_STATS, { days }, operator);
    expect(errorCodes(response)).toContain('BAD_USER_INPUT');
  });
});

describe('the tracking plan', () => {
  it('is for operators', async () => {
    const denied = await graphql(hub.gatewayUrl, '{ trackingPlan { name } }', {}, member);
    expect(errorCodes(denied)).toEqual(['FORBIDDEN']);
    const plan = await graphql(
      hub.gatewayUrl,
      '{ trackingPlan { name properties { name type required } } }',
      {},
      operator,
    );
    expect(plan.data?.trackingPlan.map((definition: { name: string }) => definition.name)).toEqual(
      expect.arrayContaining([
        'page_view',
        'creative_impression',
        'creative_click',
        'product_view',
        'flow_step',
        'message_open',
      ]),
    );
  });

  it('takes a new event definition from an operator, audited, and then accepts such events', async () => {
    const define = `mutation ($input: TrackedEventInput!) { defineTrackedEvent(input: $input) { name properties { name type required } } }`;
    const input = {
      name: 'coupon_shown',
      description: 'A coupon was shown.',
      properties: [{ name: 'couponId', type: 'ID', required: true, description: 'The coupon.' }],
    };
    expect(errorCodes(await graphql(hub.gatewayUrl, define, { input }, member))).toEqual(['FORBIDDEN']);
    const saved = await graphql(hub.gatewayUrl, define, { input }, operator);
    expect(saved.data?.defineTrackedEvent).toEqual({
      name: 'coupon_shown',
      properties: [{ name: 'couponId', type: 'ID', required: true }],
    });
    expect(await repos.audit.forTarget('TRACKED_EVENT', 'coupon_shown')).toHaveLength(1);
    const tracked = await graphql(
      hub.gatewayUrl,
      TRACK,
      { deviceId: uniqueDevice(), events: [event('coupon_shown', { couponId: 'C-1' })] },
      member,
    );
    expect(tracked.data?.trackEvents.accepted).toBe(1);
    const bad = await graphql(hub.gatewayUrl, define, { input: { ...input, name: 'Bad Name' } }, operator);
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.name' });
  });

  it('requires a required property named like a member every object inherits (constructor, toString)', async () => {
    const define = `mutation ($input: TrackedEventInput!) { defineTrackedEvent(input: $input) { name } }`;
    const required = (name: string) => ({ name, type: 'STRING', required: true, description: 'Required.' });
    const input = {
      name: 'proto_check',
      description: 'Properties named like inherited members.',
      properties: [required('constructor'), required('toString')],
    };
    expect((await graphql(hub.gatewayUrl, define, { input }, operator)).errors).toBeUndefined();
    const deviceId = uniqueDevice();
    const answer = await collect(
      JSON.stringify({
        deviceId,
        events: [
          event('proto_check', {}),
          event('proto_check', { constructor: 'c' }),
          event('proto_check', { constructor: 'c', toString: 't' }),
        ],
      }),
    );
    expect(answer.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [
        expect.objectContaining({ index: 0, code: 'INVALID_PROPERTY', field: 'properties.constructor' }),
        expect.objectContaining({ index: 1, code: 'INVALID_PROPERTY', field: 'properties.toString' }),
      ],
    });
    expect((await storedFor(deviceId)).map((doc) => doc.properties)).toEqual([
      { constructor: 'c', toString: 't' },
    ]);
  });
});

describe('delivery', () => {
  it('stores a batch sent ten times at once exactly once', async () => {
    const deviceId = uniqueDevice();
    // Ten times ten events stays under the device's rate limit: only idempotency decides here.
    const events = Array.from({ length: 10 }, () => event('sign_in', {}));
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member)),
    );
    const accepted = answers.reduce((sum, answer) => sum + answer.data?.trackEvents.accepted, 0);
    const duplicates = answers.reduce((sum, answer) => sum + answer.data?.trackEvents.duplicates, 0);
    expect([accepted, duplicates]).toEqual([10, 90]);
    expect(await storedFor(deviceId)).toHaveLength(10);
  });

  it('loses neither an acknowledged event nor its rollup when analytics shuts down right after', async () => {
    const creativeId = `CR-shutdown-${Date.now()}`;
    const deviceId = uniqueDevice();
    const events = Array.from({ length: 30 }, () => event('creative_impression', { creativeId }));
    const answer = await graphql(hub.gatewayUrl, TRACK, { deviceId, events }, member);
    expect(answer.data?.trackEvents.accepted).toBe(30);
    // Graceful: stops taking requests, then writes the rollup increments still waiting.
    await hub.stopSubgraph('analytics');
    try {
      expect(await storedFor(deviceId)).toHaveLength(30);
      const rollups = await repos.rollups.totals('creative', [creativeId], '2000-01-01', 'CNY');
      expect(rollups.reduce((sum, rollup) => sum + rollup.impressions, 0)).toBe(30);
    } finally {
      await hub.restartSubgraph('analytics');
    }
  });
});

describe('rollups of a closed day', () => {
  // Deterministic: the writer flushes only when told to (its interval is an hour) and reads the test's clock. The
  // bank's day 2026-11-26 ends at its midnight in Shanghai, 16:00 UTC.
  const calendar = new BankCalendar('Asia/Shanghai');
  const DAY = '2026-11-26';
  const BEFORE_MIDNIGHT = new Date('2026-11-26T15:59:59.900Z');
  const AFTER_MIDNIGHT = new Date('2026-11-26T16:00:00.100Z');
  // The least a day may count of each kind: the cap test below floods past it.
  const caps = rollupCaps(100);
  const bounds = { caps, exposuresPerMember: testConfig.EXPOSURES_PER_MEMBER_PER_DAY };
  let connection: Awaited<ReturnType<typeof testDatabase>>;
  let rollupRepos: AnalyticsRepositories;
  let now: Date;
  let writer: RollupWriter;
  let sink: MongoEventSink;

  beforeEach(async () => {
    connection = await testDatabase('analytics-rollups');
    rollupRepos = await openRepositories(connection);
    now = BEFORE_MIDNIGHT;
    writer = new RollupWriter(
      rollupRepos.rollups,
      rollupRepos.exposures,
      calendar,
      testLogger,
      bounds,
      3_600_000,
      () => now,
    );
    sink = new MongoEventSink(rollupRepos.events, rollupRepos.writesInFlight, writer, () => now);
  });

  afterEach(async () => {
    await sink.close();
    await dropAndClose(connection);
  });

  let id = 0;
  const impression = (occurredAt: Date): ArrivingEvent => ({
    _id: `device-rollups:ev-${++id}`,
    name: 'creative_impression',
    memberId: 'M0001',
    deviceId: 'device-rollups',
    channel: 'APP',
    occurredAt,
    day: calendar.dayOf(occurredAt),
    properties: { creativeId: 'CR-rollups' },
  });
  /** The day's impressions as the rollups and the exposures count them, and as its events do. */
  const counts = async () => ({
    rollup: (await rollupRepos.rollups.model.findOne({ day: DAY, subject: 'CR-rollups' }).lean().exec())
      ?.impressions,
    exposures: (await rollupRepos.exposures.model.findOne({ day: DAY, memberId: 'M0001' }).lean().exec())
      ?.impressions,
    events: await rollupRepos.events.model.countDocuments({ day: DAY }),
  });

  it('counts a late event once when its increment would land after the rebuild read the day', async () => {
    now = AFTER_MIDNIGHT;
    // Stored; were its increment taken, it would be written after the rebuild (the hourly flush comes later).
    await sink.store([impression(BEFORE_MIDNIGHT)]);
    await rebuildDay(rollupRepos, DAY, bounds);
    await writer.flush();
    expect(await counts()).toEqual({ rollup: 1, exposures: 1, events: 1 });
  });

  it('leaves a closed day to the rebuild: a late event moves nothing until it runs, and is counted once then', async () => {
    await sink.store([impression(BEFORE_MIDNIGHT)]);
    now = AFTER_MIDNIGHT;
    await sink.store([impression(BEFORE_MIDNIGHT)]);
    // The increment taken before midnight is written before the rebuild reads the day; the late one is not taken.
    await rebuildRecentDays(rollupRepos, writer, calendar, testLogger, now);
    await writer.flush();
    expect(await counts()).toEqual({ rollup: 2, exposures: 2, events: 2 });
    await sink.store([impression(BEFORE_MIDNIGHT)]);
    await writer.flush();
    expect(await counts()).toEqual({ rollup: 2, exposures: 2, events: 3 });
    await rebuildRecentDays(rollupRepos, writer, calendar, testLogger, now);
    expect(await counts()).toEqual({ rollup: 3, exposures: 3, events: 3 });
  });

  it('counts an event once when another process writes its increment after this one rebuilt the day', async () => {
    // A second analytics process over the same database, already past midnight by its own clock.
    const later = AFTER_MIDNIGHT;
    const otherWriter = new RollupWriter(
      rollupRepos.rollups,
      rollupRepos.exposures,
      calendar,
      testLogger,
      bounds,
      3_600_000,
      () => later,
    );
    try {
      // This process takes the event's increment before midnight; its hourly flush comes after the other's rebuild.
      await sink.store([impression(BEFORE_MIDNIGHT)]);
      await rebuildRecentDays(rollupRepos, otherWriter, calendar, testLogger, later);
      expect(await counts()).toEqual({ rollup: 1, exposures: 1, events: 1 });
      await writer.flush();
      expect(await counts()).toEqual({ rollup: 1, exposures: 1, events: 1 });
      // Today's counts still move live, in both processes.
      now = AFTER_MIDNIGHT;
      await sink.store([impression(AFTER_MIDNIGHT)]);
      await writer.flush();
      const live = await rollupRepos.rollups.model
        .findOne({ day: calendar.dayOf(AFTER_MIDNIGHT), subject: 'CR-rollups' })
        .lean()
        .exec();
      expect(live?.impressions).toBe(1);
    } finally {
      await otherWriter.close();
    }
  });

  it('rebuilds in one process at a time: a second rebuild while one runs reads and writes nothing', async () => {
    now = AFTER_MIDNIGHT;
    await sink.store([impression(BEFORE_MIDNIGHT)]);
    const ofDay = rollupRepos.events.ofDay.bind(rollupRepos.events);
    const daysRead: string[] = [];
    rollupRepos.events.ofDay = (day, batchSize) => {
      daysRead.push(day);
      return ofDay(day, batchSize);
    };
    const ran = await Promise.all([
      rebuildRecentDays(rollupRepos, writer, calendar, testLogger, now),
      rebuildRecentDays(rollupRepos, writer, calendar, testLogger, now),
    ]);
    expect(ran.filter(Boolean)).toHaveLength(1);
    expect(daysRead).toEqual(recentClosedDays(calendar.dayOf(now)));
    expect(await counts()).toEqual({ rollup: 1, exposures: 1, events: 1 });
    // The lease is given back: the next run rebuilds.
    expect(await rebuildRecentDays(rollupRepos, writer, calendar, testLogger, now)).toBe(true);
  });

  it('writes nothing of a day whose rebuild lost its lease while reading it', async () => {
    await sink.store([impression(BEFORE_MIDNIGHT)]);
    await writer.flush();
    now = AFTER_MIDNIGHT;
    const before = await counts();
    // The lease was taken over by another process after the first batch was read.
    const answers = [true, false];
    await expect(
      rebuildDay(rollupRepos, DAY, bounds, async () => answers.shift() ?? false),
    ).rejects.toThrow();
    expect(await counts()).toEqual(before);
    const sealed = await rollupRepos.rollups.model.countDocuments({ day: DAY, sealed: true });
    expect(sealed).toBe(0);
  });

  it('rebuilds a day from its events read in batches, never the whole day at once', async () => {
    await sink.store(Array.from({ length: 12 }, () => impression(BEFORE_MIDNIGHT)));
    const batches: number[] = [];
    for await (const events of rollupRepos.events.ofDay(DAY, 5)) batches.push(events.length);
    expect(batches).toEqual([5, 5, 2]);
    now = AFTER_MIDNIGHT;
    await rebuildDay(rollupRepos, DAY, bounds);
    expect(await counts()).toEqual({ rollup: 12, exposures: 12, events: 12 });
  });

  it(`rolls up at most ${caps.product} products a day that devices name, and every product bought`, async () => {
    const at = new Date(BEFORE_MIDNIGHT.getTime() - 60_000);
    const stored = (n: number, name: string, properties: Record<string, unknown>) => ({
      _id: `device-forger:ev-${n}`,
      name,
      memberId: null,
      deviceId: 'device-forger',
      channel: 'APP' as const,
      occurredAt: at,
      receivedAt: at,
      day: DAY,
      properties,
    });
    // Anyone can name a product: a new made-up id in each event was a new rollup document each, without end.
    const forged = Array.from({ length: caps.product + 500 }, (_, n) =>
      stored(n, 'product_impression', { productId: `P-FORGED-${n}` }),
    );
    await rollupRepos.events.insertNew(forged);
    await rollupRepos.events.insertNew([
      {
        ...stored(-1, 'flow_completed', {
          flowKey: 'buy-wealth',
          productId: 'P-BOUGHT',
          amount: 10,
          currency: 'CNY',
        }),
        memberId: 'M0001',
        recordedBy: 'svc.products',
      },
    ]);
    await rebuildDay(rollupRepos, DAY, bounds);
    const products = await rollupRepos.rollups.model.find({ day: DAY, kind: 'product' }).lean().exec();
    expect(products).toHaveLength(caps.product + 1);
    expect(products.find((rollup) => rollup.subject === 'P-BOUGHT')).toMatchObject({
      purchases: 1,
      amounts: { CNY: 10 },
    });
  }, 60_000);

  /** Makes a repository's next increment fail, as a dropped connection would. */
  function failNextIncrement<A extends unknown[]>(repository: { increment: (...args: A) => Promise<void> }) {
    const increment = repository.increment.bind(repository);
    let failures = 1;
    repository.increment = async (...args: A) => {
      if (failures-- > 0) throw new Error('connection reset');
      return increment(...args);
    };
  }

  it.each([
    // Frequency caps read today's exposures: lost, a capped creative would be shown past its cap all day.
    [
      'the exposures write failed: they go again with the next',
      () => failNextIncrement(rollupRepos.exposures),
    ],
    // Written with the failed rollups, they must not be written again: nobody is capped on impressions never seen.
    [
      'only the rollup write failed: they are not written twice',
      () => failNextIncrement(rollupRepos.rollups),
    ],
  ])("counts today's exposures once when %s", async (_case, fail) => {
    now = AFTER_MIDNIGHT;
    fail();
    await sink.store([impression(AFTER_MIDNIGHT), impression(AFTER_MIDNIGHT)]);
    await writer.flush();
    await sink.store([impression(AFTER_MIDNIGHT)]);
    await writer.flush();
    const exposure = await rollupRepos.exposures.model
      .findOne({ day: calendar.dayOf(AFTER_MIDNIGHT), memberId: 'M0001' })
      .lean()
      .exec();
    expect(exposure?.impressions).toBe(3);
  });
});

describe('the event feed', () => {
  const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
  let connection: Awaited<ReturnType<typeof testDatabase>>;
  let feedRepos: AnalyticsRepositories;
  let writer: RollupWriter;

  beforeEach(async () => {
    connection = await testDatabase('analytics-feed');
    feedRepos = await openRepositories(connection);
    writer = new RollupWriter(
      feedRepos.rollups,
      feedRepos.exposures,
      calendar,
      testLogger,
      dayBoundsOf(testConfig),
      3_600_000,
    );
  });

  afterEach(async () => {
    await writer.close();
    await dropAndClose(connection);
  });

  /** Events whose insert waits until released: an insert that takes longer than the feed's lag. */
  class HeldEvents extends EventRepository {
    release!: () => void;
    private readonly held = new Promise<void>((resolve) => (this.release = resolve));
    override async insertNew(events: Parameters<EventRepository['insertNew']>[0]) {
      await this.held;
      return super.insertNew(events);
    }
  }

  let id = 0;
  const signIn = (): ArrivingEvent => {
    const occurredAt = new Date();
    return {
      _id: `device-feed:ev-${++id}`,
      name: 'sign_in',
      memberId: 'M0001',
      deviceId: 'device-feed',
      channel: 'APP',
      occurredAt,
      day: calendar.dayOf(occurredAt),
      properties: {},
    };
  };
  const fromTheStart = encodeFeedCursor({ at: new Date(0), id: '' });
  const read = (after: string, now: Date) =>
    feedPage(feedRepos.events, feedRepos.writesInFlight, { after, names: ['sign_in'], first: 100 }, now);

  it('never moves past an insert still in flight, however long it takes, and hands its event out once stored', async () => {
    const held = new HeldEvents(
      feedRepos.events.model,
      connection.getClient().db(connection.name).collection('events'),
    );
    const slowSink = new MongoEventSink(held, feedRepos.writesInFlight, writer);
    const sink = new MongoEventSink(feedRepos.events, feedRepos.writesInFlight, writer);
    const slow = signIn();
    const slowStored = slowSink.store([slow]);
    while (!(await feedRepos.writesInFlight.oldest(new Date()))) await new Promise((r) => setTimeout(r, 5));
    const fast = signIn();
    await sink.store([fast]);

    // Long after both were received, while the first insert still runs: nothing yet, the cursor stays behind it.
    const later = new Date(Date.now() + 10 * FEED_LAG_MS);
    const first = await read(fromTheStart, later);
    expect(first.events).toEqual([]);

    held.release();
    await slowStored;
    // Its record goes once the insert has answered, just after the callers are.
    await slowSink.close();
    const second = await read(first.cursor, new Date(Date.now() + 10 * FEED_LAG_MS));
    expect(second.events.map((event) => event.id)).toEqual([slow._id, fast._id]);
    await sink.close();
  });

  it('never moves past a write whose in-flight record is itself slow to store', async () => {
    /** A record that takes longer than the feed's lag to store, as an insert may (a busy or failing-over database). */
    class HeldWrites extends WritesInFlight {
      release!: () => void;
      private readonly held = new Promise<void>((resolve) => (this.release = resolve));
      override async begin(at: Date) {
        await this.held;
        return super.begin(at);
      }
    }
    const heldWrites = new HeldWrites(feedRepos.writesInFlight.model);
    const slowSink = new MongoEventSink(feedRepos.events, heldWrites, writer);
    const sink = new MongoEventSink(feedRepos.events, feedRepos.writesInFlight, writer);
    const slow = signIn();
    const slowStored = slowSink.store([slow]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const fast = signIn();
    await sink.store([fast]);
    while (await feedRepos.writesInFlight.oldest(new Date())) await new Promise((r) => setTimeout(r, 5));

    // Long after both arrived, before the slow write's record is stored: a page that moves past the fast event.
    const first = await read(fromTheStart, new Date(Date.now() + 10 * FEED_LAG_MS));
    heldWrites.release();
    await slowStored;
    while (await feedRepos.writesInFlight.oldest(new Date())) await new Promise((r) => setTimeout(r, 5));
    const second = await read(first.cursor, new Date(Date.now() + 20 * FEED_LAG_MS));
    expect([...first.events, ...second.events].map((event) => event.id)).toEqual([fast._id, slow._id]);
    await Promise.all([slowSink.close(), sink.close()]);
  });

  it('keeps holding the feed back while an insert runs past the lifetime of its record', async () => {
    const held = new HeldEvents(
      feedRepos.events.model,
      connection.getClient().db(connection.name).collection('events'),
    );
    // An insert that began a little under a record's lifetime ago, and goes on: its process is alive, renewing.
    const began = Date.now() - WRITE_IN_FLIGHT_TTL_MS + 300;
    const sink = new MongoEventSink(
      held,
      feedRepos.writesInFlight,
      writer,
      () => new Date(Date.now() - WRITE_IN_FLIGHT_TTL_MS + 300),
      50,
    );
    const slow = signIn();
    const stored = sink.store([slow]);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await feedRepos.writesInFlight.oldest(new Date()))?.getTime()).toBeGreaterThanOrEqual(began);

    held.release();
    await stored;
    await sink.close();
    expect(await feedRepos.writesInFlight.oldest(new Date())).toBeNull();
    const page = await read(fromTheStart, new Date(Date.now() + FEED_LAG_MS));
    expect(page.events.map((event) => event.id)).toEqual([slow._id]);
  });

  it('takes as many event names as running activities’ tasks may count, and refuses more with BAD_USER_INPUT', async () => {
    const sink = new MongoEventSink(feedRepos.events, feedRepos.writesInFlight, writer);
    const event = signIn();
    await sink.store([event]);
    await sink.close();
    const names = (count: number) => [
      ...Array.from({ length: count - 1 }, (_, i) => `task_event_${i}`),
      'sign_in',
    ];
    const later = new Date(Date.now() + 2 * FEED_LAG_MS);
    const page = await feedPage(
      feedRepos.events,
      feedRepos.writesInFlight,
      { after: fromTheStart, names: names(120), first: 100 },
      later,
    );
    expect(page.events.map((stored) => stored.id)).toEqual([event._id]);
    await expect(
      feedPage(
        feedRepos.events,
        feedRepos.writesInFlight,
        { after: fromTheStart, names: names(501), first: 100 },
        later,
      ),
    ).rejects.toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'names' } });
  });

  it('stops being held back by the record of a write whose process died once that record expires', async () => {
    const sink = new MongoEventSink(feedRepos.events, feedRepos.writesInFlight, writer);
    await feedRepos.writesInFlight.begin(new Date(Date.now() - FEED_LAG_MS));
    const event = signIn();
    await sink.store([event]);
    const now = new Date(Date.now() + 2 * FEED_LAG_MS);
    expect((await read(fromTheStart, now)).events).toEqual([]);
    const expired = new Date(now.getTime() + WRITE_IN_FLIGHT_TTL_MS);
    expect((await read(fromTheStart, expired)).events.map((stored) => stored.id)).toEqual([event._id]);
    await sink.close();
  });
});
