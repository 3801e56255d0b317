// The member as placement rules see them, built from the attributes the gateway hands content via @requires.
import { profileOfMember, type TargetProfile } from '@bank-hub/targeting';
import type { Channel, ProductType } from '../models/page';

export interface MemberRef {
  id: string;
  segmentCodes?: string[] | null;
  level?: { code: string; rank: number } | null;
  riskLevel?: string | null;
  lifecycleStage?: string | null;
  affinityKeys?: string[] | null;
  suitableProducts?: SuitableProduct[] | null;
}

export interface SuitableProduct {
  productId: string;
  type: ProductType;
  channels: Channel[];
}

export interface Audience {
  memberId: string;
  profile: TargetProfile;
  /** Products the products subgraph ranked suitable for this member and sold on this channel, best first. */
  suitableProducts: readonly SuitableProduct[];
  now: Date;
}

export function audienceOf(member: MemberRef, channel: Channel, now: Date): Audience {
  return {
    memberId: member.id,
    profile: profileOfMember(member, { now, channel }),
    // Missing means the products subgraph did not vouch for any product: offer none.
    suitableProducts: (member.suitableProducts ?? []).filter((product) => product.channels.includes(channel)),
    now,
  };
}
