// The member rating (会员评级): an RFM model over each member's purchases. Recency, frequency and monetary value are
// each scored 1–5 by thresholds of the rating model — data operators can read and replace — and combined into an
// overall `rfm_score` and a rating grade campaigns and segments target. Nothing here reads a clock or a database: the
// same purchases and model give the same rating.
import { daysBetween, type DayKey } from '@bank-hub/shared';

/** The grades, in the order they are tried: the first whose condition a member's scores meet is theirs. */
export const MEMBER_RATINGS = [
  'PROSPECT',
  'CHAMPION',
  'LOYAL',
  'CANNOT_LOSE',
  'PROMISING',
  'NEEDS_ATTENTION',
  'HIBERNATING',
] as const;
export type MemberRating = (typeof MEMBER_RATINGS)[number];

/** A member's purchases in the model's window, up to the day rated. */
export interface PurchaseHistory {
  /** Purchases: completed flows products recorded with the amount of a purchase they placed. */
  purchases: number;
  /** The sum of their amounts in the bank's currency (others are never added in). */
  amount: number;
  /** The bank's day of the last one; null when none. */
  lastDay: DayKey | null;
}

/** Four thresholds, ascending: they cut a measure into the five scores. */
export type Thresholds = [number, number, number, number];

export interface RatingModel {
  /** Days up to the day rated (that day included) whose purchases count. */
  windowDays: number;
  /** Days since the last purchase: at most [0] scores 5, at most [1] 4, [2] 3, [3] 2; longer, or none, 1. */
  recencyDays: Thresholds;
  /** Purchases in the window: at least [3] scores 5, [2] 4, [1] 3, [0] 2; fewer 1. */
  frequency: Thresholds;
  /** Their amounts in the bank's currency: at least [3] scores 5, [2] 4, [1] 3, [0] 2; less 1. */
  monetary: Thresholds;
  /** How much each score weighs in rfm_score (whole numbers 0–10, not all 0). */
  weights: { recency: number; frequency: number; monetary: number };
}

export interface MemberRatingResult {
  recency: number;
  frequency: number;
  monetary: number;
  /** The weighted mean of the three, rounded half up: 1–5. */
  rfmScore: number;
  rating: MemberRating;
  /** The three scores as one code, e.g. R5F3M4: why a member has their rating, at a glance. */
  cell: string;
}

/** The registry's name for the rating model. */
export const RATING_MODEL_NAME = 'member-rating';
export const RATING_DESCRIPTION =
  'The member rating (RFM) model: thresholds that score recency, frequency and monetary value 1-5 over a window of ' +
  'days, and the weights of the overall rfm_score; the lifecycle job applies the active version.';

/** The hub's rating model: a year of purchases, amounts in the bank's currency (CNY unless BANK_CURRENCY says). */
export const DEFAULT_RATING_MODEL: RatingModel = {
  windowDays: 365,
  recencyDays: [30, 60, 90, 150],
  frequency: [2, 4, 8, 12],
  monetary: [5_000, 20_000, 100_000, 500_000],
  weights: { recency: 1, frequency: 1, monetary: 1 },
};

/** The largest amount threshold: no bank's customer buys more in a year, and every double below it is exact enough. */
export const MAX_MONETARY_THRESHOLD = 1e12;
/**
 * The most one purchase counts for, in a rating and in a product's purchase amount: an amount above the highest
 * threshold a rating model may set is no purchase a member made (a unit mistake, a test), and would outweigh every real
 * one.
 */
export const MAX_PURCHASE_AMOUNT = MAX_MONETARY_THRESHOLD;
const MAX_WINDOW_DAYS = 730;
const MIN_WINDOW_DAYS = 30;
const MAX_FREQUENCY_THRESHOLD = 100_000;
const MAX_WEIGHT = 10;

/** Four whole (or, for amounts, any) numbers, strictly ascending, within [min, max]; throws naming the field. */
function thresholds(value: unknown, field: string, min: number, max: number, whole: boolean): Thresholds {
  const ok =
    Array.isArray(value) &&
    value.length === 4 &&
    value.every(
      (n: unknown, i) =>
        typeof n === 'number' &&
        Number.isFinite(n) &&
        (!whole || Number.isInteger(n)) &&
        n >= min &&
        n <= max &&
        (i === 0 || n > (value[i - 1] as number)),
    );
  if (!ok)
    throw new Error(
      `${field}: 4 ${whole ? 'whole numbers' : 'numbers'} from ${min} to ${max}, each greater than the one before`,
    );
  return [...(value as number[])] as Thresholds;
}

/**
 * A rating model as stored in the registry (or as an operator publishes one), checked before it rates anyone. Throws
 * on anything else, naming the field at fault; unknown fields are left out of what it returns.
 */
export function parseRatingModel(parameters: unknown): RatingModel {
  const model = parameters as Partial<Record<keyof RatingModel, unknown>> | null;
  if (typeof model !== 'object' || model === null || Array.isArray(model))
    throw new Error('a rating model has windowDays, recencyDays, frequency, monetary and weights');
  const { windowDays } = model;
  if (
    typeof windowDays !== 'number' ||
    !Number.isInteger(windowDays) ||
    windowDays < MIN_WINDOW_DAYS ||
    windowDays > MAX_WINDOW_DAYS
  )
    throw new Error(`windowDays: a whole number from ${MIN_WINDOW_DAYS} to ${MAX_WINDOW_DAYS}`);
  // A last purchase further back than the window is none: a threshold past it could never be met.
  const recencyDays = thresholds(model.recencyDays, 'recencyDays', 0, windowDays - 1, true);
  // Zero purchases, or an amount of zero, always score 1.
  const frequency = thresholds(model.frequency, 'frequency', 1, MAX_FREQUENCY_THRESHOLD, true);
  const monetary = thresholds(model.monetary, 'monetary', Number.MIN_VALUE, MAX_MONETARY_THRESHOLD, false);
  const weights = model.weights as Partial<Record<keyof RatingModel['weights'], unknown>> | null;
  const weight = (name: keyof RatingModel['weights']) => {
    const value = weights?.[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_WEIGHT)
      throw new Error(`weights.${name}: a whole number from 0 to ${MAX_WEIGHT}`);
    return value;
  };
  if (typeof weights !== 'object' || weights === null)
    throw new Error('weights: recency, frequency and monetary');
  const checked = {
    recency: weight('recency'),
    frequency: weight('frequency'),
    monetary: weight('monetary'),
  };
  if (checked.recency + checked.frequency + checked.monetary === 0)
    throw new Error('weights: at least one greater than 0');
  return { windowDays, recencyDays, frequency, monetary, weights: checked };
}

/** 1 plus the thresholds a measure reaches. */
const reached = (measure: number, cuts: Thresholds) => 1 + cuts.filter((cut) => measure >= cut).length;

function gradeOf(recency: number, frequency: number, monetary: number): Exclude<MemberRating, 'PROSPECT'> {
  const valuable = Math.max(frequency, monetary) >= 4;
  if (recency >= 4 && frequency >= 4 && monetary >= 4) return 'CHAMPION';
  if (recency >= 3 && valuable) return 'LOYAL';
  if (recency <= 2 && valuable) return 'CANNOT_LOSE';
  if (recency >= 4) return 'PROMISING';
  if (recency === 3) return 'NEEDS_ATTENTION';
  return 'HIBERNATING';
}

/** A member's rating on `asOfDay` (the bank's day) from their purchases in the model's window up to it. */
export function ratingOf(history: PurchaseHistory, asOfDay: DayKey, model: RatingModel): MemberRatingResult {
  const bought = history.purchases > 0 && history.lastDay !== null;
  // A day after asOfDay is no purchase yet; the job never hands one, and a rating must not depend on that.
  const daysSince = bought ? Math.max(0, daysBetween(history.lastDay!, asOfDay)) : Infinity;
  const recency = 5 - model.recencyDays.filter((cut) => daysSince > cut).length;
  const frequency = bought ? reached(history.purchases, model.frequency) : 1;
  // An amount that is not a finite number (a sum gone wrong) counts as none, never as the most.
  const amount = Number.isFinite(history.amount) ? history.amount : 0;
  const monetary = bought ? reached(amount, model.monetary) : 1;
  const { weights } = model;
  const total = weights.recency + weights.frequency + weights.monetary;
  const weighted = weights.recency * recency + weights.frequency * frequency + weights.monetary * monetary;
  // Rounded half up in whole numbers: (2·weighted + total) / (2·total), floored; no floating point to argue over.
  const rfmScore = Math.floor((2 * weighted + total) / (2 * total));
  return {
    recency,
    frequency,
    monetary,
    rfmScore,
    rating: bought ? gradeOf(recency, frequency, monetary) : 'PROSPECT',
    cell: `R${recency}F${frequency}M${monetary}`,
  };
}
