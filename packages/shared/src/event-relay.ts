// A subgraph's events about members go to analytics through the graph: analytics' recordMemberEvents with the hub's
// service identity, which analytics stores `recordedBy` that service. Events wait in the subgraph's own event_relay
// collection until analytics took them — each under an id of its own, the event's id at analytics too — so analytics
// being down delays them and loses none, and a relay repeated after a crash is stored once by analytics. Messages
// relays what happened to its messages this way, products the service flows its members completed.
import { Schema, type Connection, type Model } from 'mongoose';
import { ErrorCode, hubError } from './errors';
import type { GraphClient } from './graph-client';
import { serviceIdentity } from './identity';
import type { Logger } from './logger';
import { duplicateIndexes } from './mongo';

export interface RelayedEventDoc {
  /** The service's own id for the event (8 to 64 of letters, digits, - _ . :): its id at analytics too. */
  _id: string;
  /** An event name from the tracking plan. */
  name: string;
  memberId: string;
  occurredAt: Date;
  /** As the tracking plan types the event's properties. */
  properties: Record<string, unknown>;
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

const RECORD = `mutation RecordMemberEvents($events: [MemberEventInput!]!) {
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

/** Analytics' channels: the one a service's events are filed under. */
export type EventChannel = 'APP' | 'WEB' | 'MINI_PROGRAM' | 'PARTNER';

/**
 * Relays queued events to analytics as `service`, filed under `channel`, oldest first; returns how many left the
 * queue. An event analytics refuses (an event the tracking plan lacks, one older than it takes) would be refused
 * forever: it is logged and dropped.
 */
export async function relayEvents(deps: {
  relay: EventRelayRepository;
  graph: GraphClient;
  logger: Logger;
  service: string;
  channel: EventChannel;
}): Promise<number> {
  let relayed = 0;
  for (let pass = 0; pass < BATCHES_PER_PASS; pass++) {
    const events = await deps.relay.oldest(BATCH);
    if (events.length === 0) break;
    const response = await deps.graph.query<Recorded>({ identity: serviceIdentity(deps.service) }, RECORD, {
      events: events.map((event) => ({
        id: event._id,
        name: event.name,
        memberId: event.memberId,
        occurredAt: event.occurredAt.toISOString(),
        channel: deps.channel,
        properties: event.properties,
      })),
    });
    const recorded = response.data?.recordMemberEvents;
    if (!recorded) {
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, `analytics could not take ${deps.service} events`, {
        serviceName: 'analytics',
        reason: response.errors[0]?.message,
      });
    }
    for (const rejection of recorded.rejected) {
      deps.logger.warn(
        { event: events[rejection.index]?._id, code: rejection.code, reason: rejection.message },
        `analytics refused a ${deps.service} event; dropped`,
      );
    }
    await deps.relay.remove(events.map((event) => event._id));
    relayed += events.length;
    if (events.length < BATCH) break;
  }
  return relayed;
}
