// The budget of anonymous events per client address and minute, for POST /collect and trackEvents alike: a device id
// is whatever the client names, so without it a client that makes up a new one for every batch could write without
// end. Counted in this process.
import { isIP } from 'node:net';
import { MINUTE_COUNTS_MAX_KEYS, MinuteCounts, secondsToNextMinute } from '@bank-hub/shared';

/** The eight 16-bit groups of a valid IPv6 address, a trailing dotted IPv4 part read as the last two. */
function ipv6Groups(address: string): number[] {
  let text = address;
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted.slice(1).map(Number);
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const groupsOf = (part: string) => (part ? part.split(':').map((group) => parseInt(group, 16)) : []);
  const front = groupsOf(head);
  if (tail === undefined) return front;
  const back = groupsOf(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/**
 * What one client's budget is kept under: an IPv4 address as it is (an IPv4-mapped IPv6 address included), an IPv6
 * address by its /64 — one subscriber's network, whose 2^64 addresses a client could otherwise take turns with.
 */
export function addressKey(address: string): string {
  const bare = address.split('%')[0]!;
  if (isIP(bare) !== 6) return bare;
  const groups = ipv6Groups(bare);
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join('.');
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/** What a refusal past the budget says, at either door. */
export const ADDRESS_BUDGET_SPENT = 'too many events from this address this minute';

export type AddressGrant = { granted: true } | { granted: false; retryAfterSeconds: number };

export class AddressBudget {
  private readonly used: MinuteCounts;

  /**
   * Past `maxKeys` addresses in a minute the one counted first is forgotten and starts afresh: memory stays bounded,
   * and only a client holding that many addresses, each a budget of its own anyway, gains by it.
   */
  constructor(
    private readonly perMinute: number,
    maxKeys = MINUTE_COUNTS_MAX_KEYS,
  ) {
    this.used = new MinuteCounts(maxKeys);
  }

  /**
   * Takes `events` from the budget of `address` when they all fit in what is left of it this minute, else nothing:
   * a body or an operation is forwarded whole or not at all, so the subgraph's answer needs no rewriting.
   */
  take(address: string, events: number, now: Date): AddressGrant {
    const key = addressKey(address);
    if (this.used.used(key, now) + events > this.perMinute)
      return { granted: false, retryAfterSeconds: secondsToNextMinute(now) };
    this.used.add(key, events, now);
    return { granted: true };
  }
}
