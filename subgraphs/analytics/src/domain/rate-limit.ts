// How many events a device, and the member whose token sends them, may send per minute, counted in this process. A
// device id is whatever the client names, so a new one gets a fresh allowance: the member's limit is what holds a
// token back however many it makes up. Anonymous events have the device's alone. Fixed one-minute windows: cheap, and
// the maps hold only the keys of the current minute, at most `maxKeys` of each.

/** Keys one minute counts at most: made-up device ids, each a request, could otherwise grow a map without end. */
export const RATE_LIMIT_MAX_KEYS = 100_000;

export interface EventRateLimits {
  perDevice: number;
  perMember: number;
}

/** What a batch may send now, and the limit with less room left: the one that holds back any rest. */
export interface RateLimitGrant {
  granted: number;
  limitedBy: 'device' | 'member';
}

export class EventRateLimit {
  private window = -1;
  private readonly devices = new Map<string, number>();
  private readonly members = new Map<string, number>();

  constructor(
    private readonly limits: EventRateLimits,
    private readonly maxKeys = RATE_LIMIT_MAX_KEYS,
  ) {}

  /** How many of `wanted` events the device (and its member, if any) may send now; those count against both. */
  take(deviceId: string, memberId: string | null, wanted: number, now: Date): RateLimitGrant {
    const window = Math.floor(now.getTime() / 60_000);
    if (window !== this.window) {
      this.window = window;
      this.devices.clear();
      this.members.clear();
    }
    const deviceRoom = this.limits.perDevice - (this.devices.get(deviceId) ?? 0);
    const memberRoom =
      memberId === null ? Infinity : this.limits.perMember - (this.members.get(memberId) ?? 0);
    const granted = Math.max(0, Math.min(wanted, deviceRoom, memberRoom));
    if (granted > 0) {
      this.count(this.devices, deviceId, granted);
      if (memberId !== null) this.count(this.members, memberId, granted);
    }
    return { granted, limitedBy: memberRoom < deviceRoom ? 'member' : 'device' };
  }

  private count(used: Map<string, number>, key: string, granted: number): void {
    const before = used.get(key);
    // A full map forgets the key counted first this minute: for a device, no more than a made-up id would get;
    // a member's is forgotten only when that many members send in one minute.
    if (before === undefined && used.size >= this.maxKeys) used.delete(used.keys().next().value!);
    used.set(key, (before ?? 0) + granted);
  }
}
