// Pages (by channel and key) with their ordered slots, embedded: a page is always read whole.
import { Schema, type Model } from 'mongoose';
import type { Revisable, WorkflowFilter } from '@bank-hub/shared';
import { listCriteria } from './listing';

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

/** Which pages an operator lists. */
export interface PageFilter extends WorkflowFilter {
  channel: Channel | null;
  keys: readonly string[] | null;
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

/**
 * A page as stored: `archivedId` is null while the page is not archived and its own id once it is, so the unique index
 * on {channel, key, archivedId} holds among non-archived pages only and an archived page frees its address. (A partial
 * index would say it more directly, but MongoDB Java Server ignores partialFilterExpression; a missing archivedId
 * indexes as null, so pages stored before it existed count as not archived.) Never read: the repository sets it.
 */
export interface StoredPage extends PageDoc {
  archivedId?: string | null;
}

const stored = (page: PageDoc): StoredPage => ({
  ...page,
  archivedId: page.status === 'ARCHIVED' ? page._id : null,
});

/** The index that once kept a page's channel and key taken for ever, archived or not. */
const LEGACY_ADDRESS_INDEX = 'channel_1_key_1';

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

export const pageSchema = new Schema<StoredPage>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    key: { type: String, required: true },
    title: { type: String, required: true },
    slots: { type: [slotSchema], default: [] },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    // An edit of the published page waiting for approval (see @bank-hub/shared workflow).
    pending: { type: Schema.Types.Mixed, default: null },
    archivedId: { type: String, default: null, select: false },
  },
  { collection: 'pages', versionKey: false },
);
// A channel and key name one page among those not archived.
pageSchema.index({ channel: 1, key: 1, archivedId: 1 }, { unique: true });

export class PageRepository {
  constructor(readonly model: Model<StoredPage>) {}

  /**
   * Frees the addresses of pages archived before archived pages freed theirs: sets their archivedId, then drops the
   * index that kept every address taken. Runs as the repositories open; does nothing once done.
   */
  async releaseArchivedAddresses(): Promise<void> {
    const archived = await this.model
      .find({ status: 'ARCHIVED', archivedId: null }, { _id: 1 })
      .lean<{ _id: string }[]>()
      .exec();
    for (const { _id } of archived)
      await this.model.updateOne({ _id, status: 'ARCHIVED' }, { $set: { archivedId: _id } }).exec();
    try {
      await this.model.collection.dropIndex(LEGACY_ADDRESS_INDEX);
    } catch (error) {
      // Another process dropped it first, or it never existed.
      if ((error as { codeName?: string }).codeName !== 'IndexNotFound') throw error;
    }
  }

  findByIds(ids: readonly string[]): Promise<PageDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<PageDoc[]>()
      .exec();
  }

  /** Published pages: at most one per address, as only one page of an address is not archived. */
  published(): Promise<PageDoc[]> {
    return this.model.find({ status: 'PUBLISHED' }).lean<PageDoc[]>().exec();
  }

  /** At most `limit` pages matching `filter`, by id, after the page `after`. */
  list(filter: PageFilter, limit: number, after: string | null): Promise<PageDoc[]> {
    return this.model
      .find({
        ...(filter.channel ? { channel: filter.channel } : {}),
        ...(filter.keys ? { key: { $in: filter.keys } } : {}),
        ...listCriteria(filter, after),
      })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<PageDoc[]>()
      .exec();
  }

  insert(page: PageDoc): Promise<unknown> {
    return this.model.create(stored(page));
  }

  /**
   * Replaces a page only if nobody changed it since `expectedVersion` was read (optimistic concurrency). A duplicate
   * key error means another page not archived has its channel and key.
   */
  replaceIfVersion(page: PageDoc, expectedVersion: number): Promise<PageDoc | null> {
    const { _id, ...rest } = stored(page);
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, { $set: rest }, { returnDocument: 'after' })
      .lean<PageDoc>()
      .exec();
  }
}
