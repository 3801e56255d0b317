// Builds the engagement subgraph server on a database connection, with the feed consumer that moves tasks'
// progress from analytics' events; it stops with the server.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  BankCalendar,
  createSubgraphServer,
  readSubgraphSchema,
  scheduleJob,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { consumeTaskEvents } from './activities/feed-consumer';
import { publishedActivities } from './activities/published';
import { activityCompletionRates, activityRankingModel } from './activities/recommendations';
import { KnownMembers } from './audience';
import { createContext, type EngagementContext } from './context';
import { graphMemberPoints } from './members-points';
import { openRepositories } from './models';
import { resolvers } from './resolvers';
import { createRewardGranter } from './rewards';

export const engagementTypeDefs = readSubgraphSchema(__dirname);

export async function buildEngagementServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const { config, graph, logger } = dependencies;
  const repos = await openRepositories(dependencies.connection);
  const calendar = new BankCalendar(config.BANK_TIME_ZONE);
  const granter = createRewardGranter({ repos, graph, calendar });
  const published = publishedActivities(repos, { refreshMs: config.SNAPSHOT_REFRESH_MS, logger });
  const feed = scheduleJob(
    'task-feed',
    config.TASK_FEED_INTERVAL_MS,
    () =>
      consumeTaskEvents({
        repos,
        referrals: repos,
        benefits: repos,
        graph,
        logger,
        granter,
        leases: repos.leases,
        cursors: repos.cursors,
        calendar,
        bankCurrency: config.BANK_CURRENCY,
      }),
    logger,
    config.TASK_FEED_INTERVAL_MS,
  );
  return createSubgraphServer<EngagementContext>({
    name: 'engagement',
    typeDefs: engagementTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<EngagementContext>,
    dependencies,
    auditLog: repos.audit,
    context: createContext({
      repos,
      graph,
      points: graphMemberPoints(graph),
      knownMembers: new KnownMembers(graph),
      granter,
      publishedActivities: published,
      activityRanking: activityRankingModel(graph, { refreshMs: config.SNAPSHOT_REFRESH_MS, logger }),
      completionRates: activityCompletionRates(repos, published),
      calendar,
      bankCurrency: config.BANK_CURRENCY,
    }),
    warmUp: () => published.get(),
    onStop: () => feed.stop(),
  });
}
