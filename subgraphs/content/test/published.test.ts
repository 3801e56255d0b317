// What content holds in memory for pages (published.ts): published pages and creatives, and of the media library only
// what a published creative shows; a request reads one version of it however many pages it composes.
import { testLogger } from '../../../test/support/env';
import { insertPublishedPage } from '../../../test/support/content';
import { startSubgraph, type SubgraphUnderTest } from '../../../test/support/subgraph';
import { createLoaders } from '../src/context';
import content from '../src/descriptor';
import type { GraphInputs } from '../src/graph-inputs';
import type { ContentRepositories } from '../src/models';
import { publishedContent } from '../src/published';

let subgraph: SubgraphUnderTest<ContentRepositories>;

beforeAll(async () => {
  subgraph = await startSubgraph('content_published', content);
});

afterAll(() => subgraph.stop());

it('loads of the media library only the topics, live streams and videos published creatives show', async () => {
  // A library grown over the years: every reload after an operator's write would read all of it.
  const at = new Date('2024-01-01T00:00:00Z');
  const cover = 'https://cdn.example/c.jpg';
  await subgraph.repos.videos.model.insertMany(
    Array.from({ length: 300 }, (_, i) => ({
      _id: `V-ARCHIVE-${i}`,
      title: `archive ${i}`,
      coverUrl: cover,
      url: 'https://cdn.example/v.mp4',
      durationSeconds: 60,
      publishedAt: at,
    })),
  );
  await subgraph.repos.topics.model.insertMany(
    Array.from({ length: 300 }, (_, i) => ({
      _id: `T-ARCHIVE-${i}`,
      title: 't',
      summary: 's',
      heat: i,
      coverUrl: cover,
    })),
  );
  const creatives = await subgraph.repos.creatives.published(new Date());
  const shown = (kind: string) =>
    new Set(creatives.filter((creative) => creative.kind === kind).map((creative) => creative.refId));

  const published = await publishedContent(subgraph.repos, { refreshMs: 0, logger: testLogger }).get();

  expect(new Set(published.topics.keys())).toEqual(shown('TOPIC'));
  expect(new Set(published.liveStreams.keys())).toEqual(shown('LIVE'));
  expect(new Set(published.videos.keys())).toEqual(shown('VIDEO'));
  expect(published.topics.size).toBeGreaterThan(0);
  expect(published.liveStreams.size).toBeGreaterThan(0);
});

it('gives every page of a request the version it first read, and a later request the next one', async () => {
  // Checked on every read: without the request's own copy, a page composed after a change would see it.
  const snapshot = publishedContent(subgraph.repos, { refreshMs: 0, logger: testLogger });
  const caller = { identity: { subject: 'M0001', scopes: new Set(['member']), deviceId: null } };
  // No page input is asked here.
  const loadersOfRequest = () => createLoaders(subgraph.repos, snapshot, {} as GraphInputs, caller);
  const request = loadersOfRequest();
  const first = await request.published.load();
  expect(first.pages.has('APP:halfway')).toBe(false);
  await insertPublishedPage(subgraph.repos.pages.model.db, 'halfway', [], []);
  expect(await request.published.load()).toBe(first);
  expect((await loadersOfRequest().published.load()).pages.has('APP:halfway')).toBe(true);
});
