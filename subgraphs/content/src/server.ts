// Builds the content subgraph server on a database connection; `index.ts` only reads config and listens.
import type { Connection } from 'mongoose';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  type HttpGraphQLServer,
  type Logger,
} from '@bank-hub/shared';
import { createContext, type ContentContext } from './context';
import { openRepositories } from './models';
import type { ProductCatalog } from './product-catalog';
import { resolvers } from './resolvers';

export const contentTypeDefs = readSubgraphSchema(__dirname);

export async function buildContentServer(options: {
  connection: Connection;
  subgraphSecret: string;
  logger: Logger;
  catalog: ProductCatalog;
  /** CREATIVE_LINK_HOSTS: where an https link on a creative may point. */
  creativeLinkHosts: readonly string[];
}): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(options.connection);
  return createSubgraphServer<ContentContext>({
    name: 'content',
    typeDefs: contentTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<ContentContext>,
    subgraphSecret: options.subgraphSecret,
    logger: options.logger,
    context: createContext(repos, options.catalog, new Set(options.creativeLinkHosts)),
    connection: options.connection,
  });
}
