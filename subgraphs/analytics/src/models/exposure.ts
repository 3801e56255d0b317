// How often each member saw each creative per bank day (BANK_TIME_ZONE): what frequency caps count. Maintained from
// creative_impression events like the rollups (live increments, exact rebuild of ended days); only the last days are
// kept.
import { Schema, type Model } from 'mongoose';
import { memberDayOf, type StoredExposures } from '../domain/exposures';
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

  /**
   * Adds impressions (one bulk write): to the documents of `stored` where they are, and to those of `created`, made on
   * their first impression. A sealed document refuses them.
   */
  async increment(stored: readonly ExposureDoc[], created: readonly ExposureDoc[]): Promise<void> {
    const write = (exposures: readonly ExposureDoc[], upsert: boolean) =>
      exposures.map(({ _id, impressions, ...key }) => ({
        updateOne: {
          filter: { _id, sealed: { $ne: true } },
          update: { $inc: { impressions }, ...(upsert ? { $setOnInsert: key } : {}) },
          upsert,
        },
      }));
    if (stored.length + created.length === 0) return;
    await ignoringSealed([...write(stored, false), ...write(created, true)], (operations) =>
      this.model.bulkWrite(operations, { ordered: false }),
    );
  }

  /** What is stored of the members' days of `exposures`: how many creatives each has, and which of these ids. */
  async stored(exposures: readonly ExposureDoc[]): Promise<StoredExposures> {
    const memberIds = [...new Set(exposures.map((exposure) => exposure.memberId))];
    const days = [...new Set(exposures.map((exposure) => exposure.day))];
    const [counts, ids] = await Promise.all([
      this.model
        .aggregate<{ _id: { memberId: string; day: string }; creatives: number }>([
          { $match: { memberId: { $in: memberIds }, day: { $in: days } } },
          { $group: { _id: { memberId: '$memberId', day: '$day' }, creatives: { $sum: 1 } } },
        ])
        .exec(),
      this.model
        .find({ _id: { $in: exposures.map((exposure) => exposure._id) } }, { _id: 1 })
        .lean<Pick<ExposureDoc, '_id'>[]>()
        .exec(),
    ]);
    return {
      creatives: new Map(counts.map(({ _id, creatives }) => [memberDayOf(_id), creatives])),
      ids: new Set(ids.map((doc) => doc._id)),
    };
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
