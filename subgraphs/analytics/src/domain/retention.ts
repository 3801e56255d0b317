// Retention cohorts: members grouped by the week they were first seen, and for each week after, the share of the
// cohort active again in it. Days are the bank's business days, and weeks start on their Monday.
import { addDays, daysBetween, weekOf, type DayKey } from '@bank-hub/shared';

export interface Cohort {
  /** The Monday of the week the cohort was first seen. */
  week: string;
  members: number;
  /** Active members in week 0, 1, 2 … after the first (as many as have begun by `asOfDay`). */
  active: number[];
  /** The same as shares of the cohort. */
  retained: number[];
}

/** The Monday of the first of the `weeks` cohort weeks up to `asOfDay`. */
export const firstCohortWeek = (asOfDay: DayKey, weeks: number): DayKey =>
  addDays(weekOf(asOfDay), -7 * (weeks - 1));

/**
 * Cohorts of the `weeks` weeks up to `asOfDay`, from each member's active days (all of them: a member first seen
 * before the window is in no cohort of it — or, the same, only days from the first cohort week on, of the members
 * not active before it).
 */
export function cohortsOf(
  activeDaysByMember: ReadonlyMap<string, readonly string[]>,
  asOfDay: string,
  weeks: number,
): Cohort[] {
  const firstWeek = firstCohortWeek(asOfDay, weeks);
  const cohorts = new Map<string, { members: number; active: number[] }>();
  for (let w = 0; w < weeks; w++)
    cohorts.set(addDays(firstWeek, 7 * w), { members: 0, active: Array<number>(weeks - w).fill(0) });
  for (const days of activeDaysByMember.values()) {
    const seen = days.filter((day) => day <= asOfDay);
    if (seen.length === 0) continue;
    const first = weekOf(seen.reduce((a, b) => (a < b ? a : b)));
    const cohort = cohorts.get(first);
    if (!cohort) continue;
    cohort.members += 1;
    for (const offset of new Set(seen.map((day) => Math.floor(daysBetween(first, weekOf(day)) / 7)))) {
      if (offset < cohort.active.length) cohort.active[offset]! += 1;
    }
  }
  return [...cohorts].map(([week, { members, active }]) => ({
    week,
    members,
    active,
    retained: active.map((count) => (members > 0 ? count / members : 0)),
  }));
}
