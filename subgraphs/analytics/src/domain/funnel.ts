// Funnels: of the members who did the first step in a time range, how many then did the second, the third… in order,
// each step within a window of time after the first. Counted from the step events in time order, one at a time, so
// what is held is a little per member, never the events of the whole range.

export interface StepEvent {
  memberId: string;
  name: string;
  at: number;
}

export interface FunnelStep {
  name: string;
  members: number;
  /** Members at this step over members at the previous one; 1 for the first step. */
  conversion: number;
  /** Members at this step over members at the first one. */
  overall: number;
}

/** Where one member stands: the furthest they got and the journeys still open. */
interface Progress {
  best: number;
  /**
   * `started[k]`: the start (epoch ms) of the open journey whose next step is `steps[k]`, or undefined. Of two
   * journeys waiting for the same step the later-started one can get at least as far (its window closes later), so
   * one per step is all there is to keep.
   */
  started: (number | undefined)[];
  /** The instant of `pending`, the member's events not yet counted. */
  instant: number;
  pending: string[];
}

/**
 * How far members get through `steps`, in order, each later step within `windowMs` of the first. Only first steps
 * before `startsBefore` (epoch ms) start a journey; later steps may come after it. Events must be added oldest first;
 * those of one instant may come in any order and are taken in step order (apps that send whole seconds).
 */
export class FunnelCounter {
  private readonly members = new Map<string, Progress>();

  constructor(
    private readonly steps: readonly string[],
    private readonly windowMs: number,
    private readonly startsBefore = Infinity,
  ) {}

  add(event: StepEvent): void {
    const progress = this.members.get(event.memberId);
    if (!progress) {
      this.members.set(event.memberId, {
        best: 0,
        started: this.steps.map(() => undefined),
        instant: event.at,
        pending: [event.name],
      });
      return;
    }
    if (event.at < progress.instant) throw new Error('funnel events must come oldest first');
    if (progress.best === this.steps.length) return;
    if (event.at > progress.instant) {
      this.count(progress);
      progress.instant = event.at;
    }
    progress.pending.push(event.name);
  }

  result(): FunnelStep[] {
    const reached = this.steps.map(() => 0);
    for (const progress of this.members.values()) {
      this.count(progress);
      for (let i = 0; i < progress.best; i++) reached[i]! += 1;
    }
    return this.steps.map((name, i) => ({
      name,
      members: reached[i]!,
      conversion: i === 0 ? 1 : reached[i - 1]! > 0 ? reached[i]! / reached[i - 1]! : 0,
      overall: reached[0]! > 0 ? reached[i]! / reached[0]! : 0,
    }));
  }

  /** Counts the member's pending events, all of one instant, in step order. */
  private count(progress: Progress): void {
    const { steps } = this;
    const order = (name: string) => steps.indexOf(name);
    const at = progress.instant;
    for (const name of progress.pending.sort((a, b) => order(a) - order(b))) {
      if (progress.best === steps.length) break;
      const { started } = progress;
      // From the furthest journey down, so a journey moved on by this event is not moved again by it.
      for (let next = steps.length - 1; next >= 1; next--) {
        const start = started[next];
        if (start === undefined) continue;
        if (at - start > this.windowMs) {
          started[next] = undefined;
        } else if (steps[next] === name) {
          started[next] = undefined;
          if (next + 1 === steps.length) progress.best = steps.length;
          else started[next + 1] = Math.max(started[next + 1] ?? start, start);
          progress.best = Math.max(progress.best, next + 1);
        }
      }
      if (name === steps[0] && at < this.startsBefore) {
        started[1] = at;
        progress.best = Math.max(progress.best, 1);
      }
    }
    progress.pending = [];
  }
}
