// Invite codes and referrals (拉新). A referral is keyed by its invitee, so a member is referred at most once, and
// carries its two members as a unique pair, so two members never refer each other; an invite code is taken by a
// conditional update, so it brings in one invitee at most, and a member's codes are counted by one.
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';

export interface InvitationDoc {
  /** The code. */
  _id: string;
  inviterId: string;
  createdAt: Date;
  inviteeId: string | null;
  acceptedAt: Date | null;
}

/**
 * ACCEPTING: recorded while its accept is still checking (the loop, the code still free); nothing activates it, so
 * an account opened meanwhile never pays for a referral the accept then gives back. Reads show it as PENDING.
 */
export type ReferralState = 'ACCEPTING' | 'PENDING' | 'ACTIVATED' | 'REWARDED';

export interface ReferralDoc {
  /** The invitee. */
  _id: string;
  inviterId: string;
  /**
   * The two members, in order (see pairOf): unique, so that of two members accepting each other's codes at once only
   * one is recorded. Absent on referrals recorded before it was kept.
   */
  pair?: string;
  code: string;
  state: ReferralState;
  acceptedAt: Date;
  activatedAt: Date | null;
  rewardedAt: Date | null;
  /**
   * Why a side's reward was refused for good (its member does not exist…; the message names the side): not tried
   * again, and the referral stays ACTIVATED. Absent or null while none was.
   */
  rewardRefusal?: { code: string; message: string; at: Date } | null;
  /** Failed grants of the rewards so far (a subgraph down), and when the next may be tried. */
  rewardAttempts?: number;
  rewardRetryAt?: Date | null;
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
    pair: { type: String },
    code: { type: String, required: true },
    state: { type: String, required: true },
    acceptedAt: { type: Date, required: true },
    activatedAt: { type: Date, default: null },
    rewardedAt: { type: Date, default: null },
    rewardRefusal: { type: Schema.Types.Mixed, default: null },
    rewardAttempts: { type: Number, default: 0 },
    rewardRetryAt: { type: Date, default: null },
  },
  { collection: 'referrals', versionKey: false },
);
referralSchema.index({ inviterId: 1 });
// Rewards still to grant (awaitingRewards), oldest activation first.
referralSchema.index({ state: 1, activatedAt: 1, _id: 1 });
referralSchema.index({ pair: 1 }, { unique: true, sparse: true });

/** A member's count of invite codes: reserved before a code is stored, so that no member ever holds more than allowed. */
interface InviteCounterDoc {
  /** The inviter. */
  _id: string;
  n: number;
}

const inviteCounterSchema = new Schema<InviteCounterDoc>(
  { _id: { type: String, required: true }, n: { type: Number, required: true } },
  { collection: 'invite_counters', versionKey: false },
);

/** The two members of a referral, whichever invited the other. */
export const pairOf = (a: string, b: string) => (a < b ? `${a}|${b}` : `${b}|${a}`);

export class InvitationRepository {
  constructor(
    readonly model: Model<InvitationDoc>,
    readonly counters: Model<InviteCounterDoc>,
  ) {}

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

  /**
   * Reserves one of an inviter's `limit` codes with one conditional update; false when all are taken. The first
   * reservation creates the counter at the codes the inviter holds already (stored before there were counters).
   */
  async reserveCode(inviterId: string, limit: number): Promise<boolean> {
    for (;;) {
      const reserved = await this.counters
        .updateOne({ _id: inviterId, n: { $lt: limit } }, { $inc: { n: 1 } })
        .exec();
      if (reserved.modifiedCount > 0) return true;
      if (await this.counters.exists({ _id: inviterId }).exec()) return false;
      try {
        await this.counters.create({ _id: inviterId, n: await this.count(inviterId) });
      } catch (error) {
        // Another first reservation created it meanwhile: reserve on it.
        if (!isDuplicateKey(error)) throw error;
      }
    }
  }

  /** Gives back a reservation whose code was not stored. */
  async releaseCode(inviterId: string): Promise<void> {
    await this.counters.updateOne({ _id: inviterId, n: { $gt: 0 } }, { $inc: { n: -1 } }).exec();
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

  /**
   * Records the referral, or finds the one already recorded for this invitee; null when the inviter was recorded as
   * referred by this invitee (the unique pair), also a moment ago.
   */
  async record(referral: ReferralDoc): Promise<ReferralDoc | null> {
    try {
      await this.model.updateOne({ _id: referral._id }, { $setOnInsert: referral }, { upsert: true }).exec();
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    // After a duplicate key: the invitee's own referral (two upserts of one id raced), or else the pair's other one.
    return this.model.findById(referral._id).lean<ReferralDoc>().exec();
  }

  /** Gives back a referral whose accept was refused after it was recorded. */
  async forget(inviteeId: string, code: string): Promise<void> {
    await this.model.deleteOne({ _id: inviteeId, code, state: 'ACCEPTING' }).exec();
  }

  /** Ends an accept: the referral (recorded ACCEPTING) is PENDING from now on, activated by an account opened. */
  async confirm(inviteeId: string, code: string): Promise<ReferralDoc | null> {
    await this.model
      .updateOne({ _id: inviteeId, code, state: 'ACCEPTING' }, { $set: { state: 'PENDING' } })
      .exec();
    return this.model.findById(inviteeId).lean<ReferralDoc>().exec();
  }

  /**
   * Marks activated the pending referrals of these invitees accepted at or before their account was opened: an account
   * opened before the accept was not brought in by it, however late its event arrives (products relays it later).
   */
  async activate(accounts: readonly { inviteeId: string; openedAt: Date }[], now: Date): Promise<void> {
    if (accounts.length === 0) return;
    await this.model
      .updateMany(
        {
          state: 'PENDING',
          $or: accounts.map(({ inviteeId, openedAt }) => ({
            _id: inviteeId,
            acceptedAt: { $lte: openedAt },
          })),
        },
        { $set: { state: 'ACTIVATED', activatedAt: now } },
      )
      .exec();
  }

  /**
   * Activated referrals whose rewards have not all been granted yet, oldest activation first: neither refused for good
   * nor waiting out a failure's backoff, so failures never fill the batch.
   */
  awaitingRewards(now: Date, limit = 200): Promise<ReferralDoc[]> {
    return this.model
      .find({
        state: 'ACTIVATED',
        rewardRefusal: null,
        $or: [{ rewardRetryAt: null }, { rewardRetryAt: { $lte: now } }],
      })
      .sort({ activatedAt: 1, _id: 1 })
      .limit(limit)
      .lean<ReferralDoc[]>()
      .exec();
  }

  async markRewarded(inviteeId: string, now: Date): Promise<void> {
    await this.model
      .updateOne(
        { _id: inviteeId, state: 'ACTIVATED' },
        { $set: { state: 'REWARDED', rewardedAt: now, rewardRetryAt: null } },
      )
      .exec();
  }

  /** Records why a side's reward was refused for good (the first refusal, when two passes met it). */
  async markRewardRefused(
    inviteeId: string,
    refusal: { code: string; message: string },
    now: Date,
  ): Promise<void> {
    await this.model
      .updateOne(
        { _id: inviteeId, state: 'ACTIVATED', rewardRefusal: null },
        { $set: { rewardRefusal: { ...refusal, at: now }, rewardRetryAt: null } },
      )
      .exec();
  }

  /** Counts a failed grant and puts the next attempt off until `retryAt`. */
  async deferRewards(inviteeId: string, retryAt: Date): Promise<void> {
    await this.model
      .updateOne(
        { _id: inviteeId, state: 'ACTIVATED' },
        { $inc: { rewardAttempts: 1 }, $set: { rewardRetryAt: retryAt } },
      )
      .exec();
  }
}

export interface ReferralRepositories {
  invitations: InvitationRepository;
  referrals: ReferralRepository;
}

export function openReferralRepositories(connection: Connection): ReferralRepositories {
  return {
    invitations: new InvitationRepository(
      connection.model<InvitationDoc>('Invitation', invitationSchema),
      connection.model<InviteCounterDoc>('InviteCounter', inviteCounterSchema),
    ),
    referrals: new ReferralRepository(connection.model<ReferralDoc>('Referral', referralSchema)),
  };
}
