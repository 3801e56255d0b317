// Composes a member's page: reads the published page, its creatives and the content they show (each collection
// once, batched across members), then plans every slot with the selection rules and renders the items.
import type { ContentContext } from './context';
import { pageAddress } from './context';
import { audienceOf, type MemberRef } from './domain/audience';
import { planSlot, type CandidateOutcome, type PlannedItem } from './domain/selection';
import type { CreativeDoc, CreativeKind } from './models/creative';
import type { ActivityDoc, LiveStreamDoc, TopicDoc, VideoDoc } from './models/media';
import type { Channel, PageDoc, SlotTemplate } from './models/page';

export type SlotItemView =
  | {
      __typename: 'Banner';
      creativeId: string;
      variant: string | null;
      title: string;
      imageUrl: string;
      link: string;
    }
  | {
      __typename: 'EntryCard';
      creativeId: string;
      variant: string | null;
      title: string;
      iconUrl: string;
      link: string;
      badge: string | null;
    }
  | { __typename: 'ActivityCard'; creativeId: string; variant: string | null; activity: ActivityDoc }
  | {
      __typename: 'ProductCard';
      creativeId: string | null;
      variant: string | null;
      product: { id: string };
      highlight: string | null;
    }
  | { __typename: 'TopicCard'; creativeId: string; variant: string | null; topic: TopicDoc }
  | { __typename: 'LiveCard'; creativeId: string; variant: string | null; liveStream: LiveStreamDoc }
  | { __typename: 'VideoCard'; creativeId: string; variant: string | null; video: VideoDoc };

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
}

type MediaKind = Exclude<CreativeKind, 'BANNER' | 'ENTRY' | 'PRODUCT'>;
type Media = { ACTIVITY: ActivityDoc; TOPIC: TopicDoc; LIVE: LiveStreamDoc; VIDEO: VideoDoc };

async function loadMedia(ctx: ContentContext, creatives: readonly CreativeDoc[]) {
  const idsOf = (kind: MediaKind) => [
    ...new Set(creatives.filter((c) => c.kind === kind && c.refId).map((c) => c.refId!)),
  ];
  const [activities, topics, liveStreams, videos] = await Promise.all([
    ctx.loaders.activityById.loadMany(idsOf('ACTIVITY')),
    ctx.loaders.topicById.loadMany(idsOf('TOPIC')),
    ctx.loaders.liveStreamById.loadMany(idsOf('LIVE')),
    ctx.loaders.videoById.loadMany(idsOf('VIDEO')),
  ]);
  const index = <T extends { _id: string }>(docs: readonly (T | Error | null)[]) => {
    const map = new Map<string, T>();
    for (const doc of docs) {
      if (doc instanceof Error) throw doc;
      if (doc) map.set(doc._id, doc);
    }
    return map;
  };
  const media: { [K in MediaKind]: Map<string, Media[K]> } = {
    ACTIVITY: index(activities),
    TOPIC: index(topics),
    LIVE: index(liveStreams),
    VIDEO: index(videos),
  };
  return media;
}

function render(item: PlannedItem, media: Awaited<ReturnType<typeof loadMedia>>): SlotItemView {
  if (item.source === 'autoFill') {
    return {
      __typename: 'ProductCard',
      creativeId: null,
      variant: null,
      product: { id: item.productId },
      highlight: null,
    };
  }
  const { creative, variant } = item;
  const base = { creativeId: creative._id, variant: variant?.key ?? null };
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
        product: { id: refId },
        highlight: variant?.highlight ?? creative.highlight,
      };
    case 'ACTIVITY':
      return { __typename: 'ActivityCard', ...base, activity: media.ACTIVITY.get(refId)! };
    case 'TOPIC':
      return { __typename: 'TopicCard', ...base, topic: media.TOPIC.get(refId)! };
    case 'LIVE':
      return { __typename: 'LiveCard', ...base, liveStream: media.LIVE.get(refId)! };
    case 'VIDEO':
      return { __typename: 'VideoCard', ...base, video: media.VIDEO.get(refId)! };
  }
}

/**
 * The member's page, or null when no published page has this channel and key. `explain` considers every
 * creative of the page (for pagePreview's reasons); rendering reads only what can be placed.
 */
export async function composePage(
  ctx: ContentContext,
  member: MemberRef,
  channel: Channel,
  key: string,
  explain = false,
): Promise<ComposedPage | null> {
  const page: PageDoc | null = await ctx.loaders.pageByAddress.load(pageAddress(channel, key));
  if (!page || page.status !== 'PUBLISHED') return null;
  const creatives = explain
    ? await ctx.loaders.creativesByPage.load(page._id)
    : await ctx.loaders.placeableByPage.load(page._id);
  const media = await loadMedia(ctx, creatives);
  const available = (creative: CreativeDoc) => {
    if (creative.kind === 'BANNER' || creative.kind === 'ENTRY' || creative.kind === 'PRODUCT') return true;
    // An activity that has ended is not advertised, whatever its creative's window says.
    if (creative.kind === 'ACTIVITY')
      return (media.ACTIVITY.get(creative.refId ?? '')?.endsAt ?? ctx.now) > ctx.now;
    return media[creative.kind].has(creative.refId ?? '');
  };
  const audience = audienceOf(member, channel, ctx.now);
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
        items: plan.items.map((item) => render(item, media)),
      })),
    },
    decisions: plans.map(({ slot, plan }) => ({ code: slot.code, candidates: plan.decisions })),
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
