// Purchases in members' attribution windows: which purchases count in which window, sums in whole cents, and the
// bounds a request's windows are held to.
import { InputProblem } from '@bank-hub/shared';
import { WindowTally, checkWindows, spanOf, type PurchaseWindow } from '../src/domain/attribution';

const at = (iso: string) => new Date(iso);
const window = (memberId: string, from: string, to: string): PurchaseWindow => ({
  memberId,
  from: at(from),
  to: at(to),
});
const bought = (memberId: string, occurredAt: string, amount: unknown, currency: unknown = 'CNY') => ({
  memberId,
  occurredAt: at(occurredAt),
  amount,
  currency,
});

describe('WindowTally', () => {
  const windows = [
    window('M1', '2026-11-01T00:00:00Z', '2026-11-08T00:00:00Z'),
    window('M2', '2026-11-03T00:00:00Z', '2026-11-10T00:00:00Z'),
    window('M1', '2026-11-20T00:00:00Z', '2026-11-27T00:00:00Z'),
  ];

  it.each([
    ['at the start', bought('M1', '2026-11-01T00:00:00Z', 10), [1, 0, 0]],
    ['inside', bought('M1', '2026-11-07T23:59:59Z', 10), [1, 0, 0]],
    ['before the start', bought('M1', '2026-10-31T23:59:59Z', 10), [0, 0, 0]],
    ['at the end', bought('M1', '2026-11-08T00:00:00Z', 10), [0, 0, 0]],
    ['in the member’s other window', bought('M1', '2026-11-21T00:00:00Z', 10), [0, 0, 1]],
    ['of another member', bought('M3', '2026-11-05T00:00:00Z', 10), [0, 0, 0]],
    ['in another currency', bought('M2', '2026-11-05T00:00:00Z', 10, 'USD'), [0, 0, 0]],
    ['with no currency', bought('M2', '2026-11-05T00:00:00Z', 10, null), [0, 0, 0]],
    ['of a string amount', bought('M2', '2026-11-05T00:00:00Z', '10'), [0, 0, 0]],
    ['of a zero amount', bought('M2', '2026-11-05T00:00:00Z', 0), [0, 0, 0]],
    ['of NaN', bought('M2', '2026-11-05T00:00:00Z', Number.NaN), [0, 0, 0]],
    ['of an absurd amount', bought('M2', '2026-11-05T00:00:00Z', 1e15), [0, 0, 0]],
  ])('a purchase %s counts as %j', (_case, purchase, counts) => {
    const tally = new WindowTally(windows, 'CNY');
    tally.add(purchase);
    expect(tally.result().map((result) => result.purchases)).toEqual(counts);
  });

  it('adds every purchase of a window, its amount in whole cents', () => {
    const tally = new WindowTally(windows, 'CNY');
    for (const amount of [0.1, 0.2, 100.1, 200.2]) tally.add(bought('M2', '2026-11-05T00:00:00Z', amount));
    expect(tally.result()[1]).toEqual({ purchases: 4, amount: 300.6 });
  });
});

describe('checkWindows', () => {
  const ok = window('M1', '2026-11-01T00:00:00Z', '2026-11-08T00:00:00Z');

  it.each([
    ['none', [], 'windows'],
    ['501', Array.from({ length: 501 }, () => ok), 'windows'],
    ['an empty one', [ok, { ...ok, to: ok.from }], 'windows[1].to'],
    ['a backwards one', [{ ...ok, to: at('2026-10-01T00:00:00Z') }], 'windows[0].to'],
    [
      'one of 91 days',
      [{ ...ok, to: at('2026-01-31T00:00:01Z'), from: at('2025-11-01T00:00:00Z') }],
      'windows[0].to',
    ],
    ['a member id with a space', [{ ...ok, memberId: 'M 1' }], 'windows[0].memberId'],
  ])('refuses %s, naming the field', (_case, windows, field) => {
    expect(() => checkWindows(windows)).toThrow(InputProblem);
    try {
      checkWindows(windows);
    } catch (error) {
      expect((error as InputProblem).field).toBe(field);
    }
  });

  it('takes 500 windows of up to 90 days, and spans their read from the first start to the last end', () => {
    const longest = window('M2', '2026-08-01T00:00:00Z', '2026-10-30T00:00:00Z');
    const windows = [...Array.from({ length: 499 }, () => ok), longest];
    expect(checkWindows(windows)).toBe(windows);
    expect(spanOf(windows)).toEqual({ from: longest.from, to: ok.to });
  });
});
