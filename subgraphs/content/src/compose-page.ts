// Composes a member's page: takes the published page, its creatives and the content they show from memory (see
// published.ts), asks the graph at once what it needs to know — which products suit the member (products),
// the member's exposures today and the creatives' scores (analytics), which activities run and whom they are open to
// (engagement) — only what the page needs, then plans every slot with the selection rules and renders the items.
import { deviceOfGuest } from '@bank-hub/shared';
import { evaluate, profileOfMember } from '@bank-hub/targeting';
import type { ContentContext } from './context';
import { audienceOf, type TargetedMember } from './domain/audience';
import { liveStatus } from './domain/live';
import { videoReleased } from './domain/media';
import { planSlot, tiedCreatives, type CandidateOutcome, type PlannedItem } from './domain/selection';
import {
  NOTHING_ASKED,
  asksAnything,
  type PageInputs,
  type PageQuestion,
  type ActivityCardFields,
  type ProductCardFields,
  type RunningActivity,
} from './graph-inputs';
import type { CreativeDoc, CreativeKind } from './models/creative';
import type { LiveStreamDoc, TopicDoc, VideoDoc } from './models/media';
import type { Channel, PageDoc, SlotTemplate } from './models/page';
import { pageAddress, type PublishedContent } from './published';

/** Where a placed item sits: the key of the Placement entity. */
export interface PlacementRef {
  pageId: string;
  slotCode: string;
  creativeId: string;
}

/** What every placed item carries; the creative and placement are null for products a shelf filled in. */
interface Placed {
  creativeId: string | null;
  variant: string | null;
  creative: CreativeDoc | null;
  placement: PlacementRef | null;
}

export type SlotItemView = Placed &
  (
    | { __typename: 'Banner'; title: string; imageUrl: string; link: string }
    | { __typename: 'EntryCard'; title: string; iconUrl: string; link: string; badge: string | null }
    | { __typename: 'ActivityCard'; activity: ActivityCardFields }
    | { __typename: 'ProductCard'; product: ProductCardFields; highlight: string | null }
    | { __typename: 'TopicCard'; topic: TopicDoc }
    | { __typename: 'LiveCard'; liveStream: LiveStreamDoc }
    | { __typename: 'VideoCard'; video: VideoDoc }
  );

export interface SlotView {
  code: string;
  template: SlotTemplate;
  title: string | null;
  items: SlotItemView[];
}

export interface PageView {
  id: string;
  channel: Channel;
  key: string;
  title: string;
  slots: SlotView[];
}

export interface ComposedPage {
  page: PageView;
  decisions: { code: string; candidates: CandidateOutcome[] }[];
  /** Slots placed without something another subgraph could not say: each is an error on that slot's items. */
  gaps: SlotGap[];
}

/** A slot placed without what a subgraph could not say. */
export interface SlotGap {
  slot: number;
  serviceName: 'products' | 'analytics' | 'engagement';
  message: string;
  reason: string | null;
}

type MediaKind = Exclude<CreativeKind, 'BANNER' | 'ENTRY' | 'PRODUCT' | 'ACTIVITY'>;
type Media = { TOPIC: TopicDoc; LIVE: LiveStreamDoc; VIDEO: VideoDoc };

/** The media cards show, from what is published. */
const mediaOf = (published: PublishedContent): { [K in MediaKind]: ReadonlyMap<string, Media[K]> } => ({
  TOPIC: published.topics,
  LIVE: published.liveStreams,
  VIDEO: published.videos,
});

/** What each suitable product's card shows, by id: every product placed is one of them. */
type Cards = ReadonlyMap<string, ProductCardFields>;

function render(
  item: PlannedItem,
  media: ReturnType<typeof mediaOf>,
  cards: Cards,
  activities: ReadonlyMap<string, RunningActivity>,
): SlotItemView {
  if (item.source === 'autoFill') {
    return {
      __typename: 'ProductCard',
      creativeId: null,
      variant: null,
      creative: null,
      placement: null,
      product: cards.get(item.productId)!,
      highlight: null,
    };
  }
  const { creative, variant } = item;
  const base: Placed = {
    creativeId: creative._id,
    variant: variant?.key ?? null,
    creative,
    placement: { pageId: creative.pageId, slotCode: creative.slotCode, creativeId: creative._id },
  };
  const refId = creative.refId ?? '';
  switch (creative.kind) {
    case 'BANNER':
      return {
        __typename: 'Banner',
        ...base,
        title: variant?.title ?? creative.title ?? '',
        imageUrl: variant?.imageUrl ?? creative.imageUrl ?? '',
        link: creative.link ?? '',
      };
    case 'ENTRY':
      return {
        __typename: 'EntryCard',
        ...base,
        title: variant?.title ?? creative.title ?? '',
        iconUrl: creative.iconUrl ?? '',
        link: creative.link ?? '',
        badge: creative.badge,
      };
    case 'PRODUCT':
      return {
        __typename: 'ProductCard',
        ...base,
        product: cards.get(refId)!,
        highlight: variant?.highlight ?? creative.highlight,
      };
    case 'ACTIVITY':
      return { __typename: 'ActivityCard', ...base, activity: activities.get(refId)!.card };
    case 'TOPIC':
      return { __typename: 'TopicCard', ...base, topic: media.TOPIC.get(refId)! };
    case 'LIVE':
      return { __typename: 'LiveCard', ...base, liveStream: media.LIVE.get(refId)! };
    case 'VIDEO':
      return { __typename: 'VideoCard', ...base, video: media.VIDEO.get(refId)! };
  }
}

const PRODUCTS_GAP = 'product cards left out: the products subgraph could not say which suit the member';
const ANALYTICS_GAP =
  'placed without frequency caps or creative scores: the analytics subgraph could not answer';
const ENGAGEMENT_GAP = 'activity cards left out: the engagement subgraph could not say which activities run';

/** The most creatives analytics scores in one creativeScores call. */
const MAX_SCORED_CREATIVES = 200;

/** A guest's impressions today, as placement counts them: none. */
const NO_EXPOSURES: ReadonlyMap<string, number> = new Map();

/**
 * What the page needs from other subgraphs, asked in one request: which products suit the member when the page can
 * show a product, exposures when a creative has a cap, scores when creatives share a priority, which activities run
 * when the page has activity cards.
 */
async function pageInputs(
  ctx: ContentContext,
  member: TargetedMember,
  channel: Channel,
  page: PageDoc,
  creatives: readonly CreativeDoc[],
): Promise<PageInputs & { productsAsked: boolean }> {
  // Guests are not frequency-capped: analytics counts impressions per member (and answers a member's only to them,
  // operators and the hub), so a guest's are never asked, and count as none rather than as unknown.
  const guest = deviceOfGuest(member.id) !== null;
  const showsProducts =
    creatives.some((creative) => creative.kind === 'PRODUCT') || page.slots.some((slot) => slot.autoFill);
  const question: PageQuestion = {
    memberId: member.id,
    suitability: showsProducts
      ? { riskLevel: member.riskLevel, affinityKeys: member.affinityKeys, channel }
      : null,
    exposures: !guest && creatives.some((creative) => creative.frequencyCap),
    scoreIds: tiedCreatives(creatives, MAX_SCORED_CREATIVES),
    activityIds: [
      ...new Set(creatives.filter((c) => c.kind === 'ACTIVITY' && c.refId).map((c) => c.refId!)),
    ].sort(),
  };
  const inputs = asksAnything(question) ? await ctx.loaders.pageInputs.load(question) : NOTHING_ASKED;
  return { ...inputs, exposures: guest ? NO_EXPOSURES : inputs.exposures, productsAsked: showsProducts };
}

/**
 * The member's page, or null when no published page has this channel and key. `explain` considers every
 * creative of the page (for pagePreview's reasons); rendering reads only what can be placed.
 */
export async function composePage(
  ctx: ContentContext,
  member: TargetedMember,
  channel: Channel,
  key: string,
  explain = false,
): Promise<ComposedPage | null> {
  const published = await ctx.loaders.published.load();
  const page = published.pages.get(pageAddress(channel, key));
  if (!page) return null;
  const creatives = explain
    ? await ctx.loaders.creativesByPage.load(page._id)
    : (published.creativesByPage.get(page._id) ?? []).filter((creative) => creative.endsAt > ctx.now);
  const media = mediaOf(published);
  const inputs = await pageInputs(ctx, member, channel, page, creatives);
  // Who may join an activity, as engagement decides it when the member joins: the same rule on the same attributes.
  const joining = profileOfMember(member, { now: ctx.now });
  const available = (creative: CreativeDoc): string | null => {
    if (creative.kind === 'BANNER' || creative.kind === 'ENTRY' || creative.kind === 'PRODUCT') return null;
    const refId = creative.refId ?? '';
    const missing = `${creative.kind} ${refId} is not available`;
    // An activity is advertised only while engagement says it runs, whatever its creative's window says (when
    // engagement cannot say, it is left out), and only to members it is open to, whatever its creative's rule says:
    // the card must not invite anyone whom joining would refuse.
    if (creative.kind === 'ACTIVITY') {
      const running = inputs.liveActivities?.get(refId);
      if (!running) return missing;
      return running.audience && !evaluate(running.audience, joining)
        ? `activity ${refId} is not open to the member (its audience rule does not include them)`
        : null;
    }
    const problem = published.unsafeMedia.get(`${creative.kind}:${refId}`);
    const unsafe = problem ? `${creative.kind} ${refId} cannot be shown: ${problem}` : null;
    // Likewise a live stream only until it ends, whatever its creative's window says: a replay is a video's card.
    if (creative.kind === 'LIVE') {
      const stream = media.LIVE.get(refId);
      if (stream === undefined || liveStatus(stream, ctx.now) === 'ENDED') return missing;
      return unsafe;
    }
    // And a video only once it is out, whatever its creative's window says.
    if (creative.kind === 'VIDEO') {
      const video = media.VIDEO.get(refId);
      if (video === undefined) return missing;
      if (!videoReleased(video, ctx.now))
        return `VIDEO ${refId} is not published until ${video.publishedAt.toISOString()}`;
      return unsafe;
    }
    return media.TOPIC.has(refId) ? unsafe : missing;
  };
  const audience = audienceOf(member, channel, ctx.now, {
    // Not asked: the page shows no product. Asked and unanswered: nobody may assume anything suits.
    suitableProducts: inputs.productsAsked ? inputs.suitableProducts : [],
    exposures: inputs.exposures,
    scores: inputs.scores,
  });
  const cards: Cards = new Map(
    (inputs.suitableProducts ?? []).map((suitable) => [suitable.productId, suitable.product]),
  );
  const plans = page.slots.map((slot) => ({
    slot,
    plan: planSlot(
      slot,
      creatives.filter((creative) => creative.slotCode === slot.code),
      audience,
      available,
    ),
  }));
  return {
    page: {
      id: page._id,
      channel: page.channel,
      key: page.key,
      title: page.title,
      slots: plans.map(({ slot, plan }) => ({
        code: slot.code,
        template: slot.template,
        title: slot.title,
        items: plan.items.map((item) => render(item, media, cards, inputs.liveActivities ?? new Map())),
      })),
    },
    decisions: plans.map(({ slot, plan }) => ({ code: slot.code, candidates: plan.decisions })),
    gaps: plans.flatMap(({ slot, plan }, index): SlotGap[] => [
      ...(plan.productsWithheld
        ? [
            {
              slot: index,
              serviceName: 'products' as const,
              message: PRODUCTS_GAP,
              reason: inputs.unanswered.products ?? null,
            },
          ]
        : []),
      ...(plan.signalsMissing
        ? [
            {
              slot: index,
              serviceName: 'analytics' as const,
              message: ANALYTICS_GAP,
              reason: inputs.unanswered.analytics ?? null,
            },
          ]
        : []),
      ...(inputs.liveActivities === null &&
      creatives.some((creative) => creative.slotCode === slot.code && creative.kind === 'ACTIVITY')
        ? [
            {
              slot: index,
              serviceName: 'engagement' as const,
              message: ENGAGEMENT_GAP,
              reason: inputs.unanswered.engagement ?? null,
            },
          ]
        : []),
    ]),
  };
}

export type SlotDecisions = ComposedPage['decisions'][number];
export type BannerView = Extract<SlotItemView, { __typename: 'Banner' }>;
export type EntryCardView = Extract<SlotItemView, { __typename: 'EntryCard' }>;
export type ActivityCardView = Extract<SlotItemView, { __typename: 'ActivityCard' }>;
export type ProductCardView = Extract<SlotItemView, { __typename: 'ProductCard' }>;
export type TopicCardView = Extract<SlotItemView, { __typename: 'TopicCard' }>;
export type LiveCardView = Extract<SlotItemView, { __typename: 'LiveCard' }>;
export type VideoCardView = Extract<SlotItemView, { __typename: 'VideoCard' }>;
