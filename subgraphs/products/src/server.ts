// Builds the products subgraph server on a database connection; `index.ts` only reads config and listens.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  createSubgraphServer,
  readSubgraphSchema,
  relayEvents,
  scheduleJob,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { productCatalogue } from './catalogue';
import { createContext, type ProductsContext } from './context';
import { queueCompletedFlows } from './flows/completion-event';
import { graphPageDirectory } from './flows/content-pages';
import { graphBenefitDirectory } from './flows/engagement-benefits';
import { graphMemberRisk } from './flows/member-risk';
import { purgeAbandonedSessions } from './flows/runner';
import { openRepositories } from './models';
import { resolvers } from './resolvers';

export const productsTypeDefs = readSubgraphSchema(__dirname);

/** How often abandoned flow sessions are purged; not left to a TTL index, which the Java stand-in never runs. */
const SESSION_PURGE_INTERVAL_MS = 10 * 60_000;

export async function buildProductsServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const repos = await openRepositories(dependencies.connection);
  const purge = scheduleJob(
    'flow-session-purge',
    SESSION_PURGE_INTERVAL_MS,
    () => purgeAbandonedSessions(repos, new Date()),
    dependencies.logger,
    SESSION_PURGE_INTERVAL_MS,
  );
  // Completed flows reach analytics from products' own queue: analytics being down delays them, never a member.
  const relayInterval = dependencies.config.FLOW_EVENT_RELAY_INTERVAL_MS;
  const relay = scheduleJob(
    'flow-event-relay',
    relayInterval,
    async () => {
      await queueCompletedFlows(repos);
      return relayEvents({
        relay: repos.relay,
        graph: dependencies.graph,
        logger: dependencies.logger,
        service: 'products',
        channel: 'MINI_PROGRAM',
      });
    },
    dependencies.logger,
    relayInterval,
  );
  const catalogue = productCatalogue(repos, {
    refreshMs: dependencies.config.SNAPSHOT_REFRESH_MS,
    logger: dependencies.logger,
  });
  return createSubgraphServer<ProductsContext>({
    name: 'products',
    typeDefs: productsTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<ProductsContext>,
    dependencies,
    auditLog: repos.audit,
    // Purchases read the member's current risk tolerance from members, flow validation which pages exist from
    // content, flow and bundle validation which benefits from engagement, bundle rules' codes from members, all
    // through the graph.
    context: createContext({
      repos,
      catalogue,
      graph: dependencies.graph,
      memberRisk: graphMemberRisk(dependencies.graph),
      flowSessionTtlMinutes: dependencies.config.FLOW_SESSION_TTL_MINUTES,
      pages: graphPageDirectory(dependencies.graph),
      benefits: graphBenefitDirectory(dependencies.graph),
      bankCurrency: dependencies.config.BANK_CURRENCY,
      attestationSecret: dependencies.config.FLOW_ATTESTATION_SECRET,
    }),
    warmUp: () => catalogue.get(),
    onStop: async () => {
      await Promise.all([purge.stop(), relay.stop()]);
    },
  });
}
