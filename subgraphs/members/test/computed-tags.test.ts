// The computed tags members derives from its own data: new_user from registeredAt, aum_band from aum.
import {
  NEW_MEMBER_DAYS,
  aumBand,
  isNewMember,
  newUserValue,
  withAumBand,
} from '../src/domain/computed-tags';

const NOW = new Date('2026-11-26T12:00:00.000Z');
const before = (days: number, ms = 0) => new Date(NOW.getTime() - days * 86_400_000 - ms);

describe('isNewMember', () => {
  it('is true for less than 30 days after registering, false from then on', () => {
    expect(NEW_MEMBER_DAYS).toBe(30);
    expect(isNewMember(NOW, NOW)).toBe(true);
    expect(isNewMember(before(29, 86_399_999), NOW)).toBe(true);
    expect(isNewMember(before(30), NOW)).toBe(false);
    expect(isNewMember(before(3_000), NOW)).toBe(false);
  });

  it('counts a registration stamped ahead of the clock as new', () => {
    expect(isNewMember(new Date(NOW.getTime() + 60_000), NOW)).toBe(true);
  });
});

describe('newUserValue', () => {
  it('is true while new; once not, false for a member who carries the tag and nothing for one who never did', () => {
    expect(newUserValue(before(3), false, NOW)).toBe(true);
    expect(newUserValue(before(3), true, NOW)).toBe(true);
    expect(newUserValue(before(31), true, NOW)).toBe(false);
    expect(newUserValue(before(31), false, NOW)).toBeNull();
  });
});

describe('aumBand', () => {
  it.each([
    [0, '<10K'],
    [9_999.99, '<10K'],
    [10_000, '10K-50K'],
    [49_999, '10K-50K'],
    [50_000, '50K-500K'],
    [500_000, '500K-6M'],
    [5_999_999, '500K-6M'],
    [6_000_000, '6M+'],
    [-1, '<10K'],
  ])('puts %d in %s', (aum, band) => {
    expect(aumBand(aum)).toBe(band);
  });
});

describe('withAumBand', () => {
  it('sets the band with aum, and removes it with aum', () => {
    expect(withAumBand({ aum: 600_000, student: true }, [])).toEqual({
      set: { aum: 600_000, student: true, aum_band: '500K-6M' },
      remove: [],
    });
    expect(withAumBand({}, ['aum'])).toEqual({ set: {}, remove: ['aum', 'aum_band'] });
  });

  it('keeps what a call says of aum_band itself, and leaves calls without aum as they are', () => {
    expect(withAumBand({ aum: 600_000, aum_band: '6M+' }, [])).toEqual({
      set: { aum: 600_000, aum_band: '6M+' },
      remove: [],
    });
    expect(withAumBand({ aum: 600_000 }, ['aum_band'])).toEqual({
      set: { aum: 600_000 },
      remove: ['aum_band'],
    });
    expect(withAumBand({ student: true }, ['senior'])).toEqual({
      set: { student: true },
      remove: ['senior'],
    });
  });
});
