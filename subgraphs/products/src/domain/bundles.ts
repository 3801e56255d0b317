// Which bundles a member may buy: active and current, the rule matches, and every product is on sale and suitable.
// A bundle with any unsuitable product is withheld whole: its terms were set for the whole set.
import { evaluate, profileOfMember, type MemberAttributes } from '@bank-hub/targeting';
import type { BundleDoc } from '../models/bundle';
import { isSuitable, type RiskLevel } from './suitability';

/** The member a bundle is offered to: targeting attributes, and a risk level that may be unknown. */
export type BundleMember = MemberAttributes & { riskLevel: RiskLevel | null };

export interface BundleProduct {
  _id: string;
  riskLevel: RiskLevel;
  status: string;
}

export function eligibleBundles(
  bundles: readonly BundleDoc[],
  products: ReadonlyMap<string, BundleProduct>,
  member: BundleMember,
  now: Date,
): BundleDoc[] {
  const profile = profileOfMember(member, { now });
  return bundles.filter(
    (bundle) =>
      bundle.status === 'ACTIVE' &&
      bundle.validFrom <= now &&
      now < bundle.validTo &&
      (!bundle.rule || evaluate(bundle.rule, profile)) &&
      bundle.productIds.length > 0 &&
      bundle.productIds.every((id) => {
        const product = products.get(id);
        return (
          product !== undefined &&
          product.status === 'ON_SALE' &&
          isSuitable(product.riskLevel, member.riskLevel)
        );
      }),
  );
}
