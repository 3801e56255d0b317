// Claims of benefits: one document per claim, owned by its member. Moving a claim's state is a conditional update
// on the state it leaves, so a claim is used (or revoked) exactly once however many try at the same time.
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
  },
  { collection: 'claims', versionKey: false },
);
claimSchema.index({ memberId: 1, claimedAt: -1 });
claimSchema.index({ benefitId: 1, state: 1 });
// Unused claims expiring soon (expiringClaims), page by page in id order.
claimSchema.index({ state: 1, expiresAt: 1, _id: 1 });

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

  /** One member's claims, newest first, optionally only those in one state now. */
  ofMember(memberId: string, state: ClaimState | null, now: Date, limit: number): Promise<ClaimDoc[]> {
    return this.model
      .find({ memberId, ...(state ? stateFilter(state, now) : {}) })
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

  /** Withdraws a usable claim; null when it is not usable (used, revoked, expired) or does not exist. */
  revoke(claimId: string, operatorId: string, reason: string, now: Date): Promise<ClaimDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: claimId, ...stateFilter('CLAIMED', now) },
        { $set: { state: 'REVOKED', revokedAt: now, revokedBy: operatorId, revokeReason: reason } },
        { returnDocument: 'after' },
      )
      .lean<ClaimDoc>()
      .exec();
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
