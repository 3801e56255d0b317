// Builds the messages subgraph server on a database connection, with its background work: the scheduler (plans due
// occurrences and event triggers), the sender (sends what is due, falls FIVE_G back to SMS, relays events to
// analytics) and the conversions job. They stop with the server, after the run under way.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  BankCalendar,
  createSubgraphServer,
  readSubgraphSchema,
  recordPersonalDataReads,
  scheduleJob,
  type HttpGraphQLServer,
  type HubConfig,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { runConversionsJob } from './campaigns/conversions-job';
import { runScheduler } from './campaigns/scheduler';
import { createContext, type MessagesContext } from './context';
import { relayMessageEvents } from './events/relay';
import { openRepositories, type MessagesRepositories } from './models';
import type { ProviderAdapter } from './outbox/adapters/adapter';
import { HttpProvider } from './outbox/adapters/http';
import { LocalProvider } from './outbox/adapters/local';
import { fallBackOverdue } from './outbox/fallback';
import { outboxMetrics } from './outbox/metrics';
import { receiptsRoute } from './outbox/receipts';
import { sendDue, type SendRules } from './outbox/worker';
import { resolvers } from './resolvers';

export const messagesTypeDefs = readSubgraphSchema(__dirname);

/** How long a worker holds a send batch before another may take it over. */
const BATCH_LEASE_MS = 30_000;

export function providerFor(config: HubConfig, repos: MessagesRepositories): ProviderAdapter {
  return config.MESSAGES_PROVIDER === 'http' && config.MESSAGES_PROVIDER_URL
    ? new HttpProvider(config.MESSAGES_PROVIDER_URL, config.MESSAGES_PROVIDER_TOKEN ?? null)
    : new LocalProvider(repos.localDeliveries);
}

/** How long after deciding a message may be handed over on the consent read then (see SendRules). */
const CONSENT_RECHECK_MS = 1_000;

export function sendRulesOf(config: HubConfig, leaseMs = BATCH_LEASE_MS): SendRules {
  return {
    contact: {
      budget: config.MESSAGES_CONTACT_BUDGET,
      budgetWindowMs: config.MESSAGES_CONTACT_BUDGET_DAYS * 86_400_000,
      caps: config.MESSAGES_CHANNEL_DAILY_CAPS,
    },
    maxAttempts: config.MESSAGES_MAX_ATTEMPTS,
    retryBaseMs: config.MESSAGES_RETRY_BASE_MS,
    leaseMs,
    unsubscribeBase: config.MESSAGES_UNSUBSCRIBE_URL,
    linkSecret: config.SUBGRAPH_SECRET,
    consentRecheckMs: CONSENT_RECHECK_MS,
    bankTimeZone: config.BANK_TIME_ZONE,
  };
}

export async function buildMessagesServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const { config, graph, logger } = dependencies;
  const repos = await openRepositories(dependencies.connection);
  const provider = providerFor(config, repos);
  const rules = sendRulesOf(config);
  const calendar = new BankCalendar(config.BANK_TIME_ZONE);
  const scheduler = scheduleJob(
    'messages-scheduler',
    config.MESSAGES_SCHEDULER_INTERVAL_MS,
    () => runScheduler({ repos, graph, logger, calendar }),
    logger,
    config.MESSAGES_SCHEDULER_INTERVAL_MS,
  );
  const sender = scheduleJob(
    'messages-send',
    config.MESSAGES_SEND_INTERVAL_MS,
    async () => {
      await sendDue({ repos, provider, rules, logger });
      await fallBackOverdue(repos, config.MESSAGES_FIVE_G_RECEIPT_TIMEOUT_MS);
      // Last: analytics being down delays its events, never a message.
      await relayMessageEvents({ relay: repos.relay, graph, logger });
    },
    logger,
    config.MESSAGES_SEND_INTERVAL_MS,
  );
  // First 15 s after start, like analytics' jobs: a starting process serves before it counts.
  const conversions = scheduleJob(
    'campaign-conversions',
    config.CAMPAIGN_CONVERSIONS_INTERVAL_MS,
    () => runConversionsJob({ repos, graph, logger }),
    logger,
    15_000,
  );
  return createSubgraphServer<MessagesContext>({
    name: 'messages',
    typeDefs: messagesTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<MessagesContext>,
    dependencies,
    auditLog: repos.audit,
    context: createContext({
      repos,
      graph,
      linkHosts: new Set(config.CREATIVE_LINK_HOSTS),
      linkSecret: config.SUBGRAPH_SECRET,
      unsubscribeBase: config.MESSAGES_UNSUBSCRIBE_URL,
      calendar,
    }),
    plugins: [recordPersonalDataReads<MessagesContext>(repos.audit)],
    routes: receiptsRoute({ repos, secret: config.MESSAGES_RECEIPT_SECRET, logger }),
    metrics: outboxMetrics(repos.outbox, logger),
    onStop: async () => {
      await Promise.all([scheduler.stop(), sender.stop(), conversions.stop()]);
      await provider.close();
    },
  });
}
