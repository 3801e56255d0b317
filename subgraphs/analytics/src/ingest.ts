// Ingestion: a batch of events from one device, each checked against the tracking plan and the limits. The valid ones
// are stored (once per id, whatever the retries), the others reported by their index; the member is whoever the
// verified token names, never what an event claims.
import {
  CLIENT_ID,
  MEMBER_ID,
  Scope,
  badInput,
  memberOf,
  requireScope,
  type BankCalendar,
  type Identity,
} from '@bank-hub/shared';
import {
  LIMITS,
  batchLimitExceeded,
  checkEvent,
  rateLimited,
  storedEventId,
  type Rejection,
  type ReportedEvent,
} from './domain/events';
import type { EventRateLimit } from './domain/rate-limit';
import type { Channel } from './models/event';
import type { TrackedEventDoc } from './models/tracking-plan';
import type { ArrivingEvent, EventSink } from './sink';

export interface IngestionContext {
  identity: Identity;
  sink: EventSink;
  rateLimit: EventRateLimit;
  plan: () => Promise<ReadonlyMap<string, TrackedEventDoc>>;
  /** Stamps each event with the bank's day it occurred on: what rollups, actives and caps group by. */
  calendar: BankCalendar;
  now: Date;
}

export interface TrackEventsOutcome {
  accepted: number;
  duplicates: number;
  rejected: (Rejection & { index: number })[];
}

export async function trackEvents(
  ctx: IngestionContext,
  deviceId: string,
  events: readonly (ReportedEvent & { channel: Channel })[],
): Promise<TrackEventsOutcome> {
  if (!CLIENT_ID.test(deviceId))
    throw badInput('deviceId must be 8 to 64 letters, digits, - _ . or :', 'deviceId');
  // `svc.<name>` records the hub's services' events (recordMemberEvents), keyed `<recorder>:<id>` like a device's: a
  // device by that name could take the id of an event a service is about to record, and have it dropped as a repeat.
  // A recorder's name has no colon, so with no device starting so, its keys are no device's whatever the event id.
  if (deviceId.startsWith('svc.'))
    throw badInput("deviceId may not start with svc., the hub services' own", 'deviceId');
  const definitions = await ctx.plan();
  // A subject no member id can be names no member (the gateway refuses such member tokens): such events are the
  // device's alone, as an operator's are, and never carry it on to members.
  const memberId = memberOf(ctx.identity);
  const rejected: TrackEventsOutcome['rejected'] = [];
  const valid: { index: number; doc: ArrivingEvent }[] = [];
  events.forEach((event, index) => {
    if (index >= LIMITS.batch) return rejected.push({ index, ...batchLimitExceeded() });
    const checked = checkEvent(event, definitions.get(event.name), ctx.now);
    if (!checked.ok) return rejected.push({ index, ...checked.rejection });
    valid.push({
      index,
      doc: {
        _id: storedEventId(deviceId, event.id),
        name: event.name,
        memberId,
        deviceId,
        channel: event.channel,
        occurredAt: event.occurredAt,
        day: ctx.calendar.dayOf(event.occurredAt),
        properties: checked.properties,
      },
    });
  });
  const { granted, limitedBy } = ctx.rateLimit.take(deviceId, memberId, valid.length, ctx.now);
  for (const { index } of valid.slice(granted)) rejected.push({ index, ...rateLimited(limitedBy) });
  // The same id twice in one batch is one event.
  const unique = [...new Map(valid.slice(0, granted).map(({ doc }) => [doc._id, doc])).values()];
  const stored = await ctx.sink.store(unique);
  return {
    accepted: stored.length,
    duplicates: granted - stored.length,
    rejected: rejected.sort((a, b) => a.index - b.index),
  };
}

/** An event a hub service observed about a member (messages: a message delivered, opened, clicked). */
export interface MemberEvent extends ReportedEvent {
  channel: Channel;
  memberId: string;
}

/**
 * The hub's service door: events a subgraph records about members, checked against the tracking plan as trackEvents
 * checks a device's. The recording service stands where a device would (`<service>:<id>` is the idempotency key),
 * and its events are marked `recordedBy` it: they are about the member, but a delivered message is not the member
 * being active, so activity counts leave them out.
 */
export async function recordMemberEvents(
  ctx: IngestionContext,
  events: readonly MemberEvent[],
): Promise<TrackEventsOutcome> {
  const recorder = requireScope(ctx.identity, Scope.SERVICE);
  const definitions = await ctx.plan();
  const rejected: TrackEventsOutcome['rejected'] = [];
  const valid: ArrivingEvent[] = [];
  events.forEach((event, index) => {
    if (index >= LIMITS.batch) return rejected.push({ index, ...batchLimitExceeded() });
    if (!MEMBER_ID.test(event.memberId))
      return rejected.push({
        index,
        code: 'INVALID_ID',
        message: 'memberId is not a member id',
        field: 'memberId',
      });
    const checked = checkEvent(event, definitions.get(event.name), ctx.now, LIMITS.servicePastMs);
    if (!checked.ok) return rejected.push({ index, ...checked.rejection });
    valid.push({
      _id: `${recorder}:${event.id}`,
      name: event.name,
      memberId: event.memberId,
      deviceId: recorder,
      recordedBy: recorder,
      channel: event.channel,
      occurredAt: event.occurredAt,
      day: ctx.calendar.dayOf(event.occurredAt),
      properties: checked.properties,
    });
  });
  const unique = [...new Map(valid.map((doc) => [doc._id, doc])).values()];
  const stored = await ctx.sink.store(unique);
  return { accepted: stored.length, duplicates: valid.length - stored.length, rejected };
}
