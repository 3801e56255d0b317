// Where accepted events go. The collector and trackEvents only see this interface: MongoDB here, and at a larger
// bank's scale a Kafka producer feeding an existing streaming engine would be another implementation of it.
import {
  WRITE_IN_FLIGHT_TTL_MS,
  type BankCalendar,
  type Logger,
  type WritesInFlight,
} from '@bank-hub/shared';
import { boundExposures } from './domain/exposures';
import { CountedRollups, RollupTally, type DayBounds } from './domain/rollups';
import type { EventRepository, EventDoc } from './models/event';
import type { ExposureDoc, ExposureRepository } from './models/exposure';
import type { RollupRepository } from './models/rollup';

/** An accepted event before it is stored: the sink stamps when it was received. */
export type ArrivingEvent = Omit<EventDoc, 'receivedAt'>;

export interface EventSink {
  /** Stores the events not stored before (by id) and resolves, with those stored now, once they are durable. */
  store(events: readonly ArrivingEvent[]): Promise<EventDoc[]>;
  /** Finishes what is pending; called on graceful shutdown. */
  close(): Promise<void>;
}

/** A group commit takes at most this many events; more wait for the next one. */
const MAX_GROUP = 2_000;

interface Waiting {
  events: readonly ArrivingEvent[];
  resolve: (stored: EventDoc[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Events in MongoDB, with group commit: the batches of the requests that arrive together are written in one insert,
 * and each request resumes once its own events are stored. Their rollup increments follow shortly after, in
 * coalesced writes. Each insert is recorded as in flight while it runs, its events' receivedAt stamped once that record
 * is stored, so the event feed never hands out a later event before an insert that takes long lands (feed.ts).
 */
export class MongoEventSink implements EventSink {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly committing = new Set<Promise<void>>();

  constructor(
    private readonly events: EventRepository,
    private readonly inFlight: WritesInFlight,
    private readonly rollups: RollupWriter,
    private readonly clock: () => Date = () => new Date(),
    private readonly renewEveryMs = WRITE_IN_FLIGHT_TTL_MS / 3,
  ) {}

  store(events: readonly ArrivingEvent[]): Promise<EventDoc[]> {
    if (events.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.waiting.push({ events, resolve, reject });
      // Whatever else arrives in this turn of the event loop joins the same insert.
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      const commit = this.commit();
      this.committing.add(commit);
      void commit.finally(() => this.committing.delete(commit));
    });
  }

  async close(): Promise<void> {
    while (this.waiting.length > 0 || this.committing.size > 0) {
      await Promise.all([...this.committing, ...(this.waiting.length > 0 ? [this.commit()] : [])]);
    }
    await this.rollups.close();
  }

  private async commit(): Promise<void> {
    this.scheduled = false;
    const group: Waiting[] = [];
    let size = 0;
    while (this.waiting.length > 0) {
      const next = this.waiting[0]!;
      if (group.length > 0 && size + next.events.length > MAX_GROUP) break;
      group.push(this.waiting.shift()!);
      size += next.events.length;
    }
    if (this.waiting.length > 0) this.schedule();
    try {
      // However long the insert runs, its record holds the feed back: only a dead process's record lapses.
      const write = await this.inFlight.hold(this.clock, this.renewEveryMs);
      try {
        const stamped = group.map((waiting) =>
          waiting.events.map((event) => ({ ...event, receivedAt: write.at })),
        );
        // The same id in two requests of the group: the first is inserted, the second is a duplicate, as if in turn.
        const stored = new Set(await this.events.insertNew(stamped.flat()));
        this.rollups.add([...stored]);
        group.forEach((waiting, index) =>
          waiting.resolve(stamped[index]!.filter((event) => stored.has(event))),
        );
      } catch (error) {
        // A failed insert may still have stored some events: its record stays until it expires, holding the feed back.
        write.abandon();
        throw error;
      }
      await write.end();
    } catch (error) {
      for (const waiting of group) waiting.reject(error);
    }
  }
}

/**
 * Adds stored events to the daily rollups (and members' exposures) a moment later, many requests' increments in one
 * bulk write, so ingestion costs one insert per batch. Counts move live for today, the bank's day (and the minutes of
 * tomorrow a device's clock may run ahead) only: a day that is over belongs to the rebuild (rollup-job.ts), which sets
 * it from its events — an increment landing after the rebuild read the events would count its event twice, one
 * landing between the read and the write would be lost. So a late event for a closed day is counted by the next
 * rebuild. The increments another process took before the bank's midnight may still land after this process rebuilt
 * the day: the rebuild seals what it writes, and sealed documents refuse them (models/rollup.ts).
 * Rollup increments are never retried (a retry after a partial write would count twice): one lost to a failed write or
 * a crashed process is restored when its day is rebuilt. Exposures whose own write failed are retried with the next
 * write: today's are what frequency caps read, and a rebuild comes only once the day is over; counting some twice
 * after a partial write errs on the side of showing a creative less. Members active are recorded for any day:
 * recording one twice changes nothing.
 * A member's exposures of a day are bounded (EXPOSURES_PER_MEMBER_PER_DAY, domain/exposures.ts) by what is stored,
 * read just before each write: nothing held in memory grows with the members, and the bound holds across processes
 * and restarts. Two processes writing a member's new creatives at once may each fill the room they read, so the bound
 * may be overshot by at most one write's worth of that member's new creatives per process; the rebuild of the day keeps
 * exactly the first ones.
 */
/** The most exposures a writer keeps for a retry while the database refuses writes: memory stays bounded in an outage. */
const MAX_PENDING_EXPOSURES = 100_000;

export class RollupWriter {
  /** Today's rollup documents counted by this process: a day's caps hold across its writes (domain/rollups.ts). */
  private readonly counted: CountedRollups;
  private pending: RollupTally;
  private flushing: Promise<void> = Promise.resolve();
  private readonly timer: NodeJS.Timeout;
  /** The last day the exposures' bound was logged for: once a day is enough to tell an operator. */
  private exposuresRefusedLogged = '';

  constructor(
    private readonly rollups: RollupRepository,
    private readonly exposureCounts: ExposureRepository,
    private readonly calendar: BankCalendar,
    private readonly logger: Logger,
    /** A day's rollup caps and exposures per member, which the rebuild of a day it counted keeps to as well. */
    readonly bounds: DayBounds,
    intervalMs = 250,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.counted = new CountedRollups(bounds.caps, (day, kind) =>
      logger.warn(
        { day, kind, cap: bounds.caps[kind] },
        "events naming more ids than a day's rollups count were left out of today's rollups",
      ),
    );
    this.pending = new RollupTally(this.counted);
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  add(events: readonly EventDoc[]): void {
    const today = this.calendar.dayOf(this.clock());
    this.counted.forgetBefore(today);
    this.pending.addActive(events).addCounts(events.filter((event) => event.day >= today));
  }

  /** Writes what is pending; concurrent calls wait for one another. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async write(): Promise<void> {
    const taken = this.pending;
    if (taken.empty) return;
    this.pending = new RollupTally(this.counted);
    // Settled one by one: exposures go again only if their own write failed, not because the rollups' did.
    const [rollups, actives, exposures] = await Promise.allSettled([
      this.rollups.increment([...taken.increments.values()]),
      this.rollups.markActive([...taken.actives.values()]),
      this.writeExposures([...taken.exposures.values()]),
    ]);
    const failed = [rollups, actives, exposures].find((write) => write.status === 'rejected');
    if (failed) {
      this.logger.warn(
        { reason: (failed.reason as Error).message, rollups: taken.increments.size },
        'rollup increments not written; rebuilding the day restores them',
      );
    }
    // Exposures that may not have been written go with the next write, as far as the bound allows.
    if (exposures.status === 'rejected')
      this.pending.addExposures(taken.exposures.values(), MAX_PENDING_EXPOSURES);
  }

  /** Writes exposures within each member's daily bound, given what is stored. */
  private async writeExposures(exposures: readonly ExposureDoc[]): Promise<void> {
    if (exposures.length === 0) return;
    const stored = await this.exposureCounts.stored(exposures);
    const bounded = boundExposures(exposures, stored, this.bounds.exposuresPerMember);
    await this.exposureCounts.increment(bounded.stored, bounded.created);
    const day = [...bounded.refused.keys()].sort().at(-1);
    if (day && day > this.exposuresRefusedLogged) {
      this.exposuresRefusedLogged = day;
      this.logger.warn(
        { day, cap: this.bounds.exposuresPerMember },
        "impressions of more creatives than a member's day keeps were left out of their exposures",
      );
    }
  }
}
