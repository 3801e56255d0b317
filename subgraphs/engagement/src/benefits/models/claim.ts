// Claims of benefits: one document per claim, owned by its member. Moving a claim's state is a conditional update
// on the state it leaves, so a claim is used (or revoked) exactly once however many try at the same time.
import { olderThan, type FeedPosition } from '@bank-hub/shared';
import { Schema, type Model } from 'mongoose';

export type ClaimSource = 'CLAIM' | 'TASK_REWARD' | 'REFERRAL' | 'POINTS';
/** What is stored; EXPIRED is read from `expiresAt` (see stateOf), so nothing has to sweep claims for it. */
export type StoredClaimState = 'CLAIMED' | 'USED' | 'REVOKED';
export type ClaimState = StoredClaimState | 'EXPIRED';

export interface ClaimDoc {
  _id: string;
  benefitId: string;
  memberId: string;
  source: ClaimSource;
  state: StoredClaimState;
  claimedAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
  revokeReason: string | null;
  /**
   * Spendable points the member paid for it: a purchase's (source POINTS) price as its key's first call fixed it, 0
   * for any other claim. Absent on claims stored before claims kept it.
   */
  pointsPaid?: number;
  /**
   * A purchase (source POINTS) an operator revoked owes its points back: DUE until members gave them, then DONE. Absent
   * or null on any other claim.
   */
  refund?: 'DUE' | 'DONE' | null;
}

export const stateOf = (claim: Pick<ClaimDoc, 'state' | 'expiresAt'>, now: Date): ClaimState =>
  claim.state === 'CLAIMED' && claim.expiresAt <= now ? 'EXPIRED' : claim.state;

/** The stored condition of claims that read as `state` now. */
function stateFilter(state: ClaimState, now: Date): Record<string, unknown> {
  if (state === 'CLAIMED') return { state, expiresAt: { $gt: now } };
  if (state === 'EXPIRED') return { state: 'CLAIMED', expiresAt: { $lte: now } };
  return { state };
}

export const claimSchema = new Schema<ClaimDoc>(
  {
    _id: { type: String, required: true },
    benefitId: { type: String, required: true },
    memberId: { type: String, required: true },
    source: { type: String, required: true },
    state: { type: String, required: true },
    claimedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    usedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
    revokedBy: { type: String, default: null },
    revokeReason: { type: String, default: null },
    pointsPaid: { type: Number, default: undefined },
    refund: { type: String, default: null },
  },
  { collection: 'claims', versionKey: false },
);
// A member's claims newest first, page by page (ofMember): the id breaks ties in the order and in the cursor.
claimSchema.index({ memberId: 1, claimedAt: -1, _id: -1 });
claimSchema.index({ benefitId: 1, state: 1 });
// Unused claims expiring soon (expiringClaims), page by page in id order.
claimSchema.index({ state: 1, expiresAt: 1, _id: 1 });
// Revoked purchases whose points are still to be given back (refundsDueBefore).
claimSchema.index({ refund: 1, revokedAt: 1 });

export interface ClaimCountRow {
  benefitId: string;
  state: ClaimState;
  claims: number;
}

export class ClaimRepository {
  constructor(readonly model: Model<ClaimDoc>) {}

  findByIds(ids: readonly string[]): Promise<ClaimDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<ClaimDoc[]>()
      .exec();
  }

  /**
   * A claim by id as `owner` may reach it: a member (their id) only their own, so that another member's claim is as
   * absent as one that does not exist; an operator (null) any.
   */
  findOwned(claimId: string, owner: string | null): Promise<ClaimDoc | null> {
    return this.model
      .findOne({ _id: claimId, ...(owner === null ? {} : { memberId: owner }) })
      .lean<ClaimDoc>()
      .exec();
  }

  /** One member's claims, newest first after `after`, optionally only those in one state now. */
  ofMember(
    memberId: string,
    state: ClaimState | null,
    now: Date,
    limit: number,
    after: FeedPosition | null,
  ): Promise<ClaimDoc[]> {
    return this.model
      .find({ memberId, ...(state ? stateFilter(state, now) : {}), ...olderThan('claimedAt', after) })
      .sort({ claimedAt: -1, _id: -1 })
      .limit(limit)
      .lean<ClaimDoc[]>()
      .exec();
  }

  /**
   * Unused claims that expire after `now` and at most at `until`, in id order after `afterId`; optionally of one
   * benefit.
   */
  expiringBetween(
    now: Date,
    until: Date,
    benefitId: string | null,
    afterId: string | null,
    limit: number,
  ): Promise<ClaimDoc[]> {
    return this.model
      .find({
        state: 'CLAIMED',
        expiresAt: { $gt: now, $lte: until },
        ...(benefitId ? { benefitId } : {}),
        ...(afterId ? { _id: { $gt: afterId } } : {}),
      })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<ClaimDoc[]>()
      .exec();
  }

  /** Stores a claim once: a retry of the same claim (same id) finds it there. */
  async insertOnce(claim: ClaimDoc): Promise<void> {
    try {
      await this.model.create(claim);
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
    }
  }

  /** Marks a usable claim used; null when it is not usable (used, revoked, expired) or does not exist. */
  markUsed(claimId: string, now: Date): Promise<ClaimDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: claimId, ...stateFilter('CLAIMED', now) },
        { $set: { state: 'USED', usedAt: now } },
        { returnDocument: 'after' },
      )
      .lean<ClaimDoc>()
      .exec();
  }

  /**
   * Withdraws a usable claim, noting a refund DUE when it was bought with points; null when it is not usable (used,
   * revoked, expired) or does not exist.
   */
  revoke(
    claimId: string,
    operatorId: string,
    reason: string,
    now: Date,
    refundDue: boolean,
  ): Promise<ClaimDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: claimId, ...stateFilter('CLAIMED', now) },
        {
          $set: {
            state: 'REVOKED',
            revokedAt: now,
            revokedBy: operatorId,
            revokeReason: reason,
            refund: refundDue ? 'DUE' : null,
          },
        },
        { returnDocument: 'after' },
      )
      .lean<ClaimDoc>()
      .exec();
  }

  /** Revoked purchases revoked before `before` whose points are still to be given back, oldest first. */
  refundsDueBefore(before: Date, limit: number): Promise<ClaimDoc[]> {
    return this.model
      .find({ refund: 'DUE', revokedAt: { $lt: before } })
      .sort({ revokedAt: 1, _id: 1 })
      .limit(limit)
      .lean<ClaimDoc[]>()
      .exec();
  }

  /** Notes that the points of a revoked purchase were given back. */
  async refunded(claimId: string): Promise<void> {
    await this.model.updateOne({ _id: claimId, refund: 'DUE' }, { $set: { refund: 'DONE' } });
  }

  /** Claims per benefit and state now, for many benefits in one round trip. */
  async countsByState(benefitIds: readonly string[], now: Date): Promise<ClaimCountRow[]> {
    const [result] = await this.model
      .aggregate<{ stored: GroupRow[]; expired: GroupRow[] }>([
        { $match: { benefitId: { $in: benefitIds } } },
        {
          $facet: {
            stored: [{ $group: { _id: { benefitId: '$benefitId', state: '$state' }, n: { $sum: 1 } } }],
            expired: [
              { $match: stateFilter('EXPIRED', now) },
              { $group: { _id: { benefitId: '$benefitId', state: 'EXPIRED' }, n: { $sum: 1 } } },
            ],
          },
        },
      ])
      .exec();
    const expired = new Map((result?.expired ?? []).map((row) => [row._id.benefitId, row.n]));
    const rows = (result?.stored ?? []).map(({ _id, n }) => ({
      benefitId: _id.benefitId,
      state: _id.state,
      // Stored CLAIMED includes the expired ones, counted apart.
      claims: _id.state === 'CLAIMED' ? n - (expired.get(_id.benefitId) ?? 0) : n,
    }));
    return [
      ...rows,
      ...[...expired].map(([benefitId, claims]) => ({ benefitId, state: 'EXPIRED' as const, claims })),
    ];
  }
}

interface GroupRow {
  _id: { benefitId: string; state: ClaimState };
  n: number;
}
