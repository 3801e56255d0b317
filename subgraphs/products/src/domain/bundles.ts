// Which bundles a member may buy: published and current, the rule matches, every product is on sale and suitable, and
// one channel sells them all. A bundle with any unsuitable product is withheld whole: its terms were set for the whole
// set; one whose products no channel sells together cannot be bought anywhere, nor one whose minimum total is more
// than its products' maximums per purchase add up to, nor one whose products no longer share the currency its minimum
// total is in.
import { toCents } from '@bank-hub/shared';
import { evaluate, profileOfMember, type MemberAttributes } from '@bank-hub/targeting';
import type { BundleDoc } from '../models/bundle';
import type { Channel } from '../models/product';
import { mostPerPurchaseInCents } from './purchase-limit';
import { isSuitable, type RiskLevel } from './suitability';

/** The member a bundle is offered to: targeting attributes, and a risk level that may be unknown. */
export type BundleMember = MemberAttributes & { riskLevel: RiskLevel | null };

export interface BundleProduct {
  _id: string;
  riskLevel: RiskLevel;
  status: string;
  channels: readonly Channel[];
  currency: string;
  maxAmount?: number | null;
}

/**
 * Whether buying each product of the bundle once can reach its minimum total (see maxPurchaseOf), in the one currency
 * they all share; compared in cents, as a minimum equal to the products' maximums together is reachable.
 */
function totalReachable(bundle: Pick<BundleDoc, 'minTotalAmount'>, products: readonly BundleProduct[]) {
  const oneCurrency = products.every((product) => product.currency === products[0]?.currency);
  return (
    oneCurrency &&
    Number.isFinite(bundle.minTotalAmount) &&
    toCents(bundle.minTotalAmount) <= mostPerPurchaseInCents(products)
  );
}

/** The channels that sell every product of the bundle (in the first product's order); none if one is missing. */
export function bundleChannels(
  bundle: Pick<BundleDoc, 'productIds'>,
  products: ReadonlyMap<string, Pick<BundleProduct, 'channels'>>,
): Channel[] {
  const found = bundle.productIds.flatMap((id) => products.get(id) ?? []);
  const [first] = found;
  if (!first || found.length < bundle.productIds.length) return [];
  return first.channels.filter((channel) => found.every((product) => product.channels.includes(channel)));
}

export function eligibleBundles(
  bundles: readonly BundleDoc[],
  products: ReadonlyMap<string, BundleProduct>,
  member: BundleMember,
  now: Date,
  channel: Channel | null = null,
): BundleDoc[] {
  const profile = profileOfMember(member, { now });
  return bundles.filter((bundle) => {
    const sellable = bundleChannels(bundle, products);
    return (
      bundle.status === 'PUBLISHED' &&
      bundle.validFrom <= now &&
      now < bundle.validTo &&
      (!bundle.rule || evaluate(bundle.rule, profile)) &&
      (channel ? sellable.includes(channel) : sellable.length > 0) &&
      bundle.productIds.every((id) => {
        const product = products.get(id);
        return (
          product !== undefined &&
          product.status === 'ON_SALE' &&
          isSuitable(product.riskLevel, member.riskLevel)
        );
      }) &&
      totalReachable(
        bundle,
        bundle.productIds.flatMap((id) => products.get(id) ?? []),
      )
    );
  });
}
