// The behavioural tags the lifecycle job computes beside the stage: engagement_score, preferred_channel,
// days_since_login and interests, each from what the job aggregated per member.
import { addDays } from '@bank-hub/shared';
import {
  NEVER_DAYS,
  daysSinceLogin,
  engagementScore,
  interestsOf,
  preferredChannel,
} from '../src/domain/behaviour';
import { activeDaysWithin } from '../src/domain/lifecycle';

const TODAY = '2026-11-26';
const ago = (days: number) => addDays(TODAY, -days);

describe('engagementScore', () => {
  it.each([
    // active days, purchases, shares, live watches, score
    [0, 0, 0, 0, 0],
    [1, 0, 0, 0, 1],
    [45, 0, 0, 0, 60],
    [90, 0, 0, 0, 60],
    [45, 3, 3, 5, 100],
    [90, 50, 50, 500, 100],
    [15, 1, 1, 1, 32],
    [30, 0, 3, 0, 50],
  ])(
    '%i active days, %i purchases, %i shares, %i live watches score %i',
    (activeDays, purchases, shares, liveWatches, score) => {
      expect(engagementScore({ activeDays, purchases, shares, liveWatches })).toBe(score);
    },
  );

  it('counts a negative or non-finite measure as none, never as the most', () => {
    expect(engagementScore({ activeDays: -5, purchases: NaN, shares: Infinity, liveWatches: 0 })).toBe(0);
  });
});

describe('preferredChannel', () => {
  it('is the channel of most active days', () => {
    expect(
      preferredChannel([
        { channel: 'APP', days: 3, lastDay: ago(0) },
        { channel: 'MINI_PROGRAM', days: 7, lastDay: ago(20) },
        { channel: 'WEB', days: 1, lastDay: ago(1) },
      ]),
    ).toBe('MINI_PROGRAM');
  });

  it('gives a tie to the channel used last, then to the bank order APP, WEB, MINI_PROGRAM, PARTNER', () => {
    expect(
      preferredChannel([
        { channel: 'APP', days: 4, lastDay: ago(3) },
        { channel: 'WEB', days: 4, lastDay: ago(1) },
      ]),
    ).toBe('WEB');
    expect(
      preferredChannel([
        { channel: 'PARTNER', days: 4, lastDay: ago(1) },
        { channel: 'WEB', days: 4, lastDay: ago(1) },
      ]),
    ).toBe('WEB');
  });

  it('is null with no channel, and never a channel the hub does not know', () => {
    expect(preferredChannel([])).toBeNull();
    expect(preferredChannel([{ channel: 'FAX', days: 90, lastDay: ago(0) }])).toBeNull();
    expect(
      preferredChannel([
        { channel: 'FAX', days: 90, lastDay: ago(0) },
        { channel: 'APP', days: 1, lastDay: ago(9) },
      ]),
    ).toBe('APP');
  });
});

describe('daysSinceLogin', () => {
  it('counts the bank days from the last sign_in, and NEVER_DAYS without one', () => {
    expect(daysSinceLogin(TODAY, TODAY)).toBe(0);
    expect(daysSinceLogin(ago(12), TODAY)).toBe(12);
    expect(daysSinceLogin(null, TODAY)).toBe(NEVER_DAYS);
  });

  it('is never negative for a sign_in dated after the day computed', () => {
    expect(daysSinceLogin(addDays(TODAY, 2), TODAY)).toBe(0);
  });
});

describe('interestsOf', () => {
  it('maps product types viewed on 2 days or more to interests, sorted, each once', () => {
    expect(
      interestsOf([
        { productType: 'PAYMENT', days: 2 },
        { productType: 'WEALTH', days: 5 },
        { productType: 'FUND', days: 3 },
      ]),
    ).toEqual(['investing', 'shopping']);
  });

  it('reads one day of views, or a type that shows no interest, as none', () => {
    expect(
      interestsOf([
        { productType: 'WEALTH', days: 1 },
        { productType: 'DEPOSIT', days: 30 },
        { productType: 'LOAN', days: 30 },
        { productType: 'INSURANCE', days: 30 },
      ]),
    ).toEqual([]);
  });

  it("never takes a client's own type name, nor one of Object.prototype's", () => {
    expect(
      interestsOf([
        { productType: 'travel', days: 9 },
        { productType: 'constructor', days: 9 },
        { productType: '__proto__', days: 9 },
      ]),
    ).toEqual([]);
  });
});

describe('activeDaysWithin', () => {
  it('counts distinct days in the window up to the day, that day included, and none after it', () => {
    const days = [TODAY, TODAY, ago(29), ago(30), ago(89), ago(90), addDays(TODAY, 1)];
    expect(activeDaysWithin(days, TODAY, 30)).toBe(2);
    expect(activeDaysWithin(days, TODAY, 90)).toBe(4);
  });
});
