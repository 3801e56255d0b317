// A message found to have reached its member — a carrier's receipt (delivered, read, clicked or replied to) or its
// unsubscribe link followed — is recorded delivered once, whoever finds it first: a card so recorded never falls back
// to SMS, and one given up after an attempt (a dead letter a failure wrote, or skipped on a later pass: consent
// withdrawn, expired) is recorded sent after all, with its budget touch.
import type { MessageChannel, RelayedEventDoc } from '@bank-hub/shared';
import { messageEvent } from '../events/relay';
import type { MessagesRepositories } from '../models';
import { takesTouch } from './contacts';
import type { OutboxEntryDoc } from './model';

/** Stamps the message delivered at `at` the first time; its event for analytics then, else null. */
export async function recordDelivered(
  repos: MessagesRepositories,
  entry: OutboxEntryDoc & { channel: MessageChannel },
  at: Date,
): Promise<RelayedEventDoc | null> {
  if (!(await repos.outbox.stampOnce(entry._id, 'deliveredAt', at))) return null;
  // It may have been given up already, or just before (a FAILED receipt handled at the same moment elsewhere, a
  // sender skipping it): the delivery wins, and its touch (given back, or about to be) is put back; the other side
  // checks again after.
  if ((await repos.outbox.reviveDelivered(entry._id, at)) && takesTouch(entry))
    await repos.contacts.restore(entry.memberId, entry._id, entry.channel, entry.sentAt ?? at);
  return messageEvent(entry, 'message_delivered', at);
}
