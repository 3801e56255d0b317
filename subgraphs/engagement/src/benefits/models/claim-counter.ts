// Counters that bound claims (see limitsOf): per benefit and member, and per benefit and the bank's business day. A
// claim's place in a counter is recorded by its own reservation (ClaimReservationRepository), so a retry of the same
// claim tells its reservation was made and never makes two, however many claims came since. Without transactions the
// counter and the reservation are written one after the other: the counter notes the claim's id with its change, the
// reservation is recorded (or dropped), then the id leaves the counter — so a writer that dies between the two leaves
// its id for a retry to read, and the counter keeps no more ids than there are claims in flight.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';
import type { ClaimReservationRepository } from './claim-reservation';

export interface ClaimCounterDoc {
  _id: string;
  count: number;
  /**
   * Claims counted whose reservation is not recorded yet (and claim ids earlier versions kept of their latest claims,
   * read the same way).
   */
  claims: string[];
  /** Claims whose count was given back whose reservation is not dropped yet. Absent on earlier counters. */
  releasing?: string[];
}

export const claimCounterSchema = new Schema<ClaimCounterDoc>(
  {
    _id: { type: String, required: true },
    count: { type: Number, required: true },
    claims: { type: [String], default: [] },
    releasing: { type: [String], default: [] },
  },
  { collection: 'claim_counters', versionKey: false },
);

export class ClaimCounterRepository {
  constructor(
    readonly model: Model<ClaimCounterDoc>,
    private readonly reservations: ClaimReservationRepository,
  ) {}

  /**
   * Counts a claim unless the counter has reached `limit`. True when the claim is counted now, also when a writer of
   * the same claim counted it before.
   */
  async reserve(counterId: string, limit: number, claimId: string): Promise<boolean> {
    if (await this.reservations.holds(counterId, claimId)) {
      const counter = await this.find(counterId);
      if (!counter?.releasing?.includes(claimId)) {
        // Recorded by a writer that died before its id left the counter.
        if (counter?.claims.includes(claimId))
          await this.model.updateOne({ _id: counterId }, { $pull: { claims: claimId } });
        return true;
      }
      // A writer died releasing it, its count given back already: that release is finished, then it counts again.
      await this.giveBack(counterId, claimId);
    }
    for (;;) {
      try {
        // The first claim creates the counter; when it exists but refuses, the upsert's insert hits the unique id.
        await this.model.updateOne(
          { _id: counterId, count: { $lt: limit }, claims: { $ne: claimId }, releasing: { $ne: claimId } },
          { $inc: { count: 1 }, $push: { claims: claimId } },
          { upsert: true },
        );
        break;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const counter = await this.find(counterId);
      // Counted by a writer that died before recording its reservation.
      if (counter?.claims.includes(claimId)) break;
      if (counter?.releasing?.includes(claimId)) {
        // Left by a release whose writer died after dropping the reservation: it is over.
        await this.model.updateOne({ _id: counterId }, { $pull: { releasing: claimId } });
        continue;
      }
      if (counter && counter.count >= limit) return false;
      // Two first claims raced to create the counter, or a release made room meanwhile: try again.
    }
    await this.reservations.hold(counterId, claimId);
    await this.model.updateOne({ _id: counterId }, { $pull: { claims: claimId } });
    return true;
  }

  find(counterId: string): Promise<ClaimCounterDoc | null> {
    return this.model.findById(counterId).lean<ClaimCounterDoc>().exec();
  }

  /** Whether the claim is counted, as a retry of it would find (see reserve). */
  async holds(counterId: string, claimId: string): Promise<boolean> {
    const [recorded, counter] = await Promise.all([
      this.reservations.holds(counterId, claimId),
      this.find(counterId),
    ]);
    if (counter?.claims.includes(claimId)) return true;
    return recorded && !counter?.releasing?.includes(claimId);
  }

  /**
   * Gives back a claim's reservation, if it holds one, and drops a counter back at zero, so that a refused claim
   * leaves nothing behind. Safe against a reservation at the same moment: each is one atomic write, and a reservation
   * after the drop creates the counter afresh.
   */
  async release(counterId: string, claimId: string): Promise<void> {
    if (await this.reservations.holds(counterId, claimId)) await this.giveBack(counterId, claimId);
    else
      // Counted (by a writer that died before recording it) or not at all.
      await this.model.updateOne(
        { _id: counterId, claims: claimId },
        { $inc: { count: -1 }, $pull: { claims: claimId } },
      );
    // Not while a release's id is in it: a retry of that release would find a new counter and give back twice.
    await this.model.deleteOne({ _id: counterId, count: 0, 'releasing.0': { $exists: false } });
  }

  /** Gives back the count of a recorded reservation once, however often repeated, then drops the reservation. */
  private async giveBack(counterId: string, claimId: string): Promise<void> {
    await this.model.updateOne(
      { _id: counterId, releasing: { $ne: claimId } },
      { $inc: { count: -1 }, $push: { releasing: claimId }, $pull: { claims: claimId } },
    );
    await this.reservations.drop(counterId, claimId);
    await this.model.updateOne({ _id: counterId }, { $pull: { releasing: claimId } });
  }
}
