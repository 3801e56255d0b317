// What analytics tells content's selection, through the graph: a member's impressions today (frequency caps) and the
// creative bandit's scores (order among equal priorities, shown by pagePreview). With analytics down the page still
// renders, uncapped, with an error on the path of each slot that went without.
import type { RunningHub } from '../scripts/hub';
import { publishedBanner, insertPublishedPage } from './support/content';
import { DEVICE_ID_HEADER, IDENTITY_HEADER, guestMemberId } from '@bank-hub/shared';
import { bearer, clientToken, errorCodes, graphql, internalIdentity } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;

const CAPPED = 'CR-cap-capped';
const UNCAPPED = 'CR-cap-uncapped';
const TIED = ['CR-tie-a', 'CR-tie-b', 'CR-tie-c'];

beforeAll(async () => {
  hub = await startTestHub('signals');
  operator = bearer(await clientToken('ops.mei', 'operator'));
  const hero = { code: 'hero', template: 'BANNER_CAROUSEL' as const, maxItems: 1 };
  await insertPublishedPage(
    hub.connections.content,
    'captest',
    [hero],
    [
      publishedBanner('PG-APP-captest', 'hero', CAPPED, { priority: 10, frequencyCap: 2 }),
      publishedBanner('PG-APP-captest', 'hero', UNCAPPED, { priority: 5 }),
    ],
  );
  await insertPublishedPage(
    hub.connections.content,
    'tietest',
    [hero],
    TIED.map((id) => publishedBanner('PG-APP-tietest', 'hero', id, { priority: 7 })),
  );
});

afterAll(() => stopTestHub(hub));

const PAGE = `query Page($key: String!) {
  viewer { page(channel: APP, key: $key) { slots { code items { ... on PlacedItem { creativeId } } } } }
}`;
const PREVIEW = `query Preview($id: ID!, $key: String!) {
  member(id: $id) {
    pagePreview(channel: APP, key: $key) { slots { candidates { creativeId decision detail score impressionsToday } } }
  }
}`;
const EXPOSURES = `query ($id: ID!) { memberExposures(memberId: $id) { creativeId impressions } }`;
const SCORES = `query ($ids: [ID!]!, $member: ID) {
  creativeScores(creativeIds: $ids, memberId: $member) { model version scores { creativeId score } }
}`;

const memberToken = async (id: string) => bearer(await clientToken(id, 'member'));

async function placed(member: Record<string, string>, key: string): Promise<string[]> {
  const response = await graphql(hub.gatewayUrl, PAGE, { key }, member);
  expect(response.errors).toBeUndefined();
  return response.data?.viewer.page.slots[0].items.map((item: { creativeId: string }) => item.creativeId);
}

async function candidates(memberId: string, key: string) {
  const response = await graphql(hub.gatewayUrl, PREVIEW, { id: memberId, key }, operator);
  expect(response.errors).toBeUndefined();
  return response.data?.member.pagePreview.slots[0].candidates as {
    creativeId: string;
    decision: string;
    score: number | null;
    impressionsToday: number | null;
  }[];
}

let sequence = 0;
async function seeCapped(member: Record<string, string>, occurredAt: Date): Promise<void> {
  const id = `sig-${++sequence}-${Date.now().toString(36)}`;
  const response = await graphql(
    hub.gatewayUrl,
    `mutation ($events: [EventInput!]!) { trackEvents(deviceId: "signals-device-${sequence}", events: $events) { accepted } }`,
    {
      events: [
        {
          id,
          name: 'creative_impression',
          occurredAt: occurredAt.toISOString(),
          channel: 'APP',
          properties: { creativeId: CAPPED, pageId: 'PG-APP-captest', slotCode: 'hero' },
        },
      ],
    },
    member,
  );
  expect(response.data?.trackEvents.accepted).toBe(1);
}

/** Waits until analytics counts `impressions` of the capped creative today (the rollup writer flushes in 250 ms). */
async function untilExposed(member: Record<string, string>, memberId: string, impressions: number) {
  for (let tries = 0; tries < 50; tries++) {
    const response = await graphql(hub.gatewayUrl, EXPOSURES, { id: memberId }, member);
    const seen = response.data?.memberExposures.find((e: { creativeId: string }) => e.creativeId === CAPPED);
    if ((seen?.impressions ?? 0) >= impressions) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${memberId} never reached ${impressions} impressions`);
}

describe('frequency caps', () => {
  it('places a creative capped at 2 a day twice, not a third time that day', async () => {
    const member = await memberToken('M0998');
    expect(await placed(member, 'captest')).toEqual([CAPPED]);
    await seeCapped(member, new Date());
    await untilExposed(member, 'M0998', 1);
    expect(await placed(member, 'captest')).toEqual([CAPPED]);
    await seeCapped(member, new Date());
    await untilExposed(member, 'M0998', 2);
    expect(await placed(member, 'captest')).toEqual([UNCAPPED]);
    expect((await candidates('M0998', 'captest')).find((c) => c.creativeId === CAPPED)).toMatchObject({
      decision: 'FREQUENCY_CAPPED',
      impressionsToday: 2,
    });
  });

  it("does not count yesterday's impressions: the creative returns the next day", async () => {
    const member = await memberToken('M0997');
    const yesterday = new Date(Date.now() - 86_400_000);
    await seeCapped(member, yesterday);
    await seeCapped(member, yesterday);
    await seeCapped(member, new Date());
    await untilExposed(member, 'M0997', 1);
    expect(await placed(member, 'captest')).toEqual([CAPPED]);
  });

  it("tells a member their own exposures and nobody else's", async () => {
    const other = await memberToken('M0997');
    expect(errorCodes(await graphql(hub.gatewayUrl, EXPOSURES, { id: 'M0998' }, other))).toEqual([
      'FORBIDDEN',
    ]);
    expect(errorCodes(await graphql(hub.gatewayUrl, EXPOSURES, { id: 'M0998' }))).toEqual([
      'UNAUTHENTICATED',
    ]);
    const asOperator = await graphql(hub.gatewayUrl, EXPOSURES, { id: 'M0998' }, operator);
    expect(asOperator.data?.memberExposures).toEqual([{ creativeId: CAPPED, impressions: 2 }]);
  });

  it('refuses a cap that caps nothing, with a code, storing nothing', async () => {
    const CREATE = `mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`;
    const input = {
      pageId: 'PG-APP-captest',
      slotCode: 'hero',
      name: 'bad cap',
      kind: 'BANNER',
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '2027-01-01T00:00:00Z',
      title: 'x',
      imageUrl: 'https://cdn.example/x.jpg',
      link: '/x',
    };
    for (const frequencyCap of [0, -1, 1_001]) {
      const response = await graphql(hub.gatewayUrl, CREATE, { input: { ...input, frequencyCap } }, operator);
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.frequencyCap',
      });
    }
    const list = await graphql(
      hub.gatewayUrl,
      `
        {
          creatives(pageId: "PG-APP-captest") {
            edges {
              node {
                id
              }
            }
          }
        }
      `,
      {},
      operator,
    );
    expect(list.data?.creatives.edges).toHaveLength(2);
  });
});

describe('creative scores', () => {
  it('orders creatives of equal priority by score, the same for a member until the model changes', async () => {
    const decided = await candidates('M0996', 'tietest');
    const scores = Object.fromEntries(decided.map((c) => [c.creativeId, c.score]));
    expect(Object.keys(scores).sort()).toEqual(TIED);
    for (const score of Object.values(scores)) expect(score).toBeGreaterThan(0);
    const best = TIED.reduce((a, b) => (scores[a]! >= scores[b]! ? a : b));
    expect(decided.find((c) => c.decision === 'PLACED')?.creativeId).toBe(best);
    const member = await memberToken('M0996');
    expect(await placed(member, 'tietest')).toEqual([best]);
    expect(await placed(member, 'tietest')).toEqual([best]);

    const asked = await graphql(hub.gatewayUrl, SCORES, { ids: TIED, member: 'M0996' }, member);
    expect(asked.data?.creativeScores.model).toBe('creative-bandit');
    expect(asked.data?.creativeScores.scores).toEqual(
      TIED.map((id) => ({ creativeId: id, score: scores[id] })),
    );
  });

  it("tells a member's draws to the member, operators and the hub, and to nobody else", async () => {
    const own = await graphql(
      hub.gatewayUrl,
      SCORES,
      { ids: TIED, member: 'M0995' },
      await memberToken('M0995'),
    );
    const scores = own.data?.creativeScores.scores;
    expect(scores).toHaveLength(3);
    const asOperator = await graphql(hub.gatewayUrl, SCORES, { ids: TIED, member: 'M0995' }, operator);
    expect(asOperator.data?.creativeScores.scores).toEqual(scores);
    const hubItself = { [IDENTITY_HEADER]: await internalIdentity('svc.content', ['service']) };
    const asHub = await graphql(
      hub.subgraphs.analytics.url,
      SCORES,
      { ids: TIED, member: 'M0995' },
      hubItself,
    );
    expect(asHub.data?.creativeScores.scores).toEqual(scores);

    const other = await graphql(
      hub.gatewayUrl,
      SCORES,
      { ids: TIED, member: 'M0995' },
      await memberToken('M0994'),
    );
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
    expect(other.data?.creativeScores).toBeNull();
    const guest = { [DEVICE_ID_HEADER]: 'signals-guest-device' };
    for (const caller of [{}, guest]) {
      const refused = await graphql(hub.gatewayUrl, SCORES, { ids: TIED, member: 'M0995' }, caller);
      expect(errorCodes(refused)).toEqual(['UNAUTHENTICATED']);
    }
    // A guest's own draws, as content asks them for the guest's page; and fresh draws, without a member, for anyone.
    const guestOwn = await graphql(
      hub.gatewayUrl,
      SCORES,
      { ids: TIED, member: guestMemberId('signals-guest-device') },
      guest,
    );
    expect(guestOwn.data?.creativeScores.scores).toHaveLength(3);
    const fresh = await graphql(hub.gatewayUrl, SCORES, { ids: TIED, member: null });
    expect(fresh.data?.creativeScores.scores).toHaveLength(3);
  });

  it("places a guest's creatives of equal priority by the guest's own draws", async () => {
    const guest = { [DEVICE_ID_HEADER]: 'signals-guest-device' };
    const first = await placed(guest, 'tietest');
    expect(first).toHaveLength(1);
    expect(await placed(guest, 'tietest')).toEqual(first);
  });

  it('draws differently for different members', async () => {
    const winners = new Set<string>();
    for (const id of ['M0101', 'M0102', 'M0103', 'M0104', 'M0105', 'M0106', 'M0107', 'M0108']) {
      winners.add((await candidates(id, 'tietest')).find((c) => c.decision === 'PLACED')!.creativeId);
    }
    expect(winners.size).toBeGreaterThan(1);
  });

  it('scores at most 200 creatives at a time', async () => {
    const ids = Array.from({ length: 201 }, (_, i) => `CR-${i}`);
    const response = await graphql(
      hub.gatewayUrl,
      `
        query ($ids: [ID!]!) {
          creativeScores(creativeIds: $ids) {
            version
          }
        }
      `,
      { ids },
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'creativeIds' });
  });
});

describe('with analytics down', () => {
  afterAll(() => hub.restartSubgraph('analytics'));

  it('renders pages uncapped and unscored, with an error on the path of each slot that went without', async () => {
    await hub.stopSubgraph('analytics');
    const member = await memberToken('M0998');
    for (const key of ['captest', 'tietest']) {
      const response = await graphql(hub.gatewayUrl, PAGE, { key }, member);
      expect(response.data?.viewer.page.slots[0].items).toHaveLength(1);
      expect(response.errors).toHaveLength(1);
      expect(response.errors?.[0]).toMatchObject({
        path: ['viewer', 'page', 'slots', 0, 'items'],
        extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'analytics' },
      });
    }
    // Uncapped: the creative seen twice today is placed again.
    const capped = await graphql(hub.gatewayUrl, PAGE, { key: 'captest' }, member);
    expect(capped.data?.viewer.page.slots[0].items[0].creativeId).toBe(CAPPED);
    // A page that needs nothing from analytics does not mention it.
    const home = await graphql(hub.gatewayUrl, PAGE, { key: 'home' }, member);
    expect(home.errors ?? []).toEqual([]);
  });
});
