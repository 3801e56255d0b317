import { readBeacon } from '../src/domain/beacon';
import { LIMITS, checkEvent, storedEventId } from '../src/domain/events';
import { checkTrackedEvent } from '../src/domain/plan';
import { EventRateLimit } from '../src/domain/rate-limit';
import {
  CountedRollups,
  RollupTally,
  addAmounts,
  countedAmount,
  rollupCaps,
  rollupKey,
  windowStart,
} from '../src/domain/rollups';
import { MAX_PURCHASE_AMOUNT } from '../src/domain/rating';
import { creativeStats, productStats } from '../src/domain/stats';
import { recentClosedDays } from '../src/rollup-job';
import type { EventDoc } from '../src/models/event';
import { TRACKING_PLAN } from '../src/seed';

const NOW = new Date('2026-11-26T08:00:00Z');
const plan = new Map(
  TRACKING_PLAN.map((definition) => [definition._id, { ...definition, updatedAt: NOW, updatedBy: 'test' }]),
);
const event = (
  name: string,
  properties: unknown,
  overrides: Partial<{ id: string; occurredAt: Date }> = {},
) => ({
  id: 'event-0001',
  name,
  occurredAt: NOW,
  properties,
  ...overrides,
});
const check = (name: string, properties: unknown, overrides = {}) =>
  checkEvent(event(name, properties, overrides), plan.get(name), NOW);

describe('checkEvent', () => {
  it('keeps a valid event, dropping null properties', () => {
    expect(check('creative_click', { creativeId: 'CR-1', variant: 'A', slotCode: null })).toEqual({
      ok: true,
      properties: { creativeId: 'CR-1', variant: 'A' },
    });
  });

  it.each([
    ['an unknown name', 'nope', {}, {}, 'UNKNOWN_EVENT', 'name'],
    [
      'a property not in the plan',
      'page_view',
      { page: '/', memberId: 'M0002' },
      {},
      'INVALID_PROPERTY',
      'properties.memberId',
    ],
    [
      'a required property missing',
      'creative_click',
      { variant: 'A' },
      {},
      'INVALID_PROPERTY',
      'properties.creativeId',
    ],
    [
      'a number given as a string',
      'live_watch',
      { liveStreamId: 'L', seconds: '300' },
      {},
      'INVALID_PROPERTY',
      'properties.seconds',
    ],
    [
      'an infinite number',
      'flow_step',
      { flowKey: 'f', stepId: 's', amount: Infinity },
      {},
      'INVALID_PROPERTY',
      'properties.amount',
    ],
    [
      'an id with spaces',
      'product_view',
      { productId: 'P 1' },
      {},
      'INVALID_PROPERTY',
      'properties.productId',
    ],
    ['properties that are a list', 'page_view', ['/'], {}, 'INVALID_PROPERTY', 'properties'],
    [
      'a long string',
      'page_view',
      { page: 'x'.repeat(LIMITS.string + 1) },
      {},
      'PROPERTY_TOO_LARGE',
      'properties.page',
    ],
    [
      'too many bytes',
      'element_click',
      {
        path: 'a',
        data: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, 'v'.repeat(300)])),
      },
      {},
      'PROPERTY_TOO_LARGE',
      'properties',
    ],
    [
      'a map key MongoDB treats specially',
      'element_click',
      { path: 'a', data: { $where: 'x' } },
      {},
      'INVALID_PROPERTY',
      'properties.data',
    ],
    [
      'a map key named __proto__',
      'element_click',
      JSON.parse('{"path":"a","data":{"__proto__":"x"}}'),
      {},
      'INVALID_PROPERTY',
      'properties.data',
    ],
    [
      'a property named __proto__',
      'page_view',
      JSON.parse('{"page":"/","__proto__":{"polluted":true}}'),
      {},
      'INVALID_PROPERTY',
      'properties.__proto__',
    ],
    ['an id that is too short', 'page_view', { page: '/' }, { id: 'e1' }, 'INVALID_ID', 'id'],
    [
      'a time in the future',
      'page_view',
      { page: '/' },
      { occurredAt: new Date(NOW.getTime() + 11 * 60_000) },
      'INVALID_TIME',
      'occurredAt',
    ],
    [
      'a time more than a week ago',
      'page_view',
      { page: '/' },
      { occurredAt: new Date(NOW.getTime() - 8 * 86_400_000) },
      'INVALID_TIME',
      'occurredAt',
    ],
  ])('refuses %s', (_what, name, properties, overrides, code, field) => {
    const result = check(name, properties, overrides);
    expect(result).toMatchObject({ ok: false, rejection: { code, field } });
  });

  it('enforces a required property named like a member every object inherits', () => {
    const definition = {
      _id: 'proto_check',
      description: 'd',
      properties: ['constructor', 'toString', 'valueOf'].map((name) => ({
        name,
        type: 'STRING' as const,
        required: true,
        description: 'd',
      })),
      updatedAt: NOW,
      updatedBy: 'test',
    };
    const checked = (properties: unknown) => checkEvent(event('proto_check', properties), definition, NOW);
    expect(checked({})).toMatchObject({
      ok: false,
      rejection: { code: 'INVALID_PROPERTY', field: 'properties.constructor' },
    });
    expect(checked({ constructor: 'c', toString: 't' })).toMatchObject({
      ok: false,
      rejection: { code: 'INVALID_PROPERTY', field: 'properties.valueOf' },
    });
    expect(checked({ constructor: 'c', toString: 't', valueOf: 'v' })).toEqual({
      ok: true,
      properties: { constructor: 'c', toString: 't', valueOf: 'v' },
    });
  });

  it('does not let a property named __proto__ reach the prototype of what is stored', () => {
    const result = check('page_view', JSON.parse('{"page":"/"}'));
    expect(result.ok && Object.getPrototypeOf(result.properties)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('storedEventId', () => {
  it('keeps the key of events stored so far when neither id has a colon', () => {
    expect(storedEventId('device-0001', 'event-0001')).toBe('device-0001:event-0001');
  });

  it.each([
    ['device-0001:a', 'event-0001', 'device-0001', 'a:event-0001'],
    ['device-0001:', ':event-0001', 'device-0001', '::event-0001'],
    ['device-0001', 'a:event-0001', 'device-0001:a', 'event-0001'],
  ])('tells %s + %s from %s + %s', (deviceA, eventA, deviceB, eventB) => {
    expect(storedEventId(deviceA, eventA)).not.toBe(storedEventId(deviceB, eventB));
  });

  it('gives no pair with a colon the key of a pair without one', () => {
    // `<device>:<id>` of colon-free ids has one colon; the other form always holds a `#`, which no id may.
    expect(storedEventId('device-0001', 'a:event-0001')).toBe('11#device-0001:a:event-0001');
  });
});

describe('readBeacon', () => {
  const shaped = { id: 'event-0001', name: 'page_view', occurredAt: NOW.toISOString(), channel: 'WEB' };

  it('sets aside each item that is not an event by its index, among at most a batch of items', () => {
    const reading = readBeacon({
      deviceId: 'device-0001',
      events: [shaped, ...Array.from({ length: LIMITS.batch - 1 }, () => 0)],
    });
    expect(reading.ok && reading.beacon.events.map(({ index }) => index)).toEqual([0]);
    expect(reading.ok && reading.beacon.malformed).toHaveLength(LIMITS.batch - 1);
  });

  it('refuses more items than a batch holds whole, counting those that are not events', () => {
    const items = [...Array.from({ length: 60 }, () => 0), ...Array.from({ length: 90 }, () => shaped)];
    expect(readBeacon({ deviceId: 'device-0001', events: items })).toEqual({
      ok: false,
      problem: 'BATCH_LIMIT_EXCEEDED',
    });
    expect(readBeacon(Array.from({ length: LIMITS.batch + 1 }, () => null))).toEqual({
      ok: false,
      problem: 'BATCH_LIMIT_EXCEEDED',
    });
    expect(readBeacon({ deviceId: 'device-0001' })).toEqual({ ok: false, problem: 'NOT_A_BEACON' });
  });
});

describe('EventRateLimit', () => {
  const at = (seconds: number) => new Date(Date.UTC(2026, 10, 26, 8, 0, seconds));

  it('grants up to the limit per device per minute, and again the next minute', () => {
    const limit = new EventRateLimit({ perDevice: 10, perMember: 100 });
    expect(limit.take('d1', null, 6, at(1)).granted).toBe(6);
    expect(limit.take('d1', null, 6, at(2))).toEqual({ granted: 4, limitedBy: 'device' });
    expect(limit.take('d1', null, 1, at(59)).granted).toBe(0);
    expect(limit.take('d2', null, 10, at(59)).granted).toBe(10);
    expect(limit.take('d1', null, 6, at(61)).granted).toBe(6);
  });

  it('holds a member to theirs across every device id, counting only what was granted', () => {
    const limit = new EventRateLimit({ perDevice: 10, perMember: 25 });
    expect(limit.take('d1', 'M1', 10, at(1)).granted).toBe(10);
    // The device refused 5 of these: they do not use up the member's.
    expect(limit.take('d1', 'M1', 5, at(2))).toEqual({ granted: 0, limitedBy: 'device' });
    expect(limit.take('d2', 'M1', 10, at(3)).granted).toBe(10);
    expect(limit.take('d3', 'M1', 10, at(4))).toEqual({ granted: 5, limitedBy: 'member' });
    expect(limit.take('d4', 'M1', 1, at(5))).toEqual({ granted: 0, limitedBy: 'member' });
    expect(limit.take('d4', 'M2', 10, at(6)).granted).toBe(10);
    expect(limit.take('d4', null, 1, at(7))).toEqual({ granted: 0, limitedBy: 'device' });
    expect(limit.take('d5', 'M1', 10, at(60)).granted).toBe(10);
  });

  it('counts at most so many keys a minute, forgetting the first counted', () => {
    const limit = new EventRateLimit({ perDevice: 1, perMember: 100 }, 3);
    for (const device of ['d1', 'd2', 'd3']) expect(limit.take(device, null, 1, at(1)).granted).toBe(1);
    expect(limit.take('d3', null, 1, at(2)).granted).toBe(0);
    expect(limit.take('d4', null, 1, at(2)).granted).toBe(1);
    // d1 was forgotten for d4; d2 and d3 are still counted.
    expect(limit.take('d2', null, 1, at(3)).granted).toBe(0);
    expect(limit.take('d1', null, 1, at(3)).granted).toBe(1);
  });
});

describe('rollups', () => {
  /** A tally whose caps the events of a test here never reach. */
  const roomyTally = () => new RollupTally(new CountedRollups(rollupCaps(100)));
  const stored = (
    name: string,
    properties: Record<string, unknown>,
    memberId: string | null = 'M1',
  ): EventDoc => ({
    _id: `d:${Math.random()}`,
    name,
    memberId,
    deviceId: 'd',
    channel: 'APP',
    occurredAt: NOW,
    receivedAt: NOW,
    day: '2026-11-26',
    properties,
  });

  it('counts impressions and clicks per creative and variant, and views per product', () => {
    const tally = roomyTally()
      .addCounts([
        stored('creative_impression', { creativeId: 'C1', variant: 'A' }),
        stored('creative_impression', { creativeId: 'C1', variant: 'A' }),
        stored('creative_click', { creativeId: 'C1', variant: 'A' }),
      ])
      .addCounts([
        stored('creative_impression', { creativeId: 'C1' }),
        stored('product_view', { productId: 'P1' }),
        stored('page_view', { page: '/' }),
      ]);
    const increments = [...tally.increments.values()];
    expect(increments).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: '2026-11-26|creative|C1|A', impressions: 2, clicks: 1, views: 0 }),
        expect.objectContaining({ id: '2026-11-26|creative|C1|', impressions: 1, clicks: 0 }),
        expect.objectContaining({ id: '2026-11-26|product|P1|', views: 1 }),
      ]),
    );
    expect(increments).toHaveLength(3);
    expect([...tally.exposures.values()]).toEqual([
      { _id: '2026-11-26|M1|C1', day: '2026-11-26', memberId: 'M1', creativeId: 'C1', impressions: 3 },
    ]);
    expect(
      roomyTally()
        .addCounts([stored('creative_click', { creativeId: 'C2' })])
        .rollups(),
    ).toEqual([
      {
        _id: '2026-11-26|creative|C2|',
        day: '2026-11-26',
        kind: 'creative',
        subject: 'C2',
        variant: null,
        impressions: 0,
        clicks: 1,
        views: 0,
        purchases: 0,
        amounts: {},
      },
    ]);
  });

  const purchase = (properties: Record<string, unknown>, recordedBy: string | null = 'svc.products') => ({
    ...stored('flow_completed', { flowKey: 'buy-wealth', ...properties }),
    recordedBy,
  });

  it("counts product cards' impressions and clicks, with or without a creative, apart from the creative's", () => {
    const tally = roomyTally().addCounts([
      stored('product_impression', { productId: 'P1' }),
      stored('product_impression', { productId: 'P1', creativeId: 'C1' }),
      stored('product_click', { productId: 'P1' }),
      stored('product_view', { productId: 'P1' }),
    ]);
    expect(tally.rollups()).toEqual([
      expect.objectContaining({
        _id: '2026-11-26|product|P1|',
        impressions: 2,
        clicks: 1,
        views: 1,
        purchases: 0,
      }),
    ]);
    expect(tally.exposures.size).toBe(0);
  });

  it("counts products' own purchases per product, amounts per currency, and nothing a device says it bought", () => {
    const tally = roomyTally().addCounts([
      purchase({ productId: 'P1', amount: 1_000, currency: 'CNY' }),
      purchase({ productId: 'P1', amount: 2_500.5, currency: 'CNY' }),
      purchase({ productId: 'P1', amount: 300, currency: 'USD' }),
      // A purchase, whose amount counts for nothing: NaN, an absurd figure, a string, a currency that is no code.
      purchase({ productId: 'P1', amount: NaN, currency: 'CNY' }),
      purchase({ productId: 'P1', amount: MAX_PURCHASE_AMOUNT * 10, currency: 'CNY' }),
      purchase({ productId: 'P1', amount: '5000', currency: 'CNY' }),
      purchase({ productId: 'P1', amount: 7, currency: 'amounts.$x' }),
      // No purchase: a device's own, one without an amount (nothing placed), one naming no product.
      purchase({ productId: 'P1', amount: 9_999, currency: 'CNY' }, null),
      purchase({ productId: 'P1' }),
      purchase({ amount: 100, currency: 'CNY' }),
    ]);
    expect(tally.rollups()).toEqual([
      expect.objectContaining({
        _id: '2026-11-26|product|P1|',
        purchases: 7,
        amounts: { CNY: 3_500.5, USD: 300 },
        views: 0,
      }),
    ]);
  });

  it('counts the products a day admits, first come, and every product bought past them', () => {
    const counted = new CountedRollups({ ...rollupCaps(100), product: 2 });
    const tally = new RollupTally(counted).addCounts([
      stored('product_impression', { productId: 'P1' }),
      stored('product_impression', { productId: 'FORGED-1' }),
      stored('product_impression', { productId: 'FORGED-2' }),
      stored('product_view', { productId: 'FORGED-3' }),
      purchase({ productId: 'P2', amount: 10, currency: 'CNY' }),
      stored('product_click', { productId: 'P2' }),
      stored('product_click', { productId: 'P1' }),
    ]);
    expect(tally.rollups().map((rollup) => [rollup.subject, rollup.impressions, rollup.clicks])).toEqual([
      ['P1', 1, 1],
      ['FORGED-1', 1, 0],
      ['P2', 0, 1],
    ]);
    expect(counted.refused('2026-11-26')).toEqual({ product: 2 });
    // Another day has room of its own; a day forgotten starts again.
    expect(counted.admits('2026-11-27', 'product', 'FORGED-2')).toBe(true);
    counted.forgetBefore('2026-11-27');
    expect(counted.admits('2026-11-26', 'product', 'FORGED-2')).toBe(true);
    expect(counted.refused('2026-11-26')).toEqual({});
  });

  it('caps each kind on its own: creatives per variant, topics, products, and tells the first refusal once', () => {
    const firstRefusals: string[] = [];
    const counted = new CountedRollups({ creative: 2, product: 1, topic: 1 }, (day, kind) =>
      firstRefusals.push(`${day} ${kind}`),
    );
    const tally = new RollupTally(counted).addCounts([
      stored('creative_impression', { creativeId: 'C1', variant: 'A' }),
      stored('creative_impression', { creativeId: 'C1' }),
      // A third document of the kind, whether a new creative or a new variant of a counted one.
      stored('creative_impression', { creativeId: 'C1', variant: 'FORGED' }),
      stored('creative_click', { creativeId: 'FORGED-C' }),
      stored('topic_view', { topicId: 'T1' }),
      stored('topic_view', { topicId: 'FORGED-T' }),
      stored('topic_share', { topicId: 'T1' }),
      stored('product_view', { productId: 'P1' }),
      // Those admitted before keep counting once the cap is full.
      stored('creative_click', { creativeId: 'C1', variant: 'A' }),
    ]);
    expect(
      tally
        .rollups()
        .map(({ _id, impressions, clicks, views, shares }) => [
          _id,
          impressions + clicks + views + (shares ?? 0),
        ]),
    ).toEqual([
      ['2026-11-26|creative|C1|A', 2],
      ['2026-11-26|creative|C1|', 1],
      ['2026-11-26|topic|T1|', 2],
      ['2026-11-26|product|P1|', 1],
    ]);
    expect(counted.refused('2026-11-26')).toEqual({ creative: 2, topic: 1 });
    expect(firstRefusals).toEqual(['2026-11-26 creative', '2026-11-26 topic']);
    // The member's exposures are what frequency caps count: all kept, whatever the rollups' cap.
    expect([...tally.exposures.values()].map((e) => [e.creativeId, e.impressions])).toEqual([['C1', 3]]);
  });

  it.each([
    ['CR-APP-home-hero-4', true],
    ['TP-2026.11:x_1', true],
    ['x'.repeat(128), true],
    ['x'.repeat(129), false],
    ['', false],
    ['a|b', false],
    ['$where', false],
    ['a b', false],
    ['é', false],
    ['\u0000', false],
    [42, false],
    [{ $gt: '' }, false],
    [['CR-1'], false],
  ])('takes %j as a rollup key: %s', (value, ok) => {
    expect(rollupKey(value)).toBe(ok ? value : null);
  });

  it('leaves out events whose ids or variant may not be rollup keys, rather than count them elsewhere', () => {
    const tally = roomyTally().addCounts([
      stored('creative_impression', { creativeId: 'a|b' }),
      stored('creative_impression', { creativeId: 'C1', variant: 'B|' }),
      stored('creative_impression', { creativeId: 'C1', variant: 'x'.repeat(500) }),
      stored('creative_click', { creativeId: { $ne: null } }),
      stored('topic_view', { topicId: 'has space' }),
      stored('product_view', { productId: 'P.$x' }),
      stored('creative_impression', { creativeId: 'C1', variant: '' }),
    ]);
    expect(tally.rollups().map((rollup) => [rollup._id, rollup.impressions])).toEqual([
      ['2026-11-26|creative|C1|', 1],
    ]);
  });

  it.each([
    [1_000, 1_000],
    [MAX_PURCHASE_AMOUNT, MAX_PURCHASE_AMOUNT],
    [MAX_PURCHASE_AMOUNT + 1, 0],
    [0, 0],
    [-5, 0],
    [NaN, 0],
    [Infinity, 0],
    ['100', 0],
    [null, 0],
  ])('counts a purchase amount of %p as %p', (amount, counted) => {
    expect(countedAmount(amount)).toBe(counted);
  });

  it('adds amounts currency by currency, never across', () => {
    expect(addAmounts({ CNY: 1, USD: 2 }, { CNY: 3, EUR: 4 })).toEqual({ CNY: 4, USD: 2, EUR: 4 });
  });

  it("gives a product's CTR and its purchase amount in the bank's currency", () => {
    const row = { subject: 'P1', variant: null, views: 3, purchases: 1 };
    expect(
      productStats(
        [
          { ...row, impressions: 10, clicks: 1, amount: 100 },
          { ...row, impressions: 10, clicks: 3, amount: 50.5 },
        ],
        new Date('2026-11-19T16:00:00Z'),
        'CNY',
      ),
    ).toEqual({
      from: new Date('2026-11-19T16:00:00Z'),
      views: 6,
      impressions: 20,
      clicks: 4,
      ctr: 0.2,
      purchases: 2,
      purchaseAmount: 150.5,
      currency: 'CNY',
    });
    expect(productStats([], new Date(0), 'CNY')).toMatchObject({
      ctr: null,
      purchases: 0,
      purchaseAmount: 0,
    });
  });

  it('counts a member active once per day and channel, and no anonymous device', () => {
    const tally = roomyTally().addActive([
      stored('page_view', {}),
      stored('sign_in', {}),
      stored('page_view', {}, null),
    ]);
    expect([...tally.actives.values()]).toEqual([
      { _id: '2026-11-26|APP|M1', day: '2026-11-26', channel: 'APP', memberId: 'M1' },
    ]);
  });

  it('starts a window of n days n-1 days before today', () => {
    expect(windowStart(1, '2026-11-26')).toBe('2026-11-26');
    expect(windowStart(7, '2026-11-26')).toBe('2026-11-20');
    expect(windowStart(30, '2026-03-01')).toBe('2026-01-31');
  });

  it("owns the bank's closed days before today in the rebuild, the oldest first", () => {
    expect(recentClosedDays('2026-11-26')).toEqual([
      '2026-11-18',
      '2026-11-19',
      '2026-11-20',
      '2026-11-21',
      '2026-11-22',
      '2026-11-23',
      '2026-11-24',
      '2026-11-25',
    ]);
    expect(recentClosedDays('2026-03-01').at(-1)).toBe('2026-02-28');
  });

  it('gives a click-through rate only with impressions', () => {
    const stats = creativeStats(
      [
        { subject: 'C', variant: 'B', impressions: 0, clicks: 0, views: 0, purchases: 0, amount: 0 },
        { subject: 'C', variant: 'A', impressions: 40, clicks: 4, views: 0, purchases: 0, amount: 0 },
      ],
      new Date('2026-11-19T16:00:00Z'),
    );
    expect(stats).toMatchObject({ impressions: 40, clicks: 4, ctr: 0.1 });
    expect(stats.variants.map((variant) => [variant.variant, variant.ctr])).toEqual([
      ['A', 0.1],
      ['B', null],
    ]);
  });
});

describe('checkTrackedEvent', () => {
  const named = (name: string) => ({ name, type: 'STRING' as const, description: 'd' });
  it.each([
    ['a name that is not snake case', { name: 'Bad Name', description: 'd', properties: [] }, 'input.name'],
    ['a blank description', { name: 'ok_event', description: ' ', properties: [] }, 'input.description'],
    [
      'a property named __proto__',
      { name: 'ok_event', description: 'd', properties: [named('__proto__')] },
      'input.properties[0].name',
    ],
    [
      'a property named twice',
      { name: 'ok_event', description: 'd', properties: [named('a'), named('a')] },
      'input.properties[1].name',
    ],
    [
      '21 properties',
      {
        name: 'ok_event',
        description: 'd',
        properties: Array.from({ length: 21 }, (_, i) => named(`p${i}`)),
      },
      'input.properties',
    ],
  ])('refuses %s, naming the field', (_what, input, field) => {
    expect(() => checkTrackedEvent(input)).toThrow(expect.objectContaining({ field }));
  });
});
