// Counters that bound claims (see limitsOf): per benefit and member, and per benefit and the bank's business day. Each
// reservation is one conditional update that carries the claim id, so a retry of the same claim can tell its
// reservation was made and never makes two; a release is guarded the same way.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';

export interface ClaimCounterDoc {
  _id: string;
  count: number;
  /** The latest claims counted (at most `kept` of them, see reserve). */
  claims: string[];
}

export const claimCounterSchema = new Schema<ClaimCounterDoc>(
  {
    _id: { type: String, required: true },
    count: { type: Number, required: true },
    claims: { type: [String], default: [] },
  },
  { collection: 'claim_counters', versionKey: false },
);

export class ClaimCounterRepository {
  constructor(readonly model: Model<ClaimCounterDoc>) {}

  /**
   * Counts a claim unless the counter has reached `limit`. True when the claim is counted now, also when a writer of
   * the same claim counted it before. `kept` bounds the claim ids remembered; a retry comes long before that many
   * others.
   */
  async reserve(counterId: string, limit: number, claimId: string, kept: number): Promise<boolean> {
    for (;;) {
      try {
        // The first claim creates the counter; when it exists but refuses, the upsert's insert hits the unique id.
        await this.model.updateOne(
          { _id: counterId, count: { $lt: limit }, claims: { $ne: claimId } },
          { $inc: { count: 1 }, $push: { claims: { $each: [claimId], $slice: -kept } } },
          { upsert: true },
        );
        return true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const counter = await this.find(counterId);
      if (counter?.claims.includes(claimId)) return true;
      if (counter && counter.count >= limit) return false;
      // Two first claims raced to create the counter, or a release made room meanwhile: try again.
    }
  }

  find(counterId: string): Promise<ClaimCounterDoc | null> {
    return this.model.findById(counterId).lean<ClaimCounterDoc>().exec();
  }

  /**
   * Gives back a claim's reservation, if it holds one, and drops a counter back at zero, so that a refused claim
   * leaves nothing behind. Safe against a reservation at the same moment: each is one atomic write, and a reservation
   * after the drop creates the counter afresh.
   */
  async release(counterId: string, claimId: string): Promise<void> {
    await this.model.updateOne(
      { _id: counterId, claims: claimId },
      { $inc: { count: -1 }, $pull: { claims: claimId } },
    );
    await this.model.deleteOne({ _id: counterId, count: 0 });
  }
}
