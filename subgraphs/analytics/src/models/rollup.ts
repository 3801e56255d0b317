// Daily rollups: per bank day (BANK_TIME_ZONE), impressions and clicks per creative and variant; views, impressions,
// clicks and purchases per product; views, clicks and shares per topic; and the members active per channel (one
// document each, so counting them is idempotent). Updated as events arrive and
// rebuilt exactly from the events for days that are over.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey, type DayKey } from '@bank-hub/shared';
import type { Channel, VariantCounts } from './event';
import type { TopicDay } from '../domain/topic-heat';

export type RollupKind = 'creative' | 'product' | 'topic';

export interface RollupDoc {
  /** `<day>|<kind>|<subject>|<variant or empty>`. */
  _id: string;
  day: string;
  kind: RollupKind;
  /** The creative, product or topic id. */
  subject: string;
  variant: string | null;
  impressions: number;
  clicks: number;
  views: number;
  /** A product's purchases, as products recorded them (0 on a creative's; absent on documents older than them). */
  purchases: number;
  /** Their amounts per currency (ISO 4217): never summed across currencies. */
  amounts: Record<string, number>;
  /** Topics' shares; absent on documents written before topics were measured. */
  shares?: number;
  /**
   * Set by the rebuild: the document is exact, and live increments no longer touch it. Another process may still
   * write increments taken before midnight after the rebuild read their events; they would count twice.
   */
  sealed?: boolean;
}

export interface DailyActiveDoc {
  /** `<day>|<channel>|<memberId>`. */
  _id: string;
  day: string;
  channel: Channel;
  memberId: string;
}

/** What one or more events add to a rollup document (`id` names it). */
export type RollupIncrement = Omit<RollupDoc, '_id'> & { id: string };

export const rollupSchema = new Schema<RollupDoc>(
  {
    _id: { type: String, required: true },
    day: { type: String, required: true },
    kind: { type: String, required: true },
    subject: { type: String, required: true },
    variant: { type: String, default: null },
    impressions: { type: Number, required: true },
    clicks: { type: Number, required: true },
    views: { type: Number, required: true },
    purchases: { type: Number, default: 0 },
    amounts: { type: Schema.Types.Mixed, default: {} },
    shares: { type: Number },
    sealed: { type: Boolean },
  },
  { collection: 'rollups_daily', versionKey: false, minimize: false },
);
rollupSchema.index({ kind: 1, subject: 1, day: 1 });
rollupSchema.index({ day: 1 });

export const dailyActiveSchema = new Schema<DailyActiveDoc>(
  {
    _id: { type: String, required: true },
    day: { type: String, required: true },
    channel: { type: String, required: true },
    memberId: { type: String, required: true },
  },
  { collection: 'daily_actives', versionKey: false },
);
dailyActiveSchema.index({ day: 1, channel: 1 });
// Whether a member was active before a day (retention's "first seen"), without reading their history.
dailyActiveSchema.index({ memberId: 1, day: 1 });

/**
 * Runs an unordered bulk write of live increments whose refusals by sealed documents are expected: those increments'
 * events were counted by the rebuild, or will be by its next run. A duplicate key is such a refusal (the filter skips
 * a sealed document, and the upsert then collides with it) or another process inserting the same new document a moment
 * before (two analytics processes' first flush of a day): the refused operations are tried once more, which updates
 * the document the other inserted and is refused again by a sealed one. Without it, those increments were lost until
 * the day was rebuilt.
 */
export async function ignoringSealed<T>(
  operations: readonly T[],
  write: (operations: T[]) => Promise<unknown>,
) {
  let pending = [...operations];
  for (let attempt = 0; attempt < 2 && pending.length > 0; attempt += 1) {
    try {
      await write(pending);
      return;
    } catch (error) {
      // An unordered bulk write's error lists every refused operation (one, or several; none for a write concern's).
      const refusals = [(error as { writeErrors?: unknown }).writeErrors ?? error].flat();
      if (refusals.length === 0 || !refusals.every((refusal) => isDuplicateKey(refusal))) throw error;
      const tried = pending;
      pending = refusals.flatMap((refusal) => {
        const index = (refusal as { index?: unknown }).index;
        return typeof index === 'number' && tried[index] !== undefined ? [tried[index]] : [];
      });
    }
  }
}

/** Members asked about per query: a bounded `$in`. */
const MEMBER_BATCH = 1_000;

export interface RollupTotals {
  subject: string;
  variant: string | null;
  impressions: number;
  clicks: number;
  views: number;
  purchases: number;
  /** The purchases' amounts in the currency asked for alone. */
  amount: number;
}

/** A currency a field path may name: ISO 4217's three capitals (BANK_CURRENCY is checked so at start). */
const CURRENCY = /^[A-Z]{3}$/;

export class RollupRepository {
  constructor(
    readonly model: Model<RollupDoc>,
    readonly actives: Model<DailyActiveDoc>,
  ) {}

  /**
   * Adds increments (one bulk write); a document is created on its first increment. A sealed (rebuilt) document
   * refuses them: the upsert finds no unsealed one, and the unique _id refuses the insert it then tries.
   */
  async increment(increments: readonly RollupIncrement[]): Promise<void> {
    if (increments.length === 0) return;
    await ignoringSealed(
      increments.map(({ id, impressions, clicks, views, purchases, amounts, shares, ...key }) => ({
        updateOne: {
          filter: { _id: id, sealed: { $ne: true } },
          update: {
            $inc: {
              impressions,
              clicks,
              views,
              purchases,
              ...(shares ? { shares } : {}),
              // Currencies are ISO codes (domain/rollups.ts keeps no other): plain field names.
              ...Object.fromEntries(
                Object.entries(amounts).map(([currency, n]) => [`amounts.${currency}`, n]),
              ),
            },
            $setOnInsert: key,
          },
          upsert: true,
        },
      })),
      (operations) => this.model.bulkWrite(operations, { ordered: false }),
    );
  }

  /** Records members as active on a day and channel; recording one twice changes nothing. */
  async markActive(actives: readonly DailyActiveDoc[]): Promise<void> {
    if (actives.length === 0) return;
    await this.actives.bulkWrite(
      actives.map((active) => ({
        updateOne: { filter: { _id: active._id }, update: { $setOnInsert: active }, upsert: true },
      })),
      { ordered: false },
    );
  }

  /** Replaces a day's rollups with exact ones (recomputed from its events). */
  async replaceDay(
    day: string,
    rollups: readonly RollupDoc[],
    actives: readonly DailyActiveDoc[],
  ): Promise<void> {
    const keep = rollups.map((rollup) => rollup._id);
    if (rollups.length > 0) {
      await this.model.bulkWrite(
        rollups.map(({ _id, ...rest }) => ({
          updateOne: { filter: { _id }, update: { $set: { ...rest, sealed: true } }, upsert: true },
        })),
        { ordered: false },
      );
    }
    await this.model.deleteMany({ day, _id: { $nin: keep } }).exec();
    await this.markActive(actives);
  }

  /**
   * Sums per subject and variant over the days from `fromDay` on, for the given subjects of one kind (or all); purchase
   * amounts in `currency` alone.
   */
  totals(
    kind: RollupKind,
    subjects: readonly string[] | null,
    fromDay: string,
    currency: string,
  ): Promise<RollupTotals[]> {
    if (!CURRENCY.test(currency)) throw new Error(`${currency} is no ISO 4217 currency code`);
    return this.model
      .aggregate<RollupTotals>([
        {
          $match: { kind, ...(subjects ? { subject: { $in: [...subjects] } } : {}), day: { $gte: fromDay } },
        },
        {
          $group: {
            _id: { subject: '$subject', variant: '$variant' },
            impressions: { $sum: '$impressions' },
            clicks: { $sum: '$clicks' },
            views: { $sum: '$views' },
            // Documents older than purchases have neither field: $sum counts them as 0.
            purchases: { $sum: '$purchases' },
            amount: { $sum: `$amounts.${currency}` },
          },
        },
        {
          $project: {
            _id: 0,
            subject: '$_id.subject',
            variant: '$_id.variant',
            impressions: 1,
            clicks: 1,
            views: 1,
            purchases: 1,
            amount: 1,
          },
        },
      ])
      .exec();
  }

  /** Per topic named and bank day from `fromDay` on, its views, clicks and shares. */
  async topicDays(topicIds: readonly string[], fromDay: DayKey): Promise<Map<string, TopicDay[]>> {
    const rows = await this.model
      .find(
        { kind: 'topic', subject: { $in: [...topicIds] }, day: { $gte: fromDay } },
        { _id: 0, subject: 1, day: 1, views: 1, clicks: 1, shares: 1 },
      )
      .lean<Pick<RollupDoc, 'subject' | 'day' | 'views' | 'clicks' | 'shares'>[]>()
      .exec();
    const byTopic = new Map<string, TopicDay[]>();
    for (const { subject, day, views, clicks, shares } of rows) {
      const days = byTopic.get(subject) ?? [];
      days.push({ day, views, clicks, shares: shares ?? 0 });
      byTopic.set(subject, days);
    }
    return byTopic;
  }

  /** Per variant named, the impressions and clicks of one creative from `fromDay` to `toDay`, both included. */
  variantTotals(
    creativeId: string,
    variants: readonly string[],
    fromDay: DayKey,
    toDay: DayKey,
  ): Promise<VariantCounts[]> {
    return this.model
      .aggregate<VariantCounts>([
        {
          $match: {
            kind: 'creative',
            subject: creativeId,
            day: { $gte: fromDay, $lte: toDay },
            variant: { $in: [...variants] },
          },
        },
        { $group: { _id: '$variant', impressions: { $sum: '$impressions' }, clicks: { $sum: '$clicks' } } },
        { $project: { _id: 0, variant: '$_id', impressions: 1, clicks: 1 } },
      ])
      .exec();
  }

  /** The days each member was active from `fromDay` to `toDay` (any channel, or one). */
  activeDaysByMember(
    fromDay: string,
    toDay: string,
    channel: Channel | null = null,
  ): Promise<{ _id: string; days: string[] }[]> {
    return this.actives
      .aggregate<{ _id: string; days: string[] }>([
        { $match: { day: { $gte: fromDay, $lte: toDay }, ...(channel ? { channel } : {}) } },
        { $group: { _id: '$memberId', days: { $addToSet: '$day' } } },
      ])
      .exec();
  }

  /**
   * Per member and channel, the days from `fromDay` to `toDay` the member was active on it and the last of them: at most
   * one row per member and channel.
   */
  activeDaysByChannel(
    fromDay: string,
    toDay: string,
  ): Promise<{ _id: { memberId: string; channel: string }; days: number; lastDay: string }[]> {
    return this.actives
      .aggregate<{ _id: { memberId: string; channel: string }; days: number; lastDay: string }>([
        { $match: { day: { $gte: fromDay, $lte: toDay } } },
        // One document per member, day and channel: counting them counts days.
        {
          $group: {
            _id: { memberId: '$memberId', channel: '$channel' },
            days: { $sum: 1 },
            lastDay: { $max: '$day' },
          },
        },
      ])
      .exec();
  }

  /** Of these members, those active before `beforeDay` (any channel, or one): one row per such member. */
  async activeBefore(
    memberIds: readonly string[],
    beforeDay: string,
    channel: Channel | null,
  ): Promise<string[]> {
    const earlier: string[] = [];
    for (let i = 0; i < memberIds.length; i += MEMBER_BATCH) {
      const rows = await this.actives
        .aggregate<{ _id: string }>([
          {
            $match: {
              memberId: { $in: memberIds.slice(i, i + MEMBER_BATCH) },
              day: { $lt: beforeDay },
              ...(channel ? { channel } : {}),
            },
          },
          { $group: { _id: '$memberId' } },
        ])
        .exec();
      earlier.push(...rows.map((row) => row._id));
    }
    return earlier;
  }

  /** Distinct members active per day from `fromDay` to `toDay` (any channel, or one). */
  dailyActiveCounts(
    fromDay: string,
    toDay: string,
    channel: Channel | null,
  ): Promise<{ _id: string; n: number }[]> {
    return this.actives
      .aggregate<{ _id: string; n: number }>([
        { $match: { day: { $gte: fromDay, $lte: toDay }, ...(channel ? { channel } : {}) } },
        { $group: { _id: { day: '$day', memberId: '$memberId' } } },
        { $group: { _id: '$_id.day', n: { $sum: 1 } } },
      ])
      .exec();
  }

  /** Distinct members active at all from `fromDay` to `toDay` (any channel, or one). */
  async distinctActive(fromDay: string, toDay: string, channel: Channel | null): Promise<number> {
    const [total] = await this.actives
      .aggregate<{ n: number }>([
        { $match: { day: { $gte: fromDay, $lte: toDay }, ...(channel ? { channel } : {}) } },
        { $group: { _id: '$memberId' } },
        { $group: { _id: null, n: { $sum: 1 } } },
      ])
      .exec();
    return total?.n ?? 0;
  }
}
