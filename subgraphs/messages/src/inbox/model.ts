// Members' in-app inboxes. A message's id is its outbox entry's, so delivering it again (a worker retrying after a
// crash) finds it there and adds nothing; a deleted message stays as a tombstone for the same reason — a retry must
// not bring it back. Every query takes the member it is about: nobody reads or marks another member's messages.
//
// Every page shows the unread count and the newest messages, so each member also has a summary of both, one document
// read by id (`inboxSummaries`): one indexed read per page instead of a page query and a count. It is derived, never
// the truth: every write to a member's messages moves the member's `generation` before and after, a summary counts only
// if built at the current generation, and a stale or missing one is rebuilt from the messages and stored only if the
// generation did not move meanwhile (no transactions needed). A summary stays good for as long as no write comes, so a
// page reads that one document however long ago it was built. Should a process die between a write and its second
// move, the write's first move left its mark (`writing`, `writingUntil`): until WRITE_WINDOW_MS after it began, a
// summary is not trusted while any write is unfinished, and one built after that has seen whatever the write did.
// A write that failed at this end (a driver timeout, a connection cut) may still be applied by the database later,
// after a rebuild that did not see it: its second move marks it (`uncertainUntil`), and no summary built before
// WRITE_WINDOW_MS after it began is trusted — the next page after that rebuilds, with no other write needed.
import { Schema, type Connection, type Model } from 'mongoose';
import { badInput, isDuplicateKey } from '@bank-hub/shared';
import type { MessageFormat } from '../templates/model';
import type { Purpose } from '../outbox/domain/routing';

export interface InboxDoc {
  _id: string;
  memberId: string;
  campaignId: string;
  purpose: Purpose;
  format: MessageFormat;
  title: string;
  body: string;
  mediaUrl: string | null;
  link: string | null;
  /** The signed token of the unsubscribe link (marketing only). */
  unsubscribeToken: string | null;
  receivedAt: Date;
  readAt: Date | null;
  clickedAt: Date | null;
  deletedAt: Date | null;
}

const inboxSchema = new Schema<InboxDoc>(
  {
    _id: { type: String, required: true },
    memberId: { type: String, required: true },
    campaignId: { type: String, required: true },
    purpose: { type: String, required: true },
    format: { type: String, required: true },
    title: { type: String, required: true },
    body: { type: String, required: true },
    mediaUrl: { type: String, default: null },
    link: { type: String, default: null },
    unsubscribeToken: { type: String, default: null },
    receivedAt: { type: Date, required: true },
    readAt: { type: Date, default: null },
    clickedAt: { type: Date, default: null },
    deletedAt: { type: Date, default: null },
  },
  { collection: 'inbox', versionKey: false, minimize: false },
);
// A deleted message stays (see above), so both of a member's queries name `deletedAt` right after the member: a page
// (newest first, by cursor) and the unread count then walk only what they return, however many were deleted.
inboxSchema.index({ memberId: 1, deletedAt: 1, receivedAt: -1, _id: -1 });
inboxSchema.index({ memberId: 1, readAt: 1, deletedAt: 1 });

/** The unread count and newest messages of a member, as a page shows them. */
export interface InboxSummary {
  /** Counted up to UNREAD_COUNT_CAP. */
  unread: number;
  /** The newest SUMMARY_SIZE messages not deleted, newest first. */
  recent: InboxDoc[];
  /** Whether there are more than those. */
  more: boolean;
}

interface InboxSummaryDoc {
  /** The member's id. */
  _id: string;
  /** Moved by every write to the member's messages. */
  generation: number;
  summary: InboxSummary | null;
  /** The generation the summary was built at. */
  builtAt: number | null;
  /** When the rebuild that built it began. */
  builtOn: Date | null;
  /** Writes begun and not finished (more than there are when a process died in the middle of one). */
  writing?: number;
  /** When the latest write begun has surely landed or never will. */
  writingUntil?: Date | null;
  /** When the latest write that failed at this end has surely landed or never will. */
  uncertainUntil?: Date | null;
}

const summarySchema = new Schema<InboxSummaryDoc>(
  {
    _id: { type: String, required: true },
    generation: { type: Number, required: true },
    summary: { type: Schema.Types.Mixed, default: null },
    builtAt: { type: Number, default: null },
    builtOn: { type: Date, default: null },
    writing: { type: Number, default: 0 },
    writingUntil: { type: Date, default: null },
    uncertainUntil: { type: Date, default: null },
  },
  { collection: 'inboxSummaries', versionKey: false, minimize: false },
);

/** Messages a summary holds: an inbox's first page (`first` defaults to 20). */
export const SUMMARY_SIZE = 20;
/**
 * The most unread messages counted: every write makes the next page recount, and a badge shows no more than that
 * ("999+"), so a member with 100,000 unread transaction notices costs no more than one with a thousand.
 */
export const UNREAD_COUNT_CAP = 1_000;
/** Longer than any one write to a member's messages takes to land, once begun. */
const WRITE_WINDOW_MS = 60_000;

/** Clears what a summary held, so no reader takes it for current. */
const STALE = { summary: null, builtAt: null, builtOn: null };

/** Where an inbox page ends: the last message's arrival and id (newest first). */
export interface InboxPosition {
  receivedAt: Date;
  id: string;
}

const CURSOR = /^(\d{1,15})\|(.{1,200})$/s;

export const encodeInboxCursor = (position: InboxPosition): string =>
  Buffer.from(`${position.receivedAt.getTime()}|${position.id}`, 'utf8').toString('base64url');

/** The position in a cursor this field handed out; BAD_USER_INPUT for anything else. */
export function decodeInboxCursor(cursor: string, field: string): InboxPosition {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = CURSOR.exec(text);
  if (!match || Buffer.from(text, 'utf8').toString('base64url') !== cursor)
    throw badInput(`${field} is not a cursor this field returned`, field);
  return { receivedAt: new Date(Number(match[1])), id: match[2]! };
}

export class InboxRepository {
  constructor(
    readonly model: Model<InboxDoc>,
    readonly summaries: Model<InboxSummaryDoc>,
  ) {}

  static open(connection: Connection): InboxRepository {
    return new InboxRepository(
      connection.model<InboxDoc>('InboxMessage', inboxSchema),
      connection.model<InboxSummaryDoc>('InboxSummary', summarySchema),
    );
  }

  /** Puts a message in its member's inbox once; false when it was there already. */
  deliver(message: InboxDoc): Promise<boolean> {
    return this.writeMessages(message.memberId, async () => {
      try {
        await this.model.create(message);
        return true;
      } catch (error) {
        if (isDuplicateKey(error)) return false;
        throw error;
      }
    });
  }

  /** Marks the member's summary stale, after writes to their messages made while no page is read (the seed). */
  async changed(memberId: string): Promise<void> {
    await this.summaries
      .updateOne({ _id: memberId }, { $inc: { generation: 1 }, $set: STALE }, { upsert: true })
      .exec();
  }

  /** Runs a write to the member's messages between the two moves of their generation (see the top of the file). */
  private async writeMessages<T>(memberId: string, write: () => Promise<T>): Promise<T> {
    const settledBy = new Date(Date.now() + WRITE_WINDOW_MS);
    await this.summaries
      .updateOne(
        { _id: memberId },
        { $inc: { generation: 1, writing: 1 }, $set: STALE, $max: { writingUntil: settledBy } },
        { upsert: true },
      )
      .exec();
    let result: T;
    try {
      result = await write();
    } catch (error) {
      // It may have landed, or land yet, all the same.
      await this.finished(memberId, settledBy);
      throw error;
    }
    await this.finished(memberId);
    return result;
  }

  /**
   * The second move of a write: its summary built meanwhile is stale, and the write no longer unfinished. A write that
   * failed passes when it has surely landed or never will (`uncertainUntil`): no summary built before then is trusted.
   */
  async finished(memberId: string, uncertainUntil?: Date): Promise<void> {
    await this.summaries
      .updateOne(
        { _id: memberId },
        {
          $inc: { generation: 1, writing: -1 },
          $set: STALE,
          ...(uncertainUntil ? { $max: { uncertainUntil } } : {}),
        },
      )
      .exec();
  }

  /** Each member's unread count and newest messages: one read by id each, rebuilding only what is stale. */
  async summariesOf(memberIds: readonly string[], now = new Date()): Promise<Map<string, InboxSummary>> {
    // An id equality is the one lookup every MongoDB-wire server answers from an index.
    const docs =
      memberIds.length === 1
        ? [await this.summaries.findById(memberIds[0]).lean<InboxSummaryDoc>().exec()]
        : await this.summaries
            .find({ _id: { $in: [...memberIds] } })
            .lean<InboxSummaryDoc[]>()
            .exec();
    const byMember = new Map(docs.flatMap((doc) => (doc ? [[doc._id, doc] as const] : [])));
    const result = new Map<string, InboxSummary>();
    await Promise.all(
      memberIds.map(async (memberId) => {
        const doc = byMember.get(memberId);
        // With a write unfinished, or one that failed, only a summary begun after it surely landed has seen it.
        const fresh =
          doc?.summary &&
          doc.builtAt === doc.generation &&
          doc.builtOn &&
          (!doc.writing || (doc.writingUntil && doc.builtOn > doc.writingUntil)) &&
          (!doc.uncertainUntil || doc.builtOn > doc.uncertainUntil);
        result.set(
          memberId,
          fresh ? doc.summary! : await this.rebuild(memberId, doc?.generation ?? null, now),
        );
      }),
    );
    return result;
  }

  /** Builds a member's summary from their messages; stores it only if `generation` is still the member's. */
  private async rebuild(memberId: string, generation: number | null, now: Date): Promise<InboxSummary> {
    const [newest, unread] = await Promise.all([
      this.page(memberId, SUMMARY_SIZE + 1, null),
      this.unreadCount(memberId),
    ]);
    const summary: InboxSummary = {
      unread,
      recent: newest.slice(0, SUMMARY_SIZE),
      more: newest.length > SUMMARY_SIZE,
    };
    const built = { summary, builtAt: generation ?? 0, builtOn: now };
    try {
      await this.summaries
        .updateOne(
          { _id: memberId, generation: generation ?? 0 },
          { $set: built },
          { upsert: generation === null },
        )
        .exec();
    } catch (error) {
      // A write created the member's document meanwhile: this summary is stale already, and not kept.
      if (!isDuplicateKey(error)) throw error;
    }
    return summary;
  }

  /** A page of the member's messages, newest first, after `after`. */
  page(memberId: string, first: number, after: InboxPosition | null): Promise<InboxDoc[]> {
    const position = after
      ? {
          $or: [
            { receivedAt: { $lt: after.receivedAt } },
            { receivedAt: after.receivedAt, _id: { $lt: after.id } },
          ],
        }
      : {};
    return this.model
      .find({ memberId, deletedAt: null, ...position })
      .sort({ receivedAt: -1, _id: -1 })
      .limit(first)
      .lean<InboxDoc[]>()
      .exec();
  }

  /** The member's unread messages, counted up to UNREAD_COUNT_CAP. */
  unreadCount(memberId: string): Promise<number> {
    return this.model
      .countDocuments({ memberId, readAt: null, deletedAt: null })
      .limit(UNREAD_COUNT_CAP)
      .exec();
  }

  /** One of the member's messages; null when it is not theirs, or deleted. */
  ofMember(memberId: string, id: string): Promise<InboxDoc | null> {
    return this.model.findOne({ _id: id, memberId, deletedAt: null }).lean<InboxDoc>().exec();
  }

  /** Sets a timestamp of one of the member's messages the first time; the message, or null when it is not theirs. */
  async stamp(
    memberId: string,
    id: string,
    field: 'readAt' | 'clickedAt',
    at: Date,
  ): Promise<InboxDoc | null> {
    const stamped = await this.writeMessages(memberId, () =>
      this.model
        .findOneAndUpdate(
          { _id: id, memberId, deletedAt: null, [field]: null },
          { $set: { [field]: at } },
          { returnDocument: 'after' },
        )
        .lean<InboxDoc>()
        .exec(),
    );
    return stamped ?? this.ofMember(memberId, id);
  }

  /** Deletes one of the member's messages; false when it is not theirs (or deleted already). */
  async remove(memberId: string, id: string, at: Date): Promise<boolean> {
    const removed = await this.writeMessages(memberId, () =>
      this.model
        .findOneAndUpdate(
          { _id: id, memberId, deletedAt: null },
          { $set: { deletedAt: at } },
          { projection: { _id: 1 } },
        )
        .lean()
        .exec(),
    );
    return removed !== null;
  }
}
