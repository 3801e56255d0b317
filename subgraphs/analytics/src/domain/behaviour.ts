// Behavioural tags the lifecycle job computes beside the stage: engagement_score, preferred_channel, days_since_login
// and interests. Each is a plain function of what the job aggregated in the database, one row per member (or a few);
// nothing here reads a clock or a database.
import { daysBetween, type DayKey } from '@bank-hub/shared';
import type { Channel } from '../models/event';

/** Days up to the run (that day included) engagement_score and interests look at. */
export const BEHAVIOUR_WINDOW_DAYS = 90;

/** Days since a thing when it did not happen in the days the job reads (as days_since_active). */
export const NEVER_DAYS = 9_999;

/** What a member did in the BEHAVIOUR_WINDOW_DAYS up to the run. */
export interface Activity90 {
  /** Distinct days with any of the member's own events. */
  activeDays: number;
  /** Purchases (PURCHASE in the event repository). */
  purchases: number;
  /** share events. */
  shares: number;
  /** live_watch events. */
  liveWatches: number;
}

/**
 * What engagement_score is made of: each measure counts up to its cap, for up to its points; the points add up to 100.
 * Coming back weighs most; buying, sharing and watching show a member who does more than look.
 */
export const ENGAGEMENT_PARTS: readonly { measure: keyof Activity90; cap: number; points: number }[] = [
  { measure: 'activeDays', cap: 45, points: 60 },
  { measure: 'purchases', cap: 3, points: 20 },
  { measure: 'shares', cap: 3, points: 10 },
  { measure: 'liveWatches', cap: 5, points: 10 },
];

/** 0–100, a whole number: each part's points in proportion to its measure up to its cap, added up and rounded. */
export function engagementScore(activity: Activity90): number {
  const score = ENGAGEMENT_PARTS.reduce((sum, { measure, cap, points }) => {
    const value = activity[measure];
    // A count the database summed is never negative nor NaN; if one were, it would count as none.
    const counted = Number.isFinite(value) ? Math.min(Math.max(value, 0), cap) : 0;
    return sum + (counted / cap) * points;
  }, 0);
  return Math.round(score);
}

/** The order a tie between channels goes by, after the latest day: the bank's own channels first. */
const CHANNEL_ORDER: readonly Channel[] = ['APP', 'WEB', 'MINI_PROGRAM', 'PARTNER'];

/**
 * The channel of most active days; a tie goes to the one used last, then by CHANNEL_ORDER. Null when there is none (a
 * channel outside Channel, stored by other means, is never one).
 */
export function preferredChannel(
  channels: readonly { channel: string; days: number; lastDay: DayKey }[],
): Channel | null {
  const known = channels.filter((row): row is typeof row & { channel: Channel } =>
    CHANNEL_ORDER.includes(row.channel as Channel),
  );
  const best = [...known].sort(
    (a, b) =>
      b.days - a.days ||
      b.lastDay.localeCompare(a.lastDay) ||
      CHANNEL_ORDER.indexOf(a.channel) - CHANNEL_ORDER.indexOf(b.channel),
  )[0];
  return best?.channel ?? null;
}

/** Days from the last sign_in to `asOfDay`; NEVER_DAYS when there was none in the days read. */
export function daysSinceLogin(lastSignInDay: DayKey | null, asOfDay: DayKey): number {
  return lastSignInDay ? Math.max(0, daysBetween(lastSignInDay, asOfDay)) : NEVER_DAYS;
}

/**
 * The interest a viewed product type shows, in the vocabulary products tag their products with (what affinityKeys
 * match): only types whose products nearly all share one. A deposit, a loan or an insurance policy says no interest.
 */
export const PRODUCT_TYPE_INTERESTS: Readonly<Record<string, string>> = {
  WEALTH: 'investing',
  FUND: 'investing',
  PAYMENT: 'shopping',
};

/** Distinct days a member must have viewed products of a type in the window for its interest: one look is none. */
export const INTEREST_MIN_DAYS = 2;

/** A member's interests, sorted, from the distinct days they viewed each product type in the window. */
export function interestsOf(viewed: readonly { productType: string; days: number }[]): string[] {
  const interests = viewed
    .filter(
      ({ productType, days }) =>
        Object.hasOwn(PRODUCT_TYPE_INTERESTS, productType) && days >= INTEREST_MIN_DAYS,
    )
    .map(({ productType }) => PRODUCT_TYPE_INTERESTS[productType]!);
  return [...new Set(interests)].sort();
}
