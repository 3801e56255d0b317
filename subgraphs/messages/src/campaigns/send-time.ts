// Sending each member a campaign's message at their best hour: planning asks analytics' send-time model for the
// members of each audience page (500 per call) and moves each message to the first instant of the member's hour
// within the campaign's window. Analytics not answering never fails a campaign: that page goes as planned, logged and
// counted in the campaign's stats (plannedWithoutBestHour), as does a member whose hour the model does not know.
import { z } from 'zod';
import { ErrorCode, hubError, type BankCalendar, type GraphClient, type Logger } from '@bank-hub/shared';
import { MESSAGES_SERVICE } from '../members-graph';
import { quietHoursOf } from '../outbox/domain/plan';
import type { CampaignDoc, OccurrenceDoc } from './model';
import { sendTimeOf } from './model';
import { bestHourDue } from './domain/timing';

/** Members per call: what analytics' bestSendHours takes at most. */
export const MEMBERS_PER_CALL = 500;

const BEST_SEND_HOURS = `query BestSendHours($memberIds: [ID!]!) { bestSendHours(memberIds: $memberIds) { memberId hour } }`;

const Answer = z.array(z.object({ memberId: z.string(), hour: z.number().int().min(0).max(23).nullable() }));

/**
 * Each member's best hour of the bank's day, null when the model knows none; SERVICE_UNAVAILABLE naming analytics
 * when it does not say.
 */
async function bestHoursOf(
  graph: GraphClient,
  memberIds: readonly string[],
): Promise<Map<string, number | null>> {
  const hours = new Map<string, number | null>();
  for (let start = 0; start < memberIds.length; start += MEMBERS_PER_CALL) {
    const chunk = memberIds.slice(start, start + MEMBERS_PER_CALL);
    const response = await graph.query<{ bestSendHours: unknown }>(
      { identity: MESSAGES_SERVICE },
      BEST_SEND_HOURS,
      {
        memberIds: chunk,
      },
    );
    const parsed = Answer.safeParse(response.data?.bestSendHours);
    if (!parsed.success || parsed.data.length !== chunk.length)
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'analytics could not say when members read messages', {
        serviceName: 'analytics',
        reason: response.errors[0]?.message,
      });
    for (const { memberId, hour } of parsed.data) hours.set(memberId, hour);
  }
  return hours;
}

export interface SendTimeDependencies {
  graph: GraphClient;
  logger: Logger;
  calendar: BankCalendar;
}

/**
 * When each member of a page of an occurrence goes, for a BEST_HOUR campaign: by id, the instant of their best hour
 * (see bestHourDue: within the window, their own quiet hours kept), never at or after `expiresAt` nor past a
 * recurring campaign's end; null for a member analytics gives no hour (its model knows none, or it does not answer:
 * then the log says how many members of the page went as planned). Null for an AS_PLANNED campaign.
 */
export async function sendTimesOf(
  deps: SendTimeDependencies,
  campaign: Pick<CampaignDoc, '_id' | 'sendTime' | 'trigger' | 'purpose' | 'quietHours'>,
  occurrence: Pick<OccurrenceDoc, '_id' | 'at'>,
  members: readonly { id: string; timeZone: string }[],
  now: Date,
  expiresAt: Date,
): Promise<Map<string, Date | null> | null> {
  const { strategy, withinHours } = sendTimeOf(campaign);
  if (strategy !== 'BEST_HOUR' || members.length === 0) return null;
  const memberIds = members.map((member) => member.id);
  let hours: Map<string, number | null>;
  try {
    hours = await bestHoursOf(deps.graph, memberIds);
  } catch (error) {
    deps.logger.warn(
      {
        campaign: campaign._id,
        occurrence: occurrence._id,
        asPlanned: memberIds.length,
        reason: (error as Error).message,
      },
      'no best send hours from analytics: a page of members planned as planned',
    );
    return new Map(memberIds.map((memberId) => [memberId, null]));
  }
  const until = campaign.trigger.kind === 'RECURRING' ? campaign.trigger.until : null;
  const before = until && until < expiresAt ? until : expiresAt;
  const quiet = quietHoursOf(campaign);
  const due = new Map<string, Date | null>();
  for (const { id, timeZone } of members) {
    const hour = hours.get(id) ?? null;
    const memberQuiet = quiet && { hours: quiet, timeZone, bankTimeZone: deps.calendar.timeZone };
    due.set(
      id,
      hour === null
        ? null
        : bestHourDue(
            { plannedAt: occurrence.at, from: now, hour, withinHours, before, quiet: memberQuiet },
            deps.calendar,
          ),
    );
  }
  return due;
}
