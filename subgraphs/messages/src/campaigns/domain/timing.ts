// When messages may go: quiet hours in each member's own time zone, and the occurrences of a campaign's trigger.
// Plain functions of dates; time zones come from the platform's IANA database (Intl), the bank's (BANK_TIME_ZONE) from
// its calendar.
import { isTimeZone, weekOf, type BankCalendar } from '@bank-hub/shared';
import type { LifecycleStage } from '@bank-hub/targeting';

export interface QuietHours {
  /** HH:MM, 24-hour. */
  start: string;
  end: string;
  policy: 'DEFER' | 'SKIP';
}

/** What marketing keeps when the campaign names no quiet hours: nothing between 21:00 and 08:00, deferred. */
export const DEFAULT_QUIET_HOURS: QuietHours = { start: '21:00', end: '08:00', policy: 'DEFER' };

export const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;

const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** One formatter per known time zone: building one costs far more than using it, and a campaign meets few zones. */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's hour-and-minute formatter; null when the platform does not know the zone. */
function formatterFor(timeZone: string): Intl.DateTimeFormat | null {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    if (!isTimeZone(timeZone)) return null;
    formatter = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Minutes after local midnight at `at` in the time zone; a zone the platform does not know reads as the bank's. */
export function localMinutes(at: Date, timeZone: string, bankTimeZone: string): number {
  const parts = (formatterFor(timeZone) ?? formatterFor(bankTimeZone)!).formatToParts(at);
  const hour = Number(parts.find((part) => part.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((part) => part.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

/**
 * When the member's quiet hours end, if `at` falls inside them; null when it does not. Quiet hours whose end comes
 * before their start span midnight. A day with a daylight-saving shift may end them an hour off; the hub's home
 * market has none.
 */
export function quietUntil(
  at: Date,
  timeZone: string,
  quiet: Pick<QuietHours, 'start' | 'end'>,
  bankTimeZone: string,
): Date | null {
  const now = localMinutes(at, timeZone, bankTimeZone);
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  const minutesLeft = (end - now + 1_440) % 1_440;
  const startOfMinute = at.getTime() - (at.getTime() % 60_000);
  return new Date(startOfMinute + minutesLeft * 60_000);
}

/** When each member's message of an occurrence goes: at the planned time, or at the member's best hour. */
export interface SendTime {
  strategy: 'AS_PLANNED' | 'BEST_HOUR';
  /** BEST_HOUR: how many hours after the planned time a message may wait for the member's hour, 1 to 24. */
  withinHours: number;
}

/** What a campaign that names no send time (or was stored before campaigns had one) keeps. */
export const AS_PLANNED: SendTime = { strategy: 'AS_PLANNED', withinHours: 24 };

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The quiet hours a member's message keeps, in the member's own time zone. */
export interface MemberQuietHours {
  hours: QuietHours;
  timeZone: string;
  bankTimeZone: string;
}

/**
 * When a member's message goes whose best hour of the bank's day is `hour`: the first instant at or after `from` (the
 * occurrence's planned time, or its planning when later) whose hour on the bank's clock is theirs, if it comes before
 * `withinHours` after the planned time and before `before` (the message's expiry, the campaign's end); else `from`.
 * Stepped hour by hour on the bank's wall clock, so an offset (Asia/Shanghai) or a daylight-saving change is kept.
 * An hour inside the member's `quiet` hours (a member far from the bank given the population's hour) is kept only
 * when they defer it to an end still inside that window; else the message goes at `from` too, so that the best hour
 * never makes it wait past `withinHours`, nor skips a member the planned time reaches.
 */
export function bestHourDue(
  options: {
    plannedAt: Date;
    from: Date;
    hour: number;
    withinHours: number;
    before: Date | null;
    quiet?: MemberQuietHours | null;
  },
  calendar: Pick<BankCalendar, 'wallClock'>,
): Date {
  const { plannedAt, from, hour, withinHours, before, quiet } = options;
  const end = Math.min(plannedAt.getTime() + withinHours * HOUR_MS, before?.getTime() ?? Infinity);
  let at = Math.max(plannedAt.getTime(), from.getTime());
  while (at < end) {
    const sinceMidnight = ((calendar.wallClock(at) % DAY_MS) + DAY_MS) % DAY_MS;
    if (Math.floor(sinceMidnight / HOUR_MS) === hour) {
      const held = quiet ? quietUntil(new Date(at), quiet.timeZone, quiet.hours, quiet.bankTimeZone) : null;
      const kept = held === null || (quiet?.hours.policy === 'DEFER' && held.getTime() < end);
      return kept ? new Date(at) : from;
    }
    at += HOUR_MS - (sinceMidnight % HOUR_MS);
  }
  return from;
}

export type Recurrence = 'DAILY' | 'WEEKLY' | 'MONTHLY';

export type Trigger =
  | { kind: 'ONCE'; at: Date }
  | { kind: 'RECURRING'; at: Date; every: Recurrence; until: Date | null }
  | EventTrigger;

/** What happening to a member sends an event campaign. */
export type EventTrigger =
  | { kind: 'EVENT'; event: 'LIFECYCLE_STAGE_CHANGED'; stage: LifecycleStage }
  /** A task completing in engagement: any task, one activity's, or one task of it. */
  | { kind: 'EVENT'; event: 'TASK_COMPLETED'; activityId: string | null; taskId: string | null }
  /** An unused claim that expires within `withinDays` days (of the campaign's benefit, when it names one). */
  | { kind: 'EVENT'; event: 'BENEFIT_EXPIRING'; withinDays: number };

/** How old an event may be when an event campaign first sees it: one seen later (the hub down for days) sends nothing. */
export const MAX_EVENT_AGE_MS = 24 * 3_600_000;

/** The stretch of time whose events an event campaign sends for. */
export interface EventWindow {
  /** Its trigger's approval, or its last resume. */
  from: Date;
  /** When it was paused before that resume, while events up to then may still be picked up; else null. */
  pausedAt: Date | null;
}

/**
 * Whether an event campaign sends, at `now`, for an event that happened at `at`: at or after its window's start, or
 * before the pause it resumed from (one it had not picked up yet); never for one older than MAX_EVENT_AGE_MS. Events
 * of a pause are not sent late, as missed occurrences of a timed trigger are not.
 */
export function countsEvent(at: Date, window: EventWindow, now: Date): boolean {
  if (now.getTime() - at.getTime() > MAX_EVENT_AGE_MS) return false;
  return at >= window.from || (window.pausedAt !== null && at <= window.pausedAt);
}

/**
 * Where a feed read in time order, up to an event at `at`, goes on: the first instant after it whose events count
 * when those between do not (a pause, or what is too old), so a long pause is skipped rather than paged through;
 * null when the next events count.
 */
export function nextCountedAfter(at: Date, window: EventWindow, now: Date): Date | null {
  const oldest = new Date(now.getTime() - MAX_EVENT_AGE_MS);
  const start = oldest > window.from ? oldest : window.from;
  if (at >= start) return null;
  if (window.pausedAt !== null && at < window.pausedAt && window.pausedAt >= oldest)
    return at < oldest ? oldest : null;
  return start;
}

/**
 * The n-th occurrence of a recurrence from `first`, stepped on the bank's wall clock. "Daily at 09:00" stays 09:00 there
 * across a daylight-saving change (steps of 24 hours sent it at 10:00 all summer in Zurich), and "the 31st at 07:00"
 * stays the 31st (or a shorter month's last day) at 07:00 there — stepped in UTC it fell on the 1st of the next month
 * whenever 07:00 there is the day before in UTC.
 */
export function nthOccurrence(first: Date, every: Recurrence, n: number, calendar: BankCalendar): Date {
  const wall = new Date(calendar.wallClock(first));
  if (every === 'MONTHLY') {
    const day = wall.getUTCDate();
    wall.setUTCDate(1);
    wall.setUTCMonth(wall.getUTCMonth() + n);
    const lastDay = new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth() + 1, 0)).getUTCDate();
    wall.setUTCDate(Math.min(day, lastDay));
  } else wall.setUTCDate(wall.getUTCDate() + n * (every === 'WEEKLY' ? 7 : 1));
  // Back from the wall clock to the instant, at the bank's offset then (twice: an offset change in between counts).
  const guess = wall.getTime() - (calendar.wallClock(wall) - wall.getTime());
  return new Date(wall.getTime() - (calendar.wallClock(new Date(guess)) - guess));
}

/**
 * The period a recurring campaign runs at most once in, on the bank's calendar: its day (DAILY), its ISO week from
 * Monday (WEEKLY) or its month (MONTHLY) — e.g. 2026-04-02, W2026-03-30, 2026-04.
 */
export function periodOf(every: Recurrence, at: Date, calendar: BankCalendar): string {
  const day = calendar.dayOf(at);
  if (every === 'DAILY') return day;
  if (every === 'WEEKLY') return `W${weekOf(day)}`;
  return day.slice(0, day.lastIndexOf('-'));
}

/**
 * What names an occurrence within its campaign: a recurring one's period, so that a period can hold one occurrence
 * whatever edits move the campaign's time; a one-off's due minute (UTC), e.g. 202611261000.
 */
export function occurrenceKey(
  trigger: Exclude<Trigger, EventTrigger>,
  at: Date,
  calendar: BankCalendar,
): string {
  if (trigger.kind === 'RECURRING') return periodOf(trigger.every, at, calendar);
  return at.toISOString().slice(0, 16).replace(/[-:T]/g, '');
}

/** How long after its `until` a recurring campaign's last occurrence may still be planned (a scheduler run late). */
export const ENDED_GRACE_MS = 60 * 60_000;

/** The index of a recurrence's latest occurrence at or before `instant`; -1 when its first comes after. */
function latestIndex(
  trigger: Extract<Trigger, { kind: 'RECURRING' }>,
  instant: Date,
  calendar: BankCalendar,
): number {
  // Months differ in length, and days too where the clocks change: step to an estimate, then walk to the exact one.
  const step = { DAILY: 86_400_000, WEEKLY: 7 * 86_400_000, MONTHLY: 28 * 86_400_000 }[trigger.every];
  let n = Math.max(0, Math.floor((instant.getTime() - trigger.at.getTime()) / step));
  while (n >= 0 && nthOccurrence(trigger.at, trigger.every, n, calendar) > instant) n -= 1;
  while (nthOccurrence(trigger.at, trigger.every, n + 1, calendar) <= instant) n += 1;
  return n;
}

/**
 * The occurrence a timed trigger should plan now: the latest one due (at or before `now`), after the last one planned
 * and in a later period than it (a daily campaign that ran at 09:00 and was moved to 15:00 does not run again that
 * day). Occurrences missed meanwhile (the campaign paused, the hub down) are not sent late in a burst: only the
 * latest counts. A recurring campaign whose `until` has passed (by more than ENDED_GRACE_MS) has ended: it sends
 * nothing more, not even an occurrence it missed. Null when none is due; event triggers have no occurrences.
 */
export function dueOccurrence(
  trigger: Trigger,
  plannedThrough: Date | null,
  now: Date,
  calendar: BankCalendar,
): Date | null {
  if (trigger.kind === 'EVENT') return null;
  if (trigger.kind === 'ONCE') return !plannedThrough && trigger.at <= now ? trigger.at : null;
  if (trigger.at > now) return null;
  if (trigger.until && now.getTime() - trigger.until.getTime() > ENDED_GRACE_MS) return null;
  const last = trigger.until && trigger.until < now ? trigger.until : now;
  const n = latestIndex(trigger, last, calendar);
  if (n < 0) return null;
  const latest = nthOccurrence(trigger.at, trigger.every, n, calendar);
  if (!plannedThrough) return latest;
  const ranAlready =
    latest <= plannedThrough ||
    periodOf(trigger.every, latest, calendar) === periodOf(trigger.every, plannedThrough, calendar);
  return ranAlready ? null : latest;
}

/**
 * A recurring trigger's next occurrence after one at `at`, in a later period than it; null when there is none (its
 * `until` comes first, or the trigger does not recur).
 */
export function nextOccurrenceAfter(trigger: Trigger, at: Date, calendar: BankCalendar): Date | null {
  if (trigger.kind !== 'RECURRING') return null;
  let next = latestIndex(trigger, at, calendar) + 1;
  // An occurrence in the period planned already is never planned (the time was moved later after it ran).
  const ran = periodOf(trigger.every, at, calendar);
  if (periodOf(trigger.every, nthOccurrence(trigger.at, trigger.every, next, calendar), calendar) === ran)
    next += 1;
  const due = nthOccurrence(trigger.at, trigger.every, next, calendar);
  return trigger.until && due > trigger.until ? null : due;
}

/** Whether a timed trigger will never have another occurrence after `plannedThrough`. */
export function isExhausted(trigger: Trigger, plannedThrough: Date | null, calendar: BankCalendar): boolean {
  if (trigger.kind === 'EVENT' || !plannedThrough) return false;
  if (trigger.kind === 'ONCE') return true;
  return trigger.until !== null && nextOccurrenceAfter(trigger, plannedThrough, calendar) === null;
}
