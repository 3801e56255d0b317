// Flow sessions: a member walking one flow version. Every advance is recorded with its idempotency key and
// applied with a compare-and-set on `revision`, so a repeated or concurrent call never advances twice.
import { Schema, type Model } from 'mongoose';
import type { FlowOutputs } from '../flows/flow';

export type FlowSessionStatus = 'ACTIVE' | 'COMPLETED' | 'EXPIRED';

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
  status: FlowSessionStatus;
  currentStepId: string | null;
  outputs: FlowOutputs;
  history: AdvanceRecord[];
  revision: number;
  startedAt: Date;
  expiresAt: Date;
}

export const flowSessionSchema = new Schema<FlowSessionDoc>(
  {
    _id: { type: String, required: true },
    memberId: { type: String, required: true },
    flowId: { type: String, required: true },
    status: { type: String, required: true },
    currentStepId: { type: String, default: null },
    outputs: { type: Schema.Types.Mixed, default: {} },
    history: { type: Schema.Types.Mixed, default: [] },
    revision: { type: Number, required: true },
    startedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'flow_sessions', versionKey: false, minimize: false },
);
flowSessionSchema.index({ memberId: 1, startedAt: -1 });

export class FlowSessionRepository {
  constructor(readonly model: Model<FlowSessionDoc>) {}

  insert(session: FlowSessionDoc): Promise<unknown> {
    return this.model.create(session);
  }

  findById(id: string): Promise<FlowSessionDoc | null> {
    return this.model.findById(id).lean<FlowSessionDoc>().exec();
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
        { $set: { ...set, revision: revision + 1 }, $push: { history: record } },
        { returnDocument: 'after' },
      )
      .lean<FlowSessionDoc>()
      .exec();
  }

  markExpired(id: string, revision: number): Promise<unknown> {
    return this.model.updateOne(
      { _id: id, revision, status: 'ACTIVE' },
      { $set: { status: 'EXPIRED' }, $inc: { revision: 1 } },
    );
  }
}
