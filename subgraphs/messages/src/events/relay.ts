// What happened to messages goes to analytics as events (message_delivered, message_open, message_click), through the
// graph: analytics' recordMemberEvents with the hub's service identity. Events wait in messages' own event_relay
// collection until analytics took them — written in the same step as what they report, each under an id of its own
// (`<message>.<what>`) — so analytics being down delays them and loses none, and a relay repeated after a crash is
// stored once by analytics.
import { createHash } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';
import {
  ErrorCode,
  hubError,
  serviceIdentity,
  type GraphClient,
  type Logger,
  type MessageChannel,
  duplicateIndexes,
} from '@bank-hub/shared';

export type MessageEventName = 'message_delivered' | 'message_open' | 'message_click';

export interface RelayedEventDoc {
  /** `<message id>.<delivered|open|click>` (see eventIdOf): the event's id at analytics too. */
  _id: string;
  name: MessageEventName;
  memberId: string;
  occurredAt: Date;
  properties: {
    messageId: string;
    campaignId: string;
    variant: string;
    messageChannel: MessageChannel;
    link?: string;
  };
}

const relaySchema = new Schema<RelayedEventDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    memberId: { type: String, required: true },
    occurredAt: { type: Date, required: true },
    properties: { type: Schema.Types.Mixed, required: true },
  },
  { collection: 'event_relay', versionKey: false },
);
relaySchema.index({ occurredAt: 1 });

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

export class EventRelayRepository {
  constructor(readonly model: Model<RelayedEventDoc>) {}

  static open(connection: Connection): EventRelayRepository {
    return new EventRelayRepository(connection.model<RelayedEventDoc>('RelayedEvent', relaySchema));
  }

  /** Queues events; one already queued (or relayed and queued again) is not queued twice. */
  async enqueue(events: readonly RelayedEventDoc[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.model.collection.insertMany([...events] as never[], { ordered: false });
    } catch (error) {
      if (!duplicateIndexes(error)) throw error;
    }
  }

  oldest(limit: number): Promise<RelayedEventDoc[]> {
    return this.model.find({}).sort({ occurredAt: 1 }).limit(limit).lean<RelayedEventDoc[]>().exec();
  }

  async remove(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.model.deleteMany({ _id: { $in: [...ids] } }).exec();
  }
}

const RECORD = `mutation RecordMessageEvents($events: [MemberEventInput!]!) {
  recordMemberEvents(events: $events) { accepted duplicates rejected { index code message } }
}`;

interface Recorded {
  recordMemberEvents: {
    accepted: number;
    duplicates: number;
    rejected: { index: number; code: string; message: string }[];
  } | null;
}

/** Analytics' batch limit. */
const BATCH = 100;
/** Batches one pass relays at most; the next pass goes on. */
const BATCHES_PER_PASS = 20;

/**
 * Relays queued events to analytics, oldest first; returns how many left the queue. An event analytics refuses (an
 * event the tracking plan lacks, one older than it takes) would be refused forever: it is logged and dropped.
 */
export async function relayEvents(deps: {
  relay: EventRelayRepository;
  graph: GraphClient;
  logger: Logger;
}): Promise<number> {
  let relayed = 0;
  for (let pass = 0; pass < BATCHES_PER_PASS; pass++) {
    const events = await deps.relay.oldest(BATCH);
    if (events.length === 0) break;
    const response = await deps.graph.query<Recorded>({ identity: serviceIdentity('messages') }, RECORD, {
      events: events.map((event) => ({
        id: event._id,
        name: event.name,
        memberId: event.memberId,
        occurredAt: event.occurredAt.toISOString(),
        // The channel analytics files them under: the bank's app, whose messages they are.
        channel: 'APP',
        properties: event.properties,
      })),
    });
    const recorded = response.data?.recordMemberEvents;
    if (!recorded) {
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'analytics could not take message events', {
        serviceName: 'analytics',
        reason: response.errors[0]?.message,
      });
    }
    for (const rejection of recorded.rejected) {
      deps.logger.warn(
        { event: events[rejection.index]?._id, code: rejection.code, reason: rejection.message },
        'analytics refused a message event; dropped',
      );
    }
    await deps.relay.remove(events.map((event) => event._id));
    relayed += events.length;
    if (events.length < BATCH) break;
  }
  return relayed;
}
