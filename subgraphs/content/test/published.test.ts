// What content holds in memory for pages (published.ts): published pages and creatives, and of the media library only
// what a published creative shows.
import { testLogger } from '../../../test/support/env';
import { startSubgraph, type SubgraphUnderTest } from '../../../test/support/subgraph';
import content from '../src/descriptor';
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
