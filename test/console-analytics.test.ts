// How the console's analytics screen (web/console/screens/analytics/figures.ts) writes what analytics answers: the
// bank's days as dates whatever the bank's time zone, the funnel's dates as a range that includes both, shares.
import {
  bankDate,
  barHeights,
  funnelRange,
  lastDays,
  percent,
} from '../web/console/screens/analytics/figures';

describe('bankDate', () => {
  it("names the bank's day by its date, east or west of UTC", () => {
    // Midnight in Shanghai (UTC+8) is 16:00 UTC the day before; in New York (UTC-5) 05:00 UTC the same day.
    expect(bankDate('2026-11-26T16:00:00.000Z')).toBe('2026-11-27');
    expect(bankDate('2026-11-27T05:00:00.000Z')).toBe('2026-11-27');
    expect(bankDate('2026-11-27T00:00:00.000Z')).toBe('2026-11-27');
    // The date line's edges: UTC+12 and UTC-11.
    expect(bankDate('2026-11-26T12:00:00.000Z')).toBe('2026-11-27');
    expect(bankDate('2026-11-27T11:00:00.000Z')).toBe('2026-11-27');
  });
});

describe('the funnel form', () => {
  it('opens on the last days, today included', () => {
    expect(lastDays(30, new Date('2026-11-27T23:59:00Z'))).toEqual({ from: '2026-10-29', to: '2026-11-27' });
    expect(lastDays(1, new Date('2026-11-27T00:00:00Z'))).toEqual({ from: '2026-11-27', to: '2026-11-27' });
  });

  it('asks for both dates whole, and for one day when they are the same', () => {
    expect(funnelRange('2026-10-29', '2026-11-27')).toEqual({
      from: '2026-10-29T00:00:00.000Z',
      to: '2026-11-28T00:00:00.000Z',
    });
    expect(funnelRange('2026-11-27', '2026-11-27')).toEqual({
      from: '2026-11-27T00:00:00.000Z',
      to: '2026-11-28T00:00:00.000Z',
    });
  });

  it('asks nothing until both dates are dates', () => {
    expect(funnelRange('', '2026-11-27')).toBeNull();
    expect(funnelRange('2026-11-27', 'tomorrow')).toBeNull();
  });
});

describe('figures', () => {
  it('writes shares as percentages, and none without a share', () => {
    expect(percent(0.1234)).toBe('12.3%');
    expect(percent(1)).toBe('100.0%');
    expect(percent(0)).toBe('0.0%');
    expect(percent(null)).toBe('—');
    expect(percent(Number.NaN)).toBe('—');
  });

  it('draws bars against the largest count, and flat ones when there is none', () => {
    expect(barHeights([0, 5, 10], 80)).toEqual([0, 40, 80]);
    expect(barHeights([0, 0], 80)).toEqual([0, 0]);
    expect(barHeights([], 80)).toEqual([]);
  });
});
