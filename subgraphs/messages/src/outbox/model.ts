// The durable outbox: one entry per member and occurrence, its id the idempotency key every channel is given, and the
// send batches workers lease. Planning writes a batch before its entries, so every entry belongs to one; a worker
// leases a whole batch (one conditional update on a small collection) and then moves its entries with plain writes
// by id, which the stand-in database serves fast and a real one in bulk. What happened to a message after it was
// handed over (delivered, opened, clicked, unsubscribed, fell back) is kept in timestamps of their own, so a receipt
// and a worker writing at once never undo each other.
import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import { duplicateIndexes, isDuplicateKey, type MessageChannel } from '@bank-hub/shared';
import type { VariableValues } from '../templates/domain/variables';
import { MAX_VALIDITY_MS } from './domain/expiry';
import type { Purpose } from './domain/routing';

export const OUTBOX_STATES = ['PENDING', 'SENDING', 'SENT', 'SKIPPED', 'DEAD'] as const;
export type OutboxState = (typeof OUTBOX_STATES)[number];

/** The states of an entry not sent yet, whose expiry still counts. */
export const UNSENT_STATES: readonly OutboxState[] = ['PENDING', 'SENDING'];

/** The states of an entry given up: dead-lettered, or skipped (possibly after an attempt). */
const GIVEN_UP_STATES: readonly OutboxState[] = ['DEAD', 'SKIPPED'];

/** A query on outbox entries. */
export type EntryFilter = Record<string, unknown>;

/**
 * The expiry conditions of an entry (see domain/expiry's expiryOf, which this matches): past it at `now` when
 * `expired`, else not yet. One stored without an expiry has its purpose's bound from when it was planned.
 */
function expiryClauses(now: Date, expired: boolean): EntryFilter[] {
  const op = expired ? '$lte' : '$gt';
  return [
    { expiresAt: { [op]: now } },
    ...Object.entries(MAX_VALIDITY_MS).map(([purpose, validMs]) => ({
      expiresAt: null,
      purpose,
      createdAt: { [op]: new Date(now.getTime() - validMs) },
    })),
  ];
}

/**
 * Entries not sent yet and past their expiry at `now` (`expired`), or every other entry: the sender skips the former
 * as EXPIRED when it next decides their batch, so reads count them so already (a paused campaign's batch waits).
 */
export const expiredAt = (now: Date, expired: boolean): EntryFilter =>
  expired
    ? { state: { $in: [...UNSENT_STATES] }, $or: expiryClauses(now, true) }
    : { $or: [{ state: { $nin: [...UNSENT_STATES] } }, ...expiryClauses(now, false)] };

/** Why a message was not sent (SKIPPED), or why it waits (PENDING). */
export type OutboxReason =
  | 'NO_CONSENT'
  | 'OVER_BUDGET'
  | 'FREQUENCY_CAPPED'
  | 'QUIET_HOURS'
  | 'NO_CHANNEL'
  | 'CAMPAIGN_ARCHIVED'
  /** A FIVE_G card's SMS fallback, not sent: the card's delivery receipt came in after all. */
  | 'DELIVERED_ALREADY'
  /** Not sent by its expiry (a long pause, quiet hours or retries held it back): too late to be of use. */
  | 'EXPIRED'
  | 'RETRY';

export interface OutboxEntryDoc {
  /** `<occurrence>:<member>` (a fallback adds `~SMS`): the idempotency key the channel is given. */
  _id: string;
  campaignId: string;
  occurrenceId: string;
  batchId: string;
  memberId: string;
  variant: string;
  purpose: Purpose;
  /** The variant's template per channel. */
  templates: Partial<Record<MessageChannel, string>>;
  /** The rungs the member could receive when planned, best first. */
  ladder: MessageChannel[];
  /** The rung it went on; set when it is handed over. */
  channel: MessageChannel | null;
  /** 1 for the message as planned, 2 for its SMS fallback. */
  rung: number;
  /** The FIVE_G entry a fallback stands in for; its touch of the contact budget is that entry's. */
  fallbackOf: string | null;
  /** The member's phone, for SMS and 5G. */
  to: string | null;
  timeZone: string;
  vars: VariableValues;
  state: OutboxState;
  reason: OutboxReason | null;
  dueAt: Date;
  /** After this it is not sent (see domain/expiry); absent on an entry stored before expiries were recorded. */
  expiresAt?: Date | null;
  /** True on a BEST_HOUR campaign's message planned as planned: analytics gave no best hour for its member. */
  withoutBestHour?: boolean;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
  providerMessageId: string | null;
  deliveredAt: Date | null;
  openedAt: Date | null;
  clickedAt: Date | null;
  unsubscribedAt: Date | null;
  fellBackAt: Date | null;
}

export interface SendBatchDoc {
  /** `<occurrence>#<page>` or `<entry>~fallback`. */
  _id: string;
  campaignId: string;
  entryIds: string[];
  state: 'OPEN' | 'DONE';
  /** When any of its entries is due next. */
  dueAt: Date;
  holder: string | null;
  leaseUntil: Date;
  createdAt: Date;
  /**
   * Counts the writes a holder's release must not overwrite — entries written into it (see addBatch), a resume making
   * it due now (see wakeCampaign): a holder releases it as it read it only at the revision it read. Absent on a batch
   * stored before revisions were counted, which reads as none yet.
   */
  revision?: number;
}

const entrySchema = new Schema<OutboxEntryDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    occurrenceId: { type: String, required: true },
    batchId: { type: String, required: true },
    memberId: { type: String, required: true },
    variant: { type: String, required: true },
    purpose: { type: String, required: true },
    templates: { type: Schema.Types.Mixed, required: true },
    ladder: { type: [String], default: [] },
    channel: { type: String, default: null },
    rung: { type: Number, required: true },
    fallbackOf: { type: String, default: null },
    to: { type: String, default: null },
    timeZone: { type: String, required: true },
    vars: { type: Schema.Types.Mixed, default: {} },
    state: { type: String, required: true },
    reason: { type: String, default: null },
    dueAt: { type: Date, required: true },
    expiresAt: { type: Date, default: null },
    withoutBestHour: { type: Boolean, default: undefined },
    attempts: { type: Number, required: true },
    lastError: { type: String, default: null },
    createdAt: { type: Date, required: true },
    sentAt: { type: Date, default: null },
    providerMessageId: { type: String, default: null },
    deliveredAt: { type: Date, default: null },
    openedAt: { type: Date, default: null },
    clickedAt: { type: Date, default: null },
    unsubscribedAt: { type: Date, default: null },
    fellBackAt: { type: Date, default: null },
  },
  { collection: 'outbox', versionKey: false, minimize: false },
);
entrySchema.index({ campaignId: 1, _id: 1 });
// A campaign's members in order with their deliveries, and the campaigns delivered lately: what conversions count.
entrySchema.index({ campaignId: 1, memberId: 1, deliveredAt: 1 });
entrySchema.index({ deliveredAt: 1 });
entrySchema.index({ channel: 1, state: 1, sentAt: 1 });

const batchSchema = new Schema<SendBatchDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    entryIds: { type: [String], default: [] },
    state: { type: String, required: true },
    dueAt: { type: Date, required: true },
    holder: { type: String, default: null },
    leaseUntil: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    revision: { type: Number, default: 0 },
  },
  { collection: 'send_batches', versionKey: false },
);
batchSchema.index({ state: 1, dueAt: 1 });

/**
 * The changes a worker makes to one entry, applied by id. `ifAttempts` fences a worker's write: it lands only while the
 * entry is still being sent and has the attempts the worker counted, so a worker that stalled past its lease, or whose
 * gateway answered after another took the batch over, cannot undo what the new holder recorded.
 */
export type EntryChange = {
  id: string;
  set: Partial<OutboxEntryDoc>;
  inc?: { attempts: number };
  ifAttempts?: number;
};

export class OutboxRepository {
  /** The collection through the driver: planning writes in volume, without mongoose's per-document work. */
  private readonly collection: mongo.Collection<OutboxEntryDoc>;

  constructor(
    readonly entries: Model<OutboxEntryDoc>,
    readonly batches: Model<SendBatchDoc>,
  ) {
    this.collection = entries.collection as unknown as mongo.Collection<OutboxEntryDoc>;
  }

  /** Entries by state: the outbox's depth (PENDING and SENDING) and what it has done. */
  async countByState(): Promise<Map<OutboxState, number>> {
    const counts = await this.collection
      .aggregate<{ _id: OutboxState; n: number }>([{ $group: { _id: '$state', n: { $sum: 1 } } }])
      .toArray();
    return new Map(counts.map(({ _id, n }) => [_id, n]));
  }

  static open(connection: Connection): OutboxRepository {
    return new OutboxRepository(
      connection.model<OutboxEntryDoc>('OutboxEntry', entrySchema),
      connection.model<SendBatchDoc>('SendBatch', batchSchema),
    );
  }

  /** Inserts the entries not there yet; an id already stored was planned before (a replayed page) and stays. */
  async insertNew(entries: readonly OutboxEntryDoc[]): Promise<number> {
    if (entries.length === 0) return 0;
    try {
      await this.collection.insertMany([...entries], { ordered: false });
      return entries.length;
    } catch (error) {
      const failed = duplicateIndexes(error);
      if (!failed) throw error;
      return entries.length - failed.size;
    }
  }

  byIds(ids: readonly string[]): Promise<OutboxEntryDoc[]> {
    return this.entries
      .find({ _id: { $in: [...ids] } })
      .lean<OutboxEntryDoc[]>()
      .exec();
  }

  /** Applies each entry's change by id (a fenced one only as its worker read the entry); how many landed. */
  async apply(changes: readonly EntryChange[]): Promise<number> {
    if (changes.length === 0) return 0;
    const result = await this.collection.bulkWrite(
      changes.map(({ id, set, inc, ifAttempts }) => ({
        updateOne: {
          filter:
            ifAttempts === undefined
              ? { _id: id }
              : { _id: id, attempts: ifAttempts, state: { $in: ['PENDING', 'SENDING'] } },
          update: inc ? { $set: set, $inc: inc } : { $set: set },
        },
      })),
      { ordered: false },
    );
    return result.matchedCount;
  }

  /** Sets a timestamp the first time only (a receipt or an open repeated changes nothing). */
  async stampOnce(
    id: string,
    field: 'deliveredAt' | 'openedAt' | 'clickedAt' | 'unsubscribedAt' | 'fellBackAt',
    at: Date,
  ): Promise<boolean> {
    const stamped = await this.entries
      .findOneAndUpdate({ _id: id, [field]: null }, { $set: { [field]: at } }, { projection: { _id: 1 } })
      .lean()
      .exec();
    return stamped !== null;
  }

  /** Dead-letters a message the carrier could not deliver, unless a delivery was recorded first; whether it did. */
  async deadLetterUndelivered(id: string, lastError: string): Promise<boolean> {
    const result = await this.collection.updateOne(
      { _id: id, deliveredAt: null },
      { $set: { state: 'DEAD', lastError } },
    );
    return result.matchedCount > 0;
  }

  /**
   * Records a delivered message sent after all, if it was given up (dead-lettered, or skipped after an attempt: the
   * gateway's answer was lost, or a failure raced its delivery); whether it was. One whose hand-over was never recorded
   * was handed over no later than it was delivered (`deliveredAt`).
   */
  async reviveDelivered(id: string, deliveredAt: Date): Promise<boolean> {
    const givenUp = { _id: id, state: { $in: [...GIVEN_UP_STATES] }, deliveredAt: { $ne: null } };
    const sent = { state: 'SENT' as const, reason: null, lastError: null };
    const unrecorded = await this.collection.updateOne(
      { ...givenUp, sentAt: null },
      { $set: { ...sent, sentAt: deliveredAt } },
    );
    if (unrecorded.matchedCount > 0) return true;
    return (await this.collection.updateOne(givenUp, { $set: sent })).matchedCount > 0;
  }

  /** FIVE_G messages sent at or before `sentBefore` with no delivery receipt and no fallback yet. */
  awaitingFallback(sentBefore: Date, limit: number): Promise<OutboxEntryDoc[]> {
    return this.entries
      .find({
        channel: 'FIVE_G',
        state: 'SENT',
        deliveredAt: null,
        fellBackAt: null,
        sentAt: { $lte: sentBefore },
      })
      .limit(limit)
      .lean<OutboxEntryDoc[]>()
      .exec();
  }

  /**
   * A campaign's entries by id, from `after`, optionally in one state as they stand at `now` (see domain/expiry's
   * asOf): SKIPPED includes the unsent ones past their expiry, PENDING and SENDING leave them out.
   */
  pageOfCampaign(
    campaignId: string,
    state: OutboxState | null,
    first: number,
    after: string | null,
    now: Date,
  ): Promise<OutboxEntryDoc[]> {
    const inState: EntryFilter =
      state === null
        ? {}
        : state === 'SKIPPED'
          ? { $or: [{ state }, expiredAt(now, true)] }
          : UNSENT_STATES.includes(state)
            ? { state, $or: expiryClauses(now, false) }
            : { state };
    return this.entries
      .find({
        campaignId,
        ...inState,
        ...(after ? { _id: { $gt: after } } : {}),
      })
      .sort({ _id: 1 })
      .limit(first)
      .lean<OutboxEntryDoc[]>()
      .exec();
  }

  /**
   * Whether a campaign has messages still to send at `now`: one unsent past its expiry is not (see expiredAt), as the
   * campaign's stats and messages read it, though a paused campaign's sender has not recorded it yet.
   */
  async hasPending(campaignId: string, now: Date): Promise<boolean> {
    const waiting = { campaignId, state: { $in: [...UNSENT_STATES] }, $or: expiryClauses(now, false) };
    return (await this.entries.exists(waiting)) !== null;
  }

  /** The campaigns with a message delivered at or after `since`. */
  async campaignsDeliveredSince(since: Date): Promise<string[]> {
    const rows = await this.entries
      .aggregate<{ _id: string }>([
        { $match: { deliveredAt: { $gte: since } } },
        { $group: { _id: '$campaignId' } },
        { $sort: { _id: 1 } },
      ])
      .exec();
    return rows.map((row) => row._id);
  }

  /**
   * Each member a campaign's messages reached, by member id, with the first of their messages delivered (its variant
   * and when), streamed: what is held at once is a cursor batch, whatever the audience.
   */
  async *firstDeliveries(
    campaignId: string,
  ): AsyncGenerator<{ memberId: string; variant: string; deliveredAt: Date }> {
    const delivered = this.entries
      .find({ campaignId, deliveredAt: { $ne: null } })
      .sort({ memberId: 1, deliveredAt: 1 })
      .select({ _id: 0, memberId: 1, variant: 1, deliveredAt: 1 })
      .lean<{ memberId: string; variant: string; deliveredAt: Date }[]>()
      .cursor({ batchSize: 1_000 });
    let last: string | null = null;
    for await (const entry of delivered) {
      if (entry.memberId === last) continue;
      last = entry.memberId;
      yield entry;
    }
  }

  /**
   * Writes a batch, then its entries not stored yet (so no entry is ever outside a batch). A batch that exists (a page
   * planned again after a crash, a fallback swept twice) gains the entries it lacked and is due at the earlier of the
   * two: a planner that died after writing the batch may have planned its members later (at their best hour) than the
   * replan does (analytics down since, so as planned), and an entry due now would wait for the batch. A batch due
   * before its entries costs nothing: the sender sends those due and gives it back due at the next.
   *
   * A worker may lease the batch while this runs and read its entries without these (listed but not stored yet, or not
   * listed yet): once they are stored the batch is revised and open, so that worker cannot release it DONE over them
   * (see releaseBatch), and one that did so already is overruled.
   */
  async addBatch(batch: SendBatchDoc, entries: readonly OutboxEntryDoc[]): Promise<void> {
    try {
      await this.batches.create(batch);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      await this.batches
        .updateOne({ _id: batch._id }, { $addToSet: { entryIds: { $each: batch.entryIds } } })
        .exec();
    }
    await this.insertNew(entries);
    await this.batches
      .updateOne(
        { _id: batch._id },
        { $inc: { revision: 1 }, $set: { state: 'OPEN' }, $min: { dueAt: batch.dueAt } },
      )
      .exec();
  }

  /** Leases the batch due first that nobody holds (or whose holder's lease ran out); null when none is due. */
  leaseBatch(holder: string, leaseMs: number, now: Date): Promise<SendBatchDoc | null> {
    return this.batches
      .findOneAndUpdate(
        { state: 'OPEN', dueAt: { $lte: now }, leaseUntil: { $lte: now } },
        { $set: { holder, leaseUntil: new Date(now.getTime() + leaseMs) } },
        { sort: { dueAt: 1 }, returnDocument: 'after' },
      )
      .lean<SendBatchDoc>()
      .exec();
  }

  /** Extends a lease this holder still has; false when another took the batch over. */
  async renewLease(batchId: string, holder: string, leaseMs: number): Promise<boolean> {
    const renewed = await this.batches
      .findOneAndUpdate(
        { _id: batchId, holder },
        { $set: { leaseUntil: new Date(Date.now() + leaseMs) } },
        { projection: { _id: 1 } },
      )
      .lean()
      .exec();
    return renewed !== null;
  }

  /**
   * Gives a batch back as its holder read it: done, or due again at `dueAt`. One revised since it was read goes back
   * open as the reviser left it, due no later than when it was leased (at once): its entries written since (see
   * addBatch) hold some its holder never saw, for the next lease to send; its campaign resumed since (see wakeCampaign)
   * is due now, not when a holder that read it paused would look again.
   */
  async releaseBatch(
    batch: Pick<SendBatchDoc, '_id' | 'revision'>,
    holder: string,
    dueAt: Date | null,
  ): Promise<void> {
    const unheld = { holder: null, leaseUntil: new Date(0) };
    // A batch stored before revisions were counted has none until an entry is written into it.
    const asRead = { _id: batch._id, holder, revision: batch.revision ?? null };
    const released = await this.batches
      .updateOne(asRead, {
        $set: dueAt ? { state: 'OPEN', dueAt, ...unheld } : { state: 'DONE', ...unheld },
      })
      .exec();
    if (released.matchedCount > 0) return;
    await this.batches.updateOne({ _id: batch._id, holder }, { $set: { state: 'OPEN', ...unheld } }).exec();
  }

  /**
   * Makes a campaign's open batches due now (it was resumed), revised: a worker holding one that read the campaign
   * paused gives it back as this leaves it, not due when it would have looked again (see releaseBatch).
   */
  async wakeCampaign(campaignId: string, now: Date): Promise<void> {
    await this.batches
      .updateMany({ campaignId, state: 'OPEN' }, { $set: { dueAt: now }, $inc: { revision: 1 } })
      .exec();
  }
}
