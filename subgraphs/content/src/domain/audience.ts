// The member as placement rules see them, built from the attributes the gateway hands content via @requires, the
// products the products subgraph says suit them, and what analytics says (exposures today, creative scores).
import { z } from 'zod';
import { profileOfMember, type TargetProfile } from '@bank-hub/targeting';
import type { Channel, ProductType } from '../models/page';

/** The representation as it arrives: an id and whatever @requires brought along, unchecked. */
export type MemberRef = { id: string } & Record<string, unknown>;

/** The attributes `Member.page` @requires, as content checks them (see parseRepresentation). */
export const MemberInputs = z.object({
  id: z.string(),
  segmentCodes: z.array(z.string()),
  level: z.object({ code: z.string(), rank: z.number().int() }),
  riskLevel: z.enum(['R1', 'R2', 'R3', 'R4', 'R5']),
  lifecycleStage: z.string(),
  affinityKeys: z.array(z.string()),
});
export type TargetedMember = z.infer<typeof MemberInputs>;

/** The attributes `Member.recommendedProducts` @requires. */
export const SuitabilityInputs = MemberInputs.pick({ id: true, riskLevel: true, affinityKeys: true });
export type SuitabilityProfile = z.infer<typeof SuitabilityInputs>;

/** A product the products subgraph vouched for: suitable for the member and sold on the page's channel. */
export interface SuitableProduct {
  productId: string;
  type: ProductType;
}

export interface Audience {
  memberId: string;
  profile: TargetProfile;
  /** Suitable products, best match first; null when the products subgraph could not say (then none are placed). */
  suitableProducts: readonly SuitableProduct[] | null;
  /** Impressions today per creative; null when analytics could not say (then no cap is applied). */
  exposures: ReadonlyMap<string, number> | null;
  /** The creative bandit's scores; null when analytics could not say (then equal priorities keep id order). */
  scores: ReadonlyMap<string, number> | null;
  now: Date;
}

export function audienceOf(
  member: TargetedMember,
  channel: Channel,
  now: Date,
  known: Pick<Audience, 'suitableProducts' | 'exposures' | 'scores'>,
): Audience {
  return { memberId: member.id, profile: profileOfMember(member, { now, channel }), ...known, now };
}
