// How the analytics screen writes its figures: shares as percentages, the bank's days as dates, and the funnel's
// range from the dates an operator picks.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A share (0 to 1) as a percentage with one decimal; "—" when there is none (no members to divide by). */
export function percent(share: number | null | undefined): string {
  return share === null || share === undefined || !Number.isFinite(share)
    ? '—'
    : `${(share * 100).toFixed(1)}%`;
}

/**
 * The date of a bank day that analytics gives as the instant it begins (the bank's midnight, in BANK_TIME_ZONE, which
 * the console does not know). That midnight is within twelve hours of the UTC midnight of the same date, whatever
 * the zone's offset (up to ±12 h), so the nearest UTC midnight names it.
 */
export function bankDate(dayStart: string): string {
  return new Date(Date.parse(dayStart) + 12 * HOUR_MS).toISOString().slice(0, 10);
}

/** yyyy-mm-dd of a UTC date, as an <input type="date"> holds it. */
export const isoDate = (at: Date): string => at.toISOString().slice(0, 10);

/** The dates a funnel form opens with: the last `days` UTC days, today included (the form's dates are both included). */
export function lastDays(days: number, now: Date): { from: string; to: string } {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return { from: isoDate(new Date(today - (days - 1) * DAY_MS)), to: isoDate(new Date(today)) };
}

/**
 * The instants a funnel is asked for: from the start of the first date picked (UTC) to the end of the last, so that
 * picking the same date twice asks for that whole day; null until both are dates. The hub checks the range (at most
 * 90 days, `to` after `from`).
 */
export function funnelRange(fromDate: string, toDate: string): { from: string; to: string } | null {
  const start = Date.parse(`${fromDate}T00:00:00Z`);
  const end = Date.parse(`${toDate}T00:00:00Z`) + DAY_MS;
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

/** Bar heights (0 to `height`) of counts against the largest; all flat when every count is 0. */
export function barHeights(counts: readonly number[], height: number): number[] {
  const top = Math.max(0, ...counts);
  return counts.map((count) => (top === 0 ? 0 : Math.round((count / top) * height)));
}
