// Which claims hold a place in a bounded count (a claim counter, a benefit's stock): one small document per claim and
// count, its id naming both, so that a retry of a claim tells what it holds however many other claims came since. The
// counted document itself keeps only the ids of claims whose change it took but that are not recorded here yet: a few
// at a time, those in flight (see ClaimCounterRepository.reserve).
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';

export interface ClaimReservationDoc {
  /** `<count's id>|<claim id>`. */
  _id: string;
}

export const claimReservationSchema = new Schema<ClaimReservationDoc>(
  { _id: { type: String, required: true } },
  { collection: 'claim_reservations', versionKey: false },
);

const reservationId = (countId: string, claimId: string) => `${countId}|${claimId}`;

export class ClaimReservationRepository {
  constructor(readonly model: Model<ClaimReservationDoc>) {}

  async holds(countId: string, claimId: string): Promise<boolean> {
    return (await this.model.exists({ _id: reservationId(countId, claimId) })) !== null;
  }

  /** Records that the claim is counted; a repeat changes nothing. */
  async hold(countId: string, claimId: string): Promise<void> {
    try {
      await this.model.create({ _id: reservationId(countId, claimId) });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** Forgets the claim's reservation once its count was given back. */
  async drop(countId: string, claimId: string): Promise<void> {
    await this.model.deleteOne({ _id: reservationId(countId, claimId) });
  }
}
