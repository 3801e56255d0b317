// Runs the products subgraph as its own process (e.g. in docker-compose) against MONGODB_URI.
import { GraphClient, runSubgraph } from '@bank-hub/shared';
import { graphPageDirectory } from './flows/content-pages';
import { graphMemberRisk } from './flows/member-risk';
import { buildProductsServer } from './server';

runSubgraph(
  'products',
  (config) => config.PRODUCTS_PORT,
  (connection, config, logger) =>
    buildProductsServer({
      connection,
      subgraphSecret: config.SUBGRAPH_SECRET,
      logger,
      memberRisk: graphMemberRisk(new GraphClient(() => config.GATEWAY_URL, config.SUBGRAPH_SECRET)),
      pages: graphPageDirectory(new GraphClient(() => config.GATEWAY_URL, config.SUBGRAPH_SECRET)),
      flowSessionTtlMinutes: config.FLOW_SESSION_TTL_MINUTES,
    }),
);
