// Amounts of money added and compared in whole cents: what binary fractions make of decimal amounts never decides.
import { centsReaching, exactCents, fromCents, isWholeCents, sumInCents, toCents } from '../src/money';

describe('sumInCents', () => {
  it.each<[number[], number]>([
    [[0.1, 0.2], 30],
    [[199.99, 100.01], 30_000],
    [[0.7, 0.1], 80],
    [[1.1, 2.2], 330],
    [[33.33, 33.33, 33.34], 10_000],
    [[1e12, 1e12, 0.01], 200_000_000_000_001],
    [[], 0],
  ])('adds %j to exactly %d cents', (amounts, cents) => {
    expect(sumInCents(amounts)).toBe(cents);
  });

  it('is NaN when an amount is not a number, so that every comparison with it fails', () => {
    expect(sumInCents([100, Number.NaN])).toBeNaN();
  });
});

describe('toCents and fromCents', () => {
  it('compare what the floats do not: 0.1 + 0.2 is 0.3, and 0.29 a cent below it', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(sumInCents([0.1, 0.2])).toBe(toCents(0.3));
    expect(toCents(0.29)).toBe(sumInCents([0.1, 0.2]) - 1);
    expect(fromCents(sumInCents([0.1, 0.2]))).toBe(0.3);
  });
});

describe('isWholeCents', () => {
  it.each<[number, boolean]>([
    [0.3, true],
    [199.99, true],
    [1_000, true],
    [1_000.001, false],
    [0.005, false],
    [Number.NaN, false],
    [Number.POSITIVE_INFINITY, false],
  ])('%d → %s', (amount, whole) => {
    expect(isWholeCents(amount)).toBe(whole);
  });
});

describe('exactCents', () => {
  it.each<[number, number | null]>([
    [0.7, 70],
    [199.99, 19_999],
    [1e12, 1e14],
    [0.005, null],
    [1e300, null],
    [Number.NaN, null],
    [Number.NEGATIVE_INFINITY, null],
  ])('%d → %s', (amount, cents) => {
    expect(exactCents(amount)).toBe(cents);
  });
});

describe('centsReaching', () => {
  it.each<[number, number]>([
    [0.8, 80],
    [100_000, 10_000_000],
    // Targets written before they had to be whole cents: only the next cent up reaches them.
    [0.805, 81],
    [1.015, 102],
    [0.001, 1],
  ])('%d is reached by %d cents', (amount, cents) => {
    expect(centsReaching(amount)).toBe(cents);
    expect(fromCents(cents - 1)).toBeLessThan(amount);
  });
});
