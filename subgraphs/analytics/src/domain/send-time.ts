// Send-time optimisation: the hour of the bank's day (BANK_TIME_ZONE) each member reads their messages. A member's
// opens make a histogram of 24 hours, counted at most once per hour of each bank day, smoothed towards the population's
// histogram, and the best hour is its peak; a member with too few opens gets the population's peak.
import type { BankCalendar } from '@bank-hub/shared';

export const HOURS_OF_DAY = 24;

/** What a version of the send-time model serves with. */
export interface SendTimeParameters {
  /** Bank days of opens a training reads, today included. */
  windowDays: number;
  /** Pseudo-opens spread as the population's histogram, added to each member's. */
  priorOpens: number;
  /** Counted opens a member needs for an hour of their own; fewer get the population's. */
  minOpens: number;
  /** Counted opens of every member per hour of the bank's day, 0 to 23. */
  population: number[];
}

export const DEFAULT_SEND_TIME: Omit<SendTimeParameters, 'population'> = {
  windowDays: 90,
  priorOpens: 5,
  minOpens: 3,
};

/** An open as the model counts it: the bank's day and hour it happened in. */
export interface OpenHour {
  day: string;
  hour: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The bank's day and hour at `at`, read on the bank's clock (never the process's zone). */
export function openHourAt(at: Date, calendar: Pick<BankCalendar, 'dayOf' | 'wallClock'>): OpenHour {
  const wall = calendar.wallClock(at);
  return { day: calendar.dayOf(at), hour: Math.floor((((wall % DAY_MS) + DAY_MS) % DAY_MS) / HOUR_MS) };
}

export const emptyHistogram = (): number[] => Array.from({ length: HOURS_OF_DAY }, () => 0);

/**
 * Opens per hour, counted once per hour of each bank day: a client replaying an open (or a member opening ten messages
 * in one evening) adds one to that hour, not a thousand.
 */
export function histogramOf(opens: Iterable<OpenHour>): number[] {
  const histogram = emptyHistogram();
  const seen = new Set<string>();
  for (const { day, hour } of opens) {
    const key = `${day}|${hour}`;
    if (seen.has(key) || !Number.isInteger(hour) || hour < 0 || hour >= HOURS_OF_DAY) continue;
    seen.add(key);
    histogram[hour]! += 1;
  }
  return histogram;
}

export const totalOf = (histogram: readonly number[]): number =>
  histogram.reduce((sum, count) => sum + count, 0);

/** The hour with the most opens; the earlier one on a tie (hour 0 when there are none). */
export function peakHour(histogram: readonly number[]): number {
  let best = 0;
  for (let hour = 1; hour < HOURS_OF_DAY; hour += 1)
    if ((histogram[hour] ?? 0) > (histogram[best] ?? 0)) best = hour;
  return best;
}

/**
 * A member's histogram plus `priorOpens` pseudo-opens spread as the population's (evenly while the population has
 * none): a member seen twice at 07:00 and once at 20:00 is not yet sure to read at 07:00.
 */
export function smoothed(
  member: readonly number[],
  population: readonly number[],
  priorOpens: number,
): number[] {
  const total = totalOf(population);
  return emptyHistogram().map(
    (_, hour) =>
      (member[hour] ?? 0) + priorOpens * (total > 0 ? (population[hour] ?? 0) / total : 1 / HOURS_OF_DAY),
  );
}

/**
 * A member's best hour of the bank's day, and whether it is their own (else the population's). Null when neither they
 * nor the population opened `minOpens` messages (at least one): a training before messages recorded opens knows no
 * one's hour, and the "peak" of its empty histogram, midnight, would send every message of a campaign then.
 */
export function bestHourOf(
  member: readonly number[] | null,
  { population, priorOpens, minOpens }: Pick<SendTimeParameters, 'population' | 'priorOpens' | 'minOpens'>,
): { hour: number | null; personal: boolean } {
  if (member && totalOf(member) >= minOpens)
    return { hour: peakHour(smoothed(member, population, priorOpens)), personal: true };
  return {
    hour: totalOf(population) >= Math.max(1, minOpens) ? peakHour(population) : null,
    personal: false,
  };
}
