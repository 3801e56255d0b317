// Runs of consecutive days for CONSECUTIVE_DAYS tasks, without a database: counting a day into the runs kept, the
// current run a member is shown, and what is kept stays bounded.
import { addDays } from '@bank-hub/shared';
import { RUN_WINDOW_DAYS, currentRun, shownProgress, withRunDay } from '../src/activities/streaks';

/** The runs after counting `days` in turn (skipping those not counted), and the length each counted day made. */
function countAll(days: readonly string[], runs: string[] = []) {
  const lengths: (number | null)[] = [];
  for (const day of days) {
    const next = withRunDay(runs, day);
    lengths.push(next?.length ?? null);
    if (next) runs = next.runs;
  }
  return { runs, lengths };
}

describe('withRunDay', () => {
  it.each<[string, string[], string[], (number | null)[]]>([
    ['starts a run', ['2026-11-25'], ['2026-11-25/2026-11-25'], [1]],
    [
      'extends it a day at a time',
      ['2026-11-25', '2026-11-26', '2026-11-27'],
      ['2026-11-25/2026-11-27'],
      [1, 2, 3],
    ],
    ['counts a day once', ['2026-11-25', '2026-11-25'], ['2026-11-25/2026-11-25'], [1, null]],
    [
      'starts again after a day without',
      ['2026-11-25', '2026-11-26', '2026-11-28'],
      ['2026-11-25/2026-11-26', '2026-11-28/2026-11-28'],
      [1, 2, 1],
    ],
    [
      'takes a day that arrives late, before the run',
      ['2026-11-26', '2026-11-27', '2026-11-25'],
      ['2026-11-25/2026-11-27'],
      [1, 2, 3],
    ],
    [
      'bridges two runs with the day that was missing',
      ['2026-11-24', '2026-11-25', '2026-11-27', '2026-11-28', '2026-11-26'],
      ['2026-11-24/2026-11-28'],
      [1, 2, 1, 2, 5],
    ],
    [
      'counts nothing twice inside a run',
      ['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-25'],
      ['2026-11-24/2026-11-26'],
      [1, 2, 3, null],
    ],
    ['crosses months and years', ['2026-12-31', '2027-01-01'], ['2026-12-31/2027-01-01'], [1, 2]],
  ])('%s', (_what, days, runs, lengths) => {
    expect(countAll(days)).toEqual({ runs, lengths });
  });

  it('refuses a day too far behind the latest, and drops runs that fell out of the window', () => {
    const latest = '2026-11-30';
    const { runs } = countAll(['2026-10-01', '2026-10-02', latest]);
    expect(runs).toEqual([`${latest}/${latest}`]);
    expect(withRunDay(runs, addDays(latest, -RUN_WINDOW_DAYS - 1))).toBeNull();
    expect(withRunDay(runs, addDays(latest, -RUN_WINDOW_DAYS))?.runs).toHaveLength(2);
  });

  it('keeps a long run as one entry, and a year of every other day as a few weeks', () => {
    const start = '2026-01-01';
    const everyDay = countAll(Array.from({ length: 365 }, (_, i) => addDays(start, i)));
    expect(everyDay.runs).toEqual([`${start}/${addDays(start, 364)}`]);
    expect(everyDay.lengths.at(-1)).toBe(365);
    const everyOther = countAll(Array.from({ length: 183 }, (_, i) => addDays(start, 2 * i)));
    expect(everyOther.runs.length).toBeLessThanOrEqual(Math.ceil(RUN_WINDOW_DAYS / 2) + 1);
    expect(everyOther.lengths.every((length) => length === 1)).toBe(true);
  });
});

describe('currentRun', () => {
  const runs = ['2026-11-20/2026-11-21', '2026-11-24/2026-11-26'];

  it.each([
    ['2026-11-26', 3, 'signed in today'],
    ['2026-11-27', 3, 'today’s sign-in may still come'],
    ['2026-11-28', 0, 'a day was missed'],
    ['2026-11-25', 3, 'a clock behind the day counted'],
  ])('on %s is %i: %s', (today, length) => {
    expect(currentRun(runs, today)).toBe(length);
  });

  it('is 0 with no runs', () => {
    expect(currentRun([], '2026-11-26')).toBe(0);
  });
});

describe('shownProgress', () => {
  const streak = { measure: 'CONSECUTIVE_DAYS' as const, property: null, target: 7 };
  const progress = { value: 5, runs: ['2026-11-20/2026-11-24', '2026-11-26/2026-11-27'], completedAt: null };

  it('shows the current run of an incomplete CONSECUTIVE_DAYS task, not its longest', () => {
    expect(shownProgress(streak, progress, '2026-11-28')).toBe(2);
    expect(shownProgress(streak, progress, '2026-11-29')).toBe(0);
  });

  it('shows the run that completed a CONSECUTIVE_DAYS task, up to the target, after it broke', () => {
    const done = { value: 8, runs: ['2026-11-01/2026-11-08'], completedAt: new Date('2026-11-08T02:00:00Z') };
    expect(shownProgress(streak, done, '2026-11-28')).toBe(7);
  });

  it('shows what other measures counted, up to the target, and 0 without progress', () => {
    expect(
      shownProgress({ measure: 'DISTINCT_DAYS', property: null, target: 7 }, progress, '2026-11-29'),
    ).toBe(5);
    expect(shownProgress({ measure: 'SUM', property: 'seconds', target: 3 }, progress, '2026-11-29')).toBe(3);
    expect(shownProgress(streak, undefined, '2026-11-29')).toBe(0);
  });

  it('shows a sum of money in the currency’s units from its cents, and one kept as a float rounded to cents', () => {
    const money = { measure: 'SUM' as const, property: 'amount', target: 1 };
    const at = (counted: { value: number; cents?: number }) =>
      shownProgress(money, { ...counted, runs: [], completedAt: null }, '2026-11-29');
    expect(at({ value: 0, cents: 80 })).toBe(0.8);
    expect(at({ value: 0.7 + 0.1 })).toBe(0.8);
    expect(at({ value: 0, cents: 250 })).toBe(1);
  });
});
