// What events add to the daily rollups: impressions and clicks per creative and variant; views, impressions, clicks and
// purchases per product; views, clicks and shares per topic; active members per channel. The same functions serve the
// live increments and the exact rebuild of a day. Days are the bank's business days (BANK_TIME_ZONE): an event's `day`
// is stamped at ingest.
import { addDays, type DayKey } from '@bank-hub/shared';
import type { EventDoc } from '../models/event';
import { TOPIC_EVENTS, isTopicEvent } from './topic-heat';
import type { ExposureDoc } from '../models/exposure';
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
  const productId = text(event.properties.productId);
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
 * Most products a day's rollups count devices' events of, first come. Product ids are whatever a client sends, and each
 * new one would be one more rollup document (and one more entry a rebuild holds) for the day; a bank sells far fewer.
 * A product products recorded a purchase of is always counted: those ids are the server's.
 */
export const MAX_PRODUCTS_PER_DAY = 5_000;

/** The products counted per day so far: the first MAX_PRODUCTS_PER_DAY devices named, and every one bought. */
export class CountedProducts {
  private readonly byDay = new Map<string, Set<string>>();

  constructor(private readonly limit = MAX_PRODUCTS_PER_DAY) {}

  /** Whether `productId`'s events count on `day`; a product is counted from its first admitted event on. */
  admits(day: string, productId: string, bought: boolean): boolean {
    let products = this.byDay.get(day);
    if (!products) this.byDay.set(day, (products = new Set()));
    if (products.has(productId)) return true;
    if (!bought && products.size >= this.limit) return false;
    products.add(productId);
    return true;
  }

  /** Forgets the days before `day`: a live writer counts today's only. */
  forgetBefore(day: string): void {
    for (const known of this.byDay.keys()) if (known < day) this.byDay.delete(known);
  }
}

const zero = () => ({ impressions: 0, clicks: 0, views: 0, purchases: 0, amounts: {} });

/** What one event adds, if anything. */
function incrementOf(event: EventDoc, products: CountedProducts): RollupIncrement | null {
  const creative = text(event.properties.creativeId);
  const variant = text(event.properties.variant);
  if ((event.name === 'creative_impression' || event.name === 'creative_click') && creative) {
    return {
      id: rollupId(event.day, 'creative', creative, variant),
      day: event.day,
      kind: 'creative',
      subject: creative,
      variant,
      ...zero(),
      ...(event.name === 'creative_impression' ? { impressions: 1 } : { clicks: 1 }),
    };
  }
  const topic = text(event.properties.topicId);
  if (isTopicEvent(event.name) && topic) {
    return {
      id: rollupId(event.day, 'topic', topic, null),
      day: event.day,
      kind: 'topic',
      subject: topic,
      variant: null,
      ...zero(),
      shares: 0,
      [TOPIC_EVENTS[event.name]]: 1,
    };
  }
  const product = (productId: string) => ({
    id: rollupId(event.day, 'product', productId, null),
    day: event.day,
    kind: 'product' as const,
    subject: productId,
    variant: null,
    ...zero(),
  });
  const purchase = purchaseOf(event);
  if (purchase && products.admits(event.day, purchase.productId, true))
    return { ...product(purchase.productId), purchases: 1, amounts: purchase.amounts };
  const productId = text(event.properties.productId);
  const counts = Object.hasOwn(PRODUCT_EVENT_COUNTS, event.name)
    ? PRODUCT_EVENT_COUNTS[event.name as keyof typeof PRODUCT_EVENT_COUNTS]
    : null;
  if (counts && productId && products.admits(event.day, productId, false))
    return { ...product(productId), [counts]: 1 };
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

  /** `products`: the products counted so far, which a live writer keeps from one batch to the next. */
  constructor(private readonly products = new CountedProducts()) {}

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
      const increment = incrementOf(event, this.products);
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
