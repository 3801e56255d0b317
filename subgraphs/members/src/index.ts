// Runs the members subgraph as its own process (e.g. in docker-compose) against MONGODB_URI.
import { runSubgraph } from '@bank-hub/shared';
import { buildMembersServer } from './server';

runSubgraph(
  'members',
  (config) => config.MEMBERS_PORT,
  (connection, config, logger) =>
    buildMembersServer({ connection, subgraphSecret: config.SUBGRAPH_SECRET, logger }),
);
