// Serving the send-time model to the hub's own subgraphs: each member's best hour of the bank's day to send them a
// message, from their counts of the active version's own training, smoothed towards the version's population.
import { MEMBER_ID, Scope, badInput, hubError, ErrorCode, requireScope } from '@bank-hub/shared';
import type { AnalyticsContext } from './context';
import { bestHourOf } from './domain/send-time';
import { SEND_TIME_MODEL_NAME, sendTimeParametersOf } from './send-time-job';

/** Members per call: what messages asks for a page of a campaign's audience. */
export const MAX_SEND_TIME_MEMBERS = 500;

export interface SendHour {
  memberId: string;
  hour: number | null;
  personal: boolean;
  modelVersion: number;
}

export async function bestSendHours(
  ctx: AnalyticsContext,
  memberIds: readonly string[],
): Promise<SendHour[]> {
  // When a member reads their messages is about them: only another subgraph asks it, never a client.
  requireScope(ctx.identity, Scope.SERVICE);
  if (memberIds.length < 1 || memberIds.length > MAX_SEND_TIME_MEMBERS)
    throw badInput(`memberIds must hold 1 to ${MAX_SEND_TIME_MEMBERS} member ids`, 'memberIds');
  memberIds.forEach((memberId, index) => {
    if (!MEMBER_ID.test(memberId)) throw badInput('not a member id', `memberIds[${index}]`);
  });
  const version = await ctx.repos.models.active(SEND_TIME_MODEL_NAME);
  if (!version)
    throw hubError(ErrorCode.NOT_FOUND, `model ${SEND_TIME_MODEL_NAME} has no active version`, {
      name: SEND_TIME_MODEL_NAME,
    });
  const parameters = sendTimeParametersOf(version);
  const counted = new Map(
    (await ctx.repos.sendTimes.ofVersion(version.version, [...new Set(memberIds)])).map((doc) => [
      doc.memberId,
      doc.hours,
    ]),
  );
  return memberIds.map((memberId) => ({
    memberId,
    ...bestHourOf(counted.get(memberId) ?? null, parameters),
    modelVersion: version.version,
  }));
}
