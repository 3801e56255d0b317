// Builds the analytics subgraph server on a database connection: the event sink with its rollup writer, the per-device
// rate limit, and the job that rebuilds ended days' rollups; all of them stop with the server.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { collectRoute } from './collect-route';
import { createContext, type AnalyticsContext } from './context';
import { DeviceRateLimit } from './domain/rate-limit';
import { openRepositories } from './models';
import { TrackingPlanCache } from './plan-cache';
import { resolvers } from './resolvers';
import { startRollupJob } from './rollup-job';
import { MongoEventSink, RollupWriter } from './sink';

export const analyticsTypeDefs = readSubgraphSchema(__dirname);

export async function buildAnalyticsServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const { config, logger } = dependencies;
  const repos = await openRepositories(dependencies.connection);
  const sink = new MongoEventSink(repos.events, new RollupWriter(repos.rollups, logger));
  const job = startRollupJob(repos, logger, config.ROLLUP_REBUILD_INTERVAL_MS);
  const plan = new TrackingPlanCache(repos.plan);
  const rateLimit = new DeviceRateLimit(config.EVENTS_PER_DEVICE_PER_MINUTE);
  return createSubgraphServer<AnalyticsContext>({
    name: 'analytics',
    typeDefs: analyticsTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<AnalyticsContext>,
    dependencies,
    context: createContext(repos, plan, sink, rateLimit),
    routes: collectRoute({ sink, rateLimit, plan: () => plan.get() }),
    // Acknowledged events are already stored; what waits is their rollup increments.
    onStop: async () => {
      job.stop();
      await sink.close();
    },
  });
}
