// How many events a device, and the member whose token sends them, may send per minute, counted in this process. A
// device id is whatever the client names, so a new one gets a fresh allowance: the member's limit is what holds a
// token back however many it makes up, and the gateway's per-address budget what holds back anonymous events.
import { MINUTE_COUNTS_MAX_KEYS, MinuteCounts } from '@bank-hub/shared';

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
  private readonly devices: MinuteCounts;
  private readonly members: MinuteCounts;

  constructor(
    private readonly limits: EventRateLimits,
    maxKeys = MINUTE_COUNTS_MAX_KEYS,
  ) {
    // Past `maxKeys`, a device forgotten gets no more than a made-up id would; a member's count is forgotten only
    // when that many members send in one minute.
    this.devices = new MinuteCounts(maxKeys);
    this.members = new MinuteCounts(maxKeys);
  }

  /** How many of `wanted` events the device (and its member, if any) may send now; those count against both. */
  take(deviceId: string, memberId: string | null, wanted: number, now: Date): RateLimitGrant {
    const deviceRoom = this.limits.perDevice - this.devices.used(deviceId, now);
    const memberRoom =
      memberId === null ? Infinity : this.limits.perMember - this.members.used(memberId, now);
    const granted = Math.max(0, Math.min(wanted, deviceRoom, memberRoom));
    if (granted > 0) {
      this.devices.add(deviceId, granted, now);
      if (memberId !== null) this.members.add(memberId, granted, now);
    }
    return { granted, limitedBy: memberRoom < deviceRoom ? 'member' : 'device' };
  }
}
