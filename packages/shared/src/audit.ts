// The audit trail every operator mutation writes: who did what to which record, with before and after.
// Each subgraph keeps its own `audit_log` collection; records are only ever inserted.
import { Schema, type Connection, type Model } from 'mongoose';

export interface AuditRecord {
  _id?: unknown;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  at: Date;
  requestId: string;
}

const auditSchema = new Schema<AuditRecord>(
  {
    actor: { type: String, required: true },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String, required: true },
    before: { type: Schema.Types.Mixed, default: null },
    after: { type: Schema.Types.Mixed, default: null },
    at: { type: Date, required: true },
    requestId: { type: String, required: true },
  },
  { collection: 'audit_log', versionKey: false, minimize: false },
);
auditSchema.index({ targetType: 1, targetId: 1, at: -1 });

export class AuditLog {
  constructor(private readonly model: Model<AuditRecord>) {}

  static open(connection: Connection): AuditLog {
    return new AuditLog(connection.model<AuditRecord>('AuditRecord', auditSchema));
  }

  async record(entry: Omit<AuditRecord, 'at' | '_id'>): Promise<void> {
    await this.model.create({ ...entry, at: new Date() });
  }

  async forTarget(targetType: string, targetId: string, limit = 50): Promise<AuditRecord[]> {
    return this.model
      .find({ targetType, targetId })
      .sort({ at: -1 })
      .limit(limit)
      .lean<AuditRecord[]>()
      .exec();
  }
}
