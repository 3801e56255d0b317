// Message templates: copy in one format, with variables, edited and approved through the four-eyes workflow. A send
// always renders the published fields; an edit of a published template waits as its pending revision.
import { Schema, type Connection, type Model } from 'mongoose';
import {
  olderThan,
  workflowCriteria,
  type FeedPosition,
  type MessageChannel,
  type Revisable,
  type WorkflowFilter,
} from '@bank-hub/shared';

export type MessageFormat = 'TEXT' | 'IMAGE' | 'ANIMATION' | 'VIDEO' | 'SMS' | 'FIVE_G';
export type CardAction = 'OPEN_URL' | 'OPEN_FLOW' | 'CALL';

export interface SmsFields {
  signature: string;
  body: string;
  optOut: string;
  maxSegments: number;
}

export interface CardButton {
  label: string;
  action: CardAction;
  target: string;
}

export interface CardFields {
  title: string;
  mediaUrl: string | null;
  description: string;
  buttons: CardButton[];
  suggestedReplies: string[];
}

/** What an operator edits: in-app formats fill title, body, mediaUrl and link; SMS fills sms; FIVE_G card and sms. */
export interface TemplateFields {
  name: string;
  format: MessageFormat;
  title: string | null;
  body: string | null;
  mediaUrl: string | null;
  link: string | null;
  sms: SmsFields | null;
  card: CardFields | null;
}

export interface TemplateDoc extends TemplateFields, Revisable<TemplateFields> {
  _id: string;
  createdAt: Date;
}

/** The channel a format renders for. */
export const channelOf = (format: MessageFormat): MessageChannel =>
  format === 'FIVE_G' ? 'FIVE_G' : format === 'SMS' ? 'SMS' : 'IN_APP';

const templateSchema = new Schema<TemplateDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    format: { type: String, required: true },
    title: { type: String, default: null },
    body: { type: String, default: null },
    mediaUrl: { type: String, default: null },
    link: { type: String, default: null },
    sms: { type: Schema.Types.Mixed, default: null },
    card: { type: Schema.Types.Mixed, default: null },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    createdAt: { type: Date, required: true },
    pending: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'templates', versionKey: false, minimize: false },
);
templateSchema.index({ status: 1, createdAt: -1 });

export class TemplateRepository {
  constructor(readonly model: Model<TemplateDoc>) {}

  static open(connection: Connection): TemplateRepository {
    return new TemplateRepository(connection.model<TemplateDoc>('Template', templateSchema));
  }

  findByIds(ids: readonly string[]): Promise<TemplateDoc[]> {
    return this.model
      .find({ _id: { $in: [...ids] } })
      .lean<TemplateDoc[]>()
      .exec();
  }

  /** A page of templates, newest first, after `after` (the last one of the page before). */
  newest(filter: WorkflowFilter, limit: number, after: FeedPosition | null): Promise<TemplateDoc[]> {
    return this.model
      .find({ ...workflowCriteria(filter), ...olderThan('createdAt', after) })
      .sort({ createdAt: -1, _id: -1 })
      .limit(limit)
      .lean<TemplateDoc[]>()
      .exec();
  }

  insert(template: TemplateDoc): Promise<unknown> {
    return this.model.create(template);
  }

  /** Writes a change if nobody changed the template since `expectedVersion`; null otherwise. */
  replaceIfVersion(template: TemplateDoc, expectedVersion: number): Promise<TemplateDoc | null> {
    const { _id, ...fields } = template;
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, { $set: fields }, { returnDocument: 'after' })
      .lean<TemplateDoc>()
      .exec();
  }
}
