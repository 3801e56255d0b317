// Runs of consecutive days (连续签到) for CONSECUTIVE_DAYS tasks. A member's counted days are kept as runs, ISO 8601
// intervals of the bank's business days (`first/last`), only the recent ones: a run of a hundred days is one entry, and
// a member who signs in every other day for a year keeps a few weeks' worth, not a year's.
import { addDays, daysBetween, fromCents, type DayKey } from '@bank-hub/shared';
import type { ProgressDoc, TaskDoc } from './model';
import { centsCounted, sumsMoney } from './tasks';

/**
 * How many days before the latest counted day runs are kept, and a late day still counts: an event relayed that late
 * (a service's, on the day it happened) can still join or bridge the runs around it.
 */
export const RUN_WINDOW_DAYS = 31;

interface Run {
  first: DayKey;
  last: DayKey;
}

function runOf(interval: string): Run {
  const [first = '', last = first] = interval.split('/');
  return { first, last };
}

const intervalOf = (run: Run) => `${run.first}/${run.last}`;
const lengthOf = (run: Run) => daysBetween(run.first, run.last) + 1;

/**
 * `runs` (oldest first) with `day` counted: the runs to keep, oldest first, and the length of the run `day` is now part
 * of. Null when the day was counted already, or is more than RUN_WINDOW_DAYS before the latest counted day.
 */
export function withRunDay(runs: readonly string[], day: DayKey): { runs: string[]; length: number } | null {
  const kept = runs.map(runOf);
  if (kept.some((run) => daysBetween(run.first, day) >= 0 && daysBetween(day, run.last) >= 0)) return null;
  const latest = kept.reduce<DayKey>((max, run) => (daysBetween(max, run.last) > 0 ? run.last : max), day);
  if (daysBetween(day, latest) > RUN_WINDOW_DAYS) return null;
  // The day joins the run ending the day before and the one starting the day after, bridging them when both are there.
  const before = kept.find((run) => run.last === addDays(day, -1));
  const after = kept.find((run) => run.first === addDays(day, 1));
  const joined: Run = { first: before?.first ?? day, last: after?.last ?? day };
  const next = [...kept.filter((run) => run !== before && run !== after), joined]
    .filter((run) => daysBetween(run.last, latest) <= RUN_WINDOW_DAYS)
    .sort((a, b) => daysBetween(b.first, a.first));
  return { runs: next.map(intervalOf), length: lengthOf(joined) };
}

/**
 * The member's current run on `today`: the length of the latest run when it ended today or yesterday (today's sign-in
 * may still come), else 0 — a day missed since starts the count again.
 */
export function currentRun(runs: readonly string[], today: DayKey): number {
  const latest = runs.at(-1);
  const run = latest === undefined ? null : runOf(latest);
  return run && daysBetween(run.last, today) <= 1 ? lengthOf(run) : 0;
}

/** What was counted on a task, in its units: a sum of money in the currency's, from its cents. */
function counted(
  task: Pick<TaskDoc, 'measure' | 'property'>,
  progress: Pick<ProgressDoc, 'value' | 'cents'>,
) {
  return sumsMoney(task) ? fromCents(centsCounted(progress)) : progress.value;
}

/**
 * The progress a member is shown on a task, up to its target: on an incomplete CONSECUTIVE_DAYS task their current run
 * (0 once it broke); else what was counted (on a complete CONSECUTIVE_DAYS task, the run that completed it).
 */
export function shownProgress(
  task: Pick<TaskDoc, 'measure' | 'property' | 'target'>,
  progress: Pick<ProgressDoc, 'value' | 'cents' | 'runs' | 'completedAt'> | undefined,
  today: DayKey,
): number {
  if (!progress) return 0;
  const value =
    task.measure === 'CONSECUTIVE_DAYS' && !progress.completedAt
      ? currentRun(progress.runs ?? [], today)
      : counted(task, progress);
  return Math.min(value, task.target);
}
