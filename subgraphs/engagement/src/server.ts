// Builds the engagement subgraph server on a database connection.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { createContext, type EngagementContext } from './context';
import { graphMemberPoints } from './members-points';
import { openRepositories } from './models';
import { resolvers } from './resolvers';

export const engagementTypeDefs = readSubgraphSchema(__dirname);

export async function buildEngagementServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(dependencies.connection);
  return createSubgraphServer<EngagementContext>({
    name: 'engagement',
    typeDefs: engagementTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<EngagementContext>,
    dependencies,
    context: createContext({
      repos,
      graph: dependencies.graph,
      points: graphMemberPoints(dependencies.graph),
    }),
  });
}
