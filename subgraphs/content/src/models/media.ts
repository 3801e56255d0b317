// The content a card can show — topics, live streams, short videos — one collection each, with the same small
// repository shape. (Activities belong to the engagement subgraph; an activity card only references one.)
import { Schema, type Model, type SchemaDefinition } from 'mongoose';
import type { Revisable, WorkflowFilter } from '@bank-hub/shared';
import { listCriteria } from './listing';

/** What an operator edits on a topic: everything but its identity, its workflow state and its measured heat. */
export interface TopicFields {
  title: string;
  summary: string;
  coverUrl: string;
  tags: string[];
}

/**
 * A hot topic. Operators create and edit it through the approval workflow; its heat is measured by analytics (the topic
 * heat job), never typed. A topic imported from outside the hub's mutations (the bank's media systems) is stored
 * without a workflow state: it is published as it comes, and given one when an operator first acts on it.
 */
export interface TopicDoc extends TopicFields, Revisable<TopicFields> {
  _id: string;
  heat: number;
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
  status: String,
  version: Number,
  lastEditedBy: String,
  // Absent on topics stored before editors were recorded (editorsOf reads them as their last editor).
  editors: { type: [String], default: undefined },
  approvedBy: { type: String, default: null },
  updatedAt: Date,
  // An edit of the published topic waiting for approval (see @bank-hub/shared workflow).
  pending: { type: Schema.Types.Mixed, default: null },
});
topicSchema.index({ heat: -1, _id: 1 });

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
}

/** What members may be shown of the topics: published ones, and imported ones, which come published. */
const SHOWN_TOPICS = { status: { $in: ['PUBLISHED' as const, null] } };

/** An imported topic's first workflow state: published as it came, last edited by the import, not an operator. */
export const importedState = (now: Date): Revisable<TopicFields> => ({
  status: 'PUBLISHED',
  version: 1,
  lastEditedBy: 'import',
  editors: ['import'],
  approvedBy: null,
  updatedAt: now,
  pending: null,
});

/** The topic with its workflow state: an imported one not yet given its own reads as importedState says. */
export const withWorkflowState = (topic: TopicDoc, now: Date): TopicDoc =>
  topic.status ? topic : { ...topic, ...importedState(now) };

/** A topic's heat as the topic heat job hands it over. */
export interface TopicHeat {
  topicId: string;
  heat: number;
}

export class TopicRepository extends MediaRepository<TopicDoc> {
  /** The first `limit` topics members may be shown, hottest first (ties by id). */
  hottest(limit: number): Promise<TopicDoc[]> {
    return this.model.find(SHOWN_TOPICS).sort({ heat: -1, _id: 1 }).limit(limit).lean<TopicDoc[]>().exec();
  }

  /** Of these topics, those members may be shown. */
  shownByIds(ids: readonly string[]): Promise<TopicDoc[]> {
    return this.model
      .find({ _id: { $in: ids }, ...SHOWN_TOPICS })
      .lean<TopicDoc[]>()
      .exec();
  }

  /** At most `limit` topics matching `filter`, by id, after the topic `after`. */
  list(filter: WorkflowFilter, limit: number, after: string | null): Promise<TopicDoc[]> {
    return this.model
      .find(listCriteria(filter, after))
      .sort({ _id: 1 })
      .limit(limit)
      .lean<TopicDoc[]>()
      .exec();
  }

  /** The ids of at most `limit` topics not archived, by id, after `after`: the topics whose heat is measured. */
  async activeIds(limit: number, after: string | null): Promise<string[]> {
    const docs = await this.model
      .find({ status: { $ne: 'ARCHIVED' }, ...(after ? { _id: { $gt: after } } : {}) }, { _id: 1 })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<{ _id: string }[]>()
      .exec();
    return docs.map((doc) => doc._id);
  }

  /**
   * Gives imported topics (stored without a workflow state) theirs: published, at version 1, last edited by the import.
   * Runs as the repositories open, and for a topic an operator acts on; does nothing once done.
   */
  async adoptImported(ids: readonly string[] | null = null, now = new Date()): Promise<void> {
    await this.model
      .updateMany({ status: null, ...(ids ? { _id: { $in: ids } } : {}) }, { $set: importedState(now) })
      .exec();
  }

  insert(topic: TopicDoc): Promise<unknown> {
    return this.model.create(topic);
  }

  replaceIfVersion(topic: TopicDoc, expectedVersion: number): Promise<TopicDoc | null> {
    const { _id, ...rest } = topic;
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, { $set: rest }, { returnDocument: 'after' })
      .lean<TopicDoc>()
      .exec();
  }

  /**
   * Sets each named topic's heat where it differs (one bulk write); a replay changes nothing. Returns how many changed
   * and the ids of those no topic has.
   */
  async setHeat(scores: readonly TopicHeat[]): Promise<{ changed: number; unknownIds: string[] }> {
    if (scores.length === 0) return { changed: 0, unknownIds: [] };
    const ids = scores.map((score) => score.topicId);
    const known = new Set(
      (
        await this.model
          .find({ _id: { $in: ids } }, { _id: 1 })
          .lean<{ _id: string }[]>()
          .exec()
      ).map((doc) => doc._id),
    );
    const writes = scores.filter((score) => known.has(score.topicId));
    const result =
      writes.length === 0
        ? null
        : await this.model.bulkWrite(
            writes.map(({ topicId, heat }) => ({
              updateOne: { filter: { _id: topicId, heat: { $ne: heat } }, update: { $set: { heat } } },
            })),
            { ordered: false },
          );
    return { changed: result?.modifiedCount ?? 0, unknownIds: ids.filter((id) => !known.has(id)) };
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
