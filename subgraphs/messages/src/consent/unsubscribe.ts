// An unsubscribe through a message — its link followed, or an unsubscribe keyword replied to it — withdraws the
// member's marketing consent on the message's channel once: repeating it (a link followed again, a receipt replayed)
// changes nothing more, not even after the member has given consent again. The message is stamped first and the
// consent written after, so a repeat after a failure in between finishes the withdrawal instead of skipping it: the
// consent log tells whether this message's withdrawal was written.
import type { MessageChannel } from '@bank-hub/shared';
import type { MessagesRepositories } from '../models';
import type { ConsentSource } from './model';

export async function unsubscribeThrough(
  repos: MessagesRepositories,
  message: { _id: string; memberId: string; channel: MessageChannel },
  source: Extract<ConsentSource, 'UNSUBSCRIBE_LINK' | 'UNSUBSCRIBE_REPLY'>,
  at: Date,
): Promise<void> {
  const first = await repos.outbox.stampOnce(message._id, 'unsubscribedAt', at);
  if (first || !(await repos.consents.withdrawnThrough(message.memberId, message._id)))
    await repos.consents.set(message.memberId, message.channel, 'MARKETING', false, source, at, message._id);
}
