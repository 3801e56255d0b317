// Rebuilds the rollups of days that are over, exactly, from their events. A closed day is the rebuild's alone: live
// increments only count today (sink.ts), so a late event for a closed day is counted here, and what live increments
// missed (a crashed process, a failed write) is restored once the day has ended. Days are the bank's (BANK_TIME_ZONE):
// a day is over at the bank's midnight. Runs shortly after start and then every ROLLUP_REBUILD_INTERVAL_MS.
import { randomUUID } from 'node:crypto';
import { addDays, type BankCalendar, type DayKey, type Logger } from '@bank-hub/shared';
import { LIMITS } from './domain/events';
import { FirstCreatives } from './domain/exposures';
import { CountedRollups, RollupTally, type DayBounds } from './domain/rollups';
import type { RollupKind } from './models/rollup';
import type { AnalyticsRepositories } from './models';
import type { RollupWriter } from './sink';

const DAY_MS = 86_400_000;

/**
 * Days that are over and may still change: every day a late event can still land on (events are taken up to
 * LIMITS.pastMs late), and one more — an event taken just before midnight for the oldest of them is counted by the
 * first run after midnight.
 */
const DAYS_BACK = Math.ceil(LIMITS.pastMs / DAY_MS) + 1;

/** A rebuild that lost its lease while reading a day: another process rebuilds it, this one must not write it. */
class LeaseLost extends Error {}

/**
 * Sets a day's rollups, actives and exposures from its events, read in batches: a day's volume is never held.
 * `stillHeld` is asked after each batch and before writing: a day that takes longer than the lease to read must not be
 * written over by a run that lost it to another. The day keeps to `bounds`: the rollup caps, and each member's day
 * the exposures of its first `exposuresPerMember` creatives, in the order the events are read, as the live writes keep
 * them (sink.ts). Resolves with the events left out past the day's caps, per kind, and past the members' bound
 * (`exposures`).
 */
export async function rebuildDay(
  repos: AnalyticsRepositories,
  day: string,
  bounds: DayBounds,
  stillHeld: () => Promise<boolean> = async () => true,
): Promise<Partial<Record<RollupKind | 'exposures', number>>> {
  const counted = new CountedRollups(bounds.caps);
  const firstCreatives = new FirstCreatives(bounds.exposuresPerMember);
  const tally = new RollupTally(counted, firstCreatives);
  for await (const events of repos.events.ofDay(day)) {
    tally.addActive(events).addCounts(events);
    if (!(await stillHeld())) throw new LeaseLost();
  }
  if (!(await stillHeld())) throw new LeaseLost();
  await Promise.all([
    repos.rollups.replaceDay(day, tally.rollups(), [...tally.actives.values()]),
    repos.exposures.replaceDay(day, [...tally.exposures.values()]),
  ]);
  const exposures = firstCreatives.refused().get(day);
  return { ...counted.refused(day), ...(exposures ? { exposures } : {}) };
}

/** The closed days the rebuild owns, the oldest first: the bank's days before `today`. */
export function recentClosedDays(today: DayKey): DayKey[] {
  return Array.from({ length: DAYS_BACK }, (_, i) => addDays(today, -(DAYS_BACK - i)));
}

const JOB = 'rollups-rebuild';
/** Longer than a rebuild of a day takes; renewed before each day. */
const LEASE_MS = 10 * 60_000;

/**
 * Rebuilds the days just ended and forgets exposures no cap counts any more. One process at a time: two rebuilds of a
 * day at once could each read its events before a late one landed and write after the other, leaving the older count
 * until the next run. Each day keeps to the caps `writer` counted it with. Returns whether this process ran it.
 */
export async function rebuildRecentDays(
  repos: AnalyticsRepositories,
  writer: RollupWriter,
  calendar: BankCalendar,
  logger: Logger,
  now = new Date(),
): Promise<boolean> {
  const days = recentClosedDays(calendar.dayOf(now));
  // Increments this process took while these days were today are written (or in flight) now, before their events are
  // read; from here on the writer takes none for them. Other processes' late ones find the days sealed.
  await writer.flush();
  const holder = randomUUID();
  if (!(await repos.leases.acquire(JOB, holder, LEASE_MS, new Date()))) return false;
  try {
    // Caps count today only; the days about to be rebuilt are kept for late events.
    await repos.exposures.pruneBefore(days[0]!);
    const stillHeld = () => repos.leases.renew(JOB, holder, LEASE_MS, new Date());
    for (const day of days) {
      try {
        const refused = await rebuildDay(repos, day, writer.bounds, stillHeld);
        if (Object.keys(refused).length > 0)
          logger.warn(
            { day, refused },
            "events naming more ids than a day's rollups or a member's exposures count were left out",
          );
      } catch (error) {
        if (error instanceof LeaseLost) {
          logger.warn({ day }, 'another process took over rebuilding rollups; this one stopped');
          break;
        }
        logger.warn({ day, reason: (error as Error).message }, 'rebuilding rollups failed; next run retries');
      }
    }
    return true;
  } finally {
    await repos.leases.release(JOB, holder);
  }
}
