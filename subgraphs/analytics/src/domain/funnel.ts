// Funnels: of the members who did the first step in a time range, how many then did the second, the third… in order,
// each step within a window of time after the first. Computed from each member's events of the step names.

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

/**
 * How far each member got through `steps`, in order, each later step within `windowMs` of the first. Only first steps
 * before `startsBefore` (epoch ms) start a journey; later steps may come after it.
 */
export function funnelOf(
  steps: readonly string[],
  events: readonly StepEvent[],
  windowMs: number,
  startsBefore = Infinity,
): FunnelStep[] {
  const byMember = new Map<string, StepEvent[]>();
  for (const event of events) {
    const list = byMember.get(event.memberId);
    if (list) list.push(event);
    else byMember.set(event.memberId, [event]);
  }
  const reached = steps.map(() => 0);
  const order = (name: string) => steps.indexOf(name);
  for (const memberEvents of byMember.values()) {
    // Steps stamped with the same instant (apps that send whole seconds) are taken in step order, not in whatever
    // order the database returned them: a later step then counts, whatever the read.
    memberEvents.sort((a, b) => a.at - b.at || order(a.name) - order(b.name));
    let best = 0;
    // Try each start (each occurrence of the first step) and keep the furthest the member got.
    memberEvents.forEach((start, startIndex) => {
      if (best === steps.length || start.name !== steps[0] || start.at >= startsBefore) return;
      let step = 1;
      for (let i = startIndex + 1; i < memberEvents.length && step < steps.length; i++) {
        const event = memberEvents[i]!;
        if (event.at - start.at > windowMs) break;
        if (event.name === steps[step]) step += 1;
      }
      best = Math.max(best, step);
    });
    for (let i = 0; i < best; i++) reached[i]! += 1;
  }
  return steps.map((name, i) => ({
    name,
    members: reached[i]!,
    conversion: i === 0 ? 1 : reached[i - 1]! > 0 ? reached[i]! / reached[i - 1]! : 0,
    overall: reached[0]! > 0 ? reached[i]! / reached[0]! : 0,
  }));
}
