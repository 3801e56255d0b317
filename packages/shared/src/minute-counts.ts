// What each key (a device, a member, a client address) has used this minute, counted in this process: the rate
// limits' bookkeeping. Fixed one-minute windows are cheap, and the map holds only the keys of the current minute.

/** Keys one minute counts at most: made-up keys, each a request, could otherwise grow a map without end. */
export const MINUTE_COUNTS_MAX_KEYS = 100_000;

const MINUTE_MS = 60_000;

export class MinuteCounts {
  private window = -1;
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxKeys = MINUTE_COUNTS_MAX_KEYS) {}

  /** What `key` has used in the minute of `now`. */
  used(key: string, now: Date): number {
    this.enter(now);
    return this.counts.get(key) ?? 0;
  }

  /** Counts `amount` more against `key` in the minute of `now`. */
  add(key: string, amount: number, now: Date): void {
    this.enter(now);
    const before = this.counts.get(key);
    // A full map forgets the key counted first this minute: that key starts afresh, which only a client holding
    // that many keys in one minute can bring about.
    if (before === undefined && this.counts.size >= this.maxKeys)
      this.counts.delete(this.counts.keys().next().value!);
    this.counts.set(key, (before ?? 0) + amount);
  }

  private enter(now: Date): void {
    const window = Math.floor(now.getTime() / MINUTE_MS);
    if (window === this.window) return;
    this.window = window;
    this.counts.clear();
  }
}

/** Whole seconds (at least 1) until the minute of `now` ends, when every count starts afresh: a Retry-After. */
export const secondsToNextMinute = (now: Date): number =>
  Math.max(1, Math.ceil((MINUTE_MS - (now.getTime() % MINUTE_MS)) / 1000));
