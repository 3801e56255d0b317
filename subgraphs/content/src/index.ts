// Runs the content subgraph as its own process (e.g. in docker-compose) against MONGODB_URI.
import { GraphClient, runSubgraph } from '@bank-hub/shared';
import { graphProductCatalog } from './product-catalog';
import { buildContentServer } from './server';

runSubgraph(
  'content',
  (config) => config.CONTENT_PORT,
  (connection, config, logger) =>
    buildContentServer({
      connection,
      subgraphSecret: config.SUBGRAPH_SECRET,
      logger,
      catalog: graphProductCatalog(new GraphClient(() => config.GATEWAY_URL, config.SUBGRAPH_SECRET)),
      creativeLinkHosts: config.CREATIVE_LINK_HOSTS,
    }),
);
