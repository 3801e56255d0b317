// The tracking plan in memory: every batch of events is checked against it, and it changes only when an operator
// defines an event. Read again at most every `maxAgeMs`, and at once after a change made through this process; another
// process's change is seen within `maxAgeMs`.
import type { TrackingPlanRepository, TrackedEventDoc } from './models/tracking-plan';

export class TrackingPlanCache {
  private cached: { at: number; plan: Promise<ReadonlyMap<string, TrackedEventDoc>> } | null = null;

  constructor(
    private readonly repository: TrackingPlanRepository,
    private readonly maxAgeMs = 1_000,
  ) {}

  get(now = Date.now()): Promise<ReadonlyMap<string, TrackedEventDoc>> {
    if (!this.cached || now - this.cached.at > this.maxAgeMs) {
      const plan = this.repository
        .all()
        .then((all) => new Map(all.map((definition) => [definition._id, definition])));
      // A failed read is not kept: the next batch reads again.
      plan.catch(() => (this.cached = null));
      this.cached = { at: now, plan };
    }
    return this.cached.plan;
  }

  invalidate(): void {
    this.cached = null;
  }
}
