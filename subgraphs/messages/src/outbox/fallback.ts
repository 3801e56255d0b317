// The FIVE_G rung's fallback: a 5G message with no delivery receipt within MESSAGES_FIVE_G_RECEIPT_TIMEOUT_MS (or one
// the carrier reports undeliverable) is sent again as the SMS rendering of the same template — once. The SMS is an
// entry of its own (the 5G entry's id plus `:SMS`, its idempotency key), so the rung is recorded and a sweep repeated
// after a crash plans it once; the 5G entry is stamped fellBackAt. It is the same touch of the member as the 5G
// message, so it takes no second one from the contact budget.
import type { MessagesRepositories } from '../models';
import { expiryOf } from './domain/expiry';
import { NOT_SENT_YET, sendBatchOf } from './domain/plan';
import type { OutboxEntryDoc } from './model';

const SWEEP = 500;

export const fallbackIdOf = (entryId: string): string => `${entryId}:SMS`;

export function fallbackEntry(entry: OutboxEntryDoc, batchId: string, now: Date): OutboxEntryDoc {
  return {
    ...entry,
    _id: fallbackIdOf(entry._id),
    batchId,
    ladder: ['SMS'],
    channel: null,
    rung: 2,
    fallbackOf: entry._id,
    state: 'PENDING',
    reason: null,
    dueAt: now,
    // The same message on another rung: it expires with the card (one stored without an expiry too).
    expiresAt: expiryOf(entry),
    createdAt: now,
    ...NOT_SENT_YET,
  };
}

/** Falls these FIVE_G messages back to SMS; returns how many fell back now. */
export async function fallBack(
  repos: MessagesRepositories,
  entries: readonly OutboxEntryDoc[],
  now: Date,
): Promise<number> {
  const eligible = entries.filter(
    (entry) => entry.channel === 'FIVE_G' && entry.rung === 1 && !entry.fellBackAt && !entry.deliveredAt,
  );
  if (eligible.length === 0) return 0;
  const byCampaign = new Map<string, OutboxEntryDoc[]>();
  for (const entry of eligible)
    byCampaign.set(entry.campaignId, [...(byCampaign.get(entry.campaignId) ?? []), entry]);
  for (const [campaignId, group] of byCampaign) {
    const batchId = `${campaignId}.fallback.${now.getTime().toString(36)}.${group[0]!._id}`.slice(0, 200);
    const fallbacks = group.map((entry) => fallbackEntry(entry, batchId, now));
    await repos.outbox.addBatch(sendBatchOf(batchId, campaignId, fallbacks, now)!, fallbacks);
  }
  let fell = 0;
  for (const entry of eligible) if (await repos.outbox.stampOnce(entry._id, 'fellBackAt', now)) fell += 1;
  return fell;
}

/** Falls back every FIVE_G message whose receipt is overdue. */
export async function fallBackOverdue(
  repos: MessagesRepositories,
  receiptTimeoutMs: number,
  now = new Date(),
): Promise<number> {
  let total = 0;
  for (;;) {
    const overdue = await repos.outbox.awaitingFallback(new Date(now.getTime() - receiptTimeoutMs), SWEEP);
    total += await fallBack(repos, overdue, now);
    if (overdue.length < SWEEP) return total;
  }
}
