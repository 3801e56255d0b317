// Builds the content subgraph server on a database connection; `index.ts` only reads config and listens.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { createContext, type ContentContext } from './context';
import { openRepositories } from './models';
import { graphInputs } from './graph-inputs';
import { publishedContent } from './published';
import { resolvers } from './resolvers';

export const contentTypeDefs = readSubgraphSchema(__dirname);

export async function buildContentServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(dependencies.connection);
  const published = publishedContent(repos, {
    refreshMs: dependencies.config.SNAPSHOT_REFRESH_MS,
    logger: dependencies.logger,
  });
  return createSubgraphServer<ContentContext>({
    name: 'content',
    typeDefs: contentTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<ContentContext>,
    dependencies,
    auditLog: repos.audit,
    context: createContext(
      repos,
      published,
      graphInputs(dependencies.graph, { reuseMs: dependencies.config.SNAPSHOT_REFRESH_MS }),
      new Set(dependencies.config.CREATIVE_LINK_HOSTS),
    ),
    warmUp: () => published.get(),
  });
}
