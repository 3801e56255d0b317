// Flow sessions: a member walking one flow version. Every advance is recorded with its idempotency key and
// applied with a compare-and-set on `revision`, so a repeated or concurrent call never advances twice. An ACTIVE
// session holds one of its member's few slots of the flow (`openSlot`, unique), so concurrent starts cannot exceed
// them; ending frees it.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';
import type { FlowOutputs } from '../flows/flow';

/** WITHDRAWN: ended by the bank, its flow version withdrawn (retireFlow with endSessions); it never advances again. */
export type FlowSessionStatus = 'ACTIVE' | 'COMPLETED' | 'EXPIRED' | 'WITHDRAWN';

export interface AdvanceRecord {
  idempotencyKey: string;
  stepId: string;
  /** The answer given, replayed for a repeated key. */
  nextStepId: string | null;
  /** The output's fingerprint (outputHash): a repeated key must repeat it. Absent on records stored before it. */
  outputHash?: string;
  completed: boolean;
  at: Date;
}

export interface FlowSessionDoc {
  _id: string;
  memberId: string;
  flowId: string;
  /** The flow's key (absent on sessions stored before slots). */
  flowKey?: string;
  /** `<member>|<flow key>|<n>` while ACTIVE; unset once it ends. */
  openSlot?: string;
  status: FlowSessionStatus;
  currentStepId: string | null;
  outputs: FlowOutputs;
  history: AdvanceRecord[];
  revision: number;
  startedAt: Date;
  expiresAt: Date;
  /** Set as the session completes, unset once its flow_completed event is queued (see completion-event.ts). */
  eventPending?: boolean;
  /** Why the bank ended it, for the member's channel: set when WITHDRAWN. */
  endReason?: string;
}

export const flowSessionSchema = new Schema<FlowSessionDoc>(
  {
    _id: { type: String, required: true },
    memberId: { type: String, required: true },
    flowId: { type: String, required: true },
    flowKey: { type: String },
    openSlot: { type: String },
    status: { type: String, required: true },
    currentStepId: { type: String, default: null },
    outputs: { type: Schema.Types.Mixed, default: {} },
    history: { type: Schema.Types.Mixed, default: [] },
    revision: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    eventPending: { type: Boolean },
    endReason: { type: String },
  },
  { collection: 'flow_sessions', versionKey: false, minimize: false },
);
flowSessionSchema.index({ memberId: 1, startedAt: -1 });
flowSessionSchema.index({ openSlot: 1 }, { unique: true, sparse: true });
flowSessionSchema.index({ expiresAt: 1 });
// A withdrawn version's open sessions, ended in one update.
flowSessionSchema.index({ flowId: 1, status: 1 });
// Completed sessions whose event is not queued yet: only those hold the field.
flowSessionSchema.index({ eventPending: 1 }, { sparse: true });

export class FlowSessionRepository {
  constructor(readonly model: Model<FlowSessionDoc>) {}

  /** Stores a new session; false when its slot was taken meanwhile (a concurrent start). */
  async insertInSlot(session: FlowSessionDoc): Promise<boolean> {
    try {
      await this.model.create(session);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /** The member's sessions of a flow holding a slot, the one that would expire first first. */
  holdingSlots(memberId: string, flowKey: string): Promise<FlowSessionDoc[]> {
    return this.model
      .find({ memberId, flowKey, openSlot: { $exists: true } })
      .sort({ expiresAt: 1, _id: 1 })
      .lean<FlowSessionDoc[]>()
      .exec();
  }

  /**
   * Deletes sessions abandoned (expired, never completed) before `cutoff`. Completed ones stay: they are the member's
   * record of what they did through the flow.
   */
  async deleteAbandonedBefore(cutoff: Date): Promise<number> {
    return (await this.model.deleteMany({ expiresAt: { $lt: cutoff }, status: { $ne: 'COMPLETED' } }).exec())
      .deletedCount;
  }

  /** The member's session `id`; null when there is none or it is another member's (the caller cannot tell which). */
  ofMember(memberId: string, id: string): Promise<FlowSessionDoc | null> {
    return this.model.findOne({ _id: id, memberId }).lean<FlowSessionDoc>().exec();
  }

  /** Records an advance only if nobody advanced the session since `revision` was read. */
  advanceIf(
    id: string,
    revision: number,
    set: Partial<FlowSessionDoc>,
    record: AdvanceRecord,
  ): Promise<FlowSessionDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, revision, status: 'ACTIVE' },
        {
          $set: { ...set, revision: revision + 1 },
          $push: { history: record },
          // A completed session frees its slot.
          ...(set.status && set.status !== 'ACTIVE' ? { $unset: { openSlot: 1 } } : {}),
        },
        { returnDocument: 'after' },
      )
      .lean<FlowSessionDoc>()
      .exec();
  }

  /** Completed sessions whose flow_completed event may not be queued yet, at most `limit`. */
  eventsPending(limit: number): Promise<FlowSessionDoc[]> {
    return this.model.find({ eventPending: true }).limit(limit).lean<FlowSessionDoc[]>().exec();
  }

  /** Marks the sessions' flow_completed events queued. */
  async eventsQueued(ids: readonly string[]): Promise<void> {
    if (ids.length > 0)
      await this.model.updateMany({ _id: { $in: [...ids] } }, { $unset: { eventPending: 1 } }).exec();
  }

  /**
   * Ends every ACTIVE session of a flow version (or its session `sessionId` alone) as WITHDRAWN at `at`, with the
   * reason the member is shown, freeing their slots: one update, however many there are. Bumping the revision makes an
   * advance that read one before fail its compare-and-set. Returns how many it ended.
   */
  async withdrawOfFlow(flowId: string, endReason: string, at: Date, sessionId?: string): Promise<number> {
    const result = await this.model
      .updateMany(
        { flowId, status: 'ACTIVE', ...(sessionId !== undefined ? { _id: sessionId } : {}) },
        {
          // Kept as long as an abandoned session from here (deleteAbandonedBefore), for the member to read why.
          $set: { status: 'WITHDRAWN', endReason, expiresAt: at },
          $inc: { revision: 1 },
          $unset: { openSlot: 1 },
        },
      )
      .exec();
    return result.modifiedCount;
  }

  /** Ends an ACTIVE session as EXPIRED (at `at`, when given) and frees its slot, unless it moved since `revision`. */
  markExpired(id: string, revision: number, at?: Date): Promise<unknown> {
    return this.model.updateOne(
      { _id: id, revision, status: 'ACTIVE' },
      {
        $set: { status: 'EXPIRED', ...(at ? { expiresAt: at } : {}) },
        $inc: { revision: 1 },
        $unset: { openSlot: 1 },
      },
    );
  }
}
