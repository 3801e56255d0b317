// Service flow versions: one document per version, steps embedded; a published version is never modified.
import { Schema, type Model } from 'mongoose';
import { editorsOf, type Authored } from '@bank-hub/shared';
import type { FlowStep } from '../flows/flow';

export type FlowStatus = 'DRAFT' | 'IN_REVIEW' | 'PUBLISHED' | 'RETIRED';

/** Why a reviewer sent a version back to draft. */
export interface FlowRejection {
  reason: string;
  rejectedBy: string;
  rejectedAt: Date;
}

export interface ServiceFlowDoc {
  _id: string;
  key: string;
  name: string;
  version: number;
  status: FlowStatus;
  startStepId: string | null;
  steps: FlowStep[];
  /** Bumped on every change to a draft, so two builders cannot overwrite each other. */
  revision: number;
  updatedBy: string;
  updatedAt: Date;
  publishedAt: Date | null;
  // The four-eyes review; versions stored before it have none of these (lastEditorOf reads updatedBy for them).
  /** Who last created or changed its steps: never its approver. */
  lastEditedBy?: string;
  /**
   * Everyone who created or changed it, each once, most recent last: none of them approves it. Versions stored before
   * it have only their last editor (authorsOf).
   */
  editors?: string[];
  /** Who submitted it for review, while in review and once published; never its approver. */
  submittedBy?: string | null;
  /** The operator who approved (published) it. */
  approvedBy?: string | null;
  /** Why it was last sent back to draft; cleared when it is submitted again. */
  rejection?: FlowRejection | null;
  /** When it was withdrawn (retireFlow with endSessions): none of its sessions advances from then on. */
  sessionsEndedAt?: Date | null;
}

/** Who last edited a version: its lastEditedBy, or, stored before versions recorded it, whoever last changed it. */
export const lastEditorOf = (flow: ServiceFlowDoc): string => flow.lastEditedBy ?? flow.updatedBy;

/** Who made a version, as four eyes reads it: its editors, or its last editor alone for one stored before them. */
export const authorsOf = (flow: ServiceFlowDoc): Required<Authored> => {
  const lastEditedBy = lastEditorOf(flow);
  return { lastEditedBy, editors: editorsOf({ lastEditedBy, editors: flow.editors }) };
};

export const serviceFlowSchema = new Schema<ServiceFlowDoc>(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    name: { type: String, required: true },
    version: { type: Number, required: true },
    status: { type: String, required: true },
    startStepId: { type: String, default: null },
    steps: { type: Schema.Types.Mixed, default: [] },
    revision: { type: Number, required: true },
    updatedBy: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    publishedAt: { type: Date, default: null },
    lastEditedBy: { type: String },
    editors: { type: [String], default: undefined },
    submittedBy: { type: String, default: null },
    approvedBy: { type: String, default: null },
    rejection: { type: Schema.Types.Mixed, default: null },
    sessionsEndedAt: { type: Date, default: null },
  },
  { collection: 'service_flows', versionKey: false, minimize: false },
);
serviceFlowSchema.index({ key: 1, version: 1 }, { unique: true });

export class ServiceFlowRepository {
  constructor(readonly model: Model<ServiceFlowDoc>) {}

  findById(id: string): Promise<ServiceFlowDoc | null> {
    return this.model.findById(id).lean<ServiceFlowDoc>().exec();
  }

  findByIds(ids: readonly string[]): Promise<ServiceFlowDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<ServiceFlowDoc[]>()
      .exec();
  }

  /** Every version of a flow, newest first. */
  versions(key: string): Promise<ServiceFlowDoc[]> {
    return this.model.find({ key }).sort({ version: -1 }).lean<ServiceFlowDoc[]>().exec();
  }

  /**
   * The newest version of a flow, or the newest in `status`. One document, not every version: members and guests ask
   * for the published one on every session start and flow read, and a flow keeps each version it ever had.
   */
  newest(key: string, status?: FlowStatus): Promise<ServiceFlowDoc | null> {
    return this.model
      .findOne({ key, ...(status ? { status } : {}) })
      .sort({ version: -1 })
      .lean<ServiceFlowDoc>()
      .exec();
  }

  /** One version of a flow. */
  version(key: string, version: number): Promise<ServiceFlowDoc | null> {
    return this.model.findOne({ key, version }).lean<ServiceFlowDoc>().exec();
  }

  /** The newest version of every flow, by key. Flows are few (dozens of versions), so they are read whole. */
  async newestVersions(): Promise<ServiceFlowDoc[]> {
    const all = await this.model.find().sort({ key: 1, version: -1 }).lean<ServiceFlowDoc[]>().exec();
    return all.filter((flow, index) => all[index - 1]?.key !== flow.key);
  }

  /** The versions waiting for a second person's approval, oldest submission first. */
  inReview(): Promise<ServiceFlowDoc[]> {
    return this.model.find({ status: 'IN_REVIEW' }).sort({ updatedAt: 1 }).lean<ServiceFlowDoc[]>().exec();
  }

  /** Inserts a new version; false when that key and version exist already (a concurrent draft won). */
  async tryInsert(flow: ServiceFlowDoc): Promise<boolean> {
    try {
      await this.model.create(flow);
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 11000) return false;
      throw error;
    }
  }

  /** Applies a change only if the version is still in `status` at `revision`. */
  updateIf(
    id: string,
    expected: { status: FlowStatus; revision: number },
    set: Partial<ServiceFlowDoc>,
  ): Promise<ServiceFlowDoc | null> {
    return this.model
      .findOneAndUpdate(
        { _id: id, status: expected.status, revision: expected.revision },
        { $set: { ...set, revision: expected.revision + 1 } },
        { returnDocument: 'after' },
      )
      .lean<ServiceFlowDoc>()
      .exec();
  }

  /** Retires every other published version of the key. */
  retireOthers(key: string, keepId: string): Promise<unknown> {
    return this.model.updateMany(
      { key, status: 'PUBLISHED', _id: { $ne: keepId } },
      { $set: { status: 'RETIRED', updatedAt: new Date() }, $inc: { revision: 1 } },
    );
  }
}
