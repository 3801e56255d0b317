// Starts the products subgraph alone on a free port over a seeded database of the test file's own.
import type { HubConfig } from '@bank-hub/shared';
import { startSubgraph, type SendAs, type SubgraphUnderTest } from '../../../test/support/subgraph';
import type { GraphQLResponse } from '../../../test/support/env';
import products from '../src/descriptor';
import type { ProductsRepositories } from '../src/models';
import { PRODUCTS } from '../src/seed';
import type { RiskLevel } from '../src/domain/suitability';

export type Send = SendAs;
export type ProductsUnderTest = SubgraphUnderTest<ProductsRepositories>;

export const startProducts = (
  label: string,
  options: { config?: Partial<HubConfig> } = {},
): Promise<ProductsUnderTest> =>
  // Alone, the subgraph has no graph to ask for a member's risk or for pages; these tests neither purchase nor
  // validate flows that show pages.
  startSubgraph(label, products, options);

/** The seed's record of a product, to check answers against data the test did not get from the server. */
export function seeded(id: string) {
  const product = PRODUCTS.find((candidate) => candidate._id === id);
  if (!product) throw new Error(`${id} is not in the seed`);
  return product;
}

/** Risk levels compared by rank, written out independently of the module under test. */
export const riskRank = (level: RiskLevel): number => Number(level.slice(1));

/** The first GraphQL error's code and field, the two things a client may switch on. */
export function firstError(response: GraphQLResponse): { code: unknown; field: unknown } | undefined {
  const error = response.errors?.[0];
  return error && { code: error.extensions?.code, field: error.extensions?.field };
}
