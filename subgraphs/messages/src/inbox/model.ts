// Members' in-app inboxes. A message's id is its outbox entry's, so delivering it again (a worker retrying after a
// crash) finds it there and adds nothing; a deleted message stays as a tombstone for the same reason — a retry must
// not bring it back. Every query takes the member it is about: nobody reads or marks another member's messages.
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
inboxSchema.index({ memberId: 1, receivedAt: -1, _id: -1 });

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
  constructor(readonly model: Model<InboxDoc>) {}

  static open(connection: Connection): InboxRepository {
    return new InboxRepository(connection.model<InboxDoc>('InboxMessage', inboxSchema));
  }

  /** Puts a message in its member's inbox once; false when it was there already. */
  async deliver(message: InboxDoc): Promise<boolean> {
    try {
      await this.model.create(message);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
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

  /** Unread messages of each member, in one query. */
  async unreadCounts(memberIds: readonly string[]): Promise<Map<string, number>> {
    const counts = await this.model
      .aggregate<{ _id: string; n: number }>([
        { $match: { memberId: { $in: [...memberIds] }, readAt: null, deletedAt: null } },
        { $group: { _id: '$memberId', n: { $sum: 1 } } },
      ])
      .exec();
    return new Map(counts.map(({ _id, n }) => [_id, n]));
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
    const stamped = await this.model
      .findOneAndUpdate(
        { _id: id, memberId, deletedAt: null, [field]: null },
        { $set: { [field]: at } },
        { returnDocument: 'after' },
      )
      .lean<InboxDoc>()
      .exec();
    return stamped ?? this.ofMember(memberId, id);
  }

  /** Deletes one of the member's messages; false when it is not theirs (or deleted already). */
  async remove(memberId: string, id: string, at: Date): Promise<boolean> {
    const removed = await this.model
      .findOneAndUpdate(
        { _id: id, memberId, deletedAt: null },
        { $set: { deletedAt: at } },
        { projection: { _id: 1 } },
      )
      .lean()
      .exec();
    return removed !== null;
  }
}
