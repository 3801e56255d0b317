// Segments: named targeting rules over members.
import { Schema, type Model } from 'mongoose';
import type { Rule } from '@bank-hub/targeting';

export interface SegmentDoc {
  _id: string;
  name: string;
  description: string | null;
  rule: Rule;
  updatedAt: Date;
  updatedBy: string;
}

export const segmentSchema = new Schema<SegmentDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: null },
    rule: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: 'segments', versionKey: false, minimize: false },
);

export class SegmentRepository {
  constructor(readonly model: Model<SegmentDoc>) {}

  all(): Promise<SegmentDoc[]> {
    return this.model.find({}).sort({ _id: 1 }).lean<SegmentDoc[]>().exec();
  }

  findByCode(code: string): Promise<SegmentDoc | null> {
    return this.model.findById(code).lean<SegmentDoc>().exec();
  }

  /** How many segments there are besides the one with this code. */
  countOthers(code: string): Promise<number> {
    return this.model.countDocuments({ _id: { $ne: code } }).exec();
  }

  /**
   * Creates or replaces a segment; returns what it replaced (null for a new one), taken by the write itself: a read
   * before it could miss a concurrent edit landing in between, and the audit would show two edits of one state.
   */
  upsert(segment: SegmentDoc): Promise<SegmentDoc | null> {
    const { _id, ...rest } = segment;
    return this.model
      .findOneAndUpdate({ _id }, { $set: rest }, { upsert: true, returnDocument: 'before' })
      .lean<SegmentDoc>()
      .exec();
  }
}
