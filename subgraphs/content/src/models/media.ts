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

export interface LiveStreamDoc {
  _id: string;
  title: string;
  host: string;
  coverUrl: string;
  status: LiveStatus;
  startsAt: Date;
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
  status: requiredString,
  startsAt: requiredDate,
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

  /** The first `limit` documents by one field (ties by id), optionally only those matching equality criteria. */
  firstBy(
    field: keyof T & string,
    direction: 'asc' | 'desc',
    limit: number,
    criteria: Partial<Record<keyof T & string, string>> = {},
  ): Promise<T[]> {
    return this.model
      .find(criteria as Record<string, string>)
      .sort({ [field]: direction === 'asc' ? 1 : -1, _id: 1 })
      .limit(limit)
      .lean<T[]>()
      .exec();
  }

  /** Documents whose `field` (a date) is still ahead of `now`, soonest first. */
  endingAfter(field: keyof T & string, now: Date, limit: number): Promise<T[]> {
    return this.model
      .find({ [field]: { $gt: now } } as Record<string, unknown>)
      .sort({ [field]: 1, _id: 1 })
      .limit(limit)
      .lean<T[]>()
      .exec();
  }
}
