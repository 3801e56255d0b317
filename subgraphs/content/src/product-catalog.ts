// Whether a product exists and can still be placed, asked of the products subgraph through the graph on behalf
// of the operator (content never reads the products collection).
import { ErrorCode, hubError, type GraphClient, type Identity } from '@bank-hub/shared';

export interface ProductCatalog {
  /** True when the product exists and is not closed. */
  isPlaceable(operator: Identity, productId: string): Promise<boolean>;
}

const PRODUCT_QUERY = `query ProductForPlacement($id: ID!) { product(id: $id) { id status } }`;

export function graphProductCatalog(graph: GraphClient): ProductCatalog {
  return {
    async isPlaceable(operator, productId) {
      const response = await graph.query<{ product: { id: string; status: string } | null }>(
        operator,
        PRODUCT_QUERY,
        {
          id: productId,
        },
      );
      const unexpected = response.errors.filter((error) => error.extensions?.code !== ErrorCode.NOT_FOUND);
      if (unexpected.length > 0) {
        throw hubError(
          ErrorCode.SERVICE_UNAVAILABLE,
          'could not check the product with the products subgraph',
          {
            reason: unexpected[0]?.message,
          },
        );
      }
      const product = response.data?.product;
      return product !== null && product !== undefined && product.status !== 'CLOSED';
    },
  };
}
