// Writes in flight, so that a feed read in time order (analytics' events, engagement's task completions) never moves
// past one: a write records its start in a collection of its subgraph before it writes, stamps what it writes once that
// record is stored, renews the record while it runs and removes it once it has landed. The feed hands out nothing at or
// after the oldest record's time. A record whose process died with it stops holding the feed back when it expires.
import { randomUUID } from 'node:crypto';
import { Schema, type Connection, type Model } from 'mongoose';

/** How long a write's record holds the feed back after its process last renewed it. */
export const WRITE_IN_FLIGHT_TTL_MS = 60_000;

export interface WriteInFlightDoc {
  _id: string;
  /** Taken before the record was stored: at or before the time the write's documents carry. */
  at: Date;
  expiresAt: Date;
}

/** One schema per collection, made once: a connection opened again must get the same schema, or mongoose refuses it. */
const schemas = new Map<string, Schema<WriteInFlightDoc>>();

function writeInFlightSchema(collection: string): Schema<WriteInFlightDoc> {
  const made = schemas.get(collection);
  if (made) return made;
  const schema = new Schema<WriteInFlightDoc>(
    {
      _id: { type: String, required: true },
      at: { type: Date, required: true },
      expiresAt: { type: Date, required: true },
    },
    { collection, versionKey: false },
  );
  schema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
  schema.index({ at: 1 });
  schemas.set(collection, schema);
  return schema;
}

/** A write recorded as in flight, and renewed as long as it runs. */
export interface WriteInFlight {
  /** The time the write's documents carry: taken once its record was stored. */
  readonly at: Date;
  /** The write landed: its record goes (one left behind, should removing it fail, holds the feed until it expires). */
  end(): Promise<void>;
  /**
   * The write failed, and may still land in part (a timed-out write can still be applied): its record is no longer
   * renewed and stays until it expires, holding the feed back.
   */
  abandon(): void;
}

export class WritesInFlight {
  constructor(readonly model: Model<WriteInFlightDoc>) {}

  /** The records of a subgraph's writes to one feed, in `collection` of its database. */
  static open(connection: Connection, collection: string): WritesInFlight {
    return new WritesInFlight(
      connection.model<WriteInFlightDoc>(collection, writeInFlightSchema(collection)),
    );
  }

  /** Records a write whose documents carry `at` or later; resolves with its id once the record is stored. */
  async begin(at: Date): Promise<string> {
    const _id = randomUUID();
    await this.model.create({ _id, at, expiresAt: new Date(at.getTime() + WRITE_IN_FLIGHT_TTL_MS) });
    return _id;
  }

  /** Keeps the record of a write that still runs from expiring: its lifetime starts again at `now`. */
  async renew(id: string, now: Date): Promise<void> {
    await this.model
      .updateOne({ _id: id }, { $set: { expiresAt: new Date(now.getTime() + WRITE_IN_FLIGHT_TTL_MS) } })
      .exec();
  }

  async end(id: string): Promise<void> {
    await this.model.deleteOne({ _id: id }).exec();
  }

  /**
   * Records a write about to start and renews its record every `renewEveryMs` until it ends or is abandoned: however
   * long it runs, its record holds the feed back. What it writes carries `at`, taken once the record is stored, not
   * before: a feed page that found no record (however long storing it took) was asked before then, so it stopped
   * short of that time.
   */
  async hold(clock: () => Date, renewEveryMs = WRITE_IN_FLIGHT_TTL_MS / 3): Promise<WriteInFlight> {
    const id = await this.begin(clock());
    const at = clock();
    const renewal = setInterval(() => void this.renew(id, clock()).catch(() => undefined), renewEveryMs);
    renewal.unref();
    return {
      at,
      end: async () => {
        clearInterval(renewal);
        await this.end(id).catch(() => undefined);
      },
      abandon: () => clearInterval(renewal),
    };
  }

  /**
   * The latest time a feed may hand out at `now`: `lagMs` behind (what the clocks of the subgraph's processes may
   * differ by), and before every write still in flight.
   */
  async until(now: Date, lagMs: number): Promise<Date> {
    const oldest = await this.oldest(now);
    return new Date(Math.min(now.getTime() - lagMs, (oldest?.getTime() ?? Infinity) - 1));
  }

  /** The time of the oldest write still in flight at `now`, if any. */
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
