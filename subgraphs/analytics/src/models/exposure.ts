// How often each member saw each creative per bank day (BANK_TIME_ZONE): what frequency caps count. Maintained from
// creative_impression events like the rollups (live increments, exact rebuild of ended days); only the last days are
// kept.
import { Schema, type Model } from 'mongoose';
import { ignoringSealed } from './rollup';

export interface ExposureDoc {
  /** `<day>|<memberId>|<creativeId>`. */
  _id: string;
  day: string;
  memberId: string;
  creativeId: string;
  impressions: number;
  /** Set by the rebuild: exact, and closed to live increments (as a rollup's, models/rollup.ts). */
  sealed?: boolean;
}

export const exposureSchema = new Schema<ExposureDoc>(
  {
    _id: { type: String, required: true },
    day: { type: String, required: true },
    memberId: { type: String, required: true },
    creativeId: { type: String, required: true },
    impressions: { type: Number, required: true },
    sealed: { type: Boolean },
  },
  { collection: 'exposures_daily', versionKey: false },
);
exposureSchema.index({ memberId: 1, day: 1 });
exposureSchema.index({ day: 1 });

export class ExposureRepository {
  constructor(readonly model: Model<ExposureDoc>) {}

  /** Adds impressions (one bulk write); a document is created on its first impression, and a sealed one refuses them. */
  async increment(exposures: readonly ExposureDoc[]): Promise<void> {
    if (exposures.length === 0) return;
    await ignoringSealed(
      this.model.bulkWrite(
        exposures.map(({ _id, impressions, ...key }) => ({
          updateOne: {
            filter: { _id, sealed: { $ne: true } },
            update: { $inc: { impressions }, $setOnInsert: key },
            upsert: true,
          },
        })),
        { ordered: false },
      ),
    );
  }

  /** Replaces a day's exposures with exact ones (recomputed from its events). */
  async replaceDay(day: string, exposures: readonly ExposureDoc[]): Promise<void> {
    if (exposures.length > 0) {
      await this.model.bulkWrite(
        exposures.map(({ _id, ...rest }) => ({
          updateOne: { filter: { _id }, update: { $set: { ...rest, sealed: true } }, upsert: true },
        })),
        { ordered: false },
      );
    }
    await this.model.deleteMany({ day, _id: { $nin: exposures.map((exposure) => exposure._id) } }).exec();
  }

  /** Each member's exposures on a day, for the given members. */
  ofMembers(memberIds: readonly string[], day: string): Promise<ExposureDoc[]> {
    return this.model
      .find({ memberId: { $in: [...memberIds] }, day })
      .lean<ExposureDoc[]>()
      .exec();
  }

  /** Forgets the days before `day`: caps only ever count today. */
  async pruneBefore(day: string): Promise<void> {
    await this.model.deleteMany({ day: { $lt: day } }).exec();
  }
}
