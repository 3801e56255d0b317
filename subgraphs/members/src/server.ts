// Builds the members subgraph server on a database connection; `index.ts` only reads config and listens.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { createContext, type MembersContext } from './context';
import { memberDefinitions } from './definitions';
import { openRepositories } from './models';
import { resolvers } from './resolvers';

export const membersTypeDefs = readSubgraphSchema(__dirname);

export async function buildMembersServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(dependencies.connection);
  return createSubgraphServer<MembersContext>({
    name: 'members',
    typeDefs: membersTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<MembersContext>,
    dependencies,
    context: createContext(
      repos,
      memberDefinitions(repos, {
        refreshMs: dependencies.config.SNAPSHOT_REFRESH_MS,
        logger: dependencies.logger,
      }),
    ),
  });
}
