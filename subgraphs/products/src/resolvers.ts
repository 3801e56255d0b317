// Products resolvers: thin — read arguments and context, call a loader, a repository query or a domain function.
import { badInput, notFound } from '@bank-hub/shared';
import type { ProductsContext } from './context';
import { memberRefFrom } from './domain/member';
import { rankForMember, riskLevelsUpTo } from './domain/suitability';
import type { Resolvers } from './generated/resolvers';
import type { ProductPageFilter } from './models/product';
import { checkCount, decodeCursor, toConnection } from './pagination';

const MAX_PAGE = 100;
const MAX_RECOMMENDATIONS = 50;
const MAX_SEARCH_TEXT = 50;

async function catalogPage(
  ctx: ProductsContext,
  filter: ProductPageFilter,
  first: number | null | undefined,
  after: string | null | undefined,
) {
  const size = checkCount(first ?? 20, MAX_PAGE, 'first');
  const afterId = after ? decodeCursor(after, 'after') : null;
  const fetched = await ctx.repos.products.page(filter, size + 1, afterId);
  fetched.forEach((product) => ctx.loaders.productById.prime(product._id, product));
  return toConnection(fetched, size);
}

function searchText(text: string): string {
  const trimmed = text.trim();
  const length = [...trimmed].length;
  if (length < 1 || length > MAX_SEARCH_TEXT)
    throw badInput(`text must be 1 to ${MAX_SEARCH_TEXT} characters`, 'text');
  return trimmed;
}

export const resolvers: Resolvers = {
  Query: {
    product: async (_parent, { id }, ctx) => {
      const product = await ctx.loaders.productById.load(id);
      if (!product) throw notFound('product', id);
      return product;
    },
    products: (_parent, { type, channel, first, after }, ctx) =>
      catalogPage(ctx, { type, channel }, first, after),
    searchProducts: (_parent, { text, type, maxRiskLevel, first, after }, ctx) =>
      catalogPage(
        ctx,
        { text: searchText(text), type, riskLevels: maxRiskLevel ? riskLevelsUpTo(maxRiskLevel) : null },
        first,
        after,
      ),
  },

  Product: {
    __resolveReference: (reference, ctx) => ctx.loaders.productById.load(reference.id),
    id: (product) => product._id,
  },

  Member: {
    // No database: @requires makes the gateway bring the member's risk level and affinity keys along.
    __resolveReference: (reference) => memberRefFrom(reference),
    recommendedProducts: async (member, { first }, ctx) => {
      const count = checkCount(first ?? 5, MAX_RECOMMENDATIONS, 'first');
      return rankForMember(await ctx.loaders.onSale.load(), member).slice(0, count);
    },
    suitableProducts: async (member, _args, ctx) =>
      rankForMember(await ctx.loaders.onSale.load(), member).map((product) => ({
        productId: product._id,
        type: product.type,
        channels: product.channels,
      })),
  },
};
