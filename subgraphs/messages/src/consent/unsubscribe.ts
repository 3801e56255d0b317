// An unsubscribe through a message — its link followed, or an unsubscribe keyword replied to it — withdraws the
// member's marketing consent on the message's channel once: repeating it (a link followed again, a receipt replayed)
// changes nothing more, not even after the member has given consent again. The message is stamped first and the
// consent written after, so a repeat after a failure in between finishes the withdrawal instead of skipping it: the
// consent log tells whether this message's withdrawal was written. It also proves the message reached the member
// (carriers do not always report a 5G card delivered): it is recorded delivered, so the card never falls back to an
// SMS of the message the member just unsubscribed from.
import type { MessageChannel } from '@bank-hub/shared';
import type { MessagesRepositories } from '../models';
import { recordDelivered } from '../outbox/delivered';
import type { OutboxEntryDoc } from '../outbox/model';
import type { ConsentSource } from './model';

export async function unsubscribeThrough(
  repos: MessagesRepositories,
  message: OutboxEntryDoc & { channel: MessageChannel },
  source: Extract<ConsentSource, 'UNSUBSCRIBE_LINK' | 'UNSUBSCRIBE_REPLY'>,
  at: Date,
): Promise<void> {
  const first = await repos.outbox.stampOnce(message._id, 'unsubscribedAt', at);
  if (first || !(await repos.consents.withdrawnThrough(message.memberId, message._id)))
    await repos.consents.set(message.memberId, message.channel, 'MARKETING', false, source, at, message._id);
  if (message.deliveredAt) return;
  const delivered = await recordDelivered(repos, message, at);
  if (delivered) await repos.relay.enqueue([delivered]);
}
