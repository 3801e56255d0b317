// What happened to messages goes to analytics as events (message_delivered, message_open, message_click), through the
// shared event relay (see @bank-hub/shared's event-relay): each is queued in the same step as what it reports, under
// an id of its own (`<message>.<what>`), so analytics being down delays them and loses none.
import { createHash } from 'node:crypto';
import {
  relayEvents,
  type EventRelayRepository,
  type GraphClient,
  type Logger,
  type MessageChannel,
  type RelayedEventDoc,
} from '@bank-hub/shared';

export type MessageEventName = 'message_delivered' | 'message_open' | 'message_click';

/** What an event of a message is about. */
export interface MessageFacts {
  _id: string;
  memberId: string;
  campaignId: string;
  variant: string;
  channel: MessageChannel;
}

/**
 * An event's id: the message's id and what happened, as long as that fits analytics' 64 characters of client ids;
 * a digest of the message id otherwise.
 */
function eventIdOf(messageId: string, what: string): string {
  const id = `${messageId}.${what}`;
  return id.length <= 64
    ? id
    : `m${createHash('sha256').update(messageId).digest('hex').slice(0, 40)}.${what}`;
}

export function messageEvent(
  message: MessageFacts,
  name: MessageEventName,
  at: Date,
  link?: string | null,
): RelayedEventDoc {
  const what = name === 'message_delivered' ? 'delivered' : name === 'message_open' ? 'open' : 'click';
  return {
    _id: eventIdOf(message._id, what),
    name,
    memberId: message.memberId,
    occurredAt: at,
    properties: {
      messageId: message._id,
      campaignId: message.campaignId,
      variant: message.variant,
      messageChannel: message.channel,
      ...(link ? { link: link.slice(0, 500) } : {}),
    },
  };
}

/** Relays queued message events to analytics as messages, filed under the bank's app, whose messages they are. */
export const relayMessageEvents = (deps: {
  relay: EventRelayRepository;
  graph: GraphClient;
  logger: Logger;
}) => relayEvents({ ...deps, service: 'messages', channel: 'APP' });
