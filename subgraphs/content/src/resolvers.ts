// Content resolvers: thin — read arguments and context, call a loader, the page composer or a use case.
import { GraphQLError, type GraphQLResolveInfo, responsePathAsArray } from 'graphql';
import {
  DateTimeScalar,
  ErrorCode,
  JSONScalar,
  TargetingRuleScalar,
  Scope,
  badInput,
  checkCount,
  decodeCursor,
  recommendationCount,
  toConnection,
  notFound,
  parseRepresentation,
  requireAnyScope,
  requireAuditReader,
  operatorOnlyOf,
  requireScope,
} from '@bank-hub/shared';
import { composePage, type ComposedPage, type SlotItemView } from './compose-page';
import type { ContentContext } from './context';
import { experimentEndOf } from './domain/experiment';
import { liveStatus } from './domain/live';
import { unsafeMedia } from './domain/media';
import { MemberInputs, SuitabilityInputs, type MemberRef, type TargetedMember } from './domain/audience';
import { recommendedProducts } from './recommendations';
import { editorsOf, reviewOf } from '@bank-hub/shared';
import type { CreativeDoc } from './models/creative';
import { withWorkflowState, type LiveStatus, type TopicDoc } from './models/media';
import type { Channel } from './models/page';
import type { Resolvers } from './generated/resolvers';
import {
  createCreative,
  createPage,
  createTopic,
  runWorkflow,
  setTopicHeat,
  updateCreative,
  updatePage,
  updateTopic,
  type Operator,
} from './operations';
import { CONTENT_ID, TOPIC_LIMITS } from './domain/topic';

const MAX_LIST = 50;
const MAX_PAGE = 100;

/** Live streams as lists give them: on air, then scheduled, then ended. */
const LIVE_ORDER: readonly LiveStatus[] = ['LIVE', 'SCHEDULED', 'ENDED'];

function operator(ctx: ContentContext): Operator {
  return { id: requireScope(ctx.identity, Scope.OPERATOR) };
}

/** Operators' lists of pages and creatives: 1 to 100 a page (20 unless asked), after the cursor of the page before. */
function listPage(first: number | null | undefined, after: string | null | undefined) {
  return {
    size: checkCount(first ?? 20, MAX_PAGE, 'first'),
    afterId: after ? decodeCursor(after, CONTENT_ID, 'after') : null,
  };
}

function listSize(first: number | null | undefined): number {
  const size = first ?? 10;
  if (!Number.isInteger(size) || size < 1 || size > MAX_LIST)
    throw badInput(`first must be 1 to ${MAX_LIST}`, 'first');
  return size;
}

/**
 * The member's page, or NOT_FOUND. Each slot placed without something a subgraph could not say (which products suit
 * the member, caps and scores, which activities run) is reported as SERVICE_UNAVAILABLE naming the subgraph, on that
 * slot's items, next to the page it still answers.
 */
async function composedOrNotFound(
  ctx: ContentContext,
  member: TargetedMember,
  channel: Channel,
  key: string,
  pagePath: readonly (string | number)[],
  explain = false,
): Promise<ComposedPage> {
  const composed = await composePage(ctx, member, channel, key, explain);
  if (!composed) throw notFound('page', `${channel}/${key}`);
  for (const gap of composed.gaps) {
    ctx.partial.add(
      new GraphQLError(gap.message, {
        path: [...pagePath, 'slots', gap.slot, 'items'],
        extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName: gap.serviceName, reason: gap.reason },
      }),
    );
  }
  return composed;
}

const pathOf = (info: GraphQLResolveInfo) => responsePathAsArray(info.path);

const targeted = (member: MemberRef, field: 'page' | 'pagePreview', ctx: ContentContext) =>
  parseRepresentation(MemberInputs, member, { typename: 'Member', field }, ctx);

const operatorOnly = operatorOnlyOf<CreativeDoc>();

/** A topic's workflow field, which only operators may read. */
const topicWorkflow =
  <K extends keyof TopicDoc>(field: K) =>
  (topic: TopicDoc, _args: unknown, ctx: ContentContext): TopicDoc[K] => {
    operator(ctx);
    return withWorkflowState(topic, ctx.now)[field];
  };

const placedItemType = (item: SlotItemView) => item.__typename;

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,
  TargetingRule: TargetingRuleScalar,

  Member: {
    // No database: @requires makes the gateway bring the member's attributes along; each field checks its own, so
    // that a bad representation fails that field only.
    __resolveReference: (reference) => reference,
    page: async (member, { channel, key }, ctx, info) =>
      (await composedOrNotFound(ctx, targeted(member, 'page', ctx), channel, key, pathOf(info))).page,
    pagePreview: (member, { channel, key }, ctx, info) => {
      operator(ctx);
      const targetedMember = targeted(member, 'pagePreview', ctx);
      return composedOrNotFound(ctx, targetedMember, channel, key, [...pathOf(info), 'page'], true);
    },
    recommendedProducts: (member, { first }, ctx) => {
      const count = recommendationCount(first);
      const profile = parseRepresentation(
        SuitabilityInputs,
        member,
        { typename: 'Member', field: 'recommendedProducts' },
        ctx,
      );
      return recommendedProducts(ctx, profile, count);
    },
  },

  Placement: {
    __resolveReference: (reference) => reference,
    creative: async (placement, _args, ctx) => {
      const creative = await ctx.loaders.creativeById.load(placement.creativeId);
      if (!creative) throw notFound('creative', placement.creativeId);
      return creative;
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
    pages: async (_parent, { channel, keys, status, awaitingReview, first, after }, ctx) => {
      // Builders compose mini-program flows that show pages, so they may see which pages exist.
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.BUILDER]);
      if (keys && keys.length > MAX_PAGE) throw badInput(`keys may name at most ${MAX_PAGE} pages`, 'keys');
      const { size, afterId } = listPage(first, after);
      const filter = {
        channel: channel ?? null,
        keys: keys ?? null,
        status: status ?? null,
        awaitingReview: awaitingReview ?? false,
      };
      return toConnection(await ctx.repos.pages.list(filter, size + 1, afterId), size);
    },
    creatives: async (_parent, { pageId, slotCode, status, awaitingReview, first, after }, ctx) => {
      operator(ctx);
      const { size, afterId } = listPage(first, after);
      const filter = {
        pageId: pageId ?? null,
        slotCode: slotCode ?? null,
        status: status ?? null,
        awaitingReview: awaitingReview ?? false,
      };
      return toConnection(await ctx.repos.creatives.list(filter, size + 1, afterId), size);
    },
    auditLog: (_parent, { targetType, targetId, first }, ctx) => {
      requireAuditReader(ctx.identity);
      return ctx.repos.audit.forTarget(targetType, targetId, listSize(first));
    },
    // Media the library holds unchecked is left out (see domain/media.ts), so a list may come short of `first`.
    topics: async (_parent, { first }, ctx) =>
      (await ctx.repos.topics.hottest(listSize(first))).filter(
        (topic) => unsafeMedia('TOPIC', topic) === null,
      ),
    managedTopics: async (_parent, { status, awaitingReview, first, after }, ctx) => {
      operator(ctx);
      const { size, afterId } = listPage(first, after);
      const filter = { status: status ?? null, awaitingReview: awaitingReview ?? false };
      return toConnection(await ctx.repos.topics.list(filter, size + 1, afterId), size);
    },
    measuredTopicIds: (_parent, { first, after }, ctx) => {
      requireScope(ctx.identity, Scope.SERVICE);
      const size = checkCount(first ?? TOPIC_LIMITS.heatBatch, TOPIC_LIMITS.heatBatch, 'first');
      if (after && !CONTENT_ID.test(after)) throw badInput('after must be a topic id', 'after');
      return ctx.repos.topics.activeIds(size, after ?? null);
    },
    liveStreams: async (_parent, { status, first }, ctx) => {
      const size = listSize(first);
      // By state, not by start alone: ended streams pile up over the years and would come first for ever.
      const lists = await Promise.all(
        LIVE_ORDER.filter((state) => !status || state === status).map((state) =>
          ctx.repos.liveStreams.inState(state, ctx.now, size),
        ),
      );
      return lists
        .flat()
        .filter((stream) => unsafeMedia('LIVE', stream) === null)
        .slice(0, size);
    },
    videos: async (_parent, { first }, ctx) =>
      (await ctx.repos.videos.publishedBy(ctx.now, listSize(first))).filter(
        (video) => unsafeMedia('VIDEO', video) === null,
      ),
  },

  Mutation: {
    createPage: (_parent, { input }, ctx) => createPage(ctx, operator(ctx), input),
    updatePage: (_parent, { id, input, expectedVersion }, ctx) =>
      updatePage(ctx, operator(ctx), id, input, expectedVersion),
    createCreative: (_parent, { input }, ctx) => createCreative(ctx, operator(ctx), input),
    updateCreative: (_parent, { id, input, expectedVersion }, ctx) =>
      updateCreative(ctx, operator(ctx), id, input, expectedVersion),
    createTopic: (_parent, { input }, ctx) => createTopic(ctx, operator(ctx), input),
    updateTopic: (_parent, { id, input, expectedVersion }, ctx) =>
      updateTopic(ctx, operator(ctx), id, input, expectedVersion),
    setTopicHeat: (_parent, { scores }, ctx) => {
      requireScope(ctx.identity, Scope.SERVICE);
      return setTopicHeat(ctx, scores);
    },
    submitForReview: (_parent, { target }, ctx) => runWorkflow(ctx, operator(ctx), target, 'submit'),
    approve: (_parent, { target }, ctx) => runWorkflow(ctx, operator(ctx), target, 'approve'),
    reject: (_parent, { target, reason }, ctx) => runWorkflow(ctx, operator(ctx), target, 'reject', reason),
    archive: (_parent, { target }, ctx) => runWorkflow(ctx, operator(ctx), target, 'archive'),
  },

  PageConfig: {
    id: (page) => page._id,
    editors: (page) => editorsOf(page),
    pendingRevision: (page) => reviewOf(page),
  },
  Creative: {
    __resolveReference: (reference, ctx) => ctx.loaders.creativeById.load(reference.id),
    id: (creative) => creative._id,
    name: operatorOnly('name'),
    priority: operatorOnly('priority'),
    // Creatives stored before caps existed have no field at all.
    frequencyCap: (creative, _args, ctx) => operatorOnly('frequencyCap')(creative, _args, ctx) ?? null,
    rule: operatorOnly('rule'),
    experimentKey: operatorOnly('experimentKey'),
    variants: operatorOnly('variants'),
    // Creatives published before starts were recorded have no field at all.
    experimentStartedAt: (creative, _args, ctx) =>
      operatorOnly('experimentStartedAt')(creative, _args, ctx) ?? null,
    experimentEndedAt: (creative, _args, ctx) => {
      operator(ctx);
      return experimentEndOf(creative);
    },
    status: operatorOnly('status'),
    version: operatorOnly('version'),
    lastEditedBy: operatorOnly('lastEditedBy'),
    editors: (creative, _args, ctx) => {
      operator(ctx);
      return editorsOf(creative);
    },
    approvedBy: operatorOnly('approvedBy'),
    updatedAt: operatorOnly('updatedAt'),
    pendingRevision: (creative, _args, ctx) => {
      operator(ctx);
      return reviewOf(creative);
    },
  },
  Topic: {
    id: (doc) => doc._id,
    status: topicWorkflow('status'),
    version: topicWorkflow('version'),
    lastEditedBy: topicWorkflow('lastEditedBy'),
    editors: (topic, _args, ctx) => {
      operator(ctx);
      return editorsOf(withWorkflowState(topic, ctx.now));
    },
    approvedBy: topicWorkflow('approvedBy'),
    updatedAt: topicWorkflow('updatedAt'),
    pendingRevision: (topic, _args, ctx) => {
      operator(ctx);
      return reviewOf(withWorkflowState(topic, ctx.now));
    },
  },
  LiveStream: { id: (doc) => doc._id, status: (doc, _args, ctx) => liveStatus(doc, ctx.now) },
  Video: { id: (doc) => doc._id },
};
