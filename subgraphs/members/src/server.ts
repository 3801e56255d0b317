// Builds the members subgraph server on a database connection, with the points recovery pass, which stops with the
// server; `index.ts` only reads config and listens.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  recordPersonalDataReads,
  scheduleJob,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { createContext, type MembersContext } from './context';
import { memberDefinitions } from './definitions';
import { openRepositories } from './models';
import { recoverPoints } from './points-recovery';
import { resolvers } from './resolvers';

export const membersTypeDefs = readSubgraphSchema(__dirname);

export async function buildMembersServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(dependencies.connection);
  const { config, logger } = dependencies;
  const recovery = scheduleJob(
    'points-recovery',
    config.POINTS_RECOVERY_INTERVAL_MS,
    () => recoverPoints(repos, logger),
    logger,
    config.POINTS_RECOVERY_INTERVAL_MS,
  );
  const definitions = memberDefinitions(repos, { refreshMs: config.SNAPSHOT_REFRESH_MS, logger });
  return createSubgraphServer<MembersContext>({
    name: 'members',
    typeDefs: membersTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<MembersContext>,
    dependencies,
    auditLog: repos.audit,
    context: createContext(repos, definitions, dependencies.config.BANK_TIME_ZONE),
    plugins: [recordPersonalDataReads<MembersContext>(repos.audit)],
    warmUp: () => definitions.get(),
    onStop: () => recovery.stop(),
  });
}
