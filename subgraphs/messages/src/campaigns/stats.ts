// What a campaign's messages did, counted from the outbox in one aggregation: per variant and channel rung, sent,
// delivered, opened, clicked, unsubscribed and the rest, and the skipped ones by reason. The outbox is the record of
// every message; analytics gets the same facts as events for its own analyses.
import type { BankCalendar, MessageChannel } from '@bank-hub/shared';
import type { MessagesContext } from '../context';
import type { MessagesRepositories } from '../models';
import { expiredAt } from '../outbox/model';
import type { CampaignDoc } from './model';
import { isExhausted } from './domain/timing';

export interface MessageCounts {
  planned: number;
  pending: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  failed: number;
  fellBack: number;
  skipped: number;
}

export interface CampaignStats {
  /** The campaign counted, for its conversions. */
  campaignId: string;
  total: MessageCounts;
  rows: { variant: string; channel: MessageChannel; counts: MessageCounts }[];
  skipped: { reason: string; messages: number }[];
  /** A BEST_HOUR campaign's members planned as planned, for want of a best hour from analytics. */
  plannedWithoutBestHour: number;
}

const ZERO: MessageCounts = {
  planned: 0,
  pending: 0,
  sent: 0,
  delivered: 0,
  opened: 0,
  clicked: 0,
  unsubscribed: 0,
  failed: 0,
  fellBack: 0,
  skipped: 0,
};

const stamped = (field: string) => ({ $sum: { $cond: [{ $gt: [`$${field}`, null] }, 1, 0] } });
const inState = (...states: string[]) => ({ $sum: { $cond: [{ $in: ['$state', states] }, 1, 0] } });

type Row = {
  _id: { variant: string; channel: MessageChannel | null; reason: string | null };
  withoutBestHour: number;
} & MessageCounts;

const add = (a: MessageCounts, b: MessageCounts): MessageCounts =>
  Object.fromEntries(
    Object.keys(ZERO).map((key) => [key, a[key as keyof MessageCounts] + b[key as keyof MessageCounts]]),
  ) as unknown as MessageCounts;

const group = {
  $group: {
    _id: {
      variant: '$variant',
      channel: '$channel',
      reason: { $cond: [{ $eq: ['$state', 'SKIPPED'] }, '$reason', null] },
    },
    planned: { $sum: 1 },
    pending: inState('PENDING', 'SENDING'),
    sent: stamped('sentAt'),
    delivered: stamped('deliveredAt'),
    opened: stamped('openedAt'),
    clicked: stamped('clickedAt'),
    unsubscribed: stamped('unsubscribedAt'),
    failed: inState('DEAD'),
    fellBack: stamped('fellBackAt'),
    skipped: inState('SKIPPED'),
    // Members, not messages: a fallback carries the mark of the message it stands in for.
    withoutBestHour: {
      $sum: { $cond: [{ $and: [{ $eq: ['$withoutBestHour', true] }, { $eq: ['$rung', 1] }] }, 1, 0] },
    },
  },
};

/**
 * A campaign's stats as its messages stand at `now`: one still unsent past its expiry counts as the SKIPPED / EXPIRED
 * the sender makes it when it next decides its batch, which a paused campaign's waits for.
 */
export async function campaignStats(
  repos: MessagesRepositories,
  campaignId: string,
  now: Date,
): Promise<CampaignStats> {
  const [facets] = await repos.outbox.entries
    .aggregate<{ current: Row[]; expired: Row[] }>([
      { $match: { campaignId } },
      {
        $facet: {
          current: [{ $match: expiredAt(now, false) }, group],
          expired: [{ $match: expiredAt(now, true) }, group],
        },
      },
    ])
    .exec();
  const rows = [
    ...(facets?.current ?? []),
    ...(facets?.expired ?? []).map((row) => ({
      ...row,
      _id: { ...row._id, reason: 'EXPIRED' },
      pending: 0,
      skipped: row.pending,
    })),
  ];
  const counts = (row: Row): MessageCounts => {
    const { _id: _key, withoutBestHour: _members, ...values } = row;
    return { ...ZERO, ...values };
  };
  const byRung = new Map<string, { variant: string; channel: MessageChannel; counts: MessageCounts }>();
  const skipped = new Map<string, number>();
  let total = ZERO;
  let plannedWithoutBestHour = 0;
  for (const row of rows) {
    total = add(total, counts(row));
    plannedWithoutBestHour += row.withoutBestHour;
    if (row._id.reason) skipped.set(row._id.reason, (skipped.get(row._id.reason) ?? 0) + row.skipped);
    // A message that never went has no rung.
    if (!row._id.channel) continue;
    const key = `${row._id.variant}|${row._id.channel}`;
    const known = byRung.get(key);
    byRung.set(key, {
      variant: row._id.variant,
      channel: row._id.channel,
      counts: known ? add(known.counts, counts(row)) : counts(row),
    });
  }
  const order = ['FIVE_G', 'SMS', 'IN_APP'];
  return {
    campaignId,
    total,
    rows: [...byRung.values()].sort(
      (a, b) => a.variant.localeCompare(b.variant) || order.indexOf(a.channel) - order.indexOf(b.channel),
    ),
    skipped: [...skipped]
      .map(([reason, messages]) => ({ reason, messages }))
      .sort((a, b) => a.reason.localeCompare(b.reason)),
    plannedWithoutBestHour,
  };
}

/** Where a campaign stands now, reading whether its messages still wait and its latest occurrences. */
export async function currentState(ctx: MessagesContext, campaign: CampaignDoc): Promise<CampaignState> {
  const [pending, occurrences] = await Promise.all([
    ctx.loaders.hasPending.load(campaign._id),
    ctx.repos.campaigns.occurrencesOf(campaign._id, 3),
  ]);
  const planning = occurrences.some((occurrence) => occurrence.state === 'PLANNING');
  return campaignState(campaign, pending, planning, ctx.calendar);
}

export type CampaignState = 'DRAFT' | 'SCHEDULED' | 'RUNNING' | 'PAUSED' | 'COMPLETED' | 'ARCHIVED';

/** Where a campaign stands, from its workflow status, its running state and whether messages still wait. */
export function campaignState(
  campaign: CampaignDoc,
  hasPending: boolean,
  planning: boolean,
  calendar: BankCalendar,
): CampaignState {
  if (campaign.status === 'ARCHIVED') return 'ARCHIVED';
  if (campaign.status !== 'PUBLISHED') return 'DRAFT';
  if (campaign.paused) return 'PAUSED';
  if (campaign.trigger.kind === 'EVENT') return 'RUNNING';
  if (!campaign.plannedThrough) return 'SCHEDULED';
  if (hasPending || planning || !isExhausted(campaign.trigger, campaign.plannedThrough, calendar))
    return 'RUNNING';
  return 'COMPLETED';
}
