// One document per idempotency key of a member: what was asked (a hash of the arguments) and what was answered (the
// claim, or the refusal). The unique id admits one writer per key; its lease lets a retry take over from a writer
// that died halfway, and the holder guards every later write so a writer that lost its lease changes nothing.
import { Schema, type Model } from 'mongoose';
import type { ClaimSource } from './claim';

/** A refused claim's answer; `refund` tracks points paid for it (redeemPoints) until they are given back. */
export interface Refusal {
  code: string;
  message: string;
  refund: 'DUE' | 'DONE' | null;
}

export type ClaimOutcome = { claimId: string; refusal: null } | { claimId: null; refusal: Refusal };

export interface ClaimRequestDoc {
  /** `<memberId>|<source>|<idempotencyKey>`. */
  _id: string;
  memberId: string;
  source: ClaimSource;
  argumentsHash: string;
  /** The benefit asked for; null on requests stored before it was kept. */
  benefitId: string | null;
  /** The claim this request makes (derived from the id, so a retry makes the same one). */
  claimId: string;
  /** Spendable points the claim costs (redeemPoints; 0 otherwise), fixed when first asked: what is paid and refunded. */
  pointsCost: number;
  /** When the first writer started: the claim's time, whoever finishes it. */
  createdAt: Date;
  /**
   * When a writer saw its payment go through (redeemPoints): a purchase paid while on sale, which a writer taking it
   * over after the benefit ended still finishes. Null until then and for claims nobody pays for; absent on requests
   * stored before it was kept.
   */
  paidAt?: Date | null;
  /** The writer working on it now, while `leaseUntil` has not passed. */
  holder: string;
  leaseUntil: Date;
  outcome: ClaimOutcome | null;
}

/** Who works on a request: the holder id and its lease. */
export interface Lease {
  holder: string;
  leaseUntil: Date;
}

export const claimRequestSchema = new Schema<ClaimRequestDoc>(
  {
    _id: { type: String, required: true },
    memberId: { type: String, required: true },
    source: { type: String, required: true },
    argumentsHash: { type: String, required: true },
    benefitId: { type: String, default: null },
    claimId: { type: String, required: true },
    pointsCost: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    paidAt: { type: Date, default: null },
    holder: { type: String, required: true },
    leaseUntil: { type: Date, required: true },
    outcome: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'claim_requests', versionKey: false },
);
// Purchases left unsettled (unansweredPaidBefore, refundsDueBefore): few, found without reading the settled ones.
claimRequestSchema.index({ outcome: 1, createdAt: 1 });
claimRequestSchema.index({ 'outcome.refusal.refund': 1, createdAt: 1 });
// What a revoked purchase cost (ofClaim).
claimRequestSchema.index({ claimId: 1 });

export class ClaimRequestRepository {
  constructor(readonly model: Model<ClaimRequestDoc>) {}

  find(id: string): Promise<ClaimRequestDoc | null> {
    return this.model.findById(id).lean<ClaimRequestDoc>().exec();
  }

  /** The request that made a claim (each claim has one: its id follows from the request's). */
  ofClaim(claimId: string): Promise<ClaimRequestDoc | null> {
    return this.model.findOne({ claimId }).lean<ClaimRequestDoc>().exec();
  }

  /** Stores a new request; false when its key is taken. */
  async tryInsert(request: ClaimRequestDoc): Promise<boolean> {
    try {
      await this.model.create(request);
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
  }

  /** Takes over an unanswered request whose holder's lease has run out; null when it is answered or still held. */
  takeOver(id: string, lease: Lease, now: Date): Promise<ClaimRequestDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, outcome: null, leaseUntil: { $lt: now } },
        { $set: lease },
        { returnDocument: 'after' },
      )
      .lean<ClaimRequestDoc>()
      .exec();
  }

  /** Records the answer, if the holder still holds the request; null when it does not (another writer answered). */
  answer(id: string, holder: string, outcome: ClaimOutcome): Promise<ClaimRequestDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, holder, outcome: null },
        { $set: { outcome } },
        { returnDocument: 'after' },
      )
      .lean<ClaimRequestDoc>()
      .exec();
  }

  /** Notes that the holder's payment for the request went through, at `now`. */
  async notePaid(id: string, holder: string, now: Date): Promise<void> {
    await this.model.updateOne({ _id: id, holder, outcome: null, paidAt: null }, { $set: { paidAt: now } });
  }

  /**
   * Forgets an unanswered request its holder gives up with nothing reserved or paid (a grant refused until later), so
   * that the next try of its key starts afresh.
   */
  async forget(id: string, holder: string): Promise<void> {
    await this.model.deleteOne({ _id: id, holder, outcome: null });
  }

  /** Notes that the points paid for a refused request were given back. */
  async refunded(id: string): Promise<void> {
    await this.model.updateOne(
      { _id: id, 'outcome.refusal.refund': 'DUE' },
      { $set: { 'outcome.refusal.refund': 'DONE' } },
    );
  }

  /**
   * Ends the holder's lease on a request it leaves unanswered (whether its points moved is unknown), so that a retry
   * of the key takes it over at once instead of waiting the lease out. The request itself is never forgotten.
   */
  async endLease(id: string, holder: string): Promise<void> {
    await this.model.updateOne({ _id: id, holder, outcome: null }, { $set: { leaseUntil: new Date(0) } });
  }

  /** Paid-for requests (redeemPoints) first asked before `before` and still unanswered, oldest first. */
  unansweredPaidBefore(before: Date, limit: number): Promise<ClaimRequestDoc[]> {
    return this.model
      .find({ outcome: null, pointsCost: { $gt: 0 }, createdAt: { $lt: before } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<ClaimRequestDoc[]>()
      .exec();
  }

  /** Refused requests first asked before `before` whose points are still to be given back, oldest first. */
  refundsDueBefore(before: Date, limit: number): Promise<ClaimRequestDoc[]> {
    return this.model
      .find({ 'outcome.refusal.refund': 'DUE', createdAt: { $lt: before } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<ClaimRequestDoc[]>()
      .exec();
  }
}
