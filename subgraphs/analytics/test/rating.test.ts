// The member rating model: scoring recency, frequency and monetary value by its thresholds, the overall rfm_score, the
// grade, and the check a version passes before it is stored or used.
import { addDays } from '@bank-hub/shared';
import {
  DEFAULT_RATING_MODEL,
  MEMBER_RATINGS,
  parseRatingModel,
  ratingOf,
  type RatingModel,
} from '../src/domain/rating';

const TODAY = '2026-11-26';
const history = (purchases: number, amount: number, daysAgo: number | null) => ({
  purchases,
  amount,
  lastDay: daysAgo === null ? null : addDays(TODAY, -daysAgo),
});
const rate = (purchases: number, amount: number, daysAgo: number | null, model = DEFAULT_RATING_MODEL) =>
  ratingOf(history(purchases, amount, daysAgo), TODAY, model);

describe('ratingOf with the default model', () => {
  it.each([
    // purchases, amount, days since the last, cell, rfm_score, rating
    [0, 0, null, 'R1F1M1', 1, 'PROSPECT'],
    [12, 600_000, 0, 'R5F5M5', 5, 'CHAMPION'],
    [8, 100_000, 60, 'R4F4M4', 4, 'CHAMPION'],
    [4, 250_000, 90, 'R3F3M4', 3, 'LOYAL'],
    [12, 1_000, 91, 'R2F5M1', 3, 'CANNOT_LOSE'],
    [1, 1_000_000, 200, 'R1F1M5', 2, 'CANNOT_LOSE'],
    [1, 1_000, 0, 'R5F1M1', 2, 'PROMISING'],
    [2, 5_000, 31, 'R4F2M2', 3, 'PROMISING'],
    [2, 19_999, 61, 'R3F2M2', 2, 'NEEDS_ATTENTION'],
    [3, 20_000, 150, 'R2F2M3', 2, 'HIBERNATING'],
    [1, 0, 151, 'R1F1M1', 1, 'HIBERNATING'],
  ] as const)(
    '%i purchases of %d, the last %s days ago: %s, score %i, %s',
    (n, amount, ago, cell, score, rating) => {
      expect(rate(n, amount, ago)).toMatchObject({ cell, rfmScore: score, rating });
    },
  );

  it('puts each threshold in the higher score (at most for days, at least for counts and amounts)', () => {
    expect(rate(1, 0, 30).recency).toBe(5);
    expect(rate(1, 0, 31).recency).toBe(4);
    expect(rate(2, 0, 0).frequency).toBe(2);
    expect(rate(1, 0, 0).frequency).toBe(1);
    expect(rate(1, 500_000, 0).monetary).toBe(5);
    expect(rate(1, 499_999.99, 0).monetary).toBe(4);
  });

  it('counts an amount that is not a finite number as none, and a last purchase after the day as that day', () => {
    expect(rate(3, Number.NaN, 0).monetary).toBe(1);
    expect(rate(3, Number.POSITIVE_INFINITY, 0).monetary).toBe(1);
    expect(rate(3, -1_000_000, 0).monetary).toBe(1);
    expect(rate(1, 0, -5).recency).toBe(5);
  });

  it('gives every possible score a grade, and a grade of the fixed set', () => {
    for (const daysAgo of [0, 45, 75, 120, 300])
      for (const purchases of [1, 2, 4, 8, 12])
        for (const amount of [0, 5_000, 20_000, 100_000, 500_000]) {
          const rated = rate(purchases, amount, daysAgo);
          expect(MEMBER_RATINGS).toContain(rated.rating);
          expect(rated.rfmScore).toBeGreaterThanOrEqual(1);
          expect(rated.rfmScore).toBeLessThanOrEqual(5);
        }
  });
});

describe('the overall rfm_score', () => {
  const weighted = (weights: RatingModel['weights']) => ({ ...DEFAULT_RATING_MODEL, weights });

  it('is the weighted mean of the three scores, rounded half up', () => {
    // R5 F1 M2: (5 + 1 + 2) / 3 = 2.67 → 3; monetary alone → 2; recency twice, frequency once → 11/3 = 3.67 → 4.
    expect(rate(1, 5_000, 0).rfmScore).toBe(3);
    expect(rate(1, 5_000, 0, weighted({ recency: 0, frequency: 0, monetary: 1 })).rfmScore).toBe(2);
    expect(rate(1, 5_000, 0, weighted({ recency: 2, frequency: 1, monetary: 0 })).rfmScore).toBe(4);
    // R5 F2, recency and frequency alike: 3.5, half up to 4.
    expect(rate(2, 5_000, 0, weighted({ recency: 1, frequency: 1, monetary: 0 })).rfmScore).toBe(4);
  });
});

describe('parseRatingModel', () => {
  it('reads the default model back as stored (through JSON), and leaves unknown fields out', () => {
    expect(parseRatingModel(JSON.parse(JSON.stringify({ ...DEFAULT_RATING_MODEL, extra: 1 })))).toEqual(
      DEFAULT_RATING_MODEL,
    );
  });

  it.each([
    [null, /a rating model has/],
    [[], /a rating model has/],
    [{ ...DEFAULT_RATING_MODEL, windowDays: 10 }, /^windowDays/],
    [{ ...DEFAULT_RATING_MODEL, windowDays: 365.5 }, /^windowDays/],
    [{ ...DEFAULT_RATING_MODEL, windowDays: '365' }, /^windowDays/],
    [{ ...DEFAULT_RATING_MODEL, recencyDays: [30, 60, 90] }, /^recencyDays/],
    [{ ...DEFAULT_RATING_MODEL, recencyDays: [90, 60, 30, 10] }, /^recencyDays/],
    [{ ...DEFAULT_RATING_MODEL, recencyDays: [30, 30, 90, 150] }, /^recencyDays/],
    [{ ...DEFAULT_RATING_MODEL, recencyDays: [30, 60, 90, 400] }, /^recencyDays: .* to 364/],
    [{ ...DEFAULT_RATING_MODEL, recencyDays: [-1, 60, 90, 150] }, /^recencyDays/],
    [{ ...DEFAULT_RATING_MODEL, frequency: [0, 4, 8, 12] }, /^frequency/],
    [{ ...DEFAULT_RATING_MODEL, frequency: [1.5, 4, 8, 12] }, /^frequency/],
    [{ ...DEFAULT_RATING_MODEL, frequency: 'many' }, /^frequency/],
    [{ ...DEFAULT_RATING_MODEL, monetary: [0, 1, 2, 3] }, /^monetary/],
    [{ ...DEFAULT_RATING_MODEL, monetary: [1, 2, 3, 1e300] }, /^monetary/],
    [{ ...DEFAULT_RATING_MODEL, monetary: [1, 2, 3, Number.NaN] }, /^monetary/],
    [{ ...DEFAULT_RATING_MODEL, monetary: [1, 2, '3', 4] }, /^monetary/],
    [{ ...DEFAULT_RATING_MODEL, weights: null }, /^weights/],
    [{ ...DEFAULT_RATING_MODEL, weights: { recency: 1, frequency: 1 } }, /^weights.monetary/],
    [{ ...DEFAULT_RATING_MODEL, weights: { recency: 11, frequency: 1, monetary: 1 } }, /^weights.recency/],
    [{ ...DEFAULT_RATING_MODEL, weights: { recency: 0, frequency: 0, monetary: 0 } }, /at least one/],
  ])('refuses %j, naming the field', (parameters, problem) => {
    expect(() => parseRatingModel(parameters)).toThrow(problem);
  });
});
