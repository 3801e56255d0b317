// Activity resolvers: thin — scope checks, argument checks, then the use cases in operations.ts.
import {
  Scope,
  checkCount,
  deviceOfGuest,
  hasScope,
  notFound,
  parseRepresentation,
  requireAnyScope,
  operatorOnlyOf,
  requireScope,
  editorsOf,
  reviewOf,
} from '@bank-hub/shared';
import { MemberAttributes } from '../audience';
import { isOffered } from '../benefits/domain/claiming';
import type { EngagementContext } from '../context';
import type { Resolvers } from '../generated/resolvers';
import { completedTasksPage } from './completions';
import type { ActivityDoc } from './model';
import { taskCurrency } from './tasks';
import {
  createActivity,
  dailySignIn,
  joinActivity,
  memberActivities,
  progressOf,
  recommendedActivities,
  updateActivity,
} from './operations';

const MAX_LIVE_IDS = 100;
/** Member.recommendedActivities gives at most this many. */
const MAX_RECOMMENDED = 20;

const operatorOnly = operatorOnlyOf<ActivityDoc>();

const isLive = (activity: ActivityDoc, now: Date) =>
  activity.status === 'PUBLISHED' && activity.startsAt <= now && now < activity.endsAt;

/** Members and guests see published activities only; operators see every one. */
function visible(activity: ActivityDoc | null, ctx: EngagementContext): ActivityDoc | null {
  if (!activity) return null;
  return activity.status === 'PUBLISHED' || hasScope(ctx.identity, Scope.OPERATOR) ? activity : null;
}

export const activityResolvers: Resolvers = {
  Query: {
    completedTasksSince: (_parent, { after, since, activityId, taskId, first }, ctx) => {
      requireScope(ctx.identity, Scope.SERVICE);
      return completedTasksPage(
        ctx.repos.progress,
        ctx.repos.completionsInFlight,
        {
          after: after ?? null,
          since: since ?? null,
          activityId: activityId ?? null,
          taskId: taskId ?? null,
          first: first ?? 500,
        },
        ctx.now,
      );
    },
    activities: (_parent, { status, awaitingReview, first }, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return ctx.repos.activities.list(
        { status: status ?? null, awaitingReview: awaitingReview ?? false },
        checkCount(first ?? 20, 100, 'first'),
      );
    },
    activity: async (_parent, { id }, ctx) => {
      const found = visible(await ctx.loaders.activityById.load(id), ctx);
      if (!found) throw notFound('activity', id);
      return found;
    },
    liveActivities: async (_parent, { ids }, ctx) => {
      checkCount(Math.max(ids.length, 1), MAX_LIVE_IDS, 'ids');
      const published = await ctx.publishedActivities.get();
      return [...new Set(ids)]
        .map((id) => published.get(id))
        .filter((activity): activity is ActivityDoc => activity !== undefined && isLive(activity, ctx.now));
    },
  },

  Mutation: {
    createActivity: (_parent, { input }, ctx) => createActivity(ctx, input),
    updateActivity: (_parent, { id, input, expectedVersion }, ctx) =>
      updateActivity(ctx, id, input, expectedVersion),
    joinActivity: (_parent, { activityId }, ctx) => joinActivity(ctx, activityId),
    dailySignIn: (_parent, { activityId }, ctx) => dailySignIn(ctx, activityId),
  },

  Member: {
    activities: (member, _args, ctx) =>
      memberActivities(
        ctx,
        parseRepresentation(MemberAttributes, member, { typename: 'Member', field: 'activities' }, ctx),
      ),
    recommendedActivities: (member, { first }, ctx) => {
      const count = checkCount(first ?? 3, MAX_RECOMMENDED, 'first');
      return recommendedActivities(
        ctx,
        parseRepresentation(
          MemberAttributes,
          member,
          { typename: 'Member', field: 'recommendedActivities' },
          ctx,
        ),
        count,
      );
    },
  },

  Activity: {
    // Content's activity cards reference activities by id; members see published ones only.
    __resolveReference: async (reference, ctx) =>
      visible(
        (await ctx.publishedActivities.get()).get(reference.id) ??
          (await ctx.loaders.activityById.load(reference.id)),
        ctx,
      ),
    id: (activity) => activity._id,
    // Content too, as the hub's service: it places an activity's card only for members its audience includes.
    rule: (activity, _args, ctx) => {
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.SERVICE]);
      return activity.rule;
    },
    status: operatorOnly('status'),
    version: operatorOnly('version'),
    lastEditedBy: operatorOnly('lastEditedBy'),
    editors: (activity, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return editorsOf(activity);
    },
    approvedBy: operatorOnly('approvedBy'),
    updatedAt: operatorOnly('updatedAt'),
    pendingRevision: (activity, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return reviewOf(activity);
    },
    participants: (activity, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return ctx.loaders.participantsByActivity.load(activity._id);
    },
    viewerProgress: (activity, _args, ctx) => {
      const memberId = ctx.identity.scopes.has(Scope.MEMBER) ? ctx.identity.subject : null;
      return memberId && !deviceOfGuest(memberId) ? progressOf(ctx, activity, memberId) : null;
    },
  },

  // Tasks stored before amounts carried a currency name none: they read the bank's.
  Task: { currency: (task, _args, ctx) => taskCurrency(task, ctx.bankCurrency) },
  Reward: {
    // Through the request's loader: every task's benefit of a page in one query. Members and guests see it only while
    // it is offered: an archived or ended benefit is never granted, and archived content never reaches a member.
    benefit: async (reward, _args, ctx) => {
      const benefit = reward.benefitId ? await ctx.loaders.benefitById.load(reward.benefitId) : null;
      return benefit && (hasScope(ctx.identity, Scope.OPERATOR) || isOffered(benefit, ctx.now))
        ? benefit
        : null;
    },
  },
};
