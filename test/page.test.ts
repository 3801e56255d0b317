// The headline operation end to end: a member's whole page in one query through the gateway (members → content →
// products), suitability over every seeded member and page, what never appears, and why (pagePreview).
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openContent } from '../subgraphs/content/src/models';
import { openRepositories as openEngagement } from '../subgraphs/engagement/src/models';
import { bearer, changedBehindTheHubsBack, clientToken, errorCodes, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { signInOnceActivity } from './support/activities';
import { insertPublishedPage, publishedBanner } from './support/content';

let hub: RunningHub;
let tokens: Record<'young' | 'wealthy' | 'operator', string>;

beforeAll(async () => {
  // The suitability walk composes four pages of a hundred members in one fetch of content: on a loaded machine that
  // outlasts the default 3 s, and the walks are about what members are offered, never about speed.
  hub = await startTestHub('page', { config: { SUBGRAPH_TIMEOUT_MS: 30_000 } });
  tokens = {
    young: await clientToken('M0001', 'member'),
    wealthy: await clientToken('M0002', 'member'),
    operator: await clientToken('ops.alice', 'operator'),
  };
});

afterAll(() => stopTestHub(hub));

const HOME = `query Home($channel: Channel!, $key: String!) {
  viewer {
    id
    level { name }
    page(channel: $channel, key: $key) {
      slots {
        code
        template
        items {
          __typename
          ... on PlacedItem { creativeId variant }
          ... on Banner { title imageUrl link }
          ... on EntryCard { title link }
          ... on ActivityCard { activity { title endsAt } }
          ... on ProductCard { product { id name riskLevel annualRate } }
          ... on TopicCard { topic { title heat } }
          ... on LiveCard { liveStream { title status } }
          ... on VideoCard { video { title durationSeconds } }
        }
      }
    }
  }
}`;

type Item = {
  __typename: string;
  creativeId: string | null;
  product?: { id: string; name: string; riskLevel: string };
};
type Slot = { code: string; template: string; items: Item[] };

async function pageOf(token: string, channel = 'APP', key = 'home') {
  const response = await graphql(hub.gatewayUrl, HOME, { channel, key }, bearer(token));
  expect(response.errors).toBeUndefined();
  return response.data?.viewer.page.slots as Slot[];
}

describe('the personalized page', () => {
  it('comes back whole in one query, with product cards resolved by the products subgraph', async () => {
    const slots = await pageOf(tokens.young);
    expect(slots.length).toBeGreaterThanOrEqual(8);
    const types = new Set(slots.flatMap((slot) => slot.items.map((item) => item.__typename)));
    expect([...types].sort()).toEqual(
      ['ActivityCard', 'Banner', 'EntryCard', 'LiveCard', 'ProductCard', 'TopicCard', 'VideoCard'].sort(),
    );
    const products = slots.flatMap((slot) => slot.items).filter((item) => item.product);
    expect(products.length).toBeGreaterThan(0);
    for (const item of products)
      expect(item.product).toEqual(expect.objectContaining({ name: expect.any(String) }));
  });

  it('differs between M0001 and M0002', async () => {
    const summary = (slots: Slot[]) =>
      slots.map((slot) => slot.items.map((item) => item.creativeId ?? item.product?.id));
    const [young, wealthy] = await Promise.all([pageOf(tokens.young), pageOf(tokens.wealthy)]);
    expect(summary(young)).not.toEqual(summary(wealthy));
    const hero = (slots: Slot[]) =>
      slots.find((slot) => slot.code === 'hero')!.items.map((item) => item.creativeId);
    expect(hero(young)).toContain('CR-APP-home-hero-2'); // new-member gift
    expect(hero(wealthy)).toContain('CR-APP-home-hero-3'); // private banking salon
    expect(hero(young)).not.toContain('CR-APP-home-hero-3');
  });

  it('answers null with NOT_FOUND for an unknown page', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      HOME,
      { channel: 'APP', key: 'nope' },
      bearer(tokens.young),
    );
    expect(response.data?.viewer.page).toBeNull();
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
    expect(response.errors?.[0]?.path).toEqual(['viewer', 'page']);
  });
});

describe('suitability', () => {
  const RISK = (level: string) => Number(level.slice(1));
  // Every page of both channels in one walk of the members: one request per hundred members asks the four pages under
  // aliases, and the recommendations (the same whatever the page) once.
  const PAGES = {
    appHome: ['APP', 'home'],
    appWealth: ['APP', 'wealth'],
    miniProgramHome: ['MINI_PROGRAM', 'home'],
    miniProgramWealth: ['MINI_PROGRAM', 'wealth'],
  } as const;
  type Offered = { id: string; riskLevel: string; status: string };
  const WALK = `query Walk($after: String) {
    members(first: 100, after: $after) {
      edges { node {
        id riskLevel
        ${Object.entries(PAGES)
          .map(
            ([alias, [channel, key]]) => `${alias}: page(channel: ${channel}, key: "${key}") { ...Offered }`,
          )
          .join('\n        ')}
        recommendedProducts(first: 10) { id riskLevel status }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
  fragment Offered on Page { slots { items { ... on ProductCard { product { id riskLevel status } } } } }`;

  it('no seeded member sees an unsuitable product on any page of either channel or in recommendations', async () => {
    let after: string | null = null;
    let members = 0;
    let recommended = 0;
    const offers = Object.fromEntries(Object.keys(PAGES).map((alias) => [alias, 0]));
    // Which activities run is the same for every member: content asks it once for a request's pages, not per member.
    const engagement = hub.gatewaySubgraphs.get('engagement')!.counts;
    const askedEngagement = () => engagement.sent + engagement.shared;
    const engagementBefore = askedEngagement();
    let requests = 0;
    do {
      requests += 1;
      const response = await graphql(hub.gatewayUrl, WALK, { after }, bearer(tokens.operator));
      expect(response.errors).toBeUndefined();
      const connection = response.data?.members;
      for (const { node } of connection.edges) {
        members += 1;
        const unsuitable = (product: Offered) =>
          RISK(product.riskLevel) > RISK(node.riskLevel) || product.status !== 'ON_SALE';
        const offered = (product: Offered, where: string) =>
          new Error(
            `${node.id} (${node.riskLevel}) was offered ${product.id} (${product.riskLevel}, ${product.status}) ${where}`,
          );
        for (const [alias, [channel, key]] of Object.entries(PAGES)) {
          const products = node[alias].slots
            .flatMap((slot: { items: { product?: Offered }[] }) => slot.items.map((item) => item.product))
            .filter(Boolean) as Offered[];
          for (const product of products) {
            offers[alias]! += 1;
            if (unsuitable(product)) throw offered(product, `on ${channel}/${key}`);
          }
        }
        for (const product of node.recommendedProducts as Offered[]) {
          recommended += 1;
          if (unsuitable(product)) throw offered(product, 'in recommendations');
        }
      }
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
    } while (after);
    expect(members).toBeGreaterThanOrEqual(1_000);
    expect(askedEngagement() - engagementBefore).toBeLessThanOrEqual(requests);
    // Every page offered products, more than one a member, and so did the recommendations.
    const outnumbered = (count: number) => count > members;
    expect(
      Object.fromEntries(Object.entries(offers).map(([alias, count]) => [alias, outnumbered(count)])),
    ).toEqual({ appHome: true, appWealth: true, miniProgramHome: true, miniProgramWealth: true });
    expect(recommended).toBeGreaterThan(members);
  });

  it.each([0, -1, 51, 2_000_000_000])(
    'refuses recommendedProducts(first: %d) alike through content and through products',
    async (first) => {
      for (const fields of ['id name', 'id status']) {
        const response = await graphql(
          hub.gatewayUrl,
          `query ($first: Int) { viewer { id recommendedProducts(first: $first) { ${fields} } } }`,
          { first },
          bearer(tokens.young),
        );
        expect(response.data?.viewer).toEqual({ id: expect.any(String), recommendedProducts: null });
        expect(response.errors?.map((error) => [error.path?.join('.'), error.extensions?.code])).toEqual([
          ['viewer.recommendedProducts', 'BAD_USER_INPUT'],
        ]);
        expect(response.errors?.[0]?.message).toBe('first must be 1 to 50');
      }
    },
  );

  it("gives every member the same recommendations through content (with the page) as products' own", async () => {
    // RELAYED asks only what content gives with a page, so the gateway asks content; OWN asks a field only products
    // has, so the gateway asks products.
    const walk = (fields: string) => `query Walk($after: String) {
      members(first: 100, after: $after) {
        edges { node { id recommendedProducts(first: 10) { ${fields} } } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const RELAYED = walk('id name riskLevel annualRate');
    const OWN = walk('id name riskLevel annualRate status');
    const sent = () => {
      const clients = hub.gatewaySubgraphs;
      return { content: clients.get('content')!.counts.sent, products: clients.get('products')!.counts.sent };
    };
    const before = sent();
    let after: string | null = null;
    let members = 0;
    let recommended = 0;
    do {
      const [relayed, own] = await Promise.all(
        [RELAYED, OWN].map((query) => graphql(hub.gatewayUrl, query, { after }, bearer(tokens.operator))),
      );
      expect(relayed!.errors).toBeUndefined();
      expect(own!.errors).toBeUndefined();
      type Edge = { node: { id: string; recommendedProducts: Record<string, unknown>[] } };
      const edges = (response: typeof own) => response!.data!.members.edges as Edge[];
      const ownById = new Map(edges(own).map(({ node }) => [node.id, node.recommendedProducts]));
      for (const { node } of edges(relayed)) {
        members += 1;
        recommended += node.recommendedProducts.length;
        const products = ownById.get(node.id)!;
        expect(node.recommendedProducts).toEqual(products.map(({ status: _status, ...card }) => card));
      }
      const connection = relayed!.data?.members;
      after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
    } while (after);
    expect(members).toBeGreaterThanOrEqual(1_000);
    expect(recommended).toBeGreaterThan(members);
    // Each page of members went to content once for RELAYED, and to products once for OWN (and for what content asks).
    const pages = Math.ceil(members / 100);
    expect(sent().content - before.content).toBe(pages);
    expect(sent().products - before.products).toBeGreaterThanOrEqual(pages);
  });
});

describe('what never appears', () => {
  it('no page shows an unpublished, archived or out-of-window creative', async () => {
    const content = await openContent(hub.connections.content);
    const now = new Date();
    const hidden = new Set(
      (await content.creatives.model.find({}).lean())
        .filter(
          (creative) => creative.status !== 'PUBLISHED' || creative.endsAt <= now || creative.startsAt > now,
        )
        .map((creative) => creative._id),
    );
    // Each home page has a draft, an archived and an expired banner at the top priority: shown if any check slipped.
    expect(hidden.size).toBe(6);
    for (const token of Object.values(tokens).slice(0, 2)) {
      for (const [channel, key] of [
        ['APP', 'home'],
        ['MINI_PROGRAM', 'home'],
      ] as const) {
        const shown = (await pageOf(token, channel, key)).flatMap((slot) =>
          slot.items.map((item) => item.creativeId),
        );
        expect(shown.filter((id) => id && hidden.has(id))).toEqual([]);
      }
    }
  });

  it("no slot shows a kind its template cannot show, even one stored past the operators' checks", async () => {
    // A banner (and a banner fallback) in a topic list: what a template changed under its creatives would leave.
    const banners = [
      publishedBanner('PG-APP-misfit', 'topics', 'CR-misfit-banner'),
      publishedBanner('PG-APP-misfit', 'topics', 'CR-misfit-fallback'),
    ];
    await insertPublishedPage(
      hub.connections.content,
      'misfit',
      [{ code: 'topics', template: 'TOPIC_LIST', maxItems: 2, fallbackCreativeId: 'CR-misfit-fallback' }],
      banners,
    );
    expect(await pageOf(tokens.young, 'APP', 'misfit')).toEqual([
      { code: 'topics', template: 'TOPIC_LIST', items: [] },
    ]);
    const preview = await graphql(
      hub.gatewayUrl,
      '{ member(id: "M0001") { pagePreview(channel: APP, key: "misfit") { slots { candidates { creativeId decision } } } } }',
      {},
      bearer(tokens.operator),
    );
    expect(preview.data?.member.pagePreview.slots[0].candidates).toEqual([
      { creativeId: 'CR-misfit-banner', decision: 'TEMPLATE_MISMATCH' },
      { creativeId: 'CR-misfit-fallback', decision: 'TEMPLATE_MISMATCH' },
    ]);
  });
});

describe('an ended activity', () => {
  it('is not advertised, whatever its card says', async () => {
    // The activity lives in engagement; content asks it, through the graph, which activities run.
    const { activities } = await openEngagement(hub.connections.engagement);
    await activities.model.updateOne(
      { _id: 'A-SIGNIN' },
      { $set: { endsAt: new Date(Date.now() - 60_000) } },
    );
    await changedBehindTheHubsBack(hub.connections.engagement);
    const shown = (await pageOf(tokens.wealthy)).flatMap((slot) => slot.items.map((item) => item.creativeId));
    expect(shown).not.toContain('CR-APP-home-activities-1');
    await activities.model.updateOne(
      { _id: 'A-SIGNIN' },
      { $set: { endsAt: new Date('2030-12-31T00:00:00Z') } },
    );
    await changedBehindTheHubsBack(hub.connections.engagement);
    const again = (await pageOf(tokens.wealthy)).flatMap((slot) => slot.items.map((item) => item.creativeId));
    expect(again).toContain('CR-APP-home-activities-1');
  });
});

describe('an activity card', () => {
  it("is placed only for members its activity's audience includes, whatever its creative's rule says", async () => {
    // A private-banking activity, carded for everyone: the card must not invite members who cannot join.
    const { activities } = await openEngagement(hub.connections.engagement);
    await activities.model.create({
      ...signInOnceActivity('A-PB-ONLY', new Date()),
      rule: { field: 'segment', op: 'eq', value: 'PRIVATE_BANKING' },
    });
    await changedBehindTheHubsBack(hub.connections.engagement);
    await insertPublishedPage(
      hub.connections.content,
      'pb-activity',
      [{ code: 'acts', template: 'ACTIVITY_LIST', maxItems: 3 }],
      [
        publishedBanner('PG-APP-pb-activity', 'acts', 'CR-pb-activity', {
          kind: 'ACTIVITY',
          refId: 'A-PB-ONLY',
          title: null,
          imageUrl: null,
          link: null,
        }),
      ],
    );
    const cards = async (token: string) =>
      (await pageOf(token, 'APP', 'pb-activity')).flatMap((slot) =>
        slot.items.map((item) => item.creativeId),
      );
    // M0002 is a private-banking client; M0001 is not, and would be refused joining (NOT_IN_AUDIENCE).
    expect(await cards(tokens.wealthy)).toEqual(['CR-pb-activity']);
    expect(await cards(tokens.young)).toEqual([]);
    const preview = await graphql(
      hub.gatewayUrl,
      `
        {
          member(id: "M0001") {
            pagePreview(channel: APP, key: "pb-activity") {
              slots {
                candidates {
                  creativeId
                  decision
                  detail
                }
              }
            }
          }
        }
      `,
      {},
      bearer(tokens.operator),
    );
    expect(preview.errors).toBeUndefined();
    expect(preview.data?.member.pagePreview.slots[0].candidates).toEqual([
      {
        creativeId: 'CR-pb-activity',
        decision: 'CONTENT_UNAVAILABLE',
        detail: 'activity A-PB-ONLY is not open to the member (its audience rule does not include them)',
      },
    ]);
  });
});

describe('a page of many activity cards', () => {
  it('shows its cards when it references more activities than engagement answers about at once (100)', async () => {
    const { activities } = await openEngagement(hub.connections.engagement);
    const ids = Array.from({ length: 120 }, (_, i) => `A-MANY-${String(i).padStart(3, '0')}`);
    await activities.model.insertMany(ids.map((id) => signInOnceActivity(id, new Date())));
    await changedBehindTheHubsBack(hub.connections.engagement);
    await insertPublishedPage(
      hub.connections.content,
      'many-activities',
      [{ code: 'acts', template: 'ACTIVITY_LIST', maxItems: 3 }],
      ids.map((id, i) =>
        publishedBanner('PG-APP-many-activities', 'acts', `CR-${id}`, {
          kind: 'ACTIVITY',
          refId: id,
          // The last ones first: an activity beyond the first 100 asked about is placed.
          priority: i,
          title: null,
          imageUrl: null,
          link: null,
        }),
      ),
    );
    const slots = await pageOf(tokens.young, 'APP', 'many-activities');
    expect(slots[0]!.items.map((item) => item.creativeId)).toEqual([
      'CR-A-MANY-119',
      'CR-A-MANY-118',
      'CR-A-MANY-117',
    ]);
  });
});

/** The live cards of the first slot of an APP page, as a young member gets it. */
async function liveCardsOn(key: string) {
  const response = await graphql(
    hub.gatewayUrl,
    `{ viewer { page(channel: APP, key: "${key}") { slots { items { ... on LiveCard { liveStream { id status } } } } } } }`,
    {},
    bearer(tokens.young),
  );
  expect(response.errors).toBeUndefined();
  return response.data?.viewer.page.slots[0].items;
}

describe('a live stream', () => {
  const HOUR = 3_600_000;
  const STREAMS = ['L-T-STARTED', 'L-T-ENDED', 'L-T-SOON'];

  beforeAll(async () => {
    const now = Date.now();
    const stream = (id: string, startsIn: number, endsIn: number, announcedAs: string) => ({
      _id: id,
      title: id,
      host: 'host',
      coverUrl: 'https://cdn.example/live.jpg',
      // What a stream was stored with before its state was read from the schedule: nothing ever rewrote it.
      status: announcedAs,
      startsAt: new Date(now + startsIn),
      endsAt: new Date(now + endsIn),
    });
    const { liveStreams } = await openContent(hub.connections.content);
    // Lean: stored as given, the old field too, as a database written before would hold it.
    await liveStreams.model.insertMany(
      [
        stream('L-T-STARTED', -HOUR, HOUR, 'SCHEDULED'),
        stream('L-T-ENDED', -2 * HOUR, -HOUR, 'LIVE'),
        stream('L-T-SOON', HOUR, 2 * HOUR, 'SCHEDULED'),
      ],
      { lean: true },
    );
    const card = (refId: string, priority: number) =>
      publishedBanner('PG-APP-livetest', 'live', `CR-${refId}`, {
        kind: 'LIVE',
        title: null,
        imageUrl: null,
        link: null,
        refId,
        priority,
      });
    await insertPublishedPage(
      hub.connections.content,
      'livetest',
      [{ code: 'live', template: 'LIVE_STRIP', maxItems: 5 }],
      STREAMS.map((id, i) => card(id, STREAMS.length - i)),
    );
  });

  it('says where it stands by its schedule, and leaves members’ pages once it has ended', async () => {
    expect(await liveCardsOn('livetest')).toEqual([
      { liveStream: { id: 'L-T-STARTED', status: 'LIVE' } },
      { liveStream: { id: 'L-T-SOON', status: 'SCHEDULED' } },
    ]);
    const preview = await graphql(
      hub.gatewayUrl,
      '{ member(id: "M0001") { pagePreview(channel: APP, key: "livetest") { slots { candidates { creativeId decision } } } } }',
      {},
      bearer(tokens.operator),
    );
    expect(preview.data?.member.pagePreview.slots[0].candidates).toContainEqual({
      creativeId: 'CR-L-T-ENDED',
      decision: 'CONTENT_UNAVAILABLE',
    });
  });

  it('is listed in the state its schedule says', async () => {
    const listed = async (status: string) => {
      const response = await graphql(
        hub.gatewayUrl,
        `{ liveStreams(status: ${status}, first: 50) { id status } }`,
        {},
        bearer(tokens.young),
      );
      expect(response.errors).toBeUndefined();
      return (response.data?.liveStreams as { id: string; status: string }[]).filter((stream) =>
        STREAMS.includes(stream.id),
      );
    };
    expect(await listed('LIVE')).toEqual([{ id: 'L-T-STARTED', status: 'LIVE' }]);
    expect(await listed('SCHEDULED')).toEqual([{ id: 'L-T-SOON', status: 'SCHEDULED' }]);
    expect(await listed('ENDED')).toEqual([{ id: 'L-T-ENDED', status: 'ENDED' }]);
  });
});

describe('a live stream stored before streams had an end', () => {
  const MINUTE = 60_000;
  const STREAMS = ['L-OLD-ONAIR', 'L-OLD-OVER', 'L-OLD-SOON'];
  const startsAt = new Map<string, Date>();

  beforeAll(async () => {
    const now = Date.now();
    const { liveStreams } = await openContent(hub.connections.content);
    // As such a database holds them: a status nobody moved, and no end.
    const legacy = (id: string, startsIn: number, status: string) => {
      startsAt.set(id, new Date(now + startsIn));
      return {
        _id: id,
        title: id,
        host: 'host',
        coverUrl: 'https://cdn.example/live.jpg',
        status,
        startsAt: startsAt.get(id)!,
      };
    };
    await hub.connections.content
      .db!.collection<ReturnType<typeof legacy>>(liveStreams.model.collection.collectionName)
      .insertMany([
        legacy('L-OLD-ONAIR', -30 * MINUTE, 'LIVE'),
        legacy('L-OLD-OVER', -30 * MINUTE, 'ENDED'),
        legacy('L-OLD-SOON', 24 * 60 * MINUTE, 'SCHEDULED'),
      ]);
    // A content process started on that database after the upgrade.
    await openContent(hub.connections.content);
    await insertPublishedPage(
      hub.connections.content,
      'oldlive',
      [{ code: 'live', template: 'LIVE_STRIP', maxItems: 5 }],
      STREAMS.map((refId, i) =>
        publishedBanner('PG-APP-oldlive', 'live', `CR-${refId}`, {
          kind: 'LIVE',
          title: null,
          imageUrl: null,
          link: null,
          refId,
          priority: STREAMS.length - i,
        }),
      ),
    );
  });

  it('lasts the usual hour and a half, unless it was stored as ended', async () => {
    const listed = async (status: string) => {
      const response = await graphql(
        hub.gatewayUrl,
        `{ liveStreams(status: ${status}, first: 50) { id status endsAt } }`,
        {},
        bearer(tokens.young),
      );
      expect(response.errors).toBeUndefined();
      return (response.data?.liveStreams as { id: string }[]).filter((stream) => STREAMS.includes(stream.id));
    };
    const endsAt = (id: string, minutes: number) =>
      new Date(startsAt.get(id)!.getTime() + minutes * MINUTE).toISOString();
    expect(await listed('LIVE')).toEqual([
      { id: 'L-OLD-ONAIR', status: 'LIVE', endsAt: endsAt('L-OLD-ONAIR', 90) },
    ]);
    expect(await listed('SCHEDULED')).toEqual([
      { id: 'L-OLD-SOON', status: 'SCHEDULED', endsAt: endsAt('L-OLD-SOON', 90) },
    ]);
    expect(await listed('ENDED')).toEqual([
      { id: 'L-OLD-OVER', status: 'ENDED', endsAt: endsAt('L-OLD-OVER', 0) },
    ]);
    expect(await liveCardsOn('oldlive')).toEqual([
      { liveStream: { id: 'L-OLD-ONAIR', status: 'LIVE' } },
      { liveStream: { id: 'L-OLD-SOON', status: 'SCHEDULED' } },
    ]);
  });
});

/** The items of the first slot of an APP page as a young member gets it, and the preview's decision per creative. */
async function firstSlotOf(key: string, fields: string) {
  const page = await graphql(
    hub.gatewayUrl,
    `{ viewer { page(channel: APP, key: "${key}") { slots { items { ${fields} } } } } }`,
    {},
    bearer(tokens.young),
  );
  expect(page.errors).toBeUndefined();
  const preview = await graphql(
    hub.gatewayUrl,
    `{ member(id: "M0001") { pagePreview(channel: APP, key: "${key}") { slots { candidates { creativeId decision } } } } }`,
    {},
    bearer(tokens.operator),
  );
  expect(preview.errors).toBeUndefined();
  const candidates = preview.data?.member.pagePreview.slots[0].candidates as {
    creativeId: string;
    decision: string;
  }[];
  return {
    items: page.data?.viewer.page.slots[0].items,
    decisions: Object.fromEntries(candidates.map((candidate) => [candidate.creativeId, candidate.decision])),
  };
}

/** A published card of `kind` for `refId` in the first slot of page `key`. */
const mediaCard = (
  key: string,
  slotCode: string,
  kind: 'TOPIC' | 'LIVE' | 'VIDEO',
  refId: string,
  priority = 0,
) =>
  publishedBanner(`PG-APP-${key}`, slotCode, `CR-${refId}`, {
    kind,
    title: null,
    imageUrl: null,
    link: null,
    refId,
    priority,
  });

describe('a short video', () => {
  const DAY = 86_400_000;
  const video = (id: string, publishedIn: number) => ({
    _id: id,
    title: id,
    coverUrl: 'https://cdn.example/v.jpg',
    url: 'https://cdn.example/v.mp4',
    durationSeconds: 60,
    publishedAt: new Date(Date.now() + publishedIn),
  });

  beforeAll(async () => {
    const { videos } = await openContent(hub.connections.content);
    // A replay scheduled for release next week (or in years: whatever the library was given), and one out already.
    await videos.model.insertMany([
      video('V-T-OUT', -DAY),
      video('V-T-NEXT-WEEK', 7 * DAY),
      video('V-T-2099', 73 * 365 * DAY),
    ]);
    await insertPublishedPage(
      hub.connections.content,
      'videotest',
      [{ code: 'videos', template: 'VIDEO_FEED', maxItems: 5 }],
      [
        mediaCard('videotest', 'videos', 'VIDEO', 'V-T-2099', 3),
        mediaCard('videotest', 'videos', 'VIDEO', 'V-T-NEXT-WEEK', 2),
        mediaCard('videotest', 'videos', 'VIDEO', 'V-T-OUT', 1),
      ],
    );
  });

  it('reaches no page and no list before it is published', async () => {
    const { items, decisions } = await firstSlotOf('videotest', '... on VideoCard { video { id } }');
    expect(items).toEqual([{ video: { id: 'V-T-OUT' } }]);
    expect(decisions).toMatchObject({
      'CR-V-T-2099': 'CONTENT_UNAVAILABLE',
      'CR-V-T-NEXT-WEEK': 'CONTENT_UNAVAILABLE',
      'CR-V-T-OUT': 'PLACED',
    });
    const listed = await graphql(hub.gatewayUrl, '{ videos(first: 50) { id } }', {}, bearer(tokens.young));
    expect(listed.errors).toBeUndefined();
    const ids = (listed.data?.videos as { id: string }[]).map((listedVideo) => listedVideo.id);
    expect(ids).toContain('V-T-OUT');
    expect(ids).not.toContain('V-T-NEXT-WEEK');
    expect(ids).not.toContain('V-T-2099');
  });
});

describe('media the library was given unchecked', () => {
  const COVER = 'https://cdn.example/m.jpg';

  beforeAll(async () => {
    const { topics, liveStreams, videos } = await openContent(hub.connections.content);
    const topic = (id: string, title: string, coverUrl = COVER) => ({
      _id: id,
      title,
      summary: 'summary',
      heat: 10_000_000,
      coverUrl,
      tags: [],
    });
    await topics.model.insertMany([
      topic('T-U-OK', 'fine'),
      // U+202E reverses what follows on screen: members would read a rate other than the one stored.
      topic('T-U-BIDI', 'rate \u202e%88.8'),
      topic('T-U-DATA', 'fine', 'data:text/html,<script>alert(1)</script>'),
    ]);
    await liveStreams.model.insertMany([
      {
        _id: 'L-U-JS',
        title: 'fine',
        host: 'host',
        coverUrl: 'javascript:alert(1)',
        startsAt: new Date(Date.now() - 60_000),
        endsAt: new Date(Date.now() + 3_600_000),
      },
      // Ends before it starts: never on air, so it must not be announced as scheduled either, nor listed as ended.
      {
        _id: 'L-U-BACKWARDS',
        title: 'fine',
        host: 'host',
        coverUrl: COVER,
        startsAt: new Date(Date.now() + 2 * 3_600_000),
        endsAt: new Date(Date.now() + 3_600_000),
      },
      {
        _id: 'L-U-BACKWARDS-PAST',
        title: 'fine',
        host: 'host',
        coverUrl: COVER,
        startsAt: new Date(Date.now() - 3_600_000),
        endsAt: new Date(Date.now() - 2 * 3_600_000),
      },
    ]);
    await videos.model.insertMany([
      {
        _id: 'V-U-HTTP',
        title: 'fine',
        coverUrl: COVER,
        url: 'http://cdn.example/v.mp4',
        durationSeconds: 60,
        publishedAt: new Date(Date.now() - 60_000),
      },
    ]);
    await insertPublishedPage(
      hub.connections.content,
      'uncheckedtopics',
      [{ code: 'topics', template: 'TOPIC_LIST', maxItems: 5 }],
      ['T-U-OK', 'T-U-BIDI', 'T-U-DATA'].map((id) => mediaCard('uncheckedtopics', 'topics', 'TOPIC', id)),
    );
    await insertPublishedPage(
      hub.connections.content,
      'uncheckedlive',
      [{ code: 'live', template: 'LIVE_STRIP', maxItems: 5 }],
      ['L-U-JS', 'L-U-BACKWARDS', 'L-U-BACKWARDS-PAST', 'V-U-HTTP'].map((id) =>
        mediaCard('uncheckedlive', 'live', id.startsWith('L') ? 'LIVE' : 'VIDEO', id),
      ),
    );
  });

  it('is never shown to members: no card with a URL that is not https, nor text with hidden characters', async () => {
    const topicsShown = await firstSlotOf('uncheckedtopics', '... on TopicCard { topic { id } }');
    expect(topicsShown.items).toEqual([{ topic: { id: 'T-U-OK' } }]);
    expect(topicsShown.decisions).toMatchObject({
      'CR-T-U-BIDI': 'CONTENT_UNAVAILABLE',
      'CR-T-U-DATA': 'CONTENT_UNAVAILABLE',
    });
    const liveShown = await firstSlotOf(
      'uncheckedlive',
      '... on LiveCard { liveStream { id } } ... on VideoCard { video { id } }',
    );
    expect(liveShown.items).toEqual([]);
    expect(liveShown.decisions).toEqual({
      'CR-L-U-JS': 'CONTENT_UNAVAILABLE',
      'CR-L-U-BACKWARDS': 'CONTENT_UNAVAILABLE',
      'CR-L-U-BACKWARDS-PAST': 'CONTENT_UNAVAILABLE',
      'CR-V-U-HTTP': 'CONTENT_UNAVAILABLE',
    });
    const lists = await graphql(
      hub.gatewayUrl,
      '{ topics(first: 50) { id } liveStreams(first: 50) { id } videos(first: 50) { id } }',
      {},
      bearer(tokens.young),
    );
    expect(lists.errors).toBeUndefined();
    const listed = Object.values(lists.data as Record<string, { id: string }[]>).flatMap((list) =>
      list.map((item) => item.id),
    );
    expect(listed).toContain('T-U-OK');
    for (const id of ['T-U-BIDI', 'T-U-DATA', 'L-U-JS', 'L-U-BACKWARDS', 'L-U-BACKWARDS-PAST', 'V-U-HTTP'])
      expect(listed).not.toContain(id);
  });

  it('cannot be placed by an operator', async () => {
    for (const [kind, refId] of [
      ['TOPIC', 'T-U-BIDI'],
      ['LIVE', 'L-U-JS'],
      ['LIVE', 'L-U-BACKWARDS'],
      ['VIDEO', 'V-U-HTTP'],
    ] as const) {
      const response = await graphql(
        hub.gatewayUrl,
        'mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }',
        {
          input: {
            pageId: kind === 'TOPIC' ? 'PG-APP-uncheckedtopics' : 'PG-APP-uncheckedlive',
            slotCode: kind === 'TOPIC' ? 'topics' : 'live',
            name: refId,
            kind,
            refId,
            startsAt: '2026-01-01T00:00:00Z',
            endsAt: '2030-01-01T00:00:00Z',
          },
        },
        bearer(tokens.operator),
      );
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.refId',
      });
    }
  });
});

describe('pagePreview', () => {
  const PREVIEW = `query Preview($id: ID!) {
    member(id: $id) {
      pagePreview(channel: APP, key: "home") {
        page { slots { code } }
        slots { code candidates { creativeId decision detail failedRuleNode variant } }
      }
    }
  }`;

  it('explains to an operator why each candidate was or was not placed', async () => {
    const response = await graphql(hub.gatewayUrl, PREVIEW, { id: 'M0001' }, bearer(tokens.operator));
    expect(response.errors).toBeUndefined();
    const decisions = Object.fromEntries(
      response.data?.member.pagePreview.slots.flatMap((slot: { candidates: { creativeId: string }[] }) =>
        slot.candidates.map((candidate) => [candidate.creativeId, candidate]),
      ),
    );
    expect(decisions['CR-APP-home-hero-2']).toMatchObject({ decision: 'PLACED' });
    expect(decisions['CR-APP-home-hero-3']).toMatchObject({
      decision: 'RULE_NOT_MATCHED',
      failedRuleNode: 'rule',
    });
    expect(decisions['CR-APP-home-hero-6']).toMatchObject({ decision: 'OUT_OF_WINDOW' });
    expect(decisions['CR-APP-home-hero-7']).toMatchObject({
      decision: 'NOT_PUBLISHED',
      detail: 'status is DRAFT',
    });
    expect(decisions['CR-APP-home-hero-8']).toMatchObject({
      decision: 'NOT_PUBLISHED',
      detail: 'status is ARCHIVED',
    });
    expect(decisions['CR-APP-home-hero-1']).toMatchObject({ decision: 'FALLBACK_NOT_NEEDED' });
    expect(decisions['CR-APP-home-hero-4']).toMatchObject({
      decision: 'PLACED',
      variant: expect.stringMatching(/^[AB]$/),
    });
    // M0001 is in NEW_YOUNG, so the R4 new-customer booster passes its rule and is stopped by suitability.
    expect(decisions['CR-APP-home-picks-1']).toMatchObject({ decision: 'UNSUITABLE' });
  });

  it('is for operators only', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      '{ viewer { pagePreview(channel: APP, key: "home") { slots { code } } } }',
      {},
      bearer(tokens.young),
    );
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });
});
