// Messages resolvers: each area's own (templates, campaigns, inbox, consent), merged into one map, and the one
// workflow mutation that dispatches to the area it acts on. Resolvers stay thin: they check scope and arguments and
// call the area's use cases.
import {
  DateTimeScalar,
  JSONScalar,
  TargetingRuleScalar,
  rejectionReason,
  type WorkflowAction,
} from '@bank-hub/shared';
import { campaignWorkflowStep } from './campaigns/operations';
import { campaignResolvers } from './campaigns/resolvers';
import { consentResolvers } from './consent/resolvers';
import type { Resolvers } from './generated/resolvers';
import { inboxResolvers } from './inbox/resolvers';
import { templateWorkflowStep } from './templates/operations';
import { operator, templateResolvers } from './templates/resolvers';

/** One map from the areas' maps: their root and entity resolvers side by side. */
function merge(...areas: Resolvers[]): Resolvers {
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
    Mutation: {
      messagesWorkflow: (_parent, { type, id, step, reason, expectedVersion }, ctx) => {
        const actor = operator(ctx);
        const action = step.toLowerCase() as WorkflowAction;
        const why = rejectionReason(action, reason);
        return type === 'TEMPLATE'
          ? templateWorkflowStep(ctx, actor, id, action, why, expectedVersion)
          : campaignWorkflowStep(ctx, actor, id, action, why, expectedVersion);
      },
    },
    Member: {
      __resolveReference: (reference) => ({ id: reference.id }),
    },
  },
  templateResolvers,
  campaignResolvers,
  inboxResolvers,
  consentResolvers,
);
