// Benefits (权益): what members claim, how many there are, for whom. The stock on the document (`remaining`) is
// moved only by conditional updates of single claims, never by an operator's edit, so an edit and a claim arriving
// together cannot undo each other.
import { Schema, type Model } from 'mongoose';
import type { Rule } from '@bank-hub/targeting';
import { workflowCriteria, type Revisable, type WorkflowFilter } from '@bank-hub/shared';
import type { ClaimReservationRepository } from './claim-reservation';

export type BenefitKind = 'COUPON' | 'FEE_DISCOUNT' | 'RATE_BONUS' | 'CASH_BACK' | 'POINTS_PRODUCT';

/** What an operator edits on a benefit: everything but its identity, its workflow state and its stock counter. */
export interface BenefitFields {
  title: string;
  kind: BenefitKind;
  value: number;
  /** Spendable points a POINTS_PRODUCT costs; 0 for other kinds. */
  pointsCost: number;
  /** Claims it can give in total; only ever raised. */
  stock: number;
  perMemberLimit: number;
  /** Most claims per business day of the bank (BANK_TIME_ZONE), all members together; null for no limit. */
  perDayLimit: number | null;
  startsAt: Date;
  endsAt: Date;
  /** Business days a claim stays usable, the day it is claimed on the first (see expiryOf). */
  validDays: number;
  rule: Rule | null;
  /** Levels that carry the benefit as a privilege; when any, only members at one of them may claim it. */
  levelCodes: string[];
}

export interface BenefitDoc extends BenefitFields, Revisable<BenefitFields> {
  _id: string;
  /** Claims still available. */
  remaining: number;
  /**
   * Claims that took stock whose reservation is not recorded yet (see takeStock), and ids earlier versions kept of
   * their latest claims, read the same way: how a retry of a claim whose writer died tells that its stock was already
   * taken, so it never takes two.
   */
  recentClaims: string[];
  createdAt: Date;
}

/** What the stock fields are called: an operator's replace never writes them. */
type StockField = 'remaining' | 'recentClaims';

export const benefitSchema = new Schema<BenefitDoc>(
  {
    _id: { type: String, required: true },
    title: { type: String, required: true },
    kind: { type: String, required: true },
    value: { type: Number, required: true },
    pointsCost: { type: Number, required: true },
    stock: { type: Number, required: true },
    remaining: { type: Number, required: true },
    recentClaims: { type: [String], default: [] },
    perMemberLimit: { type: Number, required: true },
    perDayLimit: { type: Number, default: null },
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    validDays: { type: Number, required: true },
    rule: { type: Schema.Types.Mixed, default: null },
    levelCodes: { type: [String], default: [] },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    // An edit of the published benefit waiting for approval (see @bank-hub/shared workflow).
    pending: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'benefits', versionKey: false, minimize: false },
);
benefitSchema.index({ status: 1, createdAt: -1 });
benefitSchema.index({ levelCodes: 1 });

/** The id of a benefit's stock among the counts claims hold a place in (see ClaimReservationRepository). */
const stockId = (benefitId: string) => `S|${benefitId}`;

export class BenefitRepository {
  constructor(
    readonly model: Model<BenefitDoc>,
    private readonly reservations: ClaimReservationRepository,
  ) {}

  findByIds(ids: readonly string[]): Promise<BenefitDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<BenefitDoc[]>()
      .exec();
  }

  /** Newest first, optionally of one status. */
  newest(filter: WorkflowFilter, limit: number): Promise<BenefitDoc[]> {
    return this.model
      .find(workflowCriteria(filter))
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<BenefitDoc[]>()
      .exec();
  }

  /** Published benefits that have not ended and that one of the levels carries as a privilege. */
  privilegesOf(levelCodes: readonly string[], now: Date): Promise<BenefitDoc[]> {
    return this.model
      .find({ status: 'PUBLISHED', levelCodes: { $in: levelCodes }, endsAt: { $gt: now } })
      .sort({ _id: 1 })
      .lean<BenefitDoc[]>()
      .exec();
  }

  insert(benefit: BenefitDoc): Promise<unknown> {
    return this.model.create(benefit);
  }

  /**
   * Writes an operator's change if nobody changed the benefit since `expectedVersion`; the stock counter only moves
   * by `stockAdded` (what an approved stock increase adds), leaving the claims' own updates intact.
   */
  replaceIfVersion(
    benefit: BenefitDoc,
    expectedVersion: number,
    stockAdded: number,
  ): Promise<BenefitDoc | null> {
    const { _id, remaining: _remaining, recentClaims: _recent, ...fields } = benefit;
    const update: { $set: Omit<BenefitDoc, '_id' | StockField>; $inc?: { remaining: number } } = {
      $set: fields,
    };
    if (stockAdded !== 0) update.$inc = { remaining: stockAdded };
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, update, { returnDocument: 'after' })
      .lean<BenefitDoc>()
      .exec();
  }

  /**
   * Takes one item of stock for a claim, unless none remains. True when the claim holds an item now, also when a
   * writer of the same claim took it before. Written as a counter's reservation is (ClaimCounterRepository.reserve):
   * the stock notes the claim's id with the item it takes until the claim's reservation is recorded.
   */
  async takeStock(benefitId: string, claimId: string): Promise<boolean> {
    const countId = stockId(benefitId);
    if (await this.reservations.holds(countId, claimId)) {
      // Recorded by a writer that died before its id left the stock.
      await this.model.updateOne(
        { _id: benefitId, recentClaims: claimId },
        { $pull: { recentClaims: claimId } },
      );
      return true;
    }
    const taken = await this.model.updateOne(
      { _id: benefitId, remaining: { $gt: 0 }, recentClaims: { $ne: claimId } },
      { $inc: { remaining: -1 }, $push: { recentClaims: claimId } },
    );
    if (taken.modifiedCount === 0 && !(await this.model.exists({ _id: benefitId, recentClaims: claimId })))
      return false;
    await this.reservations.hold(countId, claimId);
    await this.model.updateOne({ _id: benefitId }, { $pull: { recentClaims: claimId } });
    return true;
  }
}
