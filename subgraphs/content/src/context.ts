// The per-request context: identity, repositories and loaders created fresh for every request.
import DataLoader from 'dataloader';
import { keyedLoader, type BaseContext, type GraphCaller } from '@bank-hub/shared';
import type { SuitableProduct } from './domain/audience';
import type { ContentRepositories } from './models';
import type { CreativeDoc } from './models/creative';
import type { LiveStreamDoc, TopicDoc, VideoDoc } from './models/media';
import type { Channel, PageDoc } from './models/page';
import type { PlacementSignalSource, PlacementSignals, SignalsQuestion } from './placement-signals';
import type { ProductCatalog, SuitabilityQuestion } from './product-catalog';

export interface ContentLoaders {
  /** Pages by `channel:key`. */
  pageByAddress: DataLoader<string, PageDoc | null>;
  /** Every creative of a page, whatever its status: for operators and previews. */
  creativesByPage: DataLoader<string, CreativeDoc[]>;
  /** Only what a member's page can show (see CreativeRepository.placeableForPages). */
  placeableByPage: DataLoader<string, CreativeDoc[]>;
  topicById: DataLoader<string, TopicDoc | null>;
  liveStreamById: DataLoader<string, LiveStreamDoc | null>;
  videoById: DataLoader<string, VideoDoc | null>;
  creativeById: DataLoader<string, CreativeDoc | null>;
  /** What the products subgraph says suits a member, one graph request for every member of the request. */
  suitableProducts: DataLoader<SuitabilityQuestion, SuitableProduct[], string>;
  /** What analytics says about a member's exposures and the creatives' scores, one graph request for all members. */
  placementSignals: DataLoader<SignalsQuestion, PlacementSignals, string>;
}

export interface ContentContext extends BaseContext {
  repos: ContentRepositories;
  loaders: ContentLoaders;
  catalog: ProductCatalog;
  signals: PlacementSignalSource;
  /** Hosts an https link on a creative may point to (CREATIVE_LINK_HOSTS). */
  creativeLinkHosts: ReadonlySet<string>;
  now: Date;
}

export const pageAddress = (channel: Channel, key: string) => `${channel}:${key}`;

const byPage = (pageIds: readonly string[], creatives: readonly CreativeDoc[]) =>
  pageIds.map((pageId) => creatives.filter((creative) => creative.pageId === pageId));

const questionKey = (question: SuitabilityQuestion) =>
  JSON.stringify([question.riskLevel, question.channel, [...question.affinityKeys].sort()]);

export function createLoaders(
  repos: ContentRepositories,
  catalog: ProductCatalog,
  signals: PlacementSignalSource,
  caller: GraphCaller,
  now: Date,
): ContentLoaders {
  return {
    pageByAddress: keyedLoader(
      (addresses) =>
        repos.pages.findByAddresses(
          addresses.map((address) => {
            const [channel, key] = address.split(':') as [Channel, string];
            return { channel, key };
          }),
        ),
      (page) => pageAddress(page.channel, page.key),
    ),
    creativesByPage: new DataLoader(async (pageIds) =>
      byPage(pageIds, await repos.creatives.forPages(pageIds)),
    ),
    placeableByPage: new DataLoader(async (pageIds) =>
      byPage(pageIds, await repos.creatives.placeableForPages(pageIds, now)),
    ),
    topicById: keyedLoader(
      (ids) => repos.topics.findByIds(ids),
      (doc) => doc._id,
    ),
    liveStreamById: keyedLoader(
      (ids) => repos.liveStreams.findByIds(ids),
      (doc) => doc._id,
    ),
    videoById: keyedLoader(
      (ids) => repos.videos.findByIds(ids),
      (doc) => doc._id,
    ),
    creativeById: keyedLoader(
      (ids) => repos.creatives.findByIds(ids),
      (doc) => doc._id,
    ),
    suitableProducts: new DataLoader((questions) => catalog.suitable(caller, questions), {
      cacheKeyFn: questionKey,
    }),
    placementSignals: new DataLoader((questions) => signals.signals(caller, questions), {
      cacheKeyFn: (question) =>
        JSON.stringify([question.memberId, question.exposures, question.scoreIds, question.activityIds]),
    }),
  };
}

export function createContext(
  repos: ContentRepositories,
  catalog: ProductCatalog,
  signals: PlacementSignalSource,
  creativeLinkHosts: ReadonlySet<string>,
) {
  return (base: BaseContext): ContentContext => {
    const now = new Date();
    return {
      ...base,
      repos,
      catalog,
      signals,
      creativeLinkHosts,
      now,
      loaders: createLoaders(repos, catalog, signals, base, now),
    };
  };
}
