// Planning one member's message of an occurrence: the variant (sticky bucketing, as creatives), the rungs they can
// receive, whether quiet hours hold it back, and what it renders with. A pure function: the planner pages members
// and writes what this returns.
import type { MessageChannel } from '@bank-hub/shared';
import { assignVariant } from '@bank-hub/targeting';
import type { CampaignDoc } from '../../campaigns/model';
import { DEFAULT_QUIET_HOURS, quietUntil, type QuietHours } from '../../campaigns/domain/timing';
import type { VariableValues } from '../../templates/domain/variables';
import type { OutboxEntryDoc, OutboxReason, SendBatchDoc } from '../model';
import { ladderFor, type Purpose, type Reachability } from './routing';

/** What a new entry (planned, or a fallback) knows of its sending: nothing yet. */
export const NOT_SENT_YET = {
  attempts: 0,
  lastError: null,
  sentAt: null,
  providerMessageId: null,
  deliveredAt: null,
  openedAt: null,
  clickedAt: null,
  unsubscribedAt: null,
  fellBackAt: null,
} as const satisfies Partial<OutboxEntryDoc>;

/** A member as planning reads them. */
export interface PlannedMember extends Reachability {
  id: string;
  phone: string;
  timeZone: string;
  values: VariableValues;
}

/**
 * Quiet hours a campaign keeps: for marketing its own, or the default 21:00–08:00; service notices none, like the
 * sender (quiet hours stored on a service campaign before they were refused do not hold it back).
 */
export const quietHoursOf = (campaign: Pick<CampaignDoc, 'purpose' | 'quietHours'>): QuietHours | null =>
  campaign.purpose === 'MARKETING' ? (campaign.quietHours ?? DEFAULT_QUIET_HOURS) : null;

export interface PlanContext {
  campaign: Pick<CampaignDoc, '_id' | 'purpose' | 'quietHours' | 'variants'>;
  occurrenceId: string;
  batchId: string;
  /** Per variant key, its published template per channel. */
  templates: ReadonlyMap<string, Partial<Record<MessageChannel, string>>>;
  /** benefit.* values, the same for every member. */
  shared: VariableValues;
  now: Date;
  /** After this the message is not sent (see expiry). */
  expiresAt: Date;
  /** The zone of a member whose own the platform does not know. */
  bankTimeZone: string;
}

/**
 * The send batch of entries written together: those PENDING (a skipped one is never sent), due when the first of them
 * is; null when none is pending.
 */
export function sendBatchOf(
  batchId: string,
  campaignId: string,
  entries: readonly OutboxEntryDoc[],
  now: Date,
): SendBatchDoc | null {
  const pending = entries.filter((entry) => entry.state === 'PENDING');
  if (pending.length === 0) return null;
  return {
    _id: batchId,
    campaignId,
    entryIds: pending.map((entry) => entry._id),
    state: 'OPEN',
    dueAt: new Date(Math.min(...pending.map((entry) => entry.dueAt.getTime()))),
    holder: null,
    leaseUntil: new Date(0),
    createdAt: now,
    revision: 0,
  };
}

/** The id of a member's message of an occurrence: its idempotency key everywhere. */
export const entryIdOf = (occurrenceId: string, memberId: string): string => `${occurrenceId}:${memberId}`;

/**
 * A member's entry, due at `bestHour` (see campaigns/send-time.ts) or else now, unless quiet hours hold it back then.
 * `bestHour` is undefined for a campaign sent as planned, and null for a BEST_HOUR campaign's member analytics gave no
 * best hour: planned now all the same, and marked `withoutBestHour` for the campaign's stats.
 */
export function planEntry(
  context: PlanContext,
  member: PlannedMember,
  bestHour?: Date | null,
): OutboxEntryDoc {
  const { campaign, now, expiresAt } = context;
  const sendAt = bestHour ?? now;
  const variant = assignVariant(member.id, campaign._id, campaign.variants) ?? campaign.variants[0]!;
  const templates = context.templates.get(variant.key) ?? {};
  const ladder = ladderFor(member, new Set(Object.keys(templates) as MessageChannel[]));
  const quiet = quietHoursOf(campaign);
  const until = quiet ? quietUntil(sendAt, member.timeZone, quiet, context.bankTimeZone) : null;
  // Planned too late (an occurrence whose planning a pause held up), or held by quiet hours past its expiry.
  const expired =
    now >= expiresAt ||
    sendAt >= expiresAt ||
    (until !== null && quiet?.policy === 'DEFER' && until >= expiresAt);
  const skipped: OutboxReason | null =
    ladder.length === 0
      ? 'NO_CHANNEL'
      : expired
        ? 'EXPIRED'
        : until && quiet?.policy === 'SKIP'
          ? 'QUIET_HOURS'
          : null;
  const purpose: Purpose = campaign.purpose;
  return {
    _id: entryIdOf(context.occurrenceId, member.id),
    campaignId: campaign._id,
    occurrenceId: context.occurrenceId,
    batchId: context.batchId,
    memberId: member.id,
    variant: variant.key,
    purpose,
    templates,
    ladder,
    channel: null,
    rung: 1,
    fallbackOf: null,
    to: ladder.some((channel) => channel !== 'IN_APP') ? member.phone : null,
    timeZone: member.timeZone,
    vars: { ...member.values, ...context.shared },
    state: skipped ? 'SKIPPED' : 'PENDING',
    reason: skipped ?? (until ? 'QUIET_HOURS' : null),
    dueAt: until ?? sendAt,
    expiresAt,
    createdAt: now,
    ...(bestHour === null ? { withoutBestHour: true } : {}),
    ...NOT_SENT_YET,
  };
}
