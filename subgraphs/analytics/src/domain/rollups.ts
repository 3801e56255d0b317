// What events add to the daily rollups: impressions and clicks per creative and variant; views, impressions, clicks and
// purchases per product; views, clicks and shares per topic; active members per channel. The same functions serve the
// live increments and the exact rebuild of a day. Days are the bank's business days (BANK_TIME_ZONE): an event's `day`
// is stamped at ingest.
import { addDays, type DayKey } from '@bank-hub/shared';
import type { EventDoc } from '../models/event';
import { TOPIC_EVENTS, isTopicEvent } from './topic-heat';
import type { ExposureDoc } from '../models/exposure';
import type { FirstCreatives } from './exposures';
import type { DailyActiveDoc, RollupDoc, RollupIncrement, RollupKind } from '../models/rollup';
import { PRODUCTS_SERVICE } from './events';
import { MAX_PURCHASE_AMOUNT } from './rating';

/** The first day of a window of `days` days that ends on `today` (the bank's day). */
export const windowStart = (days: number, today: DayKey): DayKey => addDays(today, -(days - 1));

const rollupId = (day: string, kind: RollupKind, subject: string, variant: string | null) =>
  `${day}|${kind}|${subject}|${variant ?? ''}`;

const text = (value: unknown): string | null =>
  typeof value === 'string' && value.length > 0 ? value : null;

/** A currency as products records it (ISO 4217): a plain field name, so amounts are kept per currency. */
const CURRENCY = /^[A-Z]{3}$/;

/**
 * What a purchase's amount counts for: itself when it is a number above 0 and at most MAX_PURCHASE_AMOUNT, as the
 * member rating counts it; otherwise (NaN, an infinity, a negative or absurd figure stored by other means) nothing.
 */
export const countedAmount = (amount: unknown): number =>
  typeof amount === 'number' && amount > 0 && amount <= MAX_PURCHASE_AMOUNT ? amount : 0;

/** What a device's product event counts as on the product's rollup. */
const PRODUCT_EVENT_COUNTS = {
  product_view: 'views',
  product_impression: 'impressions',
  product_click: 'clicks',
} as const;

/**
 * A purchase of a product, as products recorded it: a flow_completed it recorded with an amount (a purchase placed,
 * PURCHASE in models/event.ts) and the product bought. A device's own flow_completed buys nothing.
 */
function purchaseOf(event: EventDoc): { productId: string; amounts: Record<string, number> } | null {
  const productId = rollupKey(event.properties.productId);
  if (
    event.name !== 'flow_completed' ||
    event.recordedBy !== PRODUCTS_SERVICE ||
    !productId ||
    !Object.hasOwn(event.properties, 'amount')
  )
    return null;
  const currency = text(event.properties.currency);
  const amount = countedAmount(event.properties.amount);
  return {
    productId,
    amounts: currency && CURRENCY.test(currency) && amount > 0 ? { [currency]: amount } : {},
  };
}

/**
 * Most rollup documents of each kind a day counts the events of, first come: creative (per variant), product and topic
 * ids are whatever a client names, and each new one would be one more document for the day (and one more entry a
 * rebuild holds and the jobs read) without end; a bank has far fewer. Products products recorded a purchase of are
 * counted past the cap: those ids are the server's.
 */
export type RollupCaps = Readonly<Record<RollupKind, number>>;

/** The caps of a day's rollups: ROLLUP_IDS_PER_DAY documents of each kind. */
export const rollupCaps = (idsPerDay: number): RollupCaps => ({
  creative: idsPerDay,
  product: idsPerDay,
  topic: idsPerDay,
});

/** What a day keeps of what clients name: its rollup caps, and the creatives a member's day keeps exposures of. */
export interface DayBounds {
  caps: RollupCaps;
  exposuresPerMember: number;
}

/** A day's bounds as configured (ROLLUP_IDS_PER_DAY, EXPOSURES_PER_MEMBER_PER_DAY). */
export const dayBoundsOf = (config: {
  ROLLUP_IDS_PER_DAY: number;
  EXPOSURES_PER_MEMBER_PER_DAY: number;
}): DayBounds => ({
  caps: rollupCaps(config.ROLLUP_IDS_PER_DAY),
  exposuresPerMember: config.EXPOSURES_PER_MEMBER_PER_DAY,
});

/**
 * What a rollup key (a subject, a variant) may be: the characters of the hub's ids (content's, products', variant
 * keys), at most as long as an ID property. No `|`, which joins them into a document's id, nor anything odd a client
 * may send in a STRING property or under a plan an operator changed: such an event is left out of the rollups.
 */
const ROLLUP_KEY = /^[\w.:-]{1,128}$/;

/** `value` when it may be a rollup key, else null. */
export const rollupKey = (value: unknown): string | null =>
  typeof value === 'string' && ROLLUP_KEY.test(value) ? value : null;

/**
 * The rollup documents counted per day and kind so far: the first `caps` of each kind, and every one the
 * server vouches for. What is refused past a cap is counted, for the writer's and the rebuild's log lines.
 */
export class CountedRollups {
  private readonly byDay = new Map<string, Set<string>>();
  private readonly refusedByDay = new Map<string, Partial<Record<RollupKind, number>>>();

  /** `onFirstRefusal`: told once per day and kind, when its cap first leaves an event out. */
  constructor(
    private readonly caps: RollupCaps,
    private readonly onFirstRefusal: (day: string, kind: RollupKind) => void = () => {},
  ) {}

  /**
   * Whether events may count on the rollup document `id` of `kind` on `day`: one admitted before, one more while the
   * kind's cap has room, or one `vouched` for by the server whatever the cap.
   */
  admits(day: string, kind: RollupKind, id: string, vouched = false): boolean {
    const key = `${day}|${kind}`;
    let counted = this.byDay.get(key);
    if (!counted) this.byDay.set(key, (counted = new Set()));
    if (counted.has(id)) return true;
    if (vouched || counted.size < this.caps[kind]) {
      counted.add(id);
      return true;
    }
    const refused = this.refusedByDay.get(day) ?? {};
    if (!refused[kind]) this.onFirstRefusal(day, kind);
    refused[kind] = (refused[kind] ?? 0) + 1;
    this.refusedByDay.set(day, refused);
    return false;
  }

  /** The events of `day` left out past a cap so far, per kind. */
  refused(day: string): Partial<Record<RollupKind, number>> {
    return { ...this.refusedByDay.get(day) };
  }

  /** Forgets the days before `day`: a live writer counts today's only. */
  forgetBefore(day: string): void {
    for (const key of this.byDay.keys()) if (key < day) this.byDay.delete(key);
    for (const known of this.refusedByDay.keys()) if (known < day) this.refusedByDay.delete(known);
  }
}

const zero = () => ({ impressions: 0, clicks: 0, views: 0, purchases: 0, amounts: {} });

/** What one event adds, if anything, and whether the server vouches for its subject (a purchase it recorded). */
function incrementOf(event: EventDoc): { increment: RollupIncrement; vouched: boolean } | null {
  const increment = (kind: RollupKind, subject: string, variant: string | null = null) => ({
    id: rollupId(event.day, kind, subject, variant),
    day: event.day,
    kind,
    subject,
    variant,
    ...zero(),
  });
  if (event.name === 'creative_impression' || event.name === 'creative_click') {
    const creative = rollupKey(event.properties.creativeId);
    const variant = text(event.properties.variant);
    // A variant that may not be a key leaves the event out rather than count it as the creative's own content.
    if (!creative || (variant !== null && !rollupKey(variant))) return null;
    const counts = event.name === 'creative_impression' ? { impressions: 1 } : { clicks: 1 };
    return { increment: { ...increment('creative', creative, variant), ...counts }, vouched: false };
  }
  if (isTopicEvent(event.name)) {
    const topic = rollupKey(event.properties.topicId);
    if (!topic) return null;
    return {
      increment: { ...increment('topic', topic), shares: 0, [TOPIC_EVENTS[event.name]]: 1 },
      vouched: false,
    };
  }
  const purchase = purchaseOf(event);
  if (purchase)
    return {
      increment: { ...increment('product', purchase.productId), purchases: 1, amounts: purchase.amounts },
      vouched: true,
    };
  const productId = rollupKey(event.properties.productId);
  const counts = Object.hasOwn(PRODUCT_EVENT_COUNTS, event.name)
    ? PRODUCT_EVENT_COUNTS[event.name as keyof typeof PRODUCT_EVENT_COUNTS]
    : null;
  if (counts && productId)
    return { increment: { ...increment('product', productId), [counts]: 1 }, vouched: false };
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

  /**
   * `counted`: the rollup documents counted so far, which a live writer keeps from one batch to the next.
   * `firstCreatives`: each member's creatives counted per day, for a rebuild that keeps the same bound as the live
   * writes (which bound exposures against those stored, sink.ts).
   */
  constructor(
    private readonly counted: CountedRollups,
    private readonly firstCreatives?: FirstCreatives,
  ) {}

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
      const counted = incrementOf(event);
      if (
        counted &&
        this.counted.admits(event.day, counted.increment.kind, counted.increment.id, counted.vouched)
      )
        this.addIncrement(counted.increment);
      const creativeId = rollupKey(event.properties.creativeId);
      if (event.name === 'creative_impression' && event.memberId && creativeId) {
        const _id = `${event.day}|${event.memberId}|${creativeId}`;
        const exposure = { _id, day: event.day, memberId: event.memberId, creativeId, impressions: 1 };
        if (this.exposures.has(_id) || (this.firstCreatives?.admits(exposure) ?? true))
          this.addExposures([exposure]);
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
    known.purchases += increment.purchases;
    known.amounts = addAmounts(known.amounts, increment.amounts);
    if (increment.shares) known.shares = (known.shares ?? 0) + increment.shares;
  }
}

/** clicks / impressions, or null when there were no impressions. */
export const clickThroughRate = (clicks: number, impressions: number): number | null =>
  impressions > 0 ? clicks / impressions : null;

/** Amounts per currency, added up currency by currency: amounts in different currencies are never summed. */
export function addAmounts(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const sum = { ...a };
  for (const [currency, amount] of Object.entries(b)) sum[currency] = (sum[currency] ?? 0) + amount;
  return sum;
}
