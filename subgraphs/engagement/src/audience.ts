// Who a member is, as audience rules (activities, benefits) read them: the attributes members owns. Fields on Member
// get them through @requires; a mutation asks members through the graph on the member's behalf. Members down means
// nobody may assume a rule holds: SERVICE_UNAVAILABLE.
import { z } from 'zod';
import { ErrorCode, forbidden, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';
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

const membersUnavailable = (reason: string | undefined) =>
  hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members could not say who the member is; try again', {
    serviceName: 'members',
    reason,
  });

/**
 * The calling member's attributes, asked of members through the gateway. A token that names no member of members is
 * FORBIDDEN (nothing may be stored for nobody); SERVICE_UNAVAILABLE when members cannot say.
 */
export async function viewerAttributes(graph: GraphClient, caller: GraphCaller): Promise<MemberAttributes> {
  const response = await graph.query<{ viewer: unknown }>(caller, VIEWER);
  if (response.errors.length > 0 || !response.data) throw membersUnavailable(response.errors[0]?.message);
  if (response.data.viewer === null) throw forbidden('the token names no member');
  const parsed = MemberAttributes.safeParse(response.data.viewer);
  if (!parsed.success) throw membersUnavailable('unexpected answer');
  return parsed.data;
}

const VIEWER_ID = `query ViewerExists { viewer { id } }`;

/**
 * Refuses a token that names no member of members (FORBIDDEN, as a claim does), so nothing is stored for nobody;
 * SERVICE_UNAVAILABLE when members cannot say.
 */
export async function requireExistingViewer(graph: GraphClient, caller: GraphCaller): Promise<void> {
  const response = await graph.query<{ viewer: { id: string } | null }>(caller, VIEWER_ID);
  if (response.errors.length > 0 || !response.data) throw membersUnavailable(response.errors[0]?.message);
  if (response.data.viewer === null) throw forbidden('the token names no member');
}

/** Whether a rule (null: everyone) holds for the member now. */
export const inAudience = (rule: Rule | null, member: MemberAttributes, now: Date): boolean =>
  rule === null || evaluate(rule, profileOfMember(member, { now }));
