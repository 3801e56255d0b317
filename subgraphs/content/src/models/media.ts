// The content a card can show — topics, live streams, short videos — one collection each, with the same small
// repository shape. (Activities belong to the engagement subgraph; an activity card only references one.)
import { Schema, type Model, type SchemaDefinition } from 'mongoose';

export interface TopicDoc {
  _id: string;
  title: string;
  summary: string;
  heat: number;
  coverUrl: string;
  tags: string[];
}

export type LiveStatus = 'SCHEDULED' | 'LIVE' | 'ENDED';

/** A live stream as scheduled: on air from `startsAt` until `endsAt`. Its status is read from the clock (liveStatus). */
export interface LiveStreamDoc {
  _id: string;
  title: string;
  host: string;
  coverUrl: string;
  startsAt: Date;
  endsAt: Date;
}

export interface VideoDoc {
  _id: string;
  title: string;
  coverUrl: string;
  url: string;
  durationSeconds: number;
  publishedAt: Date;
}

const requiredString = { type: String, required: true } as const;
const requiredDate = { type: Date, required: true } as const;
const requiredNumber = { type: Number, required: true } as const;

export function mediaSchema<T>(collection: string, fields: SchemaDefinition<T>): Schema<T> {
  return new Schema<T>({ _id: requiredString, ...fields } as SchemaDefinition<T>, {
    collection,
    versionKey: false,
  });
}

export const topicSchema = mediaSchema<TopicDoc>('topics', {
  title: requiredString,
  summary: requiredString,
  heat: requiredNumber,
  coverUrl: requiredString,
  tags: { type: [String], default: [] },
});

export const liveStreamSchema = mediaSchema<LiveStreamDoc>('live_streams', {
  title: requiredString,
  host: requiredString,
  coverUrl: requiredString,
  startsAt: requiredDate,
  endsAt: requiredDate,
});

export const videoSchema = mediaSchema<VideoDoc>('videos', {
  title: requiredString,
  coverUrl: requiredString,
  url: requiredString,
  durationSeconds: requiredNumber,
  publishedAt: requiredDate,
});

export class MediaRepository<T extends { _id: string }> {
  constructor(readonly model: Model<T>) {}

  findByIds(ids: readonly string[]): Promise<T[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<T[]>()
      .exec();
  }

  /** The first `limit` documents by one field (ties by id). */
  firstBy(field: keyof T & string, direction: 'asc' | 'desc', limit: number): Promise<T[]> {
    return this.model
      .find()
      .sort({ [field]: direction === 'asc' ? 1 : -1, _id: 1 })
      .limit(limit)
      .lean<T[]>()
      .exec();
  }
}

export class VideoRepository extends MediaRepository<VideoDoc> {
  /** The first `limit` videos out at `now`, newest first: one due out later is not listed before then. */
  publishedBy(now: Date, limit: number): Promise<VideoDoc[]> {
    return this.model
      .find({ publishedAt: { $lte: now } })
      .sort({ publishedAt: -1, _id: 1 })
      .limit(limit)
      .lean<VideoDoc[]>()
      .exec();
  }
}

/**
 * Live streams in one state at `now` (as liveStatus reads it), in the order lists give them: on air and scheduled
 * ones soonest start first, ended ones latest end first.
 */
const LIVE_STATES: Record<LiveStatus, (now: Date) => [Record<string, unknown>, Record<string, 1 | -1>]> = {
  LIVE: (now) => [{ startsAt: { $lte: now }, endsAt: { $gt: now } }, { startsAt: 1 }],
  SCHEDULED: (now) => [{ startsAt: { $gt: now } }, { startsAt: 1 }],
  ENDED: (now) => [{ startsAt: { $lte: now }, endsAt: { $lte: now } }, { endsAt: -1 }],
};

/** How long a stream stored without an end is taken to last: the usual hour and a half. */
const USUAL_LENGTH_MS = 90 * 60_000;

export class LiveStreamRepository extends MediaRepository<LiveStreamDoc> {
  /**
   * Gives the streams stored before streams had an end one, and drops the status stored with them, which nothing
   * moved: without an end a stream reads as ended from its start, is listed in no state and fails `endsAt`. One stored
   * as ended stays ended; any other lasts the usual length. Runs as the repositories open; does nothing once done.
   */
  async scheduleEnds(): Promise<void> {
    const unended = await this.model
      .find({ endsAt: null }, { _id: 1, startsAt: 1, status: 1 })
      .lean<{ _id: string; startsAt: Date; status?: string }[]>()
      .exec();
    if (unended.length === 0) return;
    // Through the driver: mongoose would drop the unset of a field its schema no longer has.
    const stored = this.model.db.collection<{ _id: string; endsAt?: Date | null; status?: string }>(
      this.model.collection.collectionName,
    );
    await stored.bulkWrite(
      unended.map(({ _id, startsAt, status }) => ({
        updateOne: {
          filter: { _id, endsAt: null },
          update: {
            $set: { endsAt: new Date(startsAt.getTime() + (status === 'ENDED' ? 0 : USUAL_LENGTH_MS)) },
            $unset: { status: '' },
          },
        },
      })),
      { ordered: false },
    );
  }

  /** The first `limit` streams in `state` at `now`. */
  inState(state: LiveStatus, now: Date, limit: number): Promise<LiveStreamDoc[]> {
    const [filter, order] = LIVE_STATES[state](now);
    return this.model
      .find(filter)
      .sort({ ...order, _id: 1 })
      .limit(limit)
      .lean<LiveStreamDoc[]>()
      .exec();
  }
}
