// What events add to the daily rollups: impressions and clicks per creative and variant, views per product, active
// members per channel. The same functions serve the live increments and the exact rebuild of a day.
import type { EventDoc } from '../models/event';
import type { ExposureDoc } from '../models/exposure';
import type { DailyActiveDoc, RollupDoc, RollupIncrement, RollupKind } from '../models/rollup';

/** The UTC day of an instant, YYYY-MM-DD. */
export const dayOf = (instant: Date): string => instant.toISOString().slice(0, 10);

/** The first day of a window of `days` days that ends today (UTC). */
export function windowStart(days: number, now: Date): string {
  const start = new Date(now);
  start.setUTCDate(start.getUTCDate() - (days - 1));
  return dayOf(start);
}

const rollupId = (day: string, kind: RollupKind, subject: string, variant: string | null) =>
  `${day}|${kind}|${subject}|${variant ?? ''}`;

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null;

/** What one event adds, if anything. */
function incrementOf(event: EventDoc): RollupIncrement | null {
  const zero = { impressions: 0, clicks: 0, views: 0 };
  const creative = text(event.properties.creativeId);
  const variant = text(event.properties.variant);
  if ((event.name === 'creative_impression' || event.name === 'creative_click') && creative) {
    return {
      id: rollupId(event.day, 'creative', creative, variant),
      day: event.day,
      kind: 'creative',
      subject: creative,
      variant,
      ...zero,
      ...(event.name === 'creative_impression' ? { impressions: 1 } : { clicks: 1 }),
    };
  }
  const product = text(event.properties.productId);
  if (event.name === 'product_view' && product) {
    return {
      id: rollupId(event.day, 'product', product, null),
      day: event.day,
      kind: 'product',
      subject: product,
      variant: null,
      ...zero,
      views: 1,
    };
  }
  return null;
}

/** Adds increments into `into`, one entry per rollup document. */
export function mergeIncrements(
  into: Map<string, RollupIncrement>,
  increments: Iterable<RollupIncrement>,
): void {
  for (const increment of increments) {
    const known = into.get(increment.id);
    if (!known) {
      into.set(increment.id, { ...increment });
      continue;
    }
    known.impressions += increment.impressions;
    known.clicks += increment.clicks;
    known.views += increment.views;
  }
}

/** The events' increments, one per rollup document. */
export function rollupIncrements(events: readonly EventDoc[]): RollupIncrement[] {
  const merged = new Map<string, RollupIncrement>();
  mergeIncrements(
    merged,
    events.map(incrementOf).filter((increment): increment is RollupIncrement => increment !== null),
  );
  return [...merged.values()];
}

/** The members active in these events, per day and channel; events a hub service recorded are not activity. */
export function activesOf(events: readonly EventDoc[]): DailyActiveDoc[] {
  const actives = new Map<string, DailyActiveDoc>();
  for (const { memberId, day, channel, recordedBy } of events) {
    if (!memberId || recordedBy) continue;
    const _id = `${day}|${channel}|${memberId}`;
    actives.set(_id, { _id, day, channel, memberId });
  }
  return [...actives.values()];
}

/** Each member's impressions of each creative per day: what frequency caps count. */
export function exposuresOf(events: readonly EventDoc[]): ExposureDoc[] {
  const exposures = new Map<string, ExposureDoc>();
  for (const event of events) {
    const creativeId = text(event.properties.creativeId);
    if (event.name !== 'creative_impression' || !event.memberId || !creativeId) continue;
    const _id = `${event.day}|${event.memberId}|${creativeId}`;
    const known = exposures.get(_id);
    if (known) known.impressions += 1;
    else exposures.set(_id, { _id, day: event.day, memberId: event.memberId, creativeId, impressions: 1 });
  }
  return [...exposures.values()];
}

/** A day's rollup documents, computed from all of its events. */
export const rollupsOfDay = (events: readonly EventDoc[]): RollupDoc[] =>
  rollupIncrements(events).map(({ id, ...rest }) => ({ _id: id, ...rest }));

/** clicks / impressions, or null when there were no impressions. */
export const clickThroughRate = (clicks: number, impressions: number): number | null =>
  impressions > 0 ? clicks / impressions : null;
