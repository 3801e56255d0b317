// The products collection: the bank's catalogue, one document per product, whatever its status.
import { escapeRegExp } from '@bank-hub/shared';
import { Schema, type Model } from 'mongoose';
import { RISK_LEVELS, type RiskLevel } from '../domain/suitability';

export const PRODUCT_TYPES = ['DEPOSIT', 'WEALTH', 'FUND', 'LOAN', 'INSURANCE', 'PAYMENT'] as const;
export type ProductType = (typeof PRODUCT_TYPES)[number];
export type ProductStatus = 'ON_SALE' | 'SUSPENDED' | 'CLOSED';
export type Channel = 'APP' | 'WEB' | 'MINI_PROGRAM' | 'PARTNER';

/** Product ids look like `P-WM-001`; cursors are checked against this before they reach a query. */
export const PRODUCT_ID_PATTERN = /^P-[A-Z]{2}-\d{3,6}$/;

export interface ProductDoc {
  _id: string;
  type: ProductType;
  name: string;
  description: string;
  riskLevel: RiskLevel;
  /** Percent per year; null where a rate means nothing (most insurance and payment products). */
  annualRate: number | null;
  /** Percent; null when there is no fee. */
  feeRate: number | null;
  /** Null for open-ended products. */
  termDays: number | null;
  minAmount: number;
  /**
   * The most a member may buy in one purchase, set by operators; null (or absent, stored before it existed) for the
   * hub-wide ceiling (see flows/sale's maxPurchaseOf).
   */
  maxAmount?: number | null;
  currency: string;
  channels: Channel[];
  tags: string[];
  status: ProductStatus;
  issuer: string;
  createdAt: Date;
  updatedAt: Date;
}

export const productSchema = new Schema<ProductDoc>(
  {
    _id: { type: String, required: true, match: PRODUCT_ID_PATTERN },
    type: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, required: true },
    riskLevel: { type: String, required: true },
    annualRate: { type: Number, default: null },
    feeRate: { type: Number, default: null },
    termDays: { type: Number, default: null },
    minAmount: { type: Number, required: true },
    maxAmount: { type: Number, default: null },
    currency: { type: String, required: true },
    channels: { type: [String], required: true },
    tags: { type: [String], default: [] },
    status: { type: String, required: true },
    issuer: { type: String, required: true },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'products', versionKey: false, minimize: false },
);
productSchema.index({ type: 1 });
productSchema.index({ status: 1 });
productSchema.index({ riskLevel: 1 });

/** Which products a catalogue page may show; every page is on-sale products only. */
export interface ProductPageFilter {
  type?: ProductType | null;
  channel?: Channel | null;
  /** Only these risk levels. */
  riskLevels?: readonly RiskLevel[] | null;
  /** A case-insensitive literal text to find in the name, the description or a tag. */
  text?: string | null;
}

export class ProductRepository {
  constructor(readonly model: Model<ProductDoc>) {}

  all(): Promise<ProductDoc[]> {
    return this.model.find().sort({ _id: 1 }).lean<ProductDoc[]>().exec();
  }

  /**
   * Of `types`, those of which a product is on sale on `channel`, each with the lowest risk level of such a product:
   * what a selection of the type bounded by a risk level can offer at all.
   */
  async lowestRiskOnSale(
    types: readonly ProductType[],
    channel: Channel,
  ): Promise<Map<ProductType, RiskLevel>> {
    const found = await this.model
      .find({ status: 'ON_SALE', channels: channel, type: { $in: types } }, { type: 1, riskLevel: 1 })
      .lean<Pick<ProductDoc, 'type' | 'riskLevel'>[]>()
      .exec();
    const lowest = new Map<ProductType, RiskLevel>();
    for (const { type, riskLevel } of found) {
      const known = lowest.get(type);
      if (known === undefined || RISK_LEVELS.indexOf(riskLevel) < RISK_LEVELS.indexOf(known))
        lowest.set(type, riskLevel);
    }
    return lowest;
  }

  findByIds(ids: readonly string[]): Promise<ProductDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<ProductDoc[]>()
      .exec();
  }

  /** Up to `first` on-sale products ordered by id, after the id `after` when given. */
  page(filter: ProductPageFilter, first: number, after: string | null): Promise<ProductDoc[]> {
    const conditions: Record<string, unknown>[] = [{ status: 'ON_SALE' }];
    if (filter.type) conditions.push({ type: filter.type });
    if (filter.channel) conditions.push({ channels: filter.channel });
    if (filter.riskLevels) conditions.push({ riskLevel: { $in: filter.riskLevels } });
    if (filter.text) {
      // A regular expression rather than `$text`: MongoDB Java Server, the offline test database, has no text
      // index, and a catalogue of this size is scanned in no time.
      const pattern = { $regex: escapeRegExp(filter.text), $options: 'i' };
      // `$elemMatch` for the tags: MongoDB Java Server matches a bare regex against the printed array as well,
      // so `]` or `, ` would find every product with tags.
      conditions.push({
        $or: [{ name: pattern }, { description: pattern }, { tags: { $elemMatch: pattern } }],
      });
    }
    if (after) conditions.push({ _id: { $gt: after } });
    return this.model.find({ $and: conditions }).sort({ _id: 1 }).limit(first).lean<ProductDoc[]>().exec();
  }
}
