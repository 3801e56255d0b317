// Builds the gateway: Apollo Gateway over the composed supergraph, identity, operation guards, the way it talks to
// subgraphs, Sandbox and health endpoints. `index.ts` only reads config and listens; tests build it on free ports.
import http from 'node:http';
import cors from 'cors';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import { ApolloGateway } from '@apollo/gateway';
import { MaxIntrospectionDepthRule, parse, type GraphQLFormattedError } from 'graphql';
import {
  Cached,
  ErrorCode,
  HubMetrics,
  answerUnknownRoutes,
  answerUnreadableRequests,
  formatError,
  jsonBody,
  listenApp,
  logRequests,
  logUnexpectedErrors,
  refuseBadBodies,
  requestId,
  requireBodyType,
  sendGraphQLError,
  type HttpGraphQLServer,
  type HubConfig,
  type Logger,
} from '@bank-hub/shared';
import { AddressBudget } from './address-budget';
import { createTokenVerifier } from './auth';
import { refusingClientDocuments } from './client-documents';
import { collector } from './collector';
import { receipts } from './receipts';
import { HubDataSource } from './data-source';
import { operationGuards } from './guards';
import {
  loadPersistedDocuments,
  persistedDocuments,
  type PersistedDocumentManifest,
} from './persisted-documents';
import { hubInputScalars } from './input-scalars';
import { fromHub, gatewayContext, type GatewayContext } from './request-context';
import { SubgraphClient } from './subgraph-client';
import { ownerOf, subgraphsOf } from './subgraphs';
import { trackEventsBudget } from './track-events-budget';
import { webAssets } from './web';

export type { GatewayContext };

export interface GatewayOptions {
  config: HubConfig;
  logger: Logger;
  supergraphSdl: string;
  /** Overrides the URLs in the supergraph, by subgraph name (tests use free ports). */
  subgraphUrls?: Record<string, string>;
  /** The channels' persisted documents; the checked-in manifest unless given. */
  persistedDocuments?: PersistedDocumentManifest;
}

export interface Gateway extends HttpGraphQLServer {
  /** Each subgraph's client, by name: its URL and how many requests it sent and shared. */
  subgraphs: ReadonlyMap<string, SubgraphClient>;
}

const READY_TIMEOUT_MS = 2_000;
const READY_MAX_AGE_MS = 1_000;

function readyUrl(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '') + '/ready';
  return url.toString();
}

/**
 * A subgraph may report that another one it depends on was unavailable (content cannot place products the products
 * subgraph did not vouch for). The gateway stamps every subgraph error with the subgraph that sent it; the client is
 * told which one was actually unavailable.
 */
function formatGatewayError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const result = formatError(formatted, error);
  const original = (error as { originalError?: { extensions?: Record<string, unknown> } }).originalError;
  const reported = original?.extensions?.serviceName;
  if (result.extensions?.code !== ErrorCode.SERVICE_UNAVAILABLE || typeof reported !== 'string')
    return result;
  return { ...result, extensions: { ...result.extensions, serviceName: reported } };
}

/**
 * graphql-js suggests names close to a misspelt one ("Did you mean \"viewer\"?", "… the enum value \"APP\"?"): with
 * introspection off, those hints would give the schema away a guess at a time.
 */
const withoutSchemaHints = (formatted: GraphQLFormattedError): GraphQLFormattedError => ({
  ...formatted,
  message: formatted.message.replace(/ ?Did you mean .+\?$/, ''),
});

export function buildGateway(options: GatewayOptions): Gateway {
  const { config, logger } = options;
  const metrics = new HubMetrics('gateway');
  const supergraph = parse(options.supergraphSdl);
  const clients = new Map(
    subgraphsOf(supergraph).map(({ name, url }) => [
      name,
      new SubgraphClient(name, options.subgraphUrls?.[name] ?? url, {
        connections: config.SUBGRAPH_CONNECTIONS,
      }),
    ]),
  );
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    logger,
    // Data sources read each fetch's parsed document: to tell queries (shareable) from mutations, and to name the
    // fields a fetch asked for when its subgraph cannot answer.
    queryPlannerConfig: { exposeDocumentNodeInFetchNode: true },
    // `npm run compose` composed and validated the checked-in supergraph (CI fails when it is stale or does not
    // compose); Apollo validates it again at every start outside NODE_ENV=production, which costs each start ~0.1 s.
    validateSupergraph: false,
    // Apollo shows its query plan to any request asking for it unless process.env.NODE_ENV says production; the
    // hub's own setting decides, whatever the process environment says.
    __exposeQueryPlanExperimental: config.NODE_ENV !== 'production',
    buildService: ({ name }) => {
      const client = clients.get(name);
      if (!client) throw new Error(`the supergraph names subgraph ${name}, which has no client`);
      return new HubDataSource(client, {
        timeoutMs: config.SUBGRAPH_TIMEOUT_MS,
        dedupe: config.SUBGRAPH_DEDUPE,
        metrics,
      });
    },
  });

  const app = express();
  const httpServer = http.createServer(app);
  answerUnreadableRequests(httpServer, logger);
  const production = config.NODE_ENV === 'production';
  // Introspection is for developers: on in development, off in production unless ALLOW_INTROSPECTION says so.
  const introspection = !production || config.ALLOW_INTROSPECTION;
  // One budget of anonymous events per client address for both doors, POST /collect and trackEvents at /graphql: a
  // client refused at one finds nothing fresh at the other.
  const addressBudget = new AddressBudget(config.EVENTS_PER_ADDRESS_PER_MINUTE);
  const apollo = new ApolloServer<GatewayContext>({
    gateway: refusingClientDocuments(gateway),
    includeStacktraceInErrorResponses: false,
    // Apollo's own warnings (e.g. a hostile document too deep to cache) as JSON lines, not bare console output.
    logger,
    formatError: introspection
      ? formatGatewayError
      : (formatted, error) => withoutSchemaHints(formatGatewayError(formatted, error)),
    introspection,
    validationRules: [
      // Refuses a document over the operation limits before the other rules spend time on it.
      operationGuards({
        maxDepth: config.MAX_QUERY_DEPTH,
        maxAliases: config.MAX_QUERY_ALIASES,
        maxFields: config.MAX_QUERY_FIELDS,
      }),
      // Bounds how deeply introspection may nest lists of types (fields → type → fields …), which would otherwise
      // multiply the answer's size level after level.
      MaxIntrospectionDepthRule,
    ],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      logUnexpectedErrors(logger),
      logRequests(),
      metrics.graphqlPlugin(),
      hubInputScalars(),
      trackEventsBudget(addressBudget),
      // Apollo's landing pages run scripts from Apollo's CDN on the hub's origin, where the console keeps an operator's
      // token for the tab: Sandbox in development only, and in production no page of Apollo's at all.
      production
        ? ApolloServerPluginLandingPageDisabled()
        : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    ],
  });

  app.disable('x-powered-by');
  // Whose X-Forwarded-For req.ip believes: express's own proxy-addr takes the right-most hop none of these is; with
  // none (the default) it is the connection's address, which no client can make up.
  app.set('trust proxy', config.TRUSTED_PROXIES);
  // GraphQL answers are no-store, so nobody revalidates them: no answer body is hashed for an ETag. Files keep theirs,
  // which sendFile and express.static derive from the file's size and time rather than from this function.
  app.set('etag', () => undefined);
  // A client's trace context neither names our trace nor decides whether it is recorded; a subgraph's call back does.
  app.use(requestId(logger, 'gateway', (req) => fromHub(req.headers, config.SUBGRAPH_SECRET)));
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  // The public port answers /metrics outside production, and in production only when configured to.
  if (config.GATEWAY_PUBLIC_METRICS ?? config.NODE_ENV !== 'production')
    app.get('/metrics', metrics.handler());
  // Whoever asks, the subgraphs are asked at most once a second: /ready is public, and each call fans out to all.
  const readiness = new Cached(
    () =>
      Promise.all(
        [...clients.values()]
          .sort((a, b) => a.name.localeCompare(b.name))
          .map(async ({ name, url }) => {
            try {
              const response = await fetch(readyUrl(url), { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
              return { name, ready: response.ok };
            } catch {
              return { name, ready: false };
            }
          }),
      ),
    READY_MAX_AGE_MS,
  );
  app.get('/ready', async (_req, res) => {
    const checks = await readiness.get();
    const ready = checks.length > 0 && checks.every((check) => check.ready);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', subgraphs: checks });
  });

  const verifyToken = createTokenVerifier(config, logger);
  app.use(webAssets(config));

  return {
    app,
    subgraphs: clients,
    async listen(port, host) {
      await apollo.start();
      const ingestion = ownerOf(supergraph, 'Mutation', 'trackEvents');
      app.use(
        collector({
          config,
          logger,
          verifyToken,
          ingestion: clients.get(ingestion ?? '') ?? null,
          addressBudget,
        }),
      );
      const messages = ownerOf(supergraph, 'Mutation', 'unsubscribe');
      app.use(receipts({ config, logger, messages: clients.get(messages ?? '') ?? null }));
      // Sandbox opens at the root as well as at /graphql.
      app.all(
        ['/', '/graphql'],
        cors(),
        requireBodyType(),
        jsonBody('256kb'),
        persistedDocuments(options.persistedDocuments ?? loadPersistedDocuments(), {
          only: config.PERSISTED_DOCUMENTS_ONLY,
          secret: config.SUBGRAPH_SECRET,
        }),
        (req, res, next) => {
          // A GET's document as Apollo Server reads it, from every parameter of the query string: Express's req.query
          // reads only the first 1,000, so a document behind 1,000 others went unmeasured.
          const queries: unknown[] =
            req.method === 'GET'
              ? new URL(req.url, 'http://gateway').searchParams.getAll('query')
              : [(req.body as { query?: unknown })?.query];
          const tooLarge = (query: unknown) =>
            typeof query === 'string' && Buffer.byteLength(query) > config.MAX_DOCUMENT_BYTES;
          if (queries.some(tooLarge)) {
            sendGraphQLError(
              res,
              413,
              ErrorCode.OPERATION_TOO_LARGE,
              `operation document is larger than ${config.MAX_DOCUMENT_BYTES} bytes`,
              { limit: config.MAX_DOCUMENT_BYTES },
            );
            return;
          }
          next();
        },
        expressMiddleware(apollo, { context: gatewayContext(config, logger, verifyToken) }),
      );
      app.use(answerUnknownRoutes);
      app.use(refuseBadBodies(logger));
      const running = await listenApp(apollo, httpServer, port, host);
      const privateMetrics =
        config.GATEWAY_METRICS_PORT === undefined
          ? null
          : await metrics.listen(config.GATEWAY_METRICS_PORT, host);
      return {
        ...running,
        async stop() {
          await running.stop();
          await privateMetrics?.stop();
          await Promise.all([...clients.values()].map((client) => client.close()));
        },
      };
    },
  };
}
