// Pages (by channel and key) with their ordered slots, embedded: a page is always read whole.
import { Schema, type Model } from 'mongoose';
import type { Revisable } from '@bank-hub/shared';

export type Channel = 'APP' | 'WEB' | 'MINI_PROGRAM' | 'PARTNER';
export type SlotTemplate =
  | 'BANNER_CAROUSEL'
  | 'CARD_GRID'
  | 'PRODUCT_SHELF'
  | 'TOPIC_LIST'
  | 'ENTRY_GRID'
  | 'LIVE_STRIP'
  | 'VIDEO_FEED'
  | 'ACTIVITY_LIST';
export type ProductType = 'DEPOSIT' | 'WEALTH' | 'FUND' | 'LOAN' | 'INSURANCE' | 'PAYMENT';

export interface SlotDoc {
  code: string;
  template: SlotTemplate;
  title: string | null;
  maxItems: number;
  fallbackCreativeId: string | null;
  autoFill: boolean;
  productType: ProductType | null;
}

/** What an operator edits on a page: everything but its identity and its workflow state. */
export interface PageFields {
  channel: Channel;
  key: string;
  title: string;
  slots: SlotDoc[];
}

export interface PageDoc extends PageFields, Revisable<PageFields> {
  _id: string;
}

const slotSchema = new Schema<SlotDoc>(
  {
    code: { type: String, required: true },
    template: { type: String, required: true },
    title: { type: String, default: null },
    maxItems: { type: Number, required: true },
    fallbackCreativeId: { type: String, default: null },
    autoFill: { type: Boolean, default: false },
    productType: { type: String, default: null },
  },
  { _id: false },
);

export const pageSchema = new Schema<PageDoc>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    key: { type: String, required: true },
    title: { type: String, required: true },
    slots: { type: [slotSchema], default: [] },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    // An edit of the published page waiting for approval (see @bank-hub/shared workflow).
    pending: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'pages', versionKey: false },
);
pageSchema.index({ channel: 1, key: 1 }, { unique: true });

export class PageRepository {
  constructor(readonly model: Model<PageDoc>) {}

  findByIds(ids: readonly string[]): Promise<PageDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<PageDoc[]>()
      .exec();
  }

  /** Pages by `channel:key` addresses, in one query. */
  published(): Promise<PageDoc[]> {
    return this.model.find({ status: 'PUBLISHED' }).lean<PageDoc[]>().exec();
  }

  findByAddresses(addresses: readonly { channel: Channel; key: string }[]): Promise<PageDoc[]> {
    return this.model
      .find({ $or: addresses.map(({ channel, key }) => ({ channel, key })) })
      .lean<PageDoc[]>()
      .exec();
  }

  list(channel: Channel | null): Promise<PageDoc[]> {
    return this.model
      .find(channel ? { channel } : {})
      .sort({ channel: 1, key: 1 })
      .lean<PageDoc[]>()
      .exec();
  }

  insert(page: PageDoc): Promise<unknown> {
    return this.model.create(page);
  }

  /** Replaces a page only if nobody changed it since `expectedVersion` was read (optimistic concurrency). */
  replaceIfVersion(page: PageDoc, expectedVersion: number): Promise<PageDoc | null> {
    const { _id, ...rest } = page;
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, { $set: rest }, { returnDocument: 'after' })
      .lean<PageDoc>()
      .exec();
  }
}
