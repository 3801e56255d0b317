// The append-only points ledger. The unique idempotency key is what makes an entry happen at most once.
import { Schema, type Model } from 'mongoose';

export type EntryState = 'PENDING' | 'APPLIED';

/**
 * AWARD adds spendable and growth points; SPEND takes spendable points (never below zero); REFUND gives back
 * spendable points of a spend that bought nothing, never more than that spend took. Growth points, which set the
 * level, only ever grow by awards.
 */
export type EntryKind = 'AWARD' | 'SPEND' | 'REFUND';

export interface PointsEntryDoc {
  _id: string;
  memberId: string;
  kind: EntryKind;
  /** Signed: negative for a SPEND. */
  amount: number;
  reason: string;
  idempotencyKey: string;
  state: EntryState;
  /** While PENDING, the writer that owns the entry; after it passes, a retry may finish the entry. */
  leaseUntil: Date;
  balanceAfter: number | null;
  levelAfter: string | null;
  createdAt: Date;
  createdBy: string;
  /**
   * A REFUND's spend: the id of the SPEND entry it gives back (part of). Absent on refunds stored before refunds named
   * their spend.
   */
  refundOf?: string;
  /** A SPEND's points given back so far: the sum of the refunds in `refunds`. Absent until its first refund. */
  refunded?: number;
  /**
   * A SPEND's refunds counted against it (entry ids, at most MAX_REFUNDS_PER_SPEND), each counted once however often
   * its finishers count it: no refund reaches the balance before it is here.
   */
  refunds?: string[];
}

/** Refunds one spend takes at most: its ids are kept in the spend's own document. */
export const MAX_REFUNDS_PER_SPEND = 100;

export const pointsEntrySchema = new Schema<PointsEntryDoc>(
  {
    _id: { type: String, required: true },
    memberId: { type: String, required: true },
    kind: { type: String, required: true, default: 'AWARD' },
    amount: { type: Number, required: true },
    reason: { type: String, required: true },
    idempotencyKey: { type: String, required: true, unique: true },
    state: { type: String, required: true },
    leaseUntil: { type: Date, required: true },
    balanceAfter: { type: Number, default: null },
    levelAfter: { type: String, default: null },
    createdAt: { type: Date, required: true },
    createdBy: { type: String, required: true },
    refundOf: { type: String, default: undefined },
    refunded: { type: Number, default: undefined },
    refunds: { type: [String], default: undefined },
  },
  { collection: 'points_ledger', versionKey: false },
);
pointsEntrySchema.index({ memberId: 1, createdAt: -1 });
// The recovery pass's search for entries whose writer died.
pointsEntrySchema.index({ state: 1, leaseUntil: 1 });

export class PointsLedgerRepository {
  constructor(readonly model: Model<PointsEntryDoc>) {}

  /** Inserts a new entry; returns false when the idempotency key is already taken. */
  async tryInsert(entry: PointsEntryDoc): Promise<boolean> {
    try {
      await this.model.create(entry);
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
  }

  findByKey(idempotencyKey: string): Promise<PointsEntryDoc | null> {
    return this.model.findOne({ idempotencyKey }).lean<PointsEntryDoc>().exec();
  }

  findById(entryId: string): Promise<PointsEntryDoc | null> {
    return this.model.findById(entryId).lean<PointsEntryDoc>().exec();
  }

  /**
   * Counts a refund of `amount` against its spend, once per refund id: only while the refunds counted before it leave
   * room for it (in the update's own filter, so concurrent refunds can never together pass the spend) and the spend
   * keeps fewer than MAX_REFUNDS_PER_SPEND. True when it is counted, now or before; false when it does not fit.
   */
  async reserveRefund(spendId: string, refundId: string, amount: number): Promise<boolean> {
    const spend = await this.model.findOne({ _id: spendId, kind: 'SPEND' }).lean<PointsEntryDoc>().exec();
    if (!spend) throw new Error(`spend ${spendId} of refund ${refundId} is missing`);
    if (spend.refunds?.includes(refundId)) return true;
    // A spend's amount never changes: what room is left follows from what is refunded already.
    const room = -spend.amount - amount;
    if (room < 0) return false;
    const counted = await this.model.updateOne(
      {
        _id: spendId,
        refunds: { $ne: refundId },
        [`refunds.${MAX_REFUNDS_PER_SPEND - 1}`]: { $exists: false },
        $or: [{ refunded: { $exists: false } }, { refunded: { $lte: room } }],
      },
      { $inc: { refunded: amount }, $push: { refunds: refundId } },
    );
    if (counted.modifiedCount > 0) return true;
    // Another finisher of the same refund may have counted it meanwhile.
    return (await this.model.exists({ _id: spendId, refunds: refundId })) !== null;
  }

  /** Takes back the count of a refund refused for good (its key given back), so another may use the room. */
  async releaseRefund(spendId: string, refundId: string, amount: number): Promise<void> {
    await this.model.updateOne(
      { _id: spendId, refunds: refundId },
      { $inc: { refunded: -amount }, $pull: { refunds: refundId } },
    );
  }

  /** Takes over a PENDING entry whose writer's lease has run out (it crashed or timed out). */
  claimExpired(entryId: string, now: Date, leaseUntil: Date): Promise<PointsEntryDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: entryId, state: 'PENDING', leaseUntil: { $lt: now } },
        { $set: { leaseUntil } },
        { returnDocument: 'after' },
      )
      .lean<PointsEntryDoc>()
      .exec();
  }

  /** PENDING entries whose lease ran out before `cutoff`, the longest stuck first, at most `limit`. */
  stuckBefore(cutoff: Date, limit: number): Promise<PointsEntryDoc[]> {
    return this.model
      .find({ state: 'PENDING', leaseUntil: { $lt: cutoff } })
      .sort({ leaseUntil: 1, _id: 1 })
      .limit(limit)
      .lean<PointsEntryDoc[]>()
      .exec();
  }

  /**
   * Gives back the key of an entry that was never applied (a spend the balance could not cover), if `leaseUntil` shows
   * the caller still owns it: an entry that never touched the balance is no part of the ledger's history. False when
   * it does not: another finisher took the entry over since.
   */
  async dropUnapplied(entryId: string, leaseUntil: Date): Promise<boolean> {
    return (await this.model.deleteOne({ _id: entryId, state: 'PENDING', leaseUntil })).deletedCount > 0;
  }

  /** Gives back the key of an entry the member refused for good (MemberRepository.refuseEntry), whoever owns it. */
  async dropRefused(entryId: string): Promise<void> {
    await this.model.deleteOne({ _id: entryId, state: 'PENDING' });
  }

  markApplied(
    entryId: string,
    balanceAfter: number | null,
    levelAfter: string | null,
  ): Promise<PointsEntryDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: entryId, state: 'PENDING' },
        { $set: { state: 'APPLIED', balanceAfter, levelAfter } },
        { returnDocument: 'after' },
      )
      .lean<PointsEntryDoc>()
      .exec();
  }

  /** A member's newest entries, at most `limit` (the index on memberId and createdAt serves it). */
  newestFor(memberId: string, limit: number): Promise<PointsEntryDoc[]> {
    return this.model
      .find({ memberId })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<PointsEntryDoc[]>()
      .exec();
  }

  /**
   * A member's newest entries that moved the balance, at most `limit`: the applied ones, and those still PENDING that
   * `appliedIds` (the member's applied entries) shows applied — their writer died before marking them. An entry never
   * applied (a spend being refused, an award whose writer died first) is no part of the member's history until a
   * retry applies it.
   */
  historyFor(memberId: string, limit: number, appliedIds: readonly string[]): Promise<PointsEntryDoc[]> {
    return this.model
      .find({ memberId, $or: [{ state: 'APPLIED' }, { _id: { $in: [...appliedIds] } }] })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<PointsEntryDoc[]>()
      .exec();
  }

  countForKey(idempotencyKey: string): Promise<number> {
    return this.model.countDocuments({ idempotencyKey }).exec();
  }
}
