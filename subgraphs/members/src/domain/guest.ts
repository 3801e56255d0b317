// A guest: a visitor without a token who named their device. Built in memory, never stored, so a guest costs no
// member read and can never turn up in an operator's member list; targeted as a visitor who has not joined.
import { deviceOfGuest, guestMemberId } from '@bank-hub/shared';
import type { MemberDoc } from '../models/member';
import type { MembershipLevelDoc } from '../models/membership-level';
import type { ProfileView } from './masking';

/**
 * The guest a device stands for: lifecycle stage AWARENESS, the most conservative risk level (no suitability
 * assessment), the level of someone without growth points, no tags, no points and no personal data. A guest has not
 * registered; `registeredAt` is when they are seen.
 */
export function guestMember(deviceId: string, level: MembershipLevelDoc, now: Date): MemberDoc {
  return {
    _id: guestMemberId(deviceId),
    personal: { name: '', phone: '', idNumber: '' },
    attributes: {},
    tags: {},
    levelCode: level._id,
    levelRank: level.rank,
    points: 0,
    growthPoints: 0,
    riskLevel: 'R1',
    lifecycleStage: 'AWARENESS',
    lifecycleChangedAt: null,
    registeredAt: now,
    updatedAt: now,
    appliedEntries: [],
  };
}

export const isGuest = (member: Pick<MemberDoc, '_id'>): boolean => deviceOfGuest(member._id) !== null;

/** A guest has no personal data to mask; empty, not stars, so a channel can tell there is nothing to show. */
export const guestProfile = (memberId: string, bankTimeZone: string): ProfileView => ({
  memberId,
  name: '',
  phone: '',
  idNumber: '',
  unmasked: false,
  city: null,
  ageGroup: null,
  timeZone: bankTimeZone,
  phoneVerified: false,
  fiveGCapable: false,
});
