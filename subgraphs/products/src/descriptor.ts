// The products subgraph as the rest of the hub sees it; subgraphs/registry.ts lists it.
import { schemaBeside, type SubgraphDescriptor } from '@bank-hub/shared';
import { openRepositories, type ProductsRepositories } from './models';
import { isSeeded, seedProducts } from './seed';
import { buildProductsServer } from './server';

const products: SubgraphDescriptor<ProductsRepositories> = {
  name: 'products',
  defaultPort: 4003,
  schemaPath: schemaBeside(__dirname),
  openRepositories,
  seed: seedProducts,
  isSeeded,
  buildServer: buildProductsServer,
};

export default products;
