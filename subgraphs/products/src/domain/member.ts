// A member as the products subgraph knows them: only what the gateway hands over in the entity representation (the
// fields named in @requires), never a database record. Each field resolver checks the part it needs, so a planner
// that did not fetch them gets an error rather than an emptier answer.
import { z } from 'zod';
import { RISK_LEVELS } from './suitability';

/** The representation as it arrives: an id and whatever @requires brought along, unchecked. */
export type MemberRef = { id: string } & Record<string, unknown>;

/** What suitability needs: the member's risk tolerance and affinity keys. */
export const SuitabilityInputs = z.object({
  riskLevel: z.enum(RISK_LEVELS),
  affinityKeys: z.array(z.string()),
});
export type SuitabilityProfile = z.infer<typeof SuitabilityInputs>;

/** What bundle rules need besides: segments, level and lifecycle stage. */
export const BundleInputs = SuitabilityInputs.extend({
  segmentCodes: z.array(z.string()),
  level: z.object({ code: z.string(), rank: z.number().int() }),
  lifecycleStage: z.string(),
});
