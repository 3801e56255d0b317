// Campaign resolvers: thin — operator scope, argument checks, then the use cases and the stats.
import {
  checkCount,
  decodeCursor,
  decodeFeedCursor,
  editorsOf,
  reviewOf,
  toConnection,
} from '@bank-hub/shared';
import type { Resolvers } from '../generated/resolvers';
import { asOf, expiryOf } from '../outbox/domain/expiry';
import type { TemplateDoc } from '../templates/model';
import { newestFirstCursor, operator } from '../templates/resolvers';
import { conversionsView, windowsClosedBy } from './domain/conversions';
import { campaignOrNotFound, createCampaign, setPaused, updateCampaign } from './operations';
import { quietHoursKept, sendTimeOf } from './model';
import { campaignStats, currentState } from './stats';

const ENTRY_ID = /^[A-Za-z0-9_.:-]{1,300}$/;

export const campaignResolvers: Resolvers = {
  Query: {
    campaigns: async (_parent, { status, awaitingReview, first, after }, ctx) => {
      operator(ctx);
      const size = checkCount(first ?? 20, 100, 'first');
      const position = after ? decodeFeedCursor(after, 'campaigns') : null;
      const fetched = await ctx.repos.campaigns.newest(
        { status: status ?? null, awaitingReview: awaitingReview ?? false },
        size + 1,
        position,
      );
      return toConnection(fetched, size, newestFirstCursor);
    },
    campaign: (_parent, { id }, ctx) => {
      operator(ctx);
      return campaignOrNotFound(ctx, id);
    },
  },

  Mutation: {
    createCampaign: (_parent, { input }, ctx) => createCampaign(ctx, operator(ctx), input),
    updateCampaign: (_parent, { id, input, expectedVersion }, ctx) =>
      updateCampaign(ctx, operator(ctx), id, input, expectedVersion),
    pauseCampaign: (_parent, { id }, ctx) => setPaused(ctx, operator(ctx), id, true),
    resumeCampaign: (_parent, { id }, ctx) => setPaused(ctx, operator(ctx), id, false),
  },

  Campaign: {
    __resolveReference: (reference, ctx) => {
      operator(ctx);
      return ctx.loaders.campaignById.load(reference.id);
    },
    id: (campaign) => campaign._id,
    quietHours: (campaign) => quietHoursKept(campaign),
    sendTime: (campaign) => sendTimeOf(campaign),
    state: (campaign, _args, ctx) => currentState(ctx, campaign),
    occurrences: (campaign, { first }, ctx) =>
      ctx.repos.campaigns.occurrencesOf(campaign._id, checkCount(first ?? 20, 100, 'first')),
    stats: (campaign, _args, ctx) => campaignStats(ctx.repos, campaign._id, ctx.now),
    messages: async (campaign, { state, first, after }, ctx) => {
      const size = checkCount(first ?? 50, 500, 'first');
      const afterId = after ? decodeCursor(after, ENTRY_ID, 'after') : null;
      const fetched = await ctx.repos.outbox.pageOfCampaign(
        campaign._id,
        state ?? null,
        size + 1,
        afterId,
        ctx.now,
      );
      return toConnection(
        fetched.map((entry) => asOf(entry, ctx.now)),
        size,
      );
    },
    editors: (campaign) => editorsOf(campaign),
    // Compared with the quiet hours and send time kept, an edit of a SERVICE campaign stored with quiet hours, or of
    // one stored before send times, lists neither unless it changes them.
    pendingRevision: (campaign) =>
      reviewOf({ ...campaign, quietHours: quietHoursKept(campaign), sendTime: sendTimeOf(campaign) }),
  },

  CampaignTrigger: {
    at: (trigger) => (trigger.kind === 'EVENT' ? null : trigger.at),
    every: (trigger) => (trigger.kind === 'RECURRING' ? trigger.every : null),
    until: (trigger) => (trigger.kind === 'RECURRING' ? trigger.until : null),
    event: (trigger) => (trigger.kind === 'EVENT' ? trigger.event : null),
    stage: (trigger) =>
      trigger.kind === 'EVENT' && trigger.event === 'LIFECYCLE_STAGE_CHANGED' ? trigger.stage : null,
    activityId: (trigger) =>
      trigger.kind === 'EVENT' && trigger.event === 'TASK_COMPLETED' ? trigger.activityId : null,
    taskId: (trigger) =>
      trigger.kind === 'EVENT' && trigger.event === 'TASK_COMPLETED' ? trigger.taskId : null,
    withinDays: (trigger) =>
      trigger.kind === 'EVENT' && trigger.event === 'BENEFIT_EXPIRING' ? trigger.withinDays : null,
  },

  CampaignVariant: {
    templates: async (variant, _args, ctx) =>
      (await ctx.loaders.templateById.loadMany(variant.templateIds)).filter(
        (template): template is TemplateDoc => template !== null && !(template instanceof Error),
      ),
  },

  // Reached through a Campaign, which only an operator reads.
  CampaignStats: {
    conversions: (stats, _args, ctx) => ctx.loaders.conversionsOf.load(stats.campaignId),
  },

  CampaignConversions: {
    window: (conversions) => conversions.windowDays,
    final: (conversions) =>
      conversions.lastReachedAt === null ||
      windowsClosedBy(conversions.lastReachedAt, conversions.computedAt),
    total: (conversions) => conversionsView(conversions.total),
    variants: (conversions) =>
      conversions.variants.map(({ variant, counts }) => ({ variant, counts: conversionsView(counts) })),
  },

  CampaignOccurrence: { id: (occurrence) => occurrence._id },
  OutboxMessage: { id: (entry) => entry._id, expiresAt: (entry) => expiryOf(entry) },
};
