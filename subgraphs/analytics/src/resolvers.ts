// Analytics resolvers: thin — read arguments and context, call the ingestion use case, a loader or a repository.
import { DateTimeScalar, JSONScalar, Scope, badInput, checkCount, requireScope } from '@bank-hub/shared';
import { InputProblem, checkTrackedEvent } from './domain/plan';
import { windowStart } from './domain/rollups';
import { creativeStats, productStats } from './domain/stats';
import type { Resolvers } from './generated/resolvers';
import { trackEvents } from './ingest';

const MAX_DAYS = 90;

export const resolvers: Resolvers = {
  DateTime: DateTimeScalar,
  JSON: JSONScalar,

  Query: {
    trackingPlan: (_parent, _args, ctx) => {
      requireScope(ctx.identity, Scope.OPERATOR);
      return ctx.repos.plan.all();
    },
  },

  Mutation: {
    trackEvents: (_parent, { deviceId, events }, ctx) =>
      trackEvents({ ...ctx, plan: () => ctx.plan.get() }, deviceId, events),
    defineTrackedEvent: async (_parent, { input }, ctx) => {
      const operator = requireScope(ctx.identity, Scope.OPERATOR);
      let checked: ReturnType<typeof checkTrackedEvent>;
      try {
        checked = checkTrackedEvent(input);
      } catch (error) {
        if (error instanceof InputProblem) throw badInput(error.message, error.field);
        throw error;
      }
      const before = await ctx.repos.plan.findByName(checked.name);
      const { name, ...definition } = checked;
      const saved = await ctx.repos.plan.save({
        _id: name,
        ...definition,
        updatedAt: ctx.now,
        updatedBy: operator,
      });
      ctx.plan.invalidate();
      await ctx.repos.audit.record({
        actor: operator,
        action: 'defineTrackedEvent',
        targetType: 'TRACKED_EVENT',
        targetId: name,
        before,
        after: saved,
        requestId: ctx.requestId,
      });
      return saved;
    },
  },

  TrackedEvent: { name: (definition) => definition._id },

  Creative: {
    __resolveReference: (reference) => ({ id: reference.id }),
    stats: async (creative, { days }, ctx) => {
      const window = checkCount(days ?? 7, MAX_DAYS, 'days');
      const totals = await ctx.loaders.creativeTotals.load({ id: creative.id, days: window });
      return creativeStats(totals, windowStart(window, ctx.now));
    },
  },

  Product: {
    __resolveReference: (reference) => ({ id: reference.id }),
    stats: async (product, { days }, ctx) => {
      const window = checkCount(days ?? 7, MAX_DAYS, 'days');
      const totals = await ctx.loaders.productTotals.load({ id: product.id, days: window });
      return productStats(totals, windowStart(window, ctx.now));
    },
  },
};
