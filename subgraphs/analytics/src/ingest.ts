// Ingestion: a batch of events from one device, each checked against the tracking plan and the limits. The valid ones
// are stored (once per id, whatever the retries), the others reported by their index; the member is whoever the
// verified token names, never what an event claims.
import { CLIENT_ID, Scope, badInput, hasScope, type Identity } from '@bank-hub/shared';
import {
  LIMITS,
  batchLimitExceeded,
  checkEvent,
  rateLimited,
  type Rejection,
  type ReportedEvent,
} from './domain/events';
import { dayOf } from './domain/rollups';
import type { DeviceRateLimit } from './domain/rate-limit';
import type { Channel, EventDoc } from './models/event';
import type { TrackedEventDoc } from './models/tracking-plan';
import type { EventSink } from './sink';

export interface IngestionContext {
  identity: Identity;
  sink: EventSink;
  rateLimit: DeviceRateLimit;
  plan: () => Promise<ReadonlyMap<string, TrackedEventDoc>>;
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
  const definitions = await ctx.plan();
  const memberId = ctx.identity.subject && hasScope(ctx.identity, Scope.MEMBER) ? ctx.identity.subject : null;
  const rejected: TrackEventsOutcome['rejected'] = [];
  const valid: { index: number; doc: EventDoc }[] = [];
  events.forEach((event, index) => {
    if (index >= LIMITS.batch) return rejected.push({ index, ...batchLimitExceeded() });
    const checked = checkEvent(event, definitions.get(event.name), ctx.now);
    if (!checked.ok) return rejected.push({ index, ...checked.rejection });
    valid.push({
      index,
      doc: {
        _id: `${deviceId}:${event.id}`,
        name: event.name,
        memberId,
        deviceId,
        channel: event.channel,
        occurredAt: event.occurredAt,
        receivedAt: ctx.now,
        day: dayOf(event.occurredAt),
        properties: checked.properties,
      },
    });
  });
  const granted = ctx.rateLimit.take(deviceId, valid.length, ctx.now);
  for (const { index } of valid.slice(granted)) rejected.push({ index, ...rateLimited() });
  // The same id twice in one batch is one event.
  const unique = [...new Map(valid.slice(0, granted).map(({ doc }) => [doc._id, doc])).values()];
  const stored = await ctx.sink.store(unique);
  return {
    accepted: stored.length,
    duplicates: granted - stored.length,
    rejected: rejected.sort((a, b) => a.index - b.index),
  };
}
