// Invite codes and referrals (拉新). A referral is keyed by its invitee, so a member is referred at most once; an
// invite code is taken by a conditional update, so it brings in one invitee at most.
import { Schema, type Connection, type Model } from 'mongoose';

export interface InvitationDoc {
  /** The code. */
  _id: string;
  inviterId: string;
  createdAt: Date;
  inviteeId: string | null;
  acceptedAt: Date | null;
}

export type ReferralState = 'PENDING' | 'ACTIVATED' | 'REWARDED';

export interface ReferralDoc {
  /** The invitee. */
  _id: string;
  inviterId: string;
  code: string;
  state: ReferralState;
  acceptedAt: Date;
  activatedAt: Date | null;
  rewardedAt: Date | null;
}

const invitationSchema = new Schema<InvitationDoc>(
  {
    _id: { type: String, required: true },
    inviterId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    inviteeId: { type: String, default: null },
    acceptedAt: { type: Date, default: null },
  },
  { collection: 'invitations', versionKey: false },
);
invitationSchema.index({ inviterId: 1, createdAt: -1 });

const referralSchema = new Schema<ReferralDoc>(
  {
    _id: { type: String, required: true },
    inviterId: { type: String, required: true },
    code: { type: String, required: true },
    state: { type: String, required: true },
    acceptedAt: { type: Date, required: true },
    activatedAt: { type: Date, default: null },
    rewardedAt: { type: Date, default: null },
  },
  { collection: 'referrals', versionKey: false },
);
referralSchema.index({ inviterId: 1 });
referralSchema.index({ state: 1 });

export class InvitationRepository {
  constructor(readonly model: Model<InvitationDoc>) {}

  findByCode(code: string): Promise<InvitationDoc | null> {
    return this.model.findById(code).lean<InvitationDoc>().exec();
  }

  ofInviters(inviterIds: readonly string[]): Promise<InvitationDoc[]> {
    return this.model
      .find({ inviterId: { $in: [...inviterIds] } })
      .sort({ createdAt: -1 })
      .lean<InvitationDoc[]>()
      .exec();
  }

  count(inviterId: string): Promise<number> {
    return this.model.countDocuments({ inviterId }).exec();
  }

  create(invitation: InvitationDoc): Promise<unknown> {
    return this.model.create(invitation);
  }

  /** Takes the code for the invitee; false when another invitee took it first. Taking it again is a no-op. */
  async take(code: string, inviteeId: string, now: Date): Promise<boolean> {
    await this.model
      .updateOne({ _id: code, inviteeId: null }, { $set: { inviteeId, acceptedAt: now } })
      .exec();
    return (await this.findByCode(code))?.inviteeId === inviteeId;
  }
}

export class ReferralRepository {
  constructor(readonly model: Model<ReferralDoc>) {}

  findByInvitees(inviteeIds: readonly string[]): Promise<ReferralDoc[]> {
    return this.model
      .find({ _id: { $in: [...inviteeIds] } })
      .lean<ReferralDoc[]>()
      .exec();
  }

  /** Records the referral, or finds the one already recorded for this invitee. */
  async record(referral: ReferralDoc): Promise<ReferralDoc> {
    await this.model.updateOne({ _id: referral._id }, { $setOnInsert: referral }, { upsert: true }).exec();
    return (await this.model.findById(referral._id).lean<ReferralDoc>().exec())!;
  }

  async forget(inviteeId: string, code: string): Promise<void> {
    await this.model.deleteOne({ _id: inviteeId, code, state: 'PENDING' }).exec();
  }

  /** Marks pending referrals of these invitees activated; returns those now waiting for their rewards. */
  async activate(inviteeIds: readonly string[], now: Date): Promise<void> {
    if (inviteeIds.length === 0) return;
    await this.model
      .updateMany(
        { _id: { $in: [...inviteeIds] }, state: 'PENDING' },
        { $set: { state: 'ACTIVATED', activatedAt: now } },
      )
      .exec();
  }

  /** Activated referrals whose rewards have not all been granted yet. */
  awaitingRewards(limit = 200): Promise<ReferralDoc[]> {
    return this.model.find({ state: 'ACTIVATED' }).limit(limit).lean<ReferralDoc[]>().exec();
  }

  async markRewarded(inviteeId: string, now: Date): Promise<void> {
    await this.model
      .updateOne({ _id: inviteeId, state: 'ACTIVATED' }, { $set: { state: 'REWARDED', rewardedAt: now } })
      .exec();
  }
}

export interface ReferralRepositories {
  invitations: InvitationRepository;
  referrals: ReferralRepository;
}

export function openReferralRepositories(connection: Connection): ReferralRepositories {
  return {
    invitations: new InvitationRepository(connection.model<InvitationDoc>('Invitation', invitationSchema)),
    referrals: new ReferralRepository(connection.model<ReferralDoc>('Referral', referralSchema)),
  };
}
