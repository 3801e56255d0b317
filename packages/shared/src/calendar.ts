// The bank's calendar: which business day an instant falls on in the bank's time zone (BANK_TIME_ZONE). Daily limits,
// sign-in days, frequency caps, rollups and retention weeks all count these days, so a member in Shanghai who signs in
// at 07:30 and at 20:00 signs in on one day, not on two UTC days. Time zones come from the platform's IANA database.

/**
 * A calendar day, YYYY-MM-DD. A day before year 0000 or after 9999 — where an instant at an end of the DateTime range
 * can fall in the bank's zone (9999-12-31T20:00Z is 1 January 10000 in Shanghai) — has ISO 8601's expanded year
 * (+010000-01-01, -000001-12-31), as toISOString writes it; such keys do not sort with the others as text.
 */
export type DayKey = string;

const DAY_MS = 86_400_000;
/** How many days a calendar keeps the bounds of. */
const RECENT_DAYS = 8;
const DAY_KEY = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})$/;

/** Whether the platform knows the IANA time zone (e.g. Asia/Shanghai, UTC). */
export function isTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** The calendar day `n` days after `day` (before, when negative); plain date arithmetic, no time zone. */
export function addDays(day: DayKey, n: number): DayKey {
  return dayKeyAt(utcMidnight(day) + n * DAY_MS);
}

/** Whole calendar days from `from` to `to` (negative when `to` comes first). */
export function daysBetween(from: DayKey, to: DayKey): number {
  return Math.round((utcMidnight(to) - utcMidnight(from)) / DAY_MS);
}

/** The Monday of the ISO week `day` falls in. */
export function weekOf(day: DayKey): DayKey {
  return addDays(day, -((new Date(utcMidnight(day)).getUTCDay() + 6) % 7));
}

function utcMidnight(day: DayKey): number {
  const match = DAY_KEY.exec(day);
  if (!match) throw new RangeError(`not a calendar day: ${day}`);
  // Not Date.UTC, which reads years 0 to 99 as 1900 to 1999.
  const midnight = new Date(0);
  midnight.setUTCFullYear(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return midnight.getTime();
}

/** The day of a UTC instant (epoch milliseconds), expanded years included. */
function dayKeyAt(at: number): DayKey {
  const iso = new Date(at).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

export class BankCalendar {
  private readonly clock: Intl.DateTimeFormat;
  /**
   * The days asked for last, with their bounds: ingest asks for the same few days thousands of times a second, and
   * reading the zone's clock costs microseconds.
   */
  private readonly recent: { day: DayKey; start: number; end: number }[] = [];

  constructor(readonly timeZone: string) {
    if (!isTimeZone(timeZone)) throw new RangeError(`unknown time zone: ${timeZone}`);
    this.clock = new Intl.DateTimeFormat('en-US', {
      timeZone,
      // Years before 1 CE are written as years of the era BC (year 0 is 1 BC): the era tells them apart.
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      hourCycle: 'h23',
    });
  }

  /** The bank's business day at `instant`. */
  dayOf(instant: Date | number): DayKey {
    const at = typeof instant === 'number' ? instant : instant.getTime();
    for (const known of this.recent) if (at >= known.start && at < known.end) return known.day;
    const day = this.uncachedDayOf(at);
    this.recent.unshift({ day, start: this.startOf(day).getTime(), end: this.endOf(day).getTime() });
    if (this.recent.length > RECENT_DAYS) this.recent.pop();
    return day;
  }

  /** The instant `day` begins in the bank's time zone (its first instant, also where midnight is skipped). */
  startOf(day: DayKey): Date {
    const midnight = utcMidnight(day);
    // The wall clock read back at the zone's offset then; twice, in case the offset changes in between.
    const guess = midnight - (this.wallClock(midnight) - midnight);
    const start = midnight - (this.wallClock(guess) - guess);
    if (this.wallMidnight(start) === midnight && this.wallMidnight(start - 1) < midnight)
      return new Date(start);
    // The day starts at an offset change (e.g. midnight skipped for daylight saving): its first instant by bisection.
    let low = midnight - 2 * DAY_MS;
    let high = midnight + 2 * DAY_MS;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (this.wallMidnight(middle) < midnight) low = middle;
      else high = middle;
    }
    return new Date(high);
  }

  /** The instant the day after `day` begins: the end of `day`, exclusive. */
  endOf(day: DayKey): Date {
    return this.startOf(addDays(day, 1));
  }

  /** The bank's wall clock at `at`, read as if it were UTC (epoch milliseconds). */
  wallClock(at: Date | number): number {
    const instant = typeof at === 'number' ? at : at.getTime();
    const parts: Partial<Record<Intl.DateTimeFormatPartTypes, string>> = {};
    for (const part of this.clock.formatToParts(instant)) parts[part.type] = part.value;
    const number = (type: Intl.DateTimeFormatPartTypes) => Number(parts[type] ?? 0);
    const wall = new Date(0);
    const year = parts.era === 'BC' ? 1 - number('year') : number('year');
    wall.setUTCFullYear(year, number('month') - 1, number('day'));
    wall.setUTCHours(number('hour'), number('minute'), number('second'), ((instant % 1000) + 1000) % 1000);
    return wall.getTime();
  }

  /** The day at `at`, read from the zone's clock rather than the cache (which dayOf fills with its answer). */
  private uncachedDayOf(at: number): DayKey {
    return dayKeyAt(this.wallMidnight(at));
  }

  /** The midnight, read as if it were UTC, of the bank's day at `at`: days compared as numbers, whatever their year. */
  private wallMidnight(at: number): number {
    const wall = this.wallClock(at);
    return wall - (((wall % DAY_MS) + DAY_MS) % DAY_MS);
  }
}
