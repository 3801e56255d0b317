// Tracked events, append-only. An event's id is the device's own id for it, scoped to the device, so a retry (the same
// id from the same device) is stored once: the unique _id is the idempotency key.
import { Schema, type Model, type mongo } from 'mongoose';
import {
  addDays,
  daysBetween,
  duplicateIndexes,
  MEMBER_ID_FILTER,
  type BankCalendar,
  type DayKey,
} from '@bank-hub/shared';
import { rollupKey } from '../domain/rollups';

export type Channel = 'APP' | 'WEB' | 'MINI_PROGRAM' | 'PARTNER';

export interface EventDoc {
  /** `<deviceId>:<client event id>`. */
  _id: string;
  name: string;
  /** Only what a verified member token says; never what the event body claims. */
  memberId: string | null;
  deviceId: string;
  /**
   * The hub service that recorded the event about the member (e.g. svc.messages: a message delivered), absent for a
   * device's own: such events never count as the member being active.
   */
  recordedBy?: string | null;
  channel: Channel;
  occurredAt: Date;
  receivedAt: Date;
  /** The bank's day (BANK_TIME_ZONE) of occurredAt, YYYY-MM-DD, stamped at ingest: what rollups group by. */
  day: string;
  properties: Record<string, unknown>;
}

export const eventSchema = new Schema<EventDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    memberId: { type: String, default: null },
    deviceId: { type: String, required: true },
    recordedBy: { type: String, default: undefined },
    channel: { type: String, required: true },
    occurredAt: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    day: { type: String, required: true },
    properties: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'events', versionKey: false, minimize: false },
);
eventSchema.index({ day: 1, name: 1 });
eventSchema.index({ memberId: 1, occurredAt: -1 });
eventSchema.index({ receivedAt: 1, _id: 1 });
/** The send-time model's training reads opens member by member (recordedByMember). */
const BY_NAME_AND_MEMBER = { name: 1, memberId: 1, occurredAt: -1 } as const;
eventSchema.index(BY_NAME_AND_MEMBER);

export interface MemberEventFilter {
  channel?: Channel | null;
  creativeId?: string;
  /** Only the events this hub service recorded. */
  recordedBy?: string;
  /** Only purchases (PURCHASE: placed, with an amount) of this product. */
  purchaseOf?: string;
}

/** Impressions and clicks clients reported for one variant of a creative. */
export interface VariantCounts {
  variant: string;
  impressions: number;
  clicks: number;
}

/** A member and the time of one of their events. */
export interface MemberAt {
  _id: string;
  at: Date;
}

/**
 * The bank's days from the day of `from` to the day of `to`, both included; counted, not compared as text, since a day
 * past year 9999 (a range ending at the DateTime scalar's last instant, in a zone east of UTC) sorts before the others.
 */
function daysFromTo(from: Date, to: Date, calendar: BankCalendar): DayKey[] {
  const first = calendar.dayOf(from);
  const count = Math.max(0, daysBetween(first, calendar.dayOf(to)) + 1);
  return Array.from({ length: count }, (_, i) => addDays(first, i));
}

/** Members asked about per query: a bounded `$in`. */
const MEMBER_BATCH = 1_000;

/**
 * A purchase: a completed flow that placed one. Products records flow_completed for every completed session (an
 * account opened, a welcome coupon claimed, a product bought) and an `amount` (with its `currency`) only when the
 * session's purchase step placed the purchase (with the `productId` bought); the lifecycle's purchases_90, the member
 * rating, a product's purchases and a product card's experiment conversions all count these.
 */
export const PURCHASE = { name: 'flow_completed', 'properties.amount': { $exists: true } } as const;

/**
 * Members' events of these names in `[from, to)`; the day bounds (the bank's days, as events are stamped) let the `day`
 * index narrow the read.
 */
function memberEventsMatch(
  names: readonly string[],
  from: Date,
  to: Date,
  calendar: BankCalendar,
  filter: MemberEventFilter = {},
) {
  return {
    day: { $gte: calendar.dayOf(from), $lte: calendar.dayOf(to) },
    name: { $in: [...names] },
    occurredAt: { $gte: from, $lt: to },
    memberId: { $ne: null },
    ...(filter.channel ? { channel: filter.channel } : {}),
    ...(filter.creativeId ? { 'properties.creativeId': filter.creativeId } : {}),
    ...(filter.recordedBy ? { recordedBy: filter.recordedBy } : {}),
    ...(filter.purchaseOf
      ? { 'properties.amount': PURCHASE['properties.amount'], 'properties.productId': filter.purchaseOf }
      : {}),
  };
}

export class EventRepository {
  constructor(
    readonly model: Model<EventDoc>,
    /** The same collection through the driver: ingestion writes in volume, without mongoose's per-document work. */
    private readonly collection: mongo.Collection<EventDoc>,
  ) {}

  /**
   * Inserts what is not there yet; an id already stored is a retry and is left as it is. Returns the events
   * inserted now (ordered: false, so one duplicate does not stop the rest).
   */
  async insertNew(events: readonly EventDoc[]): Promise<EventDoc[]> {
    if (events.length === 0) return [];
    try {
      await this.collection.insertMany([...events], { ordered: false });
      return [...events];
    } catch (error) {
      const failed = duplicateIndexes(error);
      if (!failed) throw error;
      return events.filter((_, index) => !failed.has(index));
    }
  }

  /** How many events of each name each member has from `fromDay` to `toDay`; only those `recordedBy` it, if given. */
  countsByMember(
    names: readonly string[],
    fromDay: string,
    toDay: string,
    recordedBy?: string,
  ): Promise<{ _id: { memberId: string; name: string }; n: number }[]> {
    return this.model
      .aggregate<{ _id: { memberId: string; name: string }; n: number }>([
        {
          $match: {
            name: { $in: [...names] },
            day: { $gte: fromDay, $lte: toDay },
            memberId: { $ne: null },
            ...(recordedBy ? { recordedBy } : {}),
          },
        },
        { $group: { _id: { memberId: '$memberId', name: '$name' }, n: { $sum: 1 } } },
      ])
      .exec();
  }

  /**
   * Per member, event name and recording service (absent for the member's own), how many of these events they have from
   * `fromDay` to `toDay` and on which days: what the product-propensity features count. Only these members, when given.
   */
  tallyByMember(
    names: readonly string[],
    fromDay: string,
    toDay: string,
    memberIds: readonly string[] | null = null,
  ): Promise<
    { _id: { memberId: string; name: string; recordedBy?: string | null }; n: number; days: string[] }[]
  > {
    return this.model
      .aggregate<{
        _id: { memberId: string; name: string; recordedBy?: string | null };
        n: number;
        days: string[];
      }>([
        {
          $match: {
            name: { $in: [...names] },
            day: { $gte: fromDay, $lte: toDay },
            memberId: memberIds ? { $in: [...memberIds] } : MEMBER_ID_FILTER,
          },
        },
        {
          $group: {
            _id: { memberId: '$memberId', name: '$name', recordedBy: '$recordedBy' },
            n: { $sum: 1 },
            days: { $addToSet: '$day' },
          },
        },
      ])
      .exec();
  }

  /**
   * Per member, their purchases (PURCHASE: flow_completed events this hub service recorded with an amount) from
   * `fromDay` to `toDay`: how many, the day of the last, and the sum of their amounts in `currency` — amounts in another
   * currency are never added in. An amount that is no number greater than 0 and at most `maxAmount` (a string, NaN, an
   * infinity, a negative or absurd one stored by other means than products) counts for nothing, as the events' other
   * amounts still do. One row per member (only these members, when given), summed in the database.
   */
  purchasesByMember(
    fromDay: string,
    toDay: string,
    recordedBy: string,
    currency: string,
    maxAmount: number,
    memberIds: readonly string[] | null = null,
  ): Promise<{ _id: string; purchases: number; lastDay: string; amount: unknown }[]> {
    const amount = '$properties.amount';
    // Across types, MongoDB compares by type first (numbers before strings, objects, arrays and booleans), so the
    // range alone leaves out every amount that is not a number. NaN, which MongoDB Java Server lets through it, is the
    // one number whose difference with itself is not 0.
    const counted = {
      $cond: [
        {
          $and: [
            { $eq: ['$properties.currency', currency] },
            { $gt: [amount, 0] },
            { $lte: [amount, maxAmount] },
          ],
        },
        { $cond: [{ $eq: [{ $subtract: [amount, amount] }, 0] }, amount, 0] },
        0,
      ],
    };
    return this.model
      .aggregate<{ _id: string; purchases: number; lastDay: string; amount: unknown }>([
        {
          $match: {
            ...PURCHASE,
            day: { $gte: fromDay, $lte: toDay },
            memberId: memberIds ? { $in: [...memberIds] } : { $ne: null },
            recordedBy,
          },
        },
        {
          $group: {
            _id: '$memberId',
            purchases: { $sum: 1 },
            lastDay: { $max: '$day' },
            amount: { $sum: counted },
          },
        },
      ])
      .exec();
  }

  /**
   * These members' purchases (PURCHASE) this hub service recorded in `[from, to)`, streamed: what is held at once is a
   * cursor batch, however many they made. Only what counting them needs is read.
   */
  purchasesOfMembers(
    memberIds: readonly string[],
    from: Date,
    to: Date,
    calendar: BankCalendar,
    recordedBy: string,
  ): AsyncIterable<{
    memberId: string;
    occurredAt: Date;
    properties: { currency?: unknown; amount?: unknown };
  }> {
    return this.model
      .find({
        ...memberEventsMatch([PURCHASE.name], from, to, calendar, { recordedBy }),
        'properties.amount': PURCHASE['properties.amount'],
        memberId: { $in: [...memberIds] },
      })
      .select({ _id: 0, memberId: 1, occurredAt: 1, 'properties.currency': 1, 'properties.amount': 1 })
      .lean<{ memberId: string; occurredAt: Date; properties: { currency?: unknown; amount?: unknown } }[]>()
      .cursor({ batchSize: 1_000 });
  }

  /**
   * The instants of members' events of these names in `[from, to)` that `recordedBy` recorded, member by member (all of
   * one member's in a row), so a reader holds one member's at a time.
   */
  recordedByMember(
    names: readonly string[],
    from: Date,
    to: Date,
    calendar: BankCalendar,
    recordedBy: string,
  ): AsyncIterable<{ memberId: string; occurredAt: Date }> {
    return (
      this.model
        .find({ ...memberEventsMatch(names, from, to, calendar, { recordedBy }), memberId: MEMBER_ID_FILTER })
        .select({ _id: 0, memberId: 1, occurredAt: 1 })
        .sort({ memberId: 1, occurredAt: -1 })
        // In the order of an index of its own: sorting 90 days of opens in memory would pass the server's limit.
        .hint(BY_NAME_AND_MEMBER)
        .lean<{ memberId: string; occurredAt: Date }[]>()
        .cursor({ batchSize: 1_000 })
    );
  }

  /** Per member, the last day from `fromDay` to `toDay` with an event of this name: one row per member. */
  lastDayByMember(name: string, fromDay: string, toDay: string): Promise<{ _id: string; lastDay: string }[]> {
    return this.model
      .aggregate<{ _id: string; lastDay: string }>([
        { $match: { name, day: { $gte: fromDay, $lte: toDay }, memberId: { $ne: null } } },
        { $group: { _id: '$memberId', lastDay: { $max: '$day' } } },
      ])
      .exec();
  }

  /**
   * Per member and product type (only these types: a client's own type names are never counted), the distinct days
   * from `fromDay` to `toDay` with a product_view of that type: at most one row per member and type.
   */
  productTypeDaysByMember(
    productTypes: readonly string[],
    fromDay: string,
    toDay: string,
  ): Promise<{ _id: { memberId: string; productType: string }; days: number }[]> {
    return this.model
      .aggregate<{ _id: { memberId: string; productType: string }; days: number }>([
        {
          $match: {
            name: 'product_view',
            day: { $gte: fromDay, $lte: toDay },
            memberId: { $ne: null },
            'properties.productType': { $in: [...productTypes] },
          },
        },
        { $group: { _id: { memberId: '$memberId', productType: '$properties.productType', day: '$day' } } },
        {
          $group: {
            _id: { memberId: '$_id.memberId', productType: '$_id.productType' },
            days: { $sum: 1 },
          },
        },
      ])
      .exec();
  }

  /**
   * Members' events of the given names in a time range (optionally on one channel), oldest first, streamed a day at a
   * time: what is sorted and held at once is one day's events, whatever the range.
   */
  async *memberEventsInOrder(
    names: readonly string[],
    from: Date,
    to: Date,
    calendar: BankCalendar,
    filter: MemberEventFilter = {},
  ): AsyncGenerator<{ memberId: string; name: string; occurredAt: Date }> {
    const match = memberEventsMatch(names, from, to, calendar, filter);
    for (const day of daysFromTo(from, to, calendar)) {
      const events = this.model
        .find({ ...match, day })
        .select({ _id: 0, memberId: 1, name: 1, occurredAt: 1 })
        .sort({ occurredAt: 1 })
        .lean<{ memberId: string; name: string; occurredAt: Date }[]>()
        .cursor({ batchSize: 1_000 });
      for await (const event of events) yield event;
    }
  }

  /** Each member's first event of a name in a time range: one row per member, not one per event. */
  firstByMember(
    name: string,
    from: Date,
    to: Date,
    calendar: BankCalendar,
    filter: MemberEventFilter = {},
  ): Promise<MemberAt[]> {
    return this.model
      .aggregate<MemberAt>([
        { $match: memberEventsMatch([name], from, to, calendar, filter) },
        { $group: { _id: '$memberId', at: { $min: '$occurredAt' } } },
      ])
      .exec();
  }

  /**
   * Each of these members' last event of a name in a time range (optionally about one creative), asked in bounded
   * batches: one row per member.
   */
  async lastByMember(
    name: string,
    memberIds: readonly string[],
    from: Date,
    to: Date,
    calendar: BankCalendar,
    filter: MemberEventFilter = {},
  ): Promise<MemberAt[]> {
    const last: MemberAt[] = [];
    for (let i = 0; i < memberIds.length; i += MEMBER_BATCH) {
      const batch = memberIds.slice(i, i + MEMBER_BATCH);
      last.push(
        ...(await this.model
          .aggregate<MemberAt>([
            {
              $match: { ...memberEventsMatch([name], from, to, calendar, filter), memberId: { $in: batch } },
            },
            { $group: { _id: '$memberId', at: { $max: '$occurredAt' } } },
          ])
          .exec()),
      );
    }
    return last;
  }

  /**
   * Of one creative, per variant named, the impressions and clicks clients reported (devices without a member too) in
   * `[from, to)` on the given bank days: the `day` index narrows the read to those days. One row per variant at most.
   */
  variantCounts(
    creativeId: string,
    variants: readonly string[],
    from: Date,
    to: Date,
    days: readonly DayKey[],
  ): Promise<VariantCounts[]> {
    const count = (name: string) => ({ $sum: { $cond: [{ $eq: ['$name', name] }, 1, 0] } });
    return this.model
      .aggregate<VariantCounts>([
        {
          $match: {
            day: { $in: [...days] },
            name: { $in: ['creative_impression', 'creative_click'] },
            occurredAt: { $gte: from, $lt: to },
            'properties.creativeId': creativeId,
            'properties.variant': { $in: [...variants] },
          },
        },
        {
          $group: {
            _id: '$properties.variant',
            impressions: count('creative_impression'),
            clicks: count('creative_click'),
          },
        },
        { $project: { _id: 0, variant: '$_id', impressions: 1, clicks: 1 } },
      ])
      .exec();
  }

  /**
   * Per creative, from `fromDay` on, the member-days on which the member saw it (`seen`) and, of those, the ones on which
   * they also clicked it (`clicked`): a member counts once a day however many events they send, a device without a
   * member not at all, and a click on a day the member did not see the creative is no trial's success. At most
   * `maxCreatives`, those seen on the most member-days (then by id): creative ids are whatever clients name, and a
   * member's made-up ones, each seen on a member-day or few, must not grow what is read and kept without end.
   */
  async memberDaysByCreative(
    fromDay: string,
    maxCreatives: number,
  ): Promise<Map<string, { seen: number; clicked: number }>> {
    const was = (name: string) => ({ $max: { $cond: [{ $eq: ['$name', name] }, 1, 0] } });
    const rows = await this.model
      .aggregate<{ _id: unknown; seen: number; clicked: number }>([
        {
          $match: {
            day: { $gte: fromDay },
            name: { $in: ['creative_impression', 'creative_click'] },
            memberId: { $ne: null },
          },
        },
        {
          $group: {
            _id: { creativeId: '$properties.creativeId', memberId: '$memberId', day: '$day' },
            seen: was('creative_impression'),
            clicked: was('creative_click'),
          },
        },
        { $match: { seen: 1 } },
        { $group: { _id: '$_id.creativeId', seen: { $sum: 1 }, clicked: { $sum: '$clicked' } } },
        { $sort: { seen: -1, _id: 1 } },
        { $limit: maxCreatives },
      ])
      .exec();
    return new Map(
      rows.flatMap(({ _id, seen, clicked }) => {
        const creativeId = rollupKey(_id);
        return creativeId ? [[creativeId, { seen, clicked }] as const] : [];
      }),
    );
  }

  /**
   * Members' events of these names stored after `from` (by receivedAt, then id) and by `until`, oldest first. One
   * stored before non-member ids were refused (MEMBER_ID) is the device's alone, as one arriving now is stored.
   */
  feed(
    names: readonly string[],
    from: { at: Date; id: string },
    until: Date,
    first: number,
  ): Promise<EventDoc[]> {
    return this.model
      .find({
        $or: [{ receivedAt: { $gt: from.at } }, { receivedAt: from.at, _id: { $gt: from.id } }],
        receivedAt: { $lte: until },
        name: { $in: [...names] },
        memberId: MEMBER_ID_FILTER,
      })
      .sort({ receivedAt: 1, _id: 1 })
      .limit(first)
      .lean<EventDoc[]>()
      .exec();
  }

  /** The events of one of the bank's days (as stamped at ingest) in batches, for rebuilding its rollups. */
  async *ofDay(day: string, batchSize = 5_000): AsyncGenerator<EventDoc[]> {
    let batch: EventDoc[] = [];
    for await (const event of this.model.find({ day }).lean<EventDoc[]>().cursor({ batchSize })) {
      batch.push(event);
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}
