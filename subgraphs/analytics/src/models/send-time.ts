// Each member's opens per hour of the bank's day, as a training of the send-time model counted them: one document per
// member and version, apart from the version (which holds the population and the parameters, never a list of
// members), so a version rolled back to or pinned answers with its own training's counts. A training writes them in
// bulk pages under the version number it reserved, before it publishes the version, and afterwards deletes those of
// versions the registry no longer keeps (and of trainings that died before publishing theirs).
import { Schema, type Model } from 'mongoose';

export interface MemberSendTimeDoc {
  /** `<version>|<member>`. */
  _id: string;
  /** The send-time version whose training counted them. */
  version: number;
  memberId: string;
  /** Counted opens per hour, 0 to 23. */
  hours: number[];
  trainedAt: Date;
}

export const memberSendTimeSchema = new Schema<MemberSendTimeDoc>(
  {
    _id: { type: String, required: true },
    version: { type: Number, required: true },
    memberId: { type: String, required: true },
    hours: { type: [Number], required: true },
    trainedAt: { type: Date, required: true },
  },
  { collection: 'send_time_members', versionKey: false },
);
memberSendTimeSchema.index({ version: 1 });

export const memberSendTimeIdOf = (version: number, memberId: string): string => `${version}|${memberId}`;

export class MemberSendTimeRepository {
  constructor(readonly model: Model<MemberSendTimeDoc>) {}

  /** Writes one page of a version's members, keyed by version and member (a page written twice is written once). */
  async writePage(docs: readonly MemberSendTimeDoc[]): Promise<void> {
    if (docs.length === 0) return;
    await this.model.bulkWrite(
      docs.map((doc) => ({ replaceOne: { filter: { _id: doc._id }, replacement: doc, upsert: true } })),
      { ordered: false },
    );
  }

  /**
   * Deletes the counts of versions below `below` but those `kept`: versions the registry pruned, and numbers whose
   * training died before publishing. Never those of `below` or above, which a training under way may be writing.
   * Documents of before counts were kept per version (keyed by member alone) go too.
   */
  async keepOnly(kept: readonly number[], below: number): Promise<number> {
    const deleted = await this.model
      .deleteMany({
        $or: [{ version: { $lt: below, $nin: [...kept] } }, { version: { $exists: false } }],
      })
      .exec();
    return deleted.deletedCount;
  }

  /** The members' documents of a version (those without one left out). */
  ofVersion(version: number, memberIds: readonly string[]): Promise<MemberSendTimeDoc[]> {
    return this.model
      .find({ _id: { $in: memberIds.map((memberId) => memberSendTimeIdOf(version, memberId)) } })
      .lean<MemberSendTimeDoc[]>()
      .exec();
  }
}
