// A campaign's conversions: each member reached counts once, on their variant; purchases and amounts (in whole cents)
// add up; the rate is the share of members reached who bought; the attribution window and when it has closed.
import {
  ATTRIBUTION_WINDOW_DAYS,
  ConversionTally,
  attributionWindow,
  conversionsView,
  windowsClosedBy,
} from '../src/campaigns/domain/conversions';

describe('ConversionTally', () => {
  it('counts every member reached, those who bought once each, and all their purchases, overall and per variant', () => {
    const tally = new ConversionTally();
    tally.add('B', 2, 0.3);
    tally.add('A', 0, 0);
    tally.add('A', 3, 100.1);
    tally.add('A', 1, 200.2);
    expect(tally.totals()).toEqual({
      total: { reached: 4, members: 3, purchases: 6, cents: 30_060 },
      variants: [
        { variant: 'A', counts: { reached: 3, members: 2, purchases: 4, cents: 30_030 } },
        { variant: 'B', counts: { reached: 1, members: 1, purchases: 2, cents: 30 } },
      ],
    });
  });

  it('counts nothing for a campaign that reached nobody', () => {
    expect(new ConversionTally().totals()).toEqual({
      total: { reached: 0, members: 0, purchases: 0, cents: 0 },
      variants: [],
    });
  });
});

describe('conversionsView', () => {
  it.each([
    [
      { reached: 3, members: 2, purchases: 4, cents: 30_060 },
      { amount: 300.6, rate: 2 / 3 },
    ],
    [
      { reached: 0, members: 0, purchases: 0, cents: 0 },
      { amount: 0, rate: 0 },
    ],
    [
      { reached: 1, members: 1, purchases: 1, cents: 1 },
      { amount: 0.01, rate: 1 },
    ],
  ])('shows %j with %j', (counts, shown) => {
    const { reached, members, purchases } = counts;
    expect(conversionsView(counts)).toEqual({ reached, members, purchases, ...shown });
  });
});

describe('the attribution window', () => {
  const reachedAt = new Date('2026-11-01T08:00:00Z');

  it(`opens when the member was reached and lasts ${ATTRIBUTION_WINDOW_DAYS} days`, () => {
    expect(attributionWindow(reachedAt)).toEqual({ from: reachedAt, to: new Date('2026-11-08T08:00:00Z') });
  });

  it.each([
    ['2026-11-08T07:59:59.999Z', false],
    ['2026-11-08T08:00:00Z', true],
  ])('counted at %s, every window has closed: %s', (at, closed) => {
    expect(windowsClosedBy(reachedAt, new Date(at))).toBe(closed);
  });
});
