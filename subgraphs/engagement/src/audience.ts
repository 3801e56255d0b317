// Who a member is, as audience rules (activities, benefits) read them: the attributes members owns. Fields on Member
// get them through @requires; a mutation asks members through the graph on the member's behalf. Members down means
// nobody may assume a rule holds: SERVICE_UNAVAILABLE.
import { z } from 'zod';
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';
import { evaluate, profileOfMember, type Rule } from '@bank-hub/targeting';

export const MemberAttributes = z.object({
  id: z.string(),
  segmentCodes: z.array(z.string()),
  level: z.object({ code: z.string(), rank: z.number().int() }),
  riskLevel: z.string(),
  lifecycleStage: z.string(),
  affinityKeys: z.array(z.string()),
});
export type MemberAttributes = z.infer<typeof MemberAttributes>;

const VIEWER = `query AudienceOfViewer { viewer { id segmentCodes level { code rank } riskLevel lifecycleStage affinityKeys } }`;

/** The calling member's attributes, asked of members through the gateway. */
export async function viewerAttributes(graph: GraphClient, caller: GraphCaller): Promise<MemberAttributes> {
  const response = await graph.query<{ viewer: unknown }>(caller, VIEWER);
  const parsed = MemberAttributes.safeParse(response.data?.viewer);
  if (!parsed.success) {
    throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members could not say who the member is; try again', {
      serviceName: 'members',
      reason: response.errors[0]?.message,
    });
  }
  return parsed.data;
}

/** Whether a rule (null: everyone) holds for the member now. */
export const inAudience = (rule: Rule | null, member: MemberAttributes, now: Date): boolean =>
  rule === null || evaluate(rule, profileOfMember(member, { now }));
