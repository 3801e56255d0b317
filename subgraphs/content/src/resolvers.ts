// Content resolvers: thin — read arguments and context, call a loader, the page composer or a use case.
import {
  DateTimeScalar,
  JSONScalar,
  TargetingRuleScalar,
  Scope,
  badInput,
  notFound,
  requireAnyScope,
  requireScope,
} from '@bank-hub/shared';
import { composePage, type SlotItemView } from './compose-page';
import type { ContentContext } from './context';
import type { MemberRef } from './domain/audience';
import type { Channel } from './models/page';
import type { Resolvers } from './generated/resolvers';
import {
  createCreative,
  createPage,
  runWorkflow,
  updateCreative,
  updatePage,
  type Operator,
} from './operations';

const MAX_LIST = 50;

function operator(ctx: ContentContext): Operator {
  return { id: requireScope(ctx.identity, Scope.OPERATOR), identity: ctx.identity };
}

function listSize(first: number | null | undefined): number {
  const size = first ?? 10;
  if (!Number.isInteger(size) || size < 1 || size > MAX_LIST)
    throw badInput(`first must be 1 to ${MAX_LIST}`, 'first');
  return size;
}

async function composedOrNotFound(
  ctx: ContentContext,
  member: MemberRef,
  channel: Channel,
  key: string,
  explain = false,
) {
  const composed = await composePage(ctx, member, channel, key, explain);
  if (!composed) throw notFound('page', `${channel}/${key}`);
  return composed;
}

const placedItemType = (item: SlotItemView) => item.__typename;

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  TargetingRule: TargetingRuleScalar,

  Member: {
    __resolveReference: (reference) => reference,
    page: async (member, { channel, key }, ctx) => (await composedOrNotFound(ctx, member, channel, key)).page,
    pagePreview: (member, { channel, key }, ctx) => {
      operator(ctx);
      return composedOrNotFound(ctx, member, channel, key, true);
    },
  },

  SlotItem: { __resolveType: placedItemType },
  PlacedItem: { __resolveType: placedItemType },

  PagePreview: {
    slots: (preview) => preview.decisions,
  },
  CandidateDecision: {
    creativeId: (decision) => decision.creative._id,
    name: (decision) => decision.creative.name,
    variant: (decision) => decision.variant?.key ?? null,
  },

  Query: {
    pages: (_parent, { channel }, ctx) => {
      // Builders compose mini-program flows that show pages, so they may see which pages exist.
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.BUILDER]);
      return ctx.repos.pages.list(channel ?? null);
    },
    creatives: async (_parent, { pageId, slotCode }, ctx) => {
      operator(ctx);
      const creatives = await ctx.loaders.creativesByPage.load(pageId);
      return slotCode ? creatives.filter((creative) => creative.slotCode === slotCode) : creatives;
    },
    auditLog: (_parent, { targetType, targetId, first }, ctx) => {
      operator(ctx);
      return ctx.repos.audit.forTarget(targetType, targetId, listSize(first));
    },
    topics: (_parent, { first }, ctx) => ctx.repos.topics.firstBy('heat', 'desc', listSize(first)),
    liveStreams: (_parent, { status, first }, ctx) =>
      ctx.repos.liveStreams.firstBy('startsAt', 'asc', listSize(first), status ? { status } : {}),
    videos: (_parent, { first }, ctx) => ctx.repos.videos.firstBy('publishedAt', 'desc', listSize(first)),
    activities: (_parent, { first }, ctx) =>
      ctx.repos.activities.endingAfter('endsAt', ctx.now, listSize(first)),
  },

  Mutation: {
    createPage: (_parent, { input }, ctx) => createPage(ctx, operator(ctx), input),
    updatePage: (_parent, { id, input }, ctx) => updatePage(ctx, operator(ctx), id, input),
    createCreative: (_parent, { input }, ctx) => createCreative(ctx, operator(ctx), input),
    updateCreative: (_parent, { id, input }, ctx) => updateCreative(ctx, operator(ctx), id, input),
    submitForReview: (_parent, { target }, ctx) => runWorkflow(ctx, operator(ctx), target, 'submit'),
    approve: (_parent, { target }, ctx) => runWorkflow(ctx, operator(ctx), target, 'approve'),
    reject: (_parent, { target, reason }, ctx) => runWorkflow(ctx, operator(ctx), target, 'reject', reason),
    archive: (_parent, { target }, ctx) => runWorkflow(ctx, operator(ctx), target, 'archive'),
  },

  PageConfig: { id: (page) => page._id },
  Creative: { id: (creative) => creative._id },
  Activity: { id: (doc) => doc._id },
  Topic: { id: (doc) => doc._id },
  LiveStream: { id: (doc) => doc._id },
  Video: { id: (doc) => doc._id },
};
