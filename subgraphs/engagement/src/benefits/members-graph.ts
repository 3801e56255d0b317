// What benefits need to know of members, asked through the graph (the gateway) on the caller's behalf: who is claiming
// (only for a benefit with an audience). Engagement never reads members' collections.
import { z } from 'zod';
import { ErrorCode, forbidden, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';
import type { MemberAttributes } from '@bank-hub/targeting';

const CLAIMANT_QUERY =
  'query Claimant { viewer { id segmentCodes level { code rank } riskLevel lifecycleStage affinityKeys } }';

const Claimant = z.object({
  id: z.string(),
  segmentCodes: z.array(z.string()),
  level: z.object({ code: z.string(), rank: z.number().int() }),
  riskLevel: z.string(),
  lifecycleStage: z.string(),
  affinityKeys: z.array(z.string()),
});

const unavailable = (what: string, reason?: string) =>
  hubError(ErrorCode.SERVICE_UNAVAILABLE, `the members subgraph could not say ${what}`, {
    serviceName: 'members',
    reason,
  });

/** The member's targeting attributes; SERVICE_UNAVAILABLE when members cannot say (then nothing may be assumed). */
export async function claimantOf(graph: GraphClient, caller: GraphCaller): Promise<MemberAttributes> {
  const response = await graph.query<{ viewer: unknown }>(caller, CLAIMANT_QUERY);
  if (response.errors.length > 0 || !response.data)
    throw unavailable('who is claiming', response.errors[0]?.message);
  if (response.data.viewer === null) throw forbidden('the token names no member');
  const parsed = Claimant.safeParse(response.data.viewer);
  if (!parsed.success) throw unavailable('who is claiming', 'unexpected answer');
  return parsed.data;
}
