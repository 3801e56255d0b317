// Creatives: what to show in which slot of which page, to whom (rule), when (window), with what priority.
import { Schema, type Model } from 'mongoose';
import type { Rule } from '@bank-hub/targeting';
import type { Revisable, WorkflowFilter } from '@bank-hub/shared';
import { listCriteria } from './listing';

export type CreativeKind = 'BANNER' | 'ENTRY' | 'ACTIVITY' | 'PRODUCT' | 'TOPIC' | 'LIVE' | 'VIDEO';

export interface VariantDoc {
  key: string;
  weight: number;
  title: string | null;
  imageUrl: string | null;
  highlight: string | null;
}

/** What an operator edits on a creative: everything but its identity and its workflow state. */
export interface CreativeFields {
  slotCode: string;
  name: string;
  kind: CreativeKind;
  priority: number;
  rule: Rule | null;
  startsAt: Date;
  endsAt: Date;
  experimentKey: string | null;
  variants: VariantDoc[];
  title: string | null;
  imageUrl: string | null;
  iconUrl: string | null;
  link: string | null;
  badge: string | null;
  highlight: string | null;
  /** The product, activity, topic, live stream or video the card shows. */
  refId: string | null;
  /** Most impressions per member per bank day (BANK_TIME_ZONE); null for no cap. */
  frequencyCap: number | null;
}

/** Which creatives an operator lists. */
export interface CreativeFilter extends WorkflowFilter {
  pageId: string | null;
  slotCode: string | null;
}

export interface CreativeDoc extends CreativeFields, Revisable<CreativeFields> {
  _id: string;
  pageId: string;
  /**
   * When the experiment under the published `experimentKey` began: the workflow sets it when the creative is published
   * with that key (domain/experiment.ts), never an operator. Absent on creatives published before it was recorded.
   */
  experimentStartedAt?: Date | null;
  /**
   * When that experiment ended: the workflow sets it when the creative is archived (domain/experiment.ts), never an
   * operator. Absent on creatives archived before it was recorded.
   */
  experimentEndedAt?: Date | null;
}

const variantSchema = new Schema<VariantDoc>(
  {
    key: { type: String, required: true },
    weight: { type: Number, required: true },
    title: { type: String, default: null },
    imageUrl: { type: String, default: null },
    highlight: { type: String, default: null },
  },
  { _id: false },
);

const optionalString = { type: String, default: null };

export const creativeSchema = new Schema<CreativeDoc>(
  {
    _id: { type: String, required: true },
    pageId: { type: String, required: true },
    slotCode: { type: String, required: true },
    name: { type: String, required: true },
    kind: { type: String, required: true },
    priority: { type: Number, required: true },
    rule: { type: Schema.Types.Mixed, default: null },
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    experimentKey: optionalString,
    variants: { type: [variantSchema], default: [] },
    experimentStartedAt: { type: Date, default: null },
    experimentEndedAt: { type: Date, default: null },
    title: optionalString,
    imageUrl: optionalString,
    iconUrl: optionalString,
    link: optionalString,
    badge: optionalString,
    highlight: optionalString,
    refId: optionalString,
    frequencyCap: { type: Number, default: null },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: optionalString,
    updatedAt: { type: Date, required: true },
    // An edit of the published creative waiting for approval (see @bank-hub/shared workflow).
    pending: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'creatives', versionKey: false, minimize: false },
);
creativeSchema.index({ pageId: 1, slotCode: 1 });

export class CreativeRepository {
  constructor(readonly model: Model<CreativeDoc>) {}

  findByIds(ids: readonly string[]): Promise<CreativeDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<CreativeDoc[]>()
      .exec();
  }

  /** Every creative of the given pages, whatever its status (previews explain the excluded ones too). */
  forPages(pageIds: readonly string[]): Promise<CreativeDoc[]> {
    return this.model
      .find({ pageId: { $in: pageIds } })
      .sort({ _id: 1 })
      .lean<CreativeDoc[]>()
      .exec();
  }

  /** At most `limit` creatives matching `filter`, by id, after the creative `after`. */
  list(filter: CreativeFilter, limit: number, after: string | null): Promise<CreativeDoc[]> {
    return this.model
      .find({
        ...(filter.pageId ? { pageId: filter.pageId } : {}),
        ...(filter.slotCode ? { slotCode: filter.slotCode } : {}),
        ...listCriteria(filter, after),
      })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<CreativeDoc[]>()
      .exec();
  }

  /** Every published creative that has not ended: what members' pages may show. */
  published(now: Date): Promise<CreativeDoc[]> {
    return this.model
      .find({ status: 'PUBLISHED', endsAt: { $gt: now } })
      .sort({ _id: 1 })
      .lean<CreativeDoc[]>()
      .exec();
  }

  insert(creative: CreativeDoc): Promise<unknown> {
    return this.model.create(creative);
  }

  replaceIfVersion(creative: CreativeDoc, expectedVersion: number): Promise<CreativeDoc | null> {
    const { _id, ...rest } = creative;
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, { $set: rest }, { returnDocument: 'after' })
      .lean<CreativeDoc>()
      .exec();
  }
}
