// Event writes in flight, so the event feed never moves past one: a group commit records its start here before it
// inserts, renews the record while the insert runs and removes it once the insert has answered. A record whose process
// died with it stops holding the feed back when it expires.
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';

/** How long a write's record holds the feed back after its process last renewed it. */
export const WRITE_IN_FLIGHT_TTL_MS = 60_000;

export interface WriteInFlightDoc {
  _id: string;
  /** The receivedAt its events carry. */
  at: Date;
  expiresAt: Date;
}

export const writeInFlightSchema = new Schema<WriteInFlightDoc>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'event_writes_in_flight', versionKey: false },
);
writeInFlightSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
writeInFlightSchema.index({ at: 1 });

export class WritesInFlight {
  constructor(private readonly model: Model<WriteInFlightDoc>) {}

  /** Records a write whose events carry `at` as their receivedAt; resolves with its id once the record is stored. */
  async begin(at: Date): Promise<string> {
    const _id = randomUUID();
    await this.model.create({ _id, at, expiresAt: new Date(at.getTime() + WRITE_IN_FLIGHT_TTL_MS) });
    return _id;
  }

  /** Keeps the record of a write whose insert still runs from expiring: its lifetime starts again at `now`. */
  async renew(id: string, now: Date): Promise<void> {
    await this.model
      .updateOne({ _id: id }, { $set: { expiresAt: new Date(now.getTime() + WRITE_IN_FLIGHT_TTL_MS) } })
      .exec();
  }

  async end(id: string): Promise<void> {
    await this.model.deleteOne({ _id: id }).exec();
  }

  /** The receivedAt of the oldest write still in flight at `now`, if any. */
  async oldest(now: Date): Promise<Date | null> {
    const oldest = await this.model
      .findOne({ expiresAt: { $gt: now } })
      .sort({ at: 1 })
      .select({ at: 1 })
      .lean<Pick<WriteInFlightDoc, 'at'>>()
      .exec();
    return oldest?.at ?? null;
  }
}
