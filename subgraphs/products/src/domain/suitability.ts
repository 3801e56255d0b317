// THE suitability rule of the hub: which products a member may be offered. Content composes pages only from what
// `Query.suitableProducts` answers, so every product a member is ever shown has passed `isSuitable`.

import type { ProductType } from '../models/product';

/** Risk levels from lowest to highest; a level's position is its rank. */
export const RISK_LEVELS = ['R1', 'R2', 'R3', 'R4', 'R5'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const isRiskLevel = (value: unknown): value is RiskLevel =>
  (RISK_LEVELS as readonly unknown[]).includes(value);

/** What ranking needs to know about a product. */
export interface RankableProduct {
  _id: string;
  type: ProductType;
  riskLevel: RiskLevel;
  status: string;
  tags: readonly string[];
  annualRate: number | null;
}

// `indexOf` rather than a lookup object: a value from an untrusted representation such as "toString" must not
// find a rank by accident.
const rankOf = (level: unknown): number => RISK_LEVELS.indexOf(level as RiskLevel);

/**
 * Whether a product of `productRisk` may be offered to a member whose tolerance is `memberRisk`. Anything that is
 * not a known risk level, on either side, is never suitable: a member whose risk profile we do not know is
 * offered nothing risky rather than everything.
 */
export function isSuitable(productRisk: RiskLevel, memberRisk: RiskLevel | null | undefined): boolean {
  const product = rankOf(productRisk);
  const member = rankOf(memberRisk);
  return product >= 0 && member >= 0 && product <= member;
}

/** The risk levels at or below `level`, lowest first. */
export function riskLevelsUpTo(level: RiskLevel): RiskLevel[] {
  return RISK_LEVELS.slice(0, rankOf(level) + 1);
}

/** How many of the product's tags are among the member's affinity keys. */
export function affinityScore(
  product: Pick<RankableProduct, 'tags'>,
  affinityKeys: ReadonlySet<string>,
): number {
  return new Set(product.tags.filter((tag) => affinityKeys.has(tag))).size;
}

/**
 * The products on sale that suit the member, best first: most tags in common with the member's affinity keys,
 * then the better rate for the member (memberGain; products without a rate last), then by id so the order is stable.
 */
export function rankForMember<T extends RankableProduct>(
  products: readonly T[],
  member: { riskLevel: RiskLevel | null; affinityKeys: readonly string[] },
): T[] {
  const keys = new Set(member.affinityKeys);
  return products
    .filter((product) => product.status === 'ON_SALE' && isSuitable(product.riskLevel, member.riskLevel))
    .map((product) => ({ product, score: affinityScore(product, keys) }))
    .sort(
      (a, b) =>
        b.score - a.score ||
        compareGainsDesc(memberGain(a.product), memberGain(b.product)) ||
        compareIds(a.product._id, b.product._id),
    )
    .map(({ product }) => product);
}

/**
 * The tags of `products`, sorted and distinct: an affinity key outside them scores nothing in affinityScore, so
 * rankForMember ranks the same with or without it.
 */
export function rankingTags(products: readonly Pick<RankableProduct, 'tags'>[]): string[] {
  return [...new Set(products.flatMap((product) => product.tags))].sort();
}

/**
 * What a product's rate is worth to the member, higher is better: what they earn on a deposit, wealth product or
 * fund, but what they pay on a loan, so the cheapest loan is recommended first and, at equal affinity, a loan
 * after anything that earns. Null without a rate.
 */
export function memberGain(product: Pick<RankableProduct, 'type' | 'annualRate'>): number | null {
  if (product.annualRate === null) return null;
  return product.type === 'LOAN' ? -product.annualRate : product.annualRate;
}

const compareGainsDesc = (a: number | null, b: number | null): number =>
  a === b ? 0 : a === null ? 1 : b === null ? -1 : b - a;

// Code-unit order, as MongoDB sorts string ids, and independent of the process locale.
const compareIds = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
