// What many requests read and that changes rarely — analytics' tracking plan and active creative bandit, the gateway's
// readiness — kept in memory: read again at most every `maxAgeMs` (callers meanwhile share one read), and at once after
// a change made through this process; another process's change is seen within `maxAgeMs`.
import { steadyClock } from './steady-clock';

export class Cached<T> {
  private cached: { at: number; value: Promise<T> } | null = null;
  private readonly clock = steadyClock();

  constructor(
    private readonly load: () => Promise<T>,
    private readonly maxAgeMs = 1_000,
  ) {}

  get(): Promise<T> {
    const now = this.clock();
    if (!this.cached || now - this.cached.at > this.maxAgeMs) {
      const value = this.load();
      // A failed read is not kept: the next request reads again.
      value.catch(() => (this.cached = null));
      this.cached = { at: now, value };
    }
    return this.cached.value;
  }

  invalidate(): void {
    this.cached = null;
  }
}
