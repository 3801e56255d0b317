// Engagement resolvers: each area's own (activities, benefits, referrals), merged into one map. Resolvers stay thin:
// they check scope and arguments and call the area's use cases.
import { DateTimeScalar, JSONScalar, TargetingRuleScalar } from '@bank-hub/shared';
import { activityResolvers } from './activities/resolvers';
import { benefitResolvers } from './benefits/resolvers';
import type { Resolvers } from './generated/resolvers';
import { referralResolvers } from './referrals/resolvers';

type Area = Resolvers;

/** One map from the areas' maps: their root and entity resolvers side by side. */
function merge(...areas: Area[]): Resolvers {
  const merged: Record<string, Record<string, unknown>> = {};
  for (const area of areas) {
    for (const [type, fields] of Object.entries(area)) {
      merged[type] = { ...merged[type], ...(fields as Record<string, unknown>) };
    }
  }
  return merged as Resolvers;
}

export const resolvers: Resolvers = merge(
  {
    DateTime: DateTimeScalar,
    JSON: JSONScalar,
    TargetingRule: TargetingRuleScalar,
  },
  activityResolvers,
  benefitResolvers,
  referralResolvers,
);
