// How long a planned message may still go. A bank sends no "your coupon expires tomorrow" or morning digest days late
// — after a long pause, quiet hours or retries — so every outbox entry carries the instant after which the sender drops
// it (SKIPPED, EXPIRED) instead of sending it.
import type { BankCalendar } from '@bank-hub/shared';
import { nextOccurrenceAfter } from '../../campaigns/domain/timing';
import type { CampaignDoc, OccurrenceDoc } from '../../campaigns/model';
import type { OutboxEntryDoc } from '../model';
import type { Purpose } from './routing';

const HOUR = 3_600_000;

/**
 * The longest a message stays valid after it was due: marketing a day (room for the night's quiet hours and the
 * retries), a service notice three days (a statement or a credited benefit still concerns the member then).
 */
export const MAX_VALIDITY_MS: Readonly<Record<Purpose, number>> = {
  MARKETING: 24 * HOUR,
  SERVICE: 72 * HOUR,
};

/**
 * When a message due from `from` expires: its purpose's bound after that, or earlier at `by` — the next occurrence of
 * its recurring campaign (a digest is stale once the next one is due), the claim an expiry notice is about.
 */
export function expiresAfter(purpose: Purpose, from: Date, by: Date | null = null): Date {
  const bound = from.getTime() + MAX_VALIDITY_MS[purpose];
  return new Date(by ? Math.min(bound, by.getTime()) : bound);
}

/** An entry's expiry; one stored before expiries were recorded has its purpose's bound from when it was planned. */
export const expiryOf = (entry: Pick<OutboxEntryDoc, 'expiresAt' | 'purpose' | 'createdAt'>): Date =>
  entry.expiresAt ?? expiresAfter(entry.purpose, entry.createdAt);

/**
 * An entry as it stands at `now`: one still unsent past its expiry is the SKIPPED / EXPIRED the sender makes it when
 * it next decides the entry's batch — which a paused campaign's waits for, so reads must not wait for the sender.
 */
export function asOf(entry: OutboxEntryDoc, now: Date): OutboxEntryDoc {
  const unsent = entry.state === 'PENDING' || entry.state === 'SENDING';
  return unsent && now >= expiryOf(entry) ? { ...entry, state: 'SKIPPED', reason: 'EXPIRED' } : entry;
}

/**
 * When an occurrence's messages expire: their purpose's bound from when it was due (or opened, when that was later),
 * and for a recurring campaign no later than its next occurrence.
 */
export const occurrenceExpiry = (
  campaign: Pick<CampaignDoc, 'purpose' | 'trigger'>,
  occurrence: Pick<OccurrenceDoc, 'at' | 'createdAt'>,
  calendar: BankCalendar,
): Date =>
  expiresAfter(
    campaign.purpose,
    new Date(Math.max(occurrence.at.getTime(), occurrence.createdAt.getTime())),
    nextOccurrenceAfter(campaign.trigger, occurrence.at, calendar),
  );
