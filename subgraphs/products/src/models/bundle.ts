// Product bundles (产品组合).
import { Schema, type Model } from 'mongoose';
import type { Rule } from '@bank-hub/targeting';

export interface BundleDoc {
  _id: string;
  name: string;
  description: string;
  productIds: string[];
  rule: Rule | null;
  minTotalAmount: number;
  validFrom: Date;
  validTo: Date;
  discountRate: number | null;
  rateBonus: number | null;
  benefitIds: string[];
  status: 'ACTIVE' | 'INACTIVE';
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
  },
  { collection: 'bundles', versionKey: false, minimize: false },
);

export class BundleRepository {
  constructor(readonly model: Model<BundleDoc>) {}

  all(): Promise<BundleDoc[]> {
    return this.model.find().sort({ _id: 1 }).lean<BundleDoc[]>().exec();
  }

  findByIds(ids: readonly string[]): Promise<BundleDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<BundleDoc[]>()
      .exec();
  }
}
