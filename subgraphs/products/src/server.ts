// Builds the products subgraph server on a database connection; `index.ts` only reads config and listens.
import type { Connection } from 'mongoose';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  type HttpGraphQLServer,
  type Logger,
} from '@bank-hub/shared';
import { createContext, type ProductsContext } from './context';
import type { PageDirectory } from './flows/content-pages';
import type { MemberRiskSource } from './flows/member-risk';
import { openRepositories } from './models';
import { resolvers } from './resolvers';

export const productsTypeDefs = readSubgraphSchema(__dirname);

export async function buildProductsServer(options: {
  connection: Connection;
  subgraphSecret: string;
  logger: Logger;
  /** Where the run API reads a member's risk tolerance before a purchase. */
  memberRisk: MemberRiskSource;
  /** Where flow validation learns which pages exist. */
  pages: PageDirectory;
  flowSessionTtlMinutes: number;
}): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(options.connection);
  return createSubgraphServer<ProductsContext>({
    name: 'products',
    typeDefs: productsTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<ProductsContext>,
    subgraphSecret: options.subgraphSecret,
    logger: options.logger,
    context: createContext(repos, options.memberRisk, options.flowSessionTtlMinutes, options.pages),
    connection: options.connection,
  });
}
