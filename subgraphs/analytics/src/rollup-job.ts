// Rebuilds the rollups of days that are over, exactly, from their events: what live increments missed (a crashed
// process, a failed write) is restored once the day has ended. Runs at start and then every ROLLUP_REBUILD_INTERVAL_MS.
import type { Logger } from '@bank-hub/shared';
import { activesOf, dayOf, rollupsOfDay } from './domain/rollups';
import type { AnalyticsRepositories } from './models';

/** Days that are over and may still change (late events arrive up to a week late); the oldest first. */
const DAYS_BACK = 2;

export async function rebuildDay(repos: AnalyticsRepositories, day: string): Promise<void> {
  const events = await repos.events.ofDay(day);
  await repos.rollups.replaceDay(day, rollupsOfDay(events), activesOf(events));
}

export function recentClosedDays(now: Date): string[] {
  return Array.from({ length: DAYS_BACK }, (_, i) => {
    const day = new Date(now);
    day.setUTCDate(day.getUTCDate() - (DAYS_BACK - i));
    return dayOf(day);
  });
}

export function startRollupJob(repos: AnalyticsRepositories, logger: Logger, intervalMs: number) {
  const run = async () => {
    for (const day of recentClosedDays(new Date())) {
      try {
        await rebuildDay(repos, day);
      } catch (error) {
        logger.warn({ day, reason: (error as Error).message }, 'rebuilding rollups failed; next run retries');
      }
    }
  };
  const first = setTimeout(() => void run(), 1_000);
  const timer = setInterval(() => void run(), intervalMs);
  first.unref();
  timer.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(timer);
    },
  };
}
