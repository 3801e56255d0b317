// Segments: named targeting rules over members.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';
import type { Rule } from '@bank-hub/targeting';

export interface SegmentDoc {
  _id: string;
  name: string;
  description: string | null;
  rule: Rule;
  updatedAt: Date;
  updatedBy: string;
  /** 1 when created, one more with every edit; absent on segments stored before versions (read as 0). */
  version?: number;
  /**
   * The place among the hub's segments this one took when created (0 to the bound less one), unique: what keeps
   * concurrent creates within the bound without a transaction. Absent on segments stored without the hub (the seed's,
   * those from before places), which count against the bound all the same.
   */
  slot?: number;
}

export const segmentSchema = new Schema<SegmentDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    description: { type: String, default: null },
    rule: { type: Schema.Types.Mixed, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
    version: { type: Number },
    slot: { type: Number },
  },
  { collection: 'segments', versionKey: false, minimize: false },
);
// Sparse: segments without a place (stored without the hub) are not in the index at all.
segmentSchema.index({ slot: 1 }, { unique: true, sparse: true });

export class SegmentRepository {
  constructor(readonly model: Model<SegmentDoc>) {}

  all(): Promise<SegmentDoc[]> {
    return this.model.find({}).sort({ _id: 1 }).lean<SegmentDoc[]>().exec();
  }

  findByCode(code: string): Promise<SegmentDoc | null> {
    return this.model.findById(code).lean<SegmentDoc>().exec();
  }

  /**
   * Creates a segment, keeping the segments within `maxSegments`: it is inserted with a free place among them, and
   * the unique index on places refuses a place another create took meanwhile, so concurrent creates can never together
   * pass the bound (the check and the write are one insert). Returns the segment stored under the code when there is
   * one (also one a concurrent create stored a moment ago): it is never replaced. 'limitReached' when no place is free.
   */
  async create(
    segment: SegmentDoc,
    maxSegments: number,
  ): Promise<'created' | 'limitReached' | { exists: SegmentDoc }> {
    // Each turn that does not return lost a race to another create for the place picked (it is taken now), so there
    // are at most maxSegments + 1 turns.
    for (;;) {
      const slot = await this.freeSlot(maxSegments);
      if (slot === null) {
        const existing = await this.findByCode(segment._id);
        return existing ? { exists: existing } : 'limitReached';
      }
      try {
        await this.model.create({ ...segment, slot });
        return 'created';
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        const existing = await this.findByCode(segment._id);
        if (existing) return { exists: existing };
      }
    }
  }

  /**
   * Replaces a segment only if it is still at `expectedVersion` (optimistic concurrency; 0 is a segment stored without
   * a version). Returns what it replaced, taken by the write itself: a read before it could miss a concurrent edit
   * landing in between, and the audit would show two edits of one state. Else the version the segment is at now, or
   * 'notFound'.
   */
  async replaceIfVersion(
    segment: SegmentDoc,
    expectedVersion: number,
  ): Promise<{ before: SegmentDoc } | { current: number } | 'notFound'> {
    const { _id, ...rest } = segment;
    // null also matches a document without the field.
    const version = expectedVersion === 0 ? null : expectedVersion;
    const before = await this.model
      .findOneAndUpdate(
        { _id, version },
        { $set: rest },
        { returnDocument: 'before', projection: { slot: 0 } },
      )
      .lean<SegmentDoc>()
      .exec();
    if (before) return { before };
    const current = await this.findByCode(_id);
    return current ? { current: current.version ?? 0 } : 'notFound';
  }

  /**
   * A free place for a new segment, or null when there are `maxSegments` segments. Segments without a place take
   * the highest ones; among the free ones it picks at random, so that concurrent creates rarely pick the same.
   */
  private async freeSlot(maxSegments: number): Promise<number | null> {
    const stored = await this.model.find({}, { _id: 0, slot: 1 }).lean<{ slot?: number | null }[]>().exec();
    if (stored.length >= maxSegments) return null;
    const taken = new Set(
      stored.flatMap((segment) => (typeof segment.slot === 'number' ? [segment.slot] : [])),
    );
    const places = maxSegments - (stored.length - taken.size);
    const free = Array.from({ length: places }, (_, slot) => slot).filter((slot) => !taken.has(slot));
    return free.length === 0 ? null : free[Math.floor(Math.random() * free.length)]!;
  }
}
