// The headline page is N+1 free and reads only the member: MongoDB commands per subgraph database for a page of
// 10 slots × 5 items and for the same page with 10 items per slot are the same — the member's document and the
// member's inbox summary (unread count and newest messages), nothing more.
import type { RunningHub } from '../scripts/hub';
import type { CreativeDoc, CreativeKind } from '../subgraphs/content/src/models/creative';
import type { SlotTemplate } from '../subgraphs/content/src/models/page';
import { seedLiveStreams, TOPICS, VIDEOS } from '../subgraphs/content/src/seed';
import { ACTIVITIES } from '../subgraphs/engagement/src/activities/seed';
import { insertPublishedPage, publishedBanner } from './support/content';
import { bearer, clientToken, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { readRecorder } from './support/subgraph';

let hub: RunningHub;
let token: string;
let recorders: ReturnType<typeof readRecorder>[];

/** R1 products sold on APP, so every member may see them. */
const PRODUCT_IDS = [
  'P-DP-001',
  'P-DP-003',
  'P-DP-004',
  'P-DP-005',
  'P-DP-007',
  'P-DP-008',
  'P-WM-001',
  'P-WM-003',
  'P-LN-001',
  'P-IN-003',
];

const SLOTS: { template: SlotTemplate; kinds: CreativeKind[] }[] = [
  { template: 'BANNER_CAROUSEL', kinds: ['BANNER'] },
  { template: 'PRODUCT_SHELF', kinds: ['PRODUCT'] },
  { template: 'TOPIC_LIST', kinds: ['TOPIC'] },
  { template: 'ACTIVITY_LIST', kinds: ['ACTIVITY'] },
  { template: 'LIVE_STRIP', kinds: ['LIVE', 'VIDEO'] },
  { template: 'VIDEO_FEED', kinds: ['VIDEO'] },
  { template: 'CARD_GRID', kinds: ['BANNER', 'ACTIVITY', 'PRODUCT', 'TOPIC'] },
  { template: 'PRODUCT_SHELF', kinds: ['PRODUCT'] },
  { template: 'ENTRY_GRID', kinds: ['ENTRY'] },
  { template: 'CARD_GRID', kinds: ['PRODUCT', 'TOPIC'] },
];

const REFS: Partial<Record<CreativeKind, string[]>> = {
  PRODUCT: PRODUCT_IDS,
  TOPIC: TOPICS.map((topic) => topic._id),
  // An activity's card is placed only for its audience: those open to everyone.
  ACTIVITY: ACTIVITIES.filter((activity) => activity.rule === null).map((activity) => activity._id),
  // An ended stream's card is placed for nobody.
  LIVE: seedLiveStreams(new Date())
    .filter((live) => live.endsAt.getTime() > Date.now())
    .map((live) => live._id),
  VIDEO: VIDEOS.map((video) => video._id),
};

/** A published page `load-<perSlot>` on APP whose 10 slots each hold `perSlot` creatives everyone qualifies for. */
async function seedLoadPage(perSlot: number): Promise<void> {
  const pageId = `PG-APP-load-${perSlot}`;
  const creatives: CreativeDoc[] = SLOTS.flatMap(({ kinds }, s) =>
    Array.from({ length: perSlot }, (_, i): CreativeDoc => {
      const kind = kinds[i % kinds.length]!;
      const refs = REFS[kind];
      return publishedBanner(pageId, `slot_${s}`, `CR-load-${perSlot}-${s}-${i}`, {
        name: `load ${s}/${i}`,
        kind,
        priority: i,
        rule: { field: 'channel', op: 'eq', value: 'APP' },
        title: `item ${i}`,
        iconUrl: 'https://cdn.example/i.png',
        refId: refs ? refs[(s + i) % refs.length]! : null,
      });
    }),
  );
  await insertPublishedPage(
    hub.connections.content,
    `load-${perSlot}`,
    SLOTS.map(({ template }, s) => ({ code: `slot_${s}`, template, maxItems: perSlot })),
    creatives,
  );
}

beforeAll(async () => {
  // Snapshots checked rarely: the reads counted are those of a page, not of a revision check that falls in between.
  hub = await startTestHub('round_trips', { config: { SNAPSHOT_REFRESH_MS: 60_000 } });
  token = await clientToken('M0002', 'member');
  recorders = (['members', 'content', 'products', 'engagement', 'messages'] as const).map((name) =>
    readRecorder(hub.connections[name]),
  );
  await seedLoadPage(5);
  await seedLoadPage(10);
  // Content loaded what is published when it started, before these pages, and checks again only in a minute: started
  // again, it loads them, as a deploy after an operator's change would.
  await hub.stopSubgraph('content');
  await hub.restartSubgraph('content');
});

afterAll(() => stopTestHub(hub));

const HEADLINE = `query Home($key: String!) {
  viewer {
    id
    level { name }
    unreadCount
    inbox(first: 5) { edges { node { id title } } }
    recommendedProducts(first: 3) { name riskLevel }
    page(channel: APP, key: $key) {
      slots {
        code
        template
        items {
          __typename
          ... on Banner { title imageUrl link }
          ... on EntryCard { title }
          ... on ActivityCard { activity { title endsAt } }
          ... on ProductCard { product { name riskLevel annualRate } }
          ... on TopicCard { topic { title heat } }
          ... on LiveCard { liveStream { title } }
          ... on VideoCard { video { title } }
        }
      }
    }
  }
}`;

/** Requests the gateway has sent to each subgraph so far (the page's own and those content makes through it). */
const fetchesPerSubgraph = (): Record<string, number> =>
  Object.fromEntries([...hub.gatewaySubgraphs].map(([name, client]) => [name, client.counts.sent]));

/** Runs the headline query; returns the number of items, the reads per database and collection, and the fetches. */
async function measure(key: string, as = token) {
  recorders.forEach((recorder) => recorder.reset());
  const sentBefore = fetchesPerSubgraph();
  const response = await graphql(hub.gatewayUrl, HEADLINE, { key }, bearer(as));
  const sentAfter = fetchesPerSubgraph();
  expect(response.errors).toBeUndefined();
  const slots: { items: { __typename: string }[] }[] = response.data?.viewer.page.slots;
  const [members, content, products, engagement, messages] = recorders.map((recorder) => recorder.reads());
  return {
    slots: slots.length,
    items: slots.reduce((n, slot) => n + slot.items.length, 0),
    inbox: response.data?.viewer.inbox.edges.length,
    recommended: response.data?.viewer.recommendedProducts.length,
    reads: { members, content, products, engagement, messages },
    fetches: Object.fromEntries(
      Object.entries(sentAfter)
        .map(([name, sent]) => [name, sent - (sentBefore[name] ?? 0)])
        .filter(([, sent]) => sent !== 0),
    ),
  };
}

it('reads only the member per page, whatever the number of slots and items, once what is published is in memory', async () => {
  // Each subgraph loaded its snapshot of what is published (pages, creatives, media, the catalogue, segments and levels,
  // activities) when it started: a page reads only what is truly per member.
  const first = await measure('load-5');
  await measure('load-10');
  const small = await measure('load-5');
  const large = await measure('load-10');
  expect(small.slots).toBe(10);
  expect(small.items).toBe(50);
  expect(large.items).toBe(100);
  expect(large.reads).toEqual(small.reads);
  expect(small.reads).toEqual({
    members: { members: 1 },
    content: {},
    products: {},
    engagement: {},
    messages: { inboxSummaries: 1 },
  });
  // M0002's welcome message, from the summary the first page built from the inbox itself.
  expect(small.inbox).toBe(1);
  expect(small.recommended).toBe(3);
  // The first page too, but for the summary, built from the inbox itself.
  expect(first.reads).toEqual({ ...small.reads, messages: { inboxSummaries: 1, inbox: 2 } });
  // Three fetches for the page (members: the viewer; content: the page and the recommendations; messages: the inbox).
  // What content asks the graph (products: which products suit; engagement: which activities run; cards come with
  // those answers, @provides) is the same for every member with the same risk level and affinity keys, and was
  // answered for an earlier page: it is reused.
  expect(small.fetches).toEqual({ members: 1, content: 1, messages: 1 });
  // The first time, content looked at the catalogue's revision (products), then asked which products suit for the page
  // and the recommendations in one request: cards come with the answers (@provides), so neither products nor
  // engagement is asked again after content.
  expect(first.fetches).toEqual({ members: 1, content: 1, products: 2, engagement: 1, messages: 1 });
  expect(large.fetches).toEqual(small.fetches);
  // A member of another risk level, once the snapshots are in memory: what suits them is asked for the page and the
  // recommendations in one request.
  const other = await measure('load-5', await clientToken('M0001', 'member'));
  expect(other.fetches).toEqual({ members: 1, content: 1, products: 1, messages: 1 });
});

it('reads only the inbox summary for a page long after it was built, when no message changed since', async () => {
  await measure('load-5');
  // The same member an hour later: the summary is as it was built, and still the truth.
  await hub.connections.messages
    .collection('inboxSummaries')
    .updateOne({ _id: 'M0002' as never }, { $set: { builtOn: new Date(Date.now() - 3_600_000) } });
  expect((await measure('load-5')).reads.messages).toEqual({ inboxSummaries: 1 });
});
