// Published content in memory: the published pages, their published creatives that have not ended, and the topics,
// live streams and videos their cards show — everything a member's page reads except the member. Operators' writes bump
// the revision (see Snapshot); previews and operators' lists still read the database.
import { approximateBytes, Revisions, Snapshot, type Logger } from '@bank-hub/shared';
import { unsafeMedia } from './domain/media';
import type { ContentRepositories } from './models';
import type { CreativeDoc, CreativeKind } from './models/creative';
import type { LiveStreamDoc, TopicDoc, VideoDoc } from './models/media';
import type { Channel, PageDoc } from './models/page';

export interface PublishedContent {
  /** By `channel:key`. */
  pages: ReadonlyMap<string, PageDoc>;
  creativesByPage: ReadonlyMap<string, readonly CreativeDoc[]>;
  topics: ReadonlyMap<string, TopicDoc>;
  liveStreams: ReadonlyMap<string, LiveStreamDoc>;
  videos: ReadonlyMap<string, VideoDoc>;
  /**
   * Why a topic, live stream or video a card shows must not reach members (see domain/media.ts), by `KIND:id`: judged
   * once per load rather than on every page.
   */
  unsafeMedia: ReadonlyMap<string, string>;
}

export const pageAddress = (channel: Channel, key: string) => `${channel}:${key}`;

const byId = <T extends { _id: string }>(docs: readonly T[]) => new Map(docs.map((doc) => [doc._id, doc]));

export function publishedContent(
  repos: ContentRepositories,
  options: { refreshMs: number; logger: Logger },
): Snapshot<PublishedContent> {
  return new Snapshot<PublishedContent>(Revisions.open(repos.pages.model.db), {
    name: 'content',
    ...options,
    async load(): Promise<PublishedContent> {
      const [pages, creatives] = await Promise.all([
        repos.pages.published(),
        repos.creatives.published(new Date()),
      ]);
      // Of the media library, which grows for years, only what a card can show: every reload reads it again.
      const shown = (kind: CreativeKind) => [
        ...new Set(
          creatives.flatMap((creative) => (creative.kind === kind && creative.refId ? [creative.refId] : [])),
        ),
      ];
      const [topics, liveStreams, videos] = await Promise.all([
        // A topic in draft, in review or archived is no card's: the card is left out as missing.
        repos.topics.shownByIds(shown('TOPIC')),
        repos.liveStreams.findByIds(shown('LIVE')),
        repos.videos.findByIds(shown('VIDEO')),
      ]);
      const problems = [
        ...topics.map((topic) => [`TOPIC:${topic._id}`, unsafeMedia('TOPIC', topic)] as const),
        ...liveStreams.map((stream) => [`LIVE:${stream._id}`, unsafeMedia('LIVE', stream)] as const),
        ...videos.map((video) => [`VIDEO:${video._id}`, unsafeMedia('VIDEO', video)] as const),
      ].flatMap(([key, problem]) => (problem ? [[key, problem] as const] : []));
      const creativesByPage = new Map<string, CreativeDoc[]>();
      for (const creative of creatives)
        creativesByPage.set(creative.pageId, [...(creativesByPage.get(creative.pageId) ?? []), creative]);
      return {
        pages: new Map(pages.map((page) => [pageAddress(page.channel, page.key), page])),
        creativesByPage,
        topics: byId(topics),
        liveStreams: byId(liveStreams),
        videos: byId(videos),
        unsafeMedia: new Map(problems),
      };
    },
    describe: (content) => ({
      pages: content.pages.size,
      creatives: [...content.creativesByPage.values()].reduce((n, list) => n + list.length, 0),
      media: content.topics.size + content.liveStreams.size + content.videos.size,
      bytes: approximateBytes({
        pages: [...content.pages.values()],
        creatives: [...content.creativesByPage.values()],
        media: [...content.topics.values(), ...content.liveStreams.values(), ...content.videos.values()],
      }),
    }),
  });
}
