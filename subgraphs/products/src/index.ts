// Runs the products subgraph as its own process (e.g. in docker-compose) against MONGODB_URI.
import { runSubgraph } from '@bank-hub/shared';
import { buildProductsServer } from './server';

runSubgraph(
  'products',
  (config) => config.PRODUCTS_PORT,
  (connection, config, logger) =>
    buildProductsServer({ connection, subgraphSecret: config.SUBGRAPH_SECRET, logger }),
);
