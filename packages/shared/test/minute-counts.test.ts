// The rate limits' bookkeeping: counts per key within a minute, afresh the next, a bounded number of keys.
import { MinuteCounts, secondsToNextMinute } from '../src/minute-counts';

const at = (seconds: number, ms = 0) => new Date(Date.UTC(2026, 10, 26, 8, 0, seconds, ms));

describe('MinuteCounts', () => {
  it('adds up what a key used within a minute, and starts afresh the next', () => {
    const counts = new MinuteCounts();
    counts.add('a', 3, at(1));
    counts.add('a', 4, at(59));
    expect(counts.used('a', at(59, 999))).toBe(7);
    expect(counts.used('b', at(59))).toBe(0);
    expect(counts.used('a', at(60))).toBe(0);
  });

  it('keeps at most so many keys a minute, forgetting the one counted first', () => {
    const counts = new MinuteCounts(2);
    counts.add('a', 1, at(1));
    counts.add('b', 1, at(1));
    counts.add('a', 1, at(2));
    counts.add('c', 1, at(3));
    expect([counts.used('a', at(4)), counts.used('b', at(4)), counts.used('c', at(4))]).toEqual([0, 1, 1]);
  });
});

describe('secondsToNextMinute', () => {
  it.each([
    [at(0), 60],
    [at(0, 1), 60],
    [at(30), 30],
    [at(59), 1],
    [at(59, 999), 1],
  ])('from %s is %i', (now, seconds) => expect(secondsToNextMinute(now)).toBe(seconds));
});
