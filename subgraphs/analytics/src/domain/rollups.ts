// What events add to the daily rollups: impressions and clicks per creative and variant, views per product, active
// members per channel. The same functions serve the live increments and the exact rebuild of a day. Days are the bank's
// business days (BANK_TIME_ZONE): an event's `day` is stamped at ingest.
import { addDays, type DayKey } from '@bank-hub/shared';
import type { EventDoc } from '../models/event';
import type { ExposureDoc } from '../models/exposure';
import type { DailyActiveDoc, RollupDoc, RollupIncrement, RollupKind } from '../models/rollup';

/** The first day of a window of `days` days that ends on `today` (the bank's day). */
export const windowStart = (days: number, today: DayKey): DayKey => addDays(today, -(days - 1));

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

/**
 * Rollup increments, active members and exposures added up from events a batch at a time: what the live writer keeps
 * pending and what a rebuild sums a day into. It holds one entry per document it will write, never the events.
 */
export class RollupTally {
  /** Per rollup document. */
  readonly increments = new Map<string, RollupIncrement>();
  /** Per member, day and channel. */
  readonly actives = new Map<string, DailyActiveDoc>();
  /** Each member's impressions of each creative per day: what frequency caps count. */
  readonly exposures = new Map<string, ExposureDoc>();

  get empty(): boolean {
    return this.increments.size === 0 && this.actives.size === 0 && this.exposures.size === 0;
  }

  /** The members active in these events; events a hub service recorded are not activity. */
  addActive(events: readonly EventDoc[]): this {
    for (const { memberId, day, channel, recordedBy } of events) {
      if (!memberId || recordedBy) continue;
      const _id = `${day}|${channel}|${memberId}`;
      this.actives.set(_id, { _id, day, channel, memberId });
    }
    return this;
  }

  /** What the events add to the rollups and to members' exposures. */
  addCounts(events: readonly EventDoc[]): this {
    for (const event of events) {
      const increment = incrementOf(event);
      if (increment) this.addIncrement(increment);
      const creativeId = text(event.properties.creativeId);
      if (event.name === 'creative_impression' && event.memberId && creativeId) {
        const _id = `${event.day}|${event.memberId}|${creativeId}`;
        this.addExposures([{ _id, day: event.day, memberId: event.memberId, creativeId, impressions: 1 }]);
      }
    }
    return this;
  }

  /** Adds exposures counted elsewhere; past `limit` pending documents, new ones are left out. */
  addExposures(exposures: Iterable<ExposureDoc>, limit = Infinity): this {
    for (const exposure of exposures) {
      const known = this.exposures.get(exposure._id);
      if (known) known.impressions += exposure.impressions;
      else if (this.exposures.size < limit) this.exposures.set(exposure._id, { ...exposure });
    }
    return this;
  }

  /** The rollup documents of what was added. */
  rollups(): RollupDoc[] {
    return [...this.increments.values()].map(({ id, ...rest }) => ({ _id: id, ...rest }));
  }

  private addIncrement(increment: RollupIncrement): void {
    const known = this.increments.get(increment.id);
    if (!known) {
      this.increments.set(increment.id, increment);
      return;
    }
    known.impressions += increment.impressions;
    known.clicks += increment.clicks;
    known.views += increment.views;
  }
}

/** clicks / impressions, or null when there were no impressions. */
export const clickThroughRate = (clicks: number, impressions: number): number | null =>
  impressions > 0 ? clicks / impressions : null;
