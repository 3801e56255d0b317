// Builds the analytics subgraph server on a database connection: the event sink with its rollup writer, the per-device
// and per-member rate limits, and the background jobs (rebuilding ended days' rollups, the lifecycle job, training the
// creative bandit and the send-time model, the hub's part in federated rounds, measuring topics' heat); all of them stop
// with the server.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import {
  BankCalendar,
  Cached,
  createSubgraphServer,
  readSubgraphSchema,
  scheduleJob,
  type HttpGraphQLServer,
  type SubgraphDependencies,
} from '@bank-hub/shared';
import { ensureDefaultModels } from './authored-models';
import { participateAsHub } from './federated-job';
import { BANDIT_MODEL_NAME, trainCreativeBandit } from './bandit-job';
import { collectRoute } from './collect-route';
import { createContext, type AnalyticsContext } from './context';
import { EventRateLimit } from './domain/rate-limit';
import { dayBoundsOf } from './domain/rollups';
import { SERVICE_IDENTITY, runLifecycleJob } from './lifecycle-job';
import { openRepositories } from './models';
import { resolvers } from './resolvers';
import { ensureRecordedProperties } from './seed';
import { rebuildRecentDays } from './rollup-job';
import { runTopicHeatJob } from './topic-heat-job';
import { loadActiveBandit } from './scores';
import { SEND_TIME_MODEL_NAME, trainSendTime } from './send-time-job';
import { trainOnceAnInterval } from './scheduled-training';
import { MongoEventSink, RollupWriter } from './sink';

export const analyticsTypeDefs = readSubgraphSchema(__dirname);

/** Jobs wait this long after start, so a starting hub answers first. */
const FIRST_RUN_DELAY_MS = 15_000;

export async function buildAnalyticsServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer> {
  const { config, logger, graph } = dependencies;
  const repos = await openRepositories(dependencies.connection);
  // Before the plan is first read: a plan seeded before a service's property would drop that service's events.
  await ensureRecordedProperties(repos);
  // A registry seeded before the rating model existed gets its default: the lifecycle job needs an active one.
  await ensureDefaultModels(repos.models, SERVICE_IDENTITY.subject!, new Date());
  // Once per server: every day bucket of analytics is the bank's business day.
  const calendar = new BankCalendar(config.BANK_TIME_ZONE);
  const rollupWriter = new RollupWriter(
    repos.rollups,
    repos.exposures,
    calendar,
    logger,
    dayBoundsOf(config),
  );
  const sink = new MongoEventSink(repos.events, repos.writesInFlight, rollupWriter);
  const plan = new Cached(() =>
    repos.plan.all().then((all) => new Map(all.map((definition) => [definition._id, definition]))),
  );
  const bandit = new Cached(() => loadActiveBandit(repos.models), 5_000);
  const rateLimit = new EventRateLimit({
    perDevice: config.EVENTS_PER_DEVICE_PER_MINUTE,
    perMember: config.EVENTS_PER_MEMBER_PER_MINUTE,
  });
  const runLifecycle = (asOf: Date, requestId?: string) =>
    runLifecycleJob({ repos, graph, logger, calendar, bankCurrency: config.BANK_CURRENCY }, asOf, requestId);
  const jobs = [
    scheduleJob(
      'rollups',
      config.ROLLUP_REBUILD_INTERVAL_MS,
      () => rebuildRecentDays(repos, rollupWriter, calendar, logger),
      logger,
    ),
    scheduleJob(
      'lifecycle',
      config.LIFECYCLE_JOB_INTERVAL_MS,
      () => runLifecycle(new Date()),
      logger,
      FIRST_RUN_DELAY_MS,
    ),
    scheduleJob(
      'creative-bandit',
      config.MODEL_TRAINING_INTERVAL_MS,
      async () => {
        const now = new Date();
        const train = () => trainCreativeBandit(repos, calendar, SERVICE_IDENTITY.subject!, now);
        if (
          await trainOnceAnInterval(
            repos.leases,
            BANDIT_MODEL_NAME,
            config.MODEL_TRAINING_INTERVAL_MS,
            now,
            train,
          )
        )
          bandit.invalidate();
      },
      logger,
      FIRST_RUN_DELAY_MS,
    ),
    scheduleJob(
      'send-time',
      config.MODEL_TRAINING_INTERVAL_MS,
      () => {
        const now = new Date();
        const train = () => trainSendTime(repos, calendar, SERVICE_IDENTITY.subject!, now);
        return trainOnceAnInterval(
          repos.leases,
          SEND_TIME_MODEL_NAME,
          config.MODEL_TRAINING_INTERVAL_MS,
          now,
          train,
        );
      },
      logger,
      FIRST_RUN_DELAY_MS,
    ),
    scheduleJob(
      'federated-rounds',
      config.FEDERATED_ROUND_INTERVAL_MS,
      () => participateAsHub({ repos, calendar, logger, bankCurrency: config.BANK_CURRENCY }, new Date()),
      logger,
      FIRST_RUN_DELAY_MS,
    ),
    scheduleJob(
      'topic-heat',
      config.TOPIC_HEAT_INTERVAL_MS,
      () => runTopicHeatJob({ repos, graph, calendar, logger }),
      logger,
      FIRST_RUN_DELAY_MS,
    ),
  ];
  return createSubgraphServer<AnalyticsContext>({
    name: 'analytics',
    typeDefs: analyticsTypeDefs,
    // Codegen's resolver types are stricter than Apollo's map; the shapes are the same.
    resolvers: resolvers as GraphQLResolverMap<AnalyticsContext>,
    dependencies,
    auditLog: repos.audit,
    context: createContext({
      repos,
      plan,
      bandit,
      sink,
      rateLimit,
      graph,
      calendar,
      bankCurrency: config.BANK_CURRENCY,
      runLifecycle,
    }),
    routes: collectRoute({ sink, rateLimit, calendar, plan: () => plan.get() }),
    // Acknowledged events are already stored; what waits is their rollup increments.
    onStop: async () => {
      await Promise.all(jobs.map((job) => job.stop()));
      await sink.close();
    },
  });
}
