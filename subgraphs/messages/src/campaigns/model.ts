// Campaigns and their occurrences. Operators edit a campaign's fields through the four-eyes workflow; the scheduler
// alone moves its running state (paused, how far it has planned, where its event trigger got to), with updates of
// their own that an operator's edit never overwrites.
import { Schema, type Connection, type Model } from 'mongoose';
import {
  olderThan,
  workflowCriteria,
  type FeedPosition,
  type Revisable,
  type WorkflowFilter,
} from '@bank-hub/shared';
import type { Rule } from '@bank-hub/targeting';
import type { Purpose } from '../outbox/domain/routing';
import { AS_PLANNED, type QuietHours, type SendTime, type Trigger } from './domain/timing';

export interface CampaignVariantDoc {
  key: string;
  weight: number;
  templateIds: string[];
}

export interface CampaignAudience {
  segmentCode: string | null;
  rule: Rule | null;
}

export interface CampaignFields {
  name: string;
  purpose: Purpose;
  audience: CampaignAudience;
  trigger: Trigger;
  /** Marketing only; null for none (service messages keep none). */
  quietHours: QuietHours | null;
  variants: CampaignVariantDoc[];
  benefitId: string | null;
  /** Absent on a campaign stored before send times: sendTimeOf reads it as AS_PLANNED. */
  sendTime?: SendTime;
}

/** The quiet hours a campaign keeps: a SERVICE campaign's, stored before they were refused, are kept by no sender. */
export const quietHoursKept = (
  campaign: Pick<CampaignFields, 'purpose' | 'quietHours'>,
): QuietHours | null => (campaign.purpose === 'SERVICE' ? null : campaign.quietHours);

/** When a campaign's messages go: as planned when it names nothing (stored before campaigns had send times). */
export const sendTimeOf = (campaign: Pick<CampaignFields, 'sendTime'>): SendTime =>
  campaign.sendTime ?? AS_PLANNED;

/** What the scheduler moves: never part of an operator's edit. */
export interface CampaignRun {
  paused: boolean;
  /** The latest occurrence planned (timed triggers). */
  plannedThrough: Date | null;
  /** Event triggers: the instant up to which changes were picked up (null: none yet since the trigger was approved). */
  eventsThrough: Date | null;
  /** TASK_COMPLETED: engagement's cursor of the completions picked up (null: none yet since the trigger was approved). */
  eventsCursor?: string | null;
  /**
   * Event triggers: the instant the campaign's events count from — its trigger approved, or its last resume (null on
   * a campaign stored before it was kept: its last poll, else its last change, stands in).
   */
  eventsFrom?: Date | null;
  /**
   * Event triggers: when it was paused last, until a poll has got past its resume (`eventsFrom`). Events up to the
   * pause that were not picked up yet still count; those between the pause and the resume never do.
   */
  pausedAt?: Date | null;
}

/** What an approved trigger change starts from: its events count from `now`, none picked up yet. */
export const freshEventRun = (now: Date): Partial<CampaignRun> => ({
  eventsFrom: now,
  eventsThrough: null,
  eventsCursor: null,
  pausedAt: null,
});

export interface CampaignDoc extends CampaignFields, Revisable<CampaignFields>, CampaignRun {
  _id: string;
  createdAt: Date;
}

const campaignSchema = new Schema<CampaignDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    purpose: { type: String, required: true },
    audience: { type: Schema.Types.Mixed, required: true },
    trigger: { type: Schema.Types.Mixed, required: true },
    quietHours: { type: Schema.Types.Mixed, default: null },
    variants: { type: Schema.Types.Mixed, required: true },
    benefitId: { type: String, default: null },
    sendTime: { type: Schema.Types.Mixed, default: undefined },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    pending: { type: Schema.Types.Mixed, default: null },
    paused: { type: Boolean, default: false },
    plannedThrough: { type: Date, default: null },
    eventsThrough: { type: Date, default: null },
    eventsCursor: { type: String, default: null },
    eventsFrom: { type: Date, default: null },
    pausedAt: { type: Date, default: null },
  },
  { collection: 'campaigns', versionKey: false, minimize: false },
);
campaignSchema.index({ status: 1, createdAt: -1 });

export type OccurrenceState = 'PLANNING' | 'PLANNED';

export interface OccurrenceDoc {
  /** `<campaign>.<key>`: a recurring campaign's period, a one-off's due minute (occurrenceKey). */
  _id: string;
  campaignId: string;
  at: Date;
  state: OccurrenceState;
  /** The audience page to plan next (members' cursor); null for the first. */
  cursor: string | null;
  pages: number;
  planned: number;
  holder: string | null;
  leaseUntil: Date;
  createdAt: Date;
}

const occurrenceSchema = new Schema<OccurrenceDoc>(
  {
    _id: { type: String, required: true },
    campaignId: { type: String, required: true },
    at: { type: Date, required: true },
    state: { type: String, required: true },
    cursor: { type: String, default: null },
    pages: { type: Number, required: true },
    planned: { type: Number, required: true },
    holder: { type: String, default: null },
    leaseUntil: { type: Date, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'occurrences', versionKey: false },
);
occurrenceSchema.index({ campaignId: 1, at: -1 });

/** An occurrence's id: its campaign and its key (occurrenceKey). */
export const occurrenceIdOf = (campaignId: string, key: string): string => `${campaignId}.${key}`;

export class CampaignRepository {
  constructor(
    readonly model: Model<CampaignDoc>,
    readonly occurrences: Model<OccurrenceDoc>,
  ) {}

  static open(connection: Connection): CampaignRepository {
    return new CampaignRepository(
      connection.model<CampaignDoc>('Campaign', campaignSchema),
      connection.model<OccurrenceDoc>('Occurrence', occurrenceSchema),
    );
  }

  findByIds(ids: readonly string[]): Promise<CampaignDoc[]> {
    return this.model
      .find({ _id: { $in: [...ids] } })
      .lean<CampaignDoc[]>()
      .exec();
  }

  /** A page of campaigns, newest first, after `after` (the last one of the page before). */
  newest(filter: WorkflowFilter, limit: number, after: FeedPosition | null): Promise<CampaignDoc[]> {
    return this.model
      .find({ ...workflowCriteria(filter), ...olderThan('createdAt', after) })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<CampaignDoc[]>()
      .exec();
  }

  /** Published campaigns (paused or not) whose live variants send a template. */
  publishedUsing(templateId: string): Promise<CampaignDoc[]> {
    return this.model
      .find({ status: 'PUBLISHED', 'variants.templateIds': templateId })
      .lean<CampaignDoc[]>()
      .exec();
  }

  /** Published campaigns not paused: what the scheduler looks at. */
  running(): Promise<CampaignDoc[]> {
    return this.model.find({ status: 'PUBLISHED', paused: false }).lean<CampaignDoc[]>().exec();
  }

  insert(campaign: CampaignDoc): Promise<unknown> {
    return this.model.create(campaign);
  }

  /**
   * Writes an operator's change if nobody changed the campaign since `expectedVersion`; never its running state, but
   * for `run`, set in the same write (an approved trigger starting afresh).
   */
  replaceIfVersion(
    campaign: CampaignDoc,
    expectedVersion: number,
    run: Partial<CampaignRun> = {},
  ): Promise<CampaignDoc | null> {
    const {
      _id,
      paused: _paused,
      plannedThrough: _planned,
      eventsThrough: _events,
      eventsCursor: _cursor,
      eventsFrom: _from,
      pausedAt: _pausedAt,
      ...fields
    } = campaign;
    return this.model
      .findOneAndUpdate(
        { _id, version: expectedVersion },
        { $set: { ...fields, ...run } },
        { returnDocument: 'after' },
      )
      .lean<CampaignDoc>()
      .exec();
  }

  /** Sets running state; `expected` guards it (e.g. pausing only what is not paused). */
  setRun(
    id: string,
    set: Partial<CampaignRun> & { updatedAt?: Date },
    expected: Partial<CampaignRun> = {},
  ): Promise<CampaignDoc | null> {
    return this.model
      .findOneAndUpdate({ _id: id, ...expected }, { $set: set }, { returnDocument: 'after' })
      .lean<CampaignDoc>()
      .exec();
  }

  occurrencesOf(campaignId: string, limit: number): Promise<OccurrenceDoc[]> {
    return this.occurrences.find({ campaignId }).sort({ at: -1 }).limit(limit).lean<OccurrenceDoc[]>().exec();
  }

  /** Starts an occurrence, or finds it started (a scheduler that died after creating it). */
  async openOccurrence(occurrence: OccurrenceDoc): Promise<void> {
    try {
      await this.occurrences.create(occurrence);
    } catch (error) {
      if ((error as { code?: number }).code !== 11000) throw error;
    }
  }

  /** Occurrences still being planned. */
  unfinished(): Promise<OccurrenceDoc[]> {
    return this.occurrences.find({ state: 'PLANNING' }).lean<OccurrenceDoc[]>().exec();
  }

  /** Takes the lease on planning an occurrence; null when another planner holds it or it is planned. */
  leaseOccurrence(id: string, holder: string, leaseMs: number, now: Date): Promise<OccurrenceDoc | null> {
    return this.occurrences
      .findOneAndUpdate(
        { _id: id, state: 'PLANNING', leaseUntil: { $lte: now } },
        { $set: { holder, leaseUntil: new Date(now.getTime() + leaseMs) } },
        { returnDocument: 'after' },
      )
      .lean<OccurrenceDoc>()
      .exec();
  }

  /** Gives the lease on planning an occurrence back early, if this holder still has it. */
  async releaseOccurrence(id: string, holder: string): Promise<void> {
    await this.occurrences
      .updateOne({ _id: id, holder, state: 'PLANNING' }, { $set: { holder: null, leaseUntil: new Date(0) } })
      .exec();
  }

  /** Records a planned page (and renews the lease); false when the lease was lost. */
  async pagePlanned(
    id: string,
    holder: string,
    progress: { cursor: string | null; pages: number; planned: number; done: boolean },
    leaseMs: number,
  ): Promise<boolean> {
    const saved = await this.occurrences
      .findOneAndUpdate(
        { _id: id, holder },
        {
          $set: {
            cursor: progress.cursor,
            pages: progress.pages,
            planned: progress.planned,
            state: progress.done ? 'PLANNED' : 'PLANNING',
            leaseUntil: progress.done ? new Date(0) : new Date(Date.now() + leaseMs),
            ...(progress.done ? { holder: null } : {}),
          },
        },
        { projection: { _id: 1 } },
      )
      .lean()
      .exec();
    return saved !== null;
  }
}
