// What every page reads and only operators change — published pages and creatives, the product catalogue, segments
// and levels — held in memory per process, so a page costs no database read for it. Invalidation without change
// streams (the stand-in database has none): every write that changes such data bumps a revision document in the
// subgraph's own database; a process checks that revision at most every SNAPSHOT_REFRESH_MS (one tiny read) and at
// once after a write of its own, and reloads when it moved. A stale read lasts at most that long, in every process.
// A write whose bump never happened (its process died in between) would leave every process on the old data until the
// next edit: each reloads anyway once what it holds is `maxAgeMs` old (five minutes unless told).
import { Schema, type Connection, type Model } from 'mongoose';
import type { Logger } from './logger';
import { steadyClock } from './steady-clock';

interface RevisionDoc {
  _id: string;
  revision: number;
  updatedAt: Date;
}

const revisionSchema = new Schema<RevisionDoc>(
  {
    _id: { type: String, required: true },
    revision: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
  },
  { collection: 'revisions', versionKey: false },
);

/** The revision of what a subgraph's snapshot holds: one document, bumped by every write that changes it. */
export class Revisions {
  constructor(
    readonly model: Model<RevisionDoc>,
    private readonly name = 'snapshot',
  ) {}

  static open(connection: Connection): Revisions {
    return new Revisions(connection.model<RevisionDoc>('Revision', revisionSchema));
  }

  /**
   * The current revision as an opaque token, equal only to itself: the count and the time of the last bump, so a
   * database reset and reseeded to the same count still reads as a change.
   */
  async current(): Promise<string> {
    const doc = await this.model.findById(this.name).lean<RevisionDoc>().exec();
    return doc ? `${doc.revision}@${doc.updatedAt.getTime()}` : '0';
  }

  /** Marks the snapshot's data as changed, for every process. */
  async bump(): Promise<void> {
    await this.model
      .updateOne(
        { _id: this.name },
        { $inc: { revision: 1 }, $set: { updatedAt: new Date() } },
        { upsert: true },
      )
      .exec();
  }
}

export interface SnapshotOptions<T> {
  /** Names the snapshot in log lines. */
  name: string;
  load: () => Promise<T>;
  /** Figures to log about what was loaded (counts, approximate bytes). */
  describe: (value: T) => Record<string, number>;
  refreshMs: number;
  /** How old what is held may grow before it is reloaded whatever the revision says (default five minutes). */
  maxAgeMs?: number;
  logger: Logger;
  /** The clock ages are read from, made steady (Date.now; tests move their own). */
  clock?: () => number;
}

const MAX_AGE_MS = 5 * 60_000;

/** What a snapshot holds, and the revision it was loaded at. */
export interface Versioned<T> {
  revision: string;
  value: T;
}

export class Snapshot<T> {
  private state: (Versioned<T> & { checkedAt: number; loadedAt: number }) | null = null;
  private pending: Promise<Versioned<T>> | null = null;
  private readonly clock: () => number;

  constructor(
    private readonly revisions: Revisions,
    private readonly options: SnapshotOptions<T>,
  ) {
    this.clock = steadyClock(options.clock);
  }

  /** The data, checked against the revision when the last check is older than refreshMs. */
  async get(): Promise<T> {
    return (await this.versioned()).value;
  }

  /** The data with its revision, which another process can hold to know when what it derived from it is stale. */
  versioned(): Promise<Versioned<T>> {
    if (this.state && this.clock() - this.state.checkedAt < this.options.refreshMs)
      return Promise.resolve(this.state);
    // One check (and at most one reload) at a time, however many requests arrive meanwhile.
    this.pending ??= this.refresh().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** After a write of this process: bumps the revision for the others and reloads here before answering again. */
  async changed(): Promise<void> {
    await this.revisions.bump();
    await this.pending;
    this.state = this.state && { ...this.state, checkedAt: 0 };
  }

  /**
   * Runs a write of this process and then `changed()`, also when the write failed: one that stored its change and then
   * failed (its audit record could not be written) would otherwise never reach any process, this one included.
   */
  async afterWrite<R>(write: () => Promise<R>): Promise<R> {
    try {
      return await write();
    } finally {
      await this.changed();
    }
  }

  private async refresh(): Promise<Versioned<T>> {
    const revision = await this.revisions.current();
    const fresh = this.state && this.clock() - this.state.loadedAt < (this.options.maxAgeMs ?? MAX_AGE_MS);
    if (this.state && this.state.revision === revision && fresh) {
      this.state = { ...this.state, checkedAt: this.clock() };
      return this.state;
    }
    // Read the revision before the data: a write landing in between leaves a newer revision, reloaded next check.
    const value = await this.options.load();
    const now = this.clock();
    this.state = { revision, value, checkedAt: now, loadedAt: now };
    this.options.logger.info(
      { snapshot: this.options.name, revision, ...this.options.describe(value) },
      'snapshot loaded',
    );
    return this.state;
  }
}

/** Approximate size in bytes of documents as JSON: what the snapshot log lines report. */
export const approximateBytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value) ?? '');
