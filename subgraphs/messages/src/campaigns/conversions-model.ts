// Campaigns' conversions as the conversions job last counted them: one document per campaign, replaced by each run.
import { Schema, type Connection, type Model } from 'mongoose';
import type { ConversionCounts, ConversionTotals } from './domain/conversions';

export interface CampaignConversionsDoc extends ConversionTotals {
  /** The campaign's id. */
  _id: string;
  /** The attribution window, in days. */
  windowDays: number;
  /** The currency amounts are in: the bank's, the only one analytics counts. */
  currency: string;
  /** When the job counted them. */
  computedAt: Date;
  /** The latest first delivery counted: once its window has closed, no member's can still change. */
  lastReachedAt: Date | null;
  /**
   * Whether they were counted after every window and the day for purchases relayed late had passed: nothing can change
   * them any more, and the job counts them no more. Until then it counts them again, also when it missed days.
   */
  settled: boolean;
}

const countsSchema = new Schema<ConversionCounts>(
  {
    reached: { type: Number, required: true },
    members: { type: Number, required: true },
    purchases: { type: Number, required: true },
    cents: { type: Number, required: true },
  },
  { _id: false },
);

const conversionsSchema = new Schema<CampaignConversionsDoc>(
  {
    _id: { type: String, required: true },
    windowDays: { type: Number, required: true },
    currency: { type: String, required: true },
    computedAt: { type: Date, required: true },
    lastReachedAt: { type: Date, default: null },
    settled: { type: Boolean, default: false },
    total: { type: countsSchema, required: true },
    variants: { type: [{ variant: { type: String, required: true }, counts: countsSchema }], default: [] },
  },
  { collection: 'campaign_conversions', versionKey: false },
);

export class CampaignConversionsRepository {
  constructor(readonly model: Model<CampaignConversionsDoc>) {}

  static open(connection: Connection): CampaignConversionsRepository {
    return new CampaignConversionsRepository(
      connection.model<CampaignConversionsDoc>('CampaignConversions', conversionsSchema),
    );
  }

  byCampaigns(campaignIds: readonly string[]): Promise<CampaignConversionsDoc[]> {
    return this.model
      .find({ _id: { $in: [...campaignIds] } })
      .lean<CampaignConversionsDoc[]>()
      .exec();
  }

  /** The campaigns whose conversions are not settled yet (those counted before settling was recorded among them). */
  async unsettled(): Promise<string[]> {
    const rows = await this.model
      .find({ settled: { $ne: true } }, { _id: 1 })
      .lean<{ _id: string }[]>()
      .exec();
    return rows.map((row) => row._id);
  }

  /** Replaces a campaign's conversions with a newer count. */
  async save(conversions: CampaignConversionsDoc): Promise<void> {
    await this.model.replaceOne({ _id: conversions._id }, conversions, { upsert: true }).exec();
  }
}
