// The channel ladder: FIVE_G, then SMS, then in-app. A member is reached on the best rung they can receive — by their
// phone (members says whether it is verified and takes 5G), the campaign variant's templates, and their consent — and
// a marketing message also on a rung whose daily cap it leaves room on. Plain functions; the worker applies them.
import { MESSAGE_CHANNELS, type MessageChannel } from '@bank-hub/shared';

export interface Reachability {
  phoneVerified: boolean;
  fiveGCapable: boolean;
}

/** Whether the member's phone can take a channel; everyone has an inbox. */
export function canReceive(channel: MessageChannel, member: Reachability): boolean {
  if (channel === 'FIVE_G') return member.phoneVerified && member.fiveGCapable;
  if (channel === 'SMS') return member.phoneVerified;
  return true;
}

/** The rungs a member can receive among the channels a variant has templates for, best first. */
export const ladderFor = (member: Reachability, channels: ReadonlySet<MessageChannel>): MessageChannel[] =>
  MESSAGE_CHANNELS.filter((channel) => channels.has(channel) && canReceive(channel, member));

export type Purpose = 'MARKETING' | 'SERVICE';

/** A member's consent on one channel: marketing must have been given; service must not have been withdrawn. */
export interface ConsentState {
  marketing: boolean;
  service: boolean;
}

export type ConsentsByChannel = Partial<Record<MessageChannel, Partial<ConsentState>>>;

export const DEFAULT_CONSENT: ConsentState = { marketing: false, service: true };

export function consents(consent: ConsentsByChannel, channel: MessageChannel, purpose: Purpose): boolean {
  const given = { ...DEFAULT_CONSENT, ...consent[channel] };
  return purpose === 'MARKETING' ? given.marketing : given.service;
}

/** The rungs of a ladder the member consents to for this purpose, best first. */
export const consentedRungs = (
  ladder: readonly MessageChannel[],
  consent: ConsentsByChannel,
  purpose: Purpose,
): MessageChannel[] => ladder.filter((channel) => consents(consent, channel, purpose));

/** The wait before retry `attempt` (1 for the first retry): base, doubled each time, at most ten minutes. */
export const backoffMs = (attempt: number, baseMs: number): number =>
  Math.min(baseMs * 2 ** Math.max(0, attempt - 1), 600_000);
