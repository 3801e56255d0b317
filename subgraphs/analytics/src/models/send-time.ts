// Each member's opens per hour of the bank's day, as the last training of the send-time model counted them: one document
// per member, apart from the model version (which holds the population and the parameters, never a list of members).
// A training writes them in bulk pages, keyed by member (a page written twice is written once), and then deletes those
// an earlier training wrote that it did not, so the collection is always one training's.
import { Schema, type Model } from 'mongoose';

export interface MemberSendTimeDoc {
  /** The member's id. */
  _id: string;
  /** Counted opens per hour, 0 to 23. */
  hours: number[];
  /** The training run that wrote it. */
  run: string;
  trainedAt: Date;
}

export const memberSendTimeSchema = new Schema<MemberSendTimeDoc>(
  {
    _id: { type: String, required: true },
    hours: { type: [Number], required: true },
    run: { type: String, required: true },
    trainedAt: { type: Date, required: true },
  },
  { collection: 'send_time_members', versionKey: false },
);
memberSendTimeSchema.index({ run: 1 });

export class MemberSendTimeRepository {
  constructor(readonly model: Model<MemberSendTimeDoc>) {}

  /** Writes one page of a training's members, each replacing what an earlier training wrote of them. */
  async writePage(docs: readonly MemberSendTimeDoc[]): Promise<void> {
    if (docs.length === 0) return;
    await this.model.bulkWrite(
      docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
      { ordered: false },
    );
  }

  /** Deletes the members other trainings wrote: those with no counted open in this one's window. */
  async keepOnly(run: string): Promise<number> {
    return (await this.model.deleteMany({ run: { $ne: run } }).exec()).deletedCount;
  }

  /** The members' documents, by id (those without one left out). */
  byIds(memberIds: readonly string[]): Promise<MemberSendTimeDoc[]> {
    return this.model
      .find({ _id: { $in: [...memberIds] } })
      .lean<MemberSendTimeDoc[]>()
      .exec();
  }
}
