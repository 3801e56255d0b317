// Product bundles (产品组合), designed by operators through the four-eyes workflow (see @bank-hub/shared workflow).
import { Schema, type Model } from 'mongoose';
import type { Rule } from '@bank-hub/targeting';
import { workflowCriteria, type ContentStatus, type Revisable, type WorkflowFilter } from '@bank-hub/shared';

/** What an operator designs on a bundle: everything but its identity and its workflow state. */
export interface BundleFields {
  name: string;
  description: string;
  productIds: string[];
  rule: Rule | null;
  /** In the currency every product of the bundle shares. */
  minTotalAmount: number;
  validFrom: Date;
  validTo: Date;
  discountRate: number | null;
  rateBonus: number | null;
  benefitIds: string[];
}

export interface BundleDoc extends BundleFields, Revisable<BundleFields> {
  _id: string;
}

export const bundleSchema = new Schema<BundleDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, required: true },
    productIds: { type: [String], required: true },
    rule: { type: Schema.Types.Mixed, default: null },
    minTotalAmount: { type: Number, required: true },
    validFrom: { type: Date, required: true },
    validTo: { type: Date, required: true },
    discountRate: { type: Number, default: null },
    rateBonus: { type: Number, default: null },
    benefitIds: { type: [String], default: [] },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    // An edit of the published bundle waiting for approval; members are offered the published fields meanwhile.
    pending: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'bundles', versionKey: false, minimize: false },
);
bundleSchema.index({ status: 1, updatedAt: -1 });

/** A bundle as stored before bundles had a workflow: ACTIVE or INACTIVE, without version or editors. */
type StoredBundle = Omit<BundleDoc, 'status' | keyof Revisable<BundleFields>> &
  Partial<Revisable<BundleFields>> & { status: ContentStatus | 'ACTIVE' | 'INACTIVE' };

const LEGACY_STATUS: Record<string, ContentStatus> = { ACTIVE: 'PUBLISHED', INACTIVE: 'ARCHIVED' };

/** The workflow filter's criteria, a status matching what it was stored as before the workflow too. */
function criteria(filter: WorkflowFilter): Record<string, unknown> {
  const legacy = Object.keys(LEGACY_STATUS).filter((stored) => LEGACY_STATUS[stored] === filter.status);
  const found = workflowCriteria(filter);
  return legacy.length > 0 ? { ...found, status: { $in: [filter.status, ...legacy] } } : found;
}

/** Bundles stored before the workflow read as published (ACTIVE) or archived (INACTIVE), at version 0. */
const revisable = (stored: StoredBundle): BundleDoc => ({
  ...stored,
  status: LEGACY_STATUS[stored.status] ?? (stored.status as ContentStatus),
  version: stored.version ?? 0,
  lastEditedBy: stored.lastEditedBy ?? 'ops.seed',
  approvedBy: stored.approvedBy ?? null,
  updatedAt: stored.updatedAt ?? stored.validFrom,
  pending: stored.pending ?? null,
});

export class BundleRepository {
  constructor(readonly model: Model<BundleDoc>) {}

  async all(): Promise<BundleDoc[]> {
    const stored = await this.model.find().sort({ _id: 1 }).lean<StoredBundle[]>().exec();
    return stored.map(revisable);
  }

  async findByIds(ids: readonly string[]): Promise<BundleDoc[]> {
    const stored = await this.model
      .find({ _id: { $in: ids } })
      .lean<StoredBundle[]>()
      .exec();
    return stored.map(revisable);
  }

  /** Most recently changed first, as the operators' list filters them. */
  async newest(filter: WorkflowFilter, limit: number): Promise<BundleDoc[]> {
    const stored = await this.model
      .find(criteria(filter))
      .sort({ updatedAt: -1, _id: 1 })
      .limit(limit)
      .lean<StoredBundle[]>()
      .exec();
    return stored.map(revisable);
  }

  insert(bundle: BundleDoc): Promise<unknown> {
    return this.model.create(bundle);
  }

  /** Writes an operator's change if nobody changed the bundle since `expectedVersion` (0 also matches no version). */
  async replaceIfVersion(bundle: BundleDoc, expectedVersion: number): Promise<BundleDoc | null> {
    const { _id, ...fields } = bundle;
    const version = expectedVersion === 0 ? { $in: [0, null] } : expectedVersion;
    const written = await this.model
      .findOneAndUpdate({ _id, version }, { $set: fields }, { returnDocument: 'after' })
      .lean<StoredBundle>()
      .exec();
    return written && revisable(written);
  }
}
