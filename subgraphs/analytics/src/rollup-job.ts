// Rebuilds the rollups of days that are over, exactly, from their events: what live increments missed (a crashed
// process, a failed write) is restored once the day has ended. Runs shortly after start and then every
// ROLLUP_REBUILD_INTERVAL_MS.
import type { Logger } from '@bank-hub/shared';
import { activesOf, dayOf, exposuresOf, rollupsOfDay } from './domain/rollups';
import type { AnalyticsRepositories } from './models';

/** Days that are over and may still change (late events arrive up to a week late); the oldest first. */
const DAYS_BACK = 2;

export async function rebuildDay(repos: AnalyticsRepositories, day: string): Promise<void> {
  const events = await repos.events.ofDay(day);
  await Promise.all([
    repos.rollups.replaceDay(day, rollupsOfDay(events), activesOf(events)),
    repos.exposures.replaceDay(day, exposuresOf(events)),
  ]);
}

export function recentClosedDays(now: Date): string[] {
  return Array.from({ length: DAYS_BACK }, (_, i) => {
    const day = new Date(now);
    day.setUTCDate(day.getUTCDate() - (DAYS_BACK - i));
    return dayOf(day);
  });
}

/** Rebuilds the days just ended and forgets exposures no cap counts any more. */
export async function rebuildRecentDays(repos: AnalyticsRepositories, logger: Logger): Promise<void> {
  const days = recentClosedDays(new Date());
  // Caps count today only; the days about to be rebuilt are kept for late events.
  await repos.exposures.pruneBefore(days[0]!);
  for (const day of days) {
    try {
      await rebuildDay(repos, day);
    } catch (error) {
      logger.warn({ day, reason: (error as Error).message }, 'rebuilding rollups failed; next run retries');
    }
  }
}
