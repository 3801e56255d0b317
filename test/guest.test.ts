// Guest pages end to end: a visitor without a token, named only by the device id they send, gets the headline page
// through the same query as a member, targeted as a visitor who has not joined — and is never taken for a member.
import { signInternalIdentity, signOnBehalfOf } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openContent } from '../subgraphs/content/src/models';
import { insertPublishedPage, publishedBanner } from './support/content';
import { bearer, clientToken, errorCodes, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { readRecorder } from './support/subgraph';

let hub: RunningHub;

const GUEST_BANNER = 'CR-APP-home-hero-9';
const CAPPED = 'CR-guestcap-capped';

beforeAll(async () => {
  hub = await startTestHub('guest');
  await insertPublishedPage(
    hub.connections.content,
    'guestcap',
    [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 1 }],
    [
      publishedBanner('PG-APP-guestcap', 'hero', CAPPED, { priority: 10, frequencyCap: 1 }),
      publishedBanner('PG-APP-guestcap', 'hero', 'CR-guestcap-other', { priority: 5 }),
    ],
  );
});

afterAll(() => stopTestHub(hub));

const device = (id: string) => ({ 'x-device-id': id });

const HOME = `query Home($key: String! = "home") {
  viewer {
    id
    lifecycleStage
    riskLevel
    segmentCodes
    level { code }
    points
    profile { name phone idNumber unmasked }
    tags { code }
    pointsLedger { id }
    page(channel: APP, key: $key) {
      slots {
        code
        items {
          __typename
          ... on PlacedItem { creativeId }
          ... on Banner { title link }
          ... on ProductCard { product { id riskLevel } }
        }
      }
    }
    recommendedProducts(first: 5) { id riskLevel }
  }
}`;

type Slot = { code: string; items: { creativeId: string | null; product?: { riskLevel: string } }[] };

const shown = (slots: Slot[]) => slots.flatMap((slot) => slot.items.map((item) => item.creativeId));

describe('a guest page', () => {
  it('answers a caller without a token who names a device, targeted as a visitor who has not joined', async () => {
    const response = await graphql(hub.gatewayUrl, HOME, {}, device('device-0001'));
    expect(response.status).toBe(200);
    expect(response.errors).toBeUndefined();
    const viewer = response.data?.viewer;
    expect(viewer).toMatchObject({
      id: 'guest:device-0001',
      lifecycleStage: 'AWARENESS',
      riskLevel: 'R1',
      segmentCodes: [],
      level: { code: 'STANDARD' },
      points: 0,
      profile: { name: '', phone: '', idNumber: '', unmasked: false },
      tags: [],
      pointsLedger: [],
    });
    const hero = (viewer.page.slots as Slot[]).find((slot) => slot.code === 'hero')!;
    expect(hero.items[0]).toMatchObject({ creativeId: GUEST_BANNER, title: '开户有礼 Open an Account' });
  });

  it('shows no creative that needs a segment, and no product above R1', async () => {
    const content = await openContent(hub.connections.content);
    const segmentTargeted = (await content.creatives.model.find({ pageId: 'PG-APP-home' }).lean())
      .filter((creative) => {
        const rule = creative.rule as { field?: string; op?: string } | null;
        return rule?.field === 'segment' && (rule.op === 'eq' || rule.op === 'in');
      })
      .map((creative) => creative._id);
    expect(segmentTargeted.length).toBeGreaterThan(5);
    const response = await graphql(hub.gatewayUrl, HOME, {}, device('device-0002'));
    const { page, recommendedProducts } = response.data?.viewer as { page: { slots: Slot[] } } & {
      recommendedProducts: { riskLevel: string }[];
    };
    expect(shown(page.slots).filter((id) => segmentTargeted.includes(id!))).toEqual([]);
    const products = [
      ...page.slots.flatMap((slot) => slot.items.flatMap((item) => (item.product ? [item.product] : []))),
      ...recommendedProducts,
    ];
    expect(products.length).toBeGreaterThan(0);
    expect(products.every((product) => product.riskLevel === 'R1')).toBe(true);
  });

  it('differs from a member’s page, and no member sees the guest banner', async () => {
    const [guest, member] = await Promise.all([
      graphql(hub.gatewayUrl, HOME, {}, device('device-0003')),
      graphql(hub.gatewayUrl, HOME, {}, bearer(await clientToken('M0001', 'member'))),
    ]);
    expect(member.errors).toBeUndefined();
    expect(shown(guest.data?.viewer.page.slots)).toContain(GUEST_BANNER);
    expect(shown(member.data?.viewer.page.slots)).not.toContain(GUEST_BANNER);
    expect(shown(member.data?.viewer.page.slots)).toContain('CR-APP-home-hero-2'); // new-member gift
    expect(shown(guest.data?.viewer.page.slots)).not.toContain('CR-APP-home-hero-2');
  });

  it('reads no member: members answers a guest from memory', async () => {
    const members = readRecorder(hub.connections.members);
    const response = await graphql(hub.gatewayUrl, HOME, {}, device('device-0004'));
    expect(response.errors).toBeUndefined();
    expect(members.reads()).not.toHaveProperty('members');
  });

  it('is not frequency-capped, asks analytics nothing for it and reports no error', async () => {
    const analytics = hub.gatewaySubgraphs.get('analytics')!;
    const PAGE = `{ viewer { page(channel: APP, key: "guestcap") { slots { items { ... on PlacedItem { creativeId } } } } } }`;
    const before = analytics.counts.sent;
    const guest = await graphql(hub.gatewayUrl, PAGE, {}, device('device-0005'));
    expect(guest.errors).toBeUndefined();
    expect(shown(guest.data?.viewer.page.slots)).toEqual([CAPPED]);
    expect(analytics.counts.sent).toBe(before);
    // A member's page with the same capped creative asks analytics for their exposures.
    const member = await graphql(hub.gatewayUrl, PAGE, {}, bearer(await clientToken('M0002', 'member')));
    expect(member.errors).toBeUndefined();
    expect(analytics.counts.sent).toBeGreaterThan(before);
  });

  it('is each device’s own, also when two ask at once', async () => {
    const ids = await Promise.all(
      ['device-0006', 'device-0007'].map(async (id) => {
        const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, device(id));
        return response.data?.viewer.id;
      }),
    );
    expect(ids).toEqual(['guest:device-0006', 'guest:device-0007']);
  });
});

describe('who is a guest', () => {
  it('no token and no device id: viewer is null, as before', async () => {
    const response = await graphql(hub.gatewayUrl, '{ viewer { id } }');
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ viewer: null });
  });

  it.each(['short', 'device 0001', '-device-0001', 'device/0001', 'd'.repeat(65), ''])(
    'a malformed device id (%j) is refused with BAD_USER_INPUT before execution',
    async (id) => {
      const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, device(id));
      expect(response.status).toBe(400);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0]?.extensions?.field).toBe('x-device-id');
      expect(response.data ?? null).toBeNull();
    },
  );

  it.each(['M0001-device', 'guest:M0001', 'M0001:member'])(
    'a device id (%s) never makes the viewer a member',
    async (id) => {
      const response = await graphql(hub.gatewayUrl, '{ viewer { id lifecycleStage } }', {}, device(id));
      expect(response.data?.viewer).toEqual({ id: `guest:${id}`, lifecycleStage: 'AWARENESS' });
    },
  );

  it('a token wins over a device id, even a malformed one', async () => {
    const token = bearer(await clientToken('M0001', 'member'));
    for (const id of ['device-0008', 'bad id']) {
      const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, { ...token, ...device(id) });
      expect(response.data).toEqual({ viewer: { id: 'M0001' } });
    }
  });

  it('an identity header the client signed itself is ignored: the guest stays a guest', async () => {
    const forged = await signInternalIdentity(
      { subject: 'M0002', scopes: new Set(['member']) },
      testConfig.SUBGRAPH_SECRET,
    );
    const response = await graphql(
      hub.gatewayUrl,
      '{ viewer { id } }',
      {},
      { 'x-hub-identity': forged, ...device('device-0009') },
    );
    expect(response.data).toEqual({ viewer: { id: 'guest:device-0009' } });
  });

  it('an on-behalf-of header not signed by the hub is refused', async () => {
    const forged = await signOnBehalfOf(
      { subject: null, scopes: new Set(), deviceId: 'device-0010' },
      'x'.repeat(40),
    );
    const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, { 'x-hub-on-behalf-of': forged });
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });
});

describe('what a guest may not do', () => {
  it.each([
    ['start a service flow', 'mutation { startFlowSession(flowKey: "open-account") { id } }'],
    [
      'award points',
      'mutation { awardPoints(memberId: "M0001", amount: 1, reason: "x", idempotencyKey: "guest-1") { id } }',
    ],
    ['look up a member', '{ member(id: "M0001") { id } }'],
  ])('%s: UNAUTHENTICATED, as for any anonymous caller', async (_what, query) => {
    const response = await graphql(hub.gatewayUrl, query, {}, device('device-0011'));
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('is not among the members an operator sees', async () => {
    await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, device('device-0012'));
    const operator = bearer(await clientToken('ops.alice', 'operator'));
    const one = await graphql(hub.gatewayUrl, '{ member(id: "guest:device-0012") { id } }', {}, operator);
    expect(one.data?.member).toBeNull();
    expect(errorCodes(one)).toEqual(['NOT_FOUND']);
    const counts = await graphql(hub.gatewayUrl, '{ lifecycleCounts { stage members } }', {}, operator);
    expect(counts.data?.lifecycleCounts).toContainEqual({ stage: 'AWARENESS', members: 0 });
  });
});
