// Membership levels and their growth-point thresholds.
import { Schema, type Model } from 'mongoose';

export interface MembershipLevelDoc {
  _id: string;
  name: string;
  rank: number;
  threshold: number;
}

export const membershipLevelSchema = new Schema<MembershipLevelDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    rank: { type: Number, required: true, unique: true },
    threshold: { type: Number, required: true },
  },
  { collection: 'membership_levels', versionKey: false },
);

export class MembershipLevelRepository {
  constructor(readonly model: Model<MembershipLevelDoc>) {}

  all(): Promise<MembershipLevelDoc[]> {
    return this.model.find({}).sort({ rank: 1 }).lean<MembershipLevelDoc[]>().exec();
  }
}
