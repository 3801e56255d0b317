// Leases that let one process at a time run a job (a lifecycle run, a feed consumer), across every process of a
// subgraph: a lease is one document per job, taken by a conditional upsert, and lapses by itself if its holder dies.
import { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey } from './mongo';

export interface JobLeaseDoc {
  /** The job's name. */
  _id: string;
  holder: string;
  until: Date;
}

export const jobLeaseSchema = new Schema<JobLeaseDoc>(
  {
    _id: { type: String, required: true },
    holder: { type: String, required: true },
    until: { type: Date, required: true },
  },
  { collection: 'job_leases', versionKey: false },
);

export class JobLeases {
  constructor(readonly model: Model<JobLeaseDoc>) {}

  /** The leases of a subgraph's database (collection job_leases). */
  static open(connection: Connection): JobLeases {
    return new JobLeases(connection.model<JobLeaseDoc>('JobLease', jobLeaseSchema));
  }

  /**
   * Takes the lease when nobody holds it or it has lapsed. When another holder has it, the upsert finds no lapsed
   * document and tries to insert one with the same _id, which the unique index refuses: the lease was not taken.
   */
  async acquire(job: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    try {
      await this.model
        .updateOne(
          { _id: job, until: { $lte: now } },
          { $set: { holder, until: new Date(now.getTime() + ttlMs) } },
          { upsert: true },
        )
        .exec();
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /**
   * Extends the lease if this holder still has it; false when another took it after it lapsed. A long run renews
   * before each step it must not share with another run, and stops when this answers false.
   */
  async renew(job: string, holder: string, ttlMs: number, now: Date): Promise<boolean> {
    const renewed = await this.model
      .updateOne({ _id: job, holder }, { $set: { until: new Date(now.getTime() + ttlMs) } })
      .exec();
    return renewed.matchedCount === 1;
  }

  /** Gives the lease back early, if this holder still has it. */
  async release(job: string, holder: string): Promise<void> {
    await this.model.updateOne({ _id: job, holder }, { $set: { until: new Date(0) } }).exec();
  }
}
