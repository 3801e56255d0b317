// The per-request context: identity, repositories, what is published (held in memory, see published.ts) and loaders
// created fresh for every request.
import DataLoader from 'dataloader';
import { keyedLoader, type BaseContext, type GraphCaller, type Snapshot } from '@bank-hub/shared';
import { questionKey, type GraphInputs, type PageInputs, type PageQuestion } from './graph-inputs';
import type { ContentRepositories } from './models';
import type { CreativeDoc } from './models/creative';
import type { PublishedContent } from './published';

export interface ContentLoaders {
  /**
   * What is published, as the request first found it: every page a request composes (a walk of a hundred members) sees
   * the same version, and none waits for a reload that falls due halfway through, which would also split the request's
   * questions to the graph in two.
   */
  published: { load: () => Promise<PublishedContent> };
  /** Every creative of a page, whatever its status: for previews, which explain the excluded ones too. */
  creativesByPage: DataLoader<string, CreativeDoc[]>;
  creativeById: DataLoader<string, CreativeDoc | null>;
  /**
   * What products, analytics and engagement say for a member's page and recommendations: one graph request for every
   * member.
   */
  pageInputs: DataLoader<PageQuestion, PageInputs, string>;
}

export interface ContentContext extends BaseContext {
  repos: ContentRepositories;
  /** Published pages, creatives and media, in memory: operators' writes mark it changed; pages read `loaders.published`. */
  published: Snapshot<PublishedContent>;
  loaders: ContentLoaders;
  graphInputs: GraphInputs;
  /** Hosts an https link on a creative may point to (CREATIVE_LINK_HOSTS). */
  creativeLinkHosts: ReadonlySet<string>;
  now: Date;
}

export function createLoaders(
  repos: ContentRepositories,
  published: Snapshot<PublishedContent>,
  inputs: GraphInputs,
  caller: GraphCaller,
): ContentLoaders {
  let seen: Promise<PublishedContent> | null = null;
  return {
    published: { load: () => (seen ??= published.get()) },
    creativesByPage: new DataLoader(async (pageIds) => {
      const creatives = await repos.creatives.forPages(pageIds);
      return pageIds.map((pageId) => creatives.filter((creative) => creative.pageId === pageId));
    }),
    creativeById: keyedLoader(
      (ids) => repos.creatives.findByIds(ids),
      (doc) => doc._id,
    ),
    pageInputs: new DataLoader((questions) => inputs.ask(caller, questions), {
      cacheKeyFn: questionKey,
      // After the microtasks of this turn rather than within them: a member's recommendations are asked at once, their
      // page only once the page is chosen; both go in one request.
      batchScheduleFn: (dispatch) => setImmediate(dispatch),
    }),
  };
}

export function createContext(
  repos: ContentRepositories,
  published: Snapshot<PublishedContent>,
  graphInputs: GraphInputs,
  creativeLinkHosts: ReadonlySet<string>,
) {
  return (base: BaseContext): ContentContext => ({
    ...base,
    repos,
    published,
    graphInputs,
    creativeLinkHosts,
    now: new Date(),
    loaders: createLoaders(repos, published, graphInputs, base),
  });
}
