// A member's recommendations, given along with their page: products' own answer to which products suit the member
// on any channel (products alone decides suitability), asked and kept with the page's other inputs, so that the page
// needs no fetch of its own to products.
import type { ContentContext } from './context';
import type { SuitabilityProfile } from './domain/audience';
import { unavailable, type ProductCardFields } from './graph-inputs';

/** The first `count` products products ranks for the member; SERVICE_UNAVAILABLE (products) when it cannot say. */
export async function recommendedProducts(
  ctx: ContentContext,
  member: SuitabilityProfile,
  count: number,
): Promise<ProductCardFields[]> {
  const inputs = await ctx.loaders.pageInputs.load({
    memberId: member.id,
    suitability: { riskLevel: member.riskLevel, affinityKeys: member.affinityKeys, channel: null },
    exposures: false,
    scoreIds: [],
    activityIds: [],
  });
  if (!inputs.suitableProducts) throw unavailable('products', inputs.unanswered.products);
  return inputs.suitableProducts.slice(0, count).map((suitable) => suitable.product);
}
