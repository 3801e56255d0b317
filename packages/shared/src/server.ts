// The subgraph server factory: schema, identity context, error policy and health endpoints, built apart from
// listening so tests can start a subgraph on a free port with the very same code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Request, type Response } from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
} from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type DocumentNode } from 'graphql';
import { readFileSync } from 'node:fs';
import type { Connection } from 'mongoose';
import type { Registry } from 'prom-client';
import { auditLogResolvers, withAuditLog, type AuditLog } from './audit';
import { formatError, logUnexpectedErrors, PartialErrors, reportPartialErrors } from './error-policy';
import { logRequests } from './request-log';
import {
  DEADLINE_HEADER,
  answerUnknownRoutes,
  answerUnreadableRequests,
  deadlineFrom,
  jsonBody,
  refuseBadBodies,
  requestId,
  requestIdOf,
  requireBodyType,
} from './http';
import { IDENTITY_HEADER, verifyInternalIdentity, type Identity } from './identity';
import type { Logger } from './logger';
import { HubMetrics } from './metrics';
import { activeTraceId } from './tracing';
import { schemaBeside, type SubgraphDependencies } from './subgraph';

export interface BaseContext {
  identity: Identity;
  requestId: string;
  /** Logs with this request's id. */
  logger: Logger;
  /** Errors to report next to data the request still answers. */
  partial: PartialErrors;
  /** Until when the gateway waits for this request (epoch ms), passed on to calls this request makes. */
  deadline: number | null;
  /** Aborts when the gateway stops waiting for the answer: calls this request makes are cancelled with it. */
  signal: AbortSignal;
}

export interface RunningServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface HttpGraphQLServer {
  app: express.Express;
  listen(port: number, host: string): Promise<RunningServer>;
}

/** Starts an express app on host:port and returns its URL and a stop function. */
/** Connections waiting to be accepted, at most. */
const ACCEPT_BACKLOG = 4_096;

export async function listenApp(
  server: { start(): Promise<void>; stop(): Promise<void> } | null,
  httpServer: http.Server,
  port: number,
  host: string,
): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    // A rush (a thousand members claiming the last coupons at once) opens that many connections together; Node's
    // default accept queue of 511 would reset some. The kernel caps this at net.core.somaxconn.
    httpServer.listen({ port, host, backlog: ACCEPT_BACKLOG }, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  return {
    port: address.port,
    // An IPv6 address (HOST=::1) is bracketed in a URL, or the port reads as part of it.
    url: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}/graphql`,
    stop: async () => {
      await server?.stop();
      if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** Reads a subgraph's SDL, which sits beside its `src/` folder (`dir` is that folder, i.e. `__dirname`). */
export function readSubgraphSchema(dir: string): DocumentNode {
  return parse(readFileSync(schemaBeside(dir), 'utf8'));
}

async function pingDatabase(connection: Connection): Promise<void> {
  if (!connection.db) throw new Error('not connected to MongoDB');
  await connection.db.admin().ping();
}

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TContext>;
  /** Its database (/ready answers only while it does), config and logger. */
  dependencies: SubgraphDependencies;
  /** Its audit trail, which the server serves as `<name>AuditLog` (the SDL and resolvers of ./audit). */
  auditLog: AuditLog;
  /** Builds the per-request context (loaders, repositories) on top of the verified identity. */
  context: (base: BaseContext) => TContext;
  plugins?: ApolloServerPlugin<TContext>[];
  /** Finishes background work after the last request was answered (graceful shutdown). */
  onStop?: () => Promise<void>;
  /**
   * Loads what every page reads (its snapshots) before the server listens, so a process just started — a deploy, a
   * restart — answers its first pages as fast as the rest, and logs its snapshots' sizes at start. A failure is logged
   * and left to the first request, which loads again.
   */
  warmUp?: () => Promise<unknown>;
  /**
   * HTTP routes besides /graphql (e.g. analytics' event collector). They answer only requests the gateway signed, like
   * /graphql: `contextOf` verifies the identity and builds the request's base context.
   */
  routes?: (router: express.Router, contextOf: (req: Request, res: Response) => Promise<BaseContext>) => void;
  /** Figures of the subgraph's own for /metrics (e.g. messages' outbox depth), registered on its registry. */
  metrics?: (registry: Registry) => void;
}

/** The subgraph's resolvers with those the server adds of its own, type by type. */
function mergeResolvers<TContext>(
  own: GraphQLResolverMap<TContext>,
  added: Record<string, Record<string, unknown>>,
): GraphQLResolverMap<TContext> {
  const merged: Record<string, unknown> = { ...own };
  for (const [type, fields] of Object.entries(added))
    merged[type] = { ...(own[type] as Record<string, unknown> | undefined), ...fields };
  return merged as GraphQLResolverMap<TContext>;
}

export function createSubgraphServer<TContext extends BaseContext>(
  options: SubgraphServerOptions<TContext>,
): HttpGraphQLServer {
  const app = express();
  const httpServer = http.createServer(app);
  answerUnreadableRequests(httpServer, options.dependencies.logger);
  const metrics = new HubMetrics(options.name);
  metrics.observeDatabase(options.dependencies.connection);
  options.metrics?.(metrics.registry);
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema([
      {
        typeDefs: withAuditLog(options.name, options.typeDefs),
        resolvers: mergeResolvers(options.resolvers, auditLogResolvers(options.name, options.auditLog)),
      },
    ]),
    includeStacktraceInErrorResponses: false,
    // Apollo's own warnings (e.g. a hostile document too deep to cache) as JSON lines, not bare console output.
    logger: options.dependencies.logger,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      logUnexpectedErrors(options.dependencies.logger),
      reportPartialErrors(),
      logRequests(),
      metrics.graphqlPlugin(),
      // Traces are for Apollo Studio reporting, which this hub does not use.
      ApolloServerPluginInlineTraceDisabled(),
      // No schema carries cache hints and the gateway answers every page no-store, so computing a policy field by field
      // (a hook around every resolver) would be work nobody reads.
      ApolloServerPluginCacheControlDisabled(),
      ...(options.plugins ?? []),
    ],
  });
  app.disable('x-powered-by');
  // Answers are POSTed and never revalidated: an ETag would hash every response body for nobody.
  app.disable('etag');
  // Subgraphs listen on the private network, where only the hub's own processes call them: their traces continue.
  app.use(requestId(options.dependencies.logger, options.name, () => true));
  app.get('/health', (_req, res) => void res.json({ status: 'ok', subgraph: options.name }));
  // Subgraphs listen on the private network only: Prometheus scrapes them there.
  app.get('/metrics', metrics.handler());
  app.get('/ready', (_req, res) => {
    pingDatabase(options.dependencies.connection).then(
      () => res.json({ status: 'ready', subgraph: options.name }),
      // The reason goes to the log, never to the response: it may name internal addresses.
      (error: Error) => {
        options.dependencies.logger.warn(
          { reason: error.message },
          'not ready: the database does not answer',
        );
        res.status(503).json({ status: 'unavailable', subgraph: options.name });
      },
    );
  });

  return {
    app,
    async listen(port, host) {
      await apollo.start();
      try {
        await options.warmUp?.();
      } catch (error) {
        const reason = (error as Error).message;
        options.dependencies.logger.warn({ reason }, 'warm-up failed: the first request loads instead');
      }
      const contextOf = async (req: Request, res: Response): Promise<BaseContext> => {
        const header = req.headers[IDENTITY_HEADER];
        const identity = await verifyInternalIdentity(
          Array.isArray(header) ? header[0] : header,
          options.dependencies.config.SUBGRAPH_SECRET,
        );
        const requestId = requestIdOf(res);
        const abandoned = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) abandoned.abort();
        });
        return {
          identity,
          requestId,
          logger: options.dependencies.logger.child({ requestId, traceId: activeTraceId() }),
          partial: new PartialErrors(),
          deadline: deadlineFrom(req.headers[DEADLINE_HEADER]),
          signal: abandoned.signal,
        };
      };
      app.use(
        '/graphql',
        requireBodyType(),
        jsonBody('1mb'),
        expressMiddleware(apollo, {
          context: async ({ req, res }) => options.context(await contextOf(req, res)),
        }),
      );
      if (options.routes) {
        const router = express.Router();
        options.routes(router, contextOf);
        app.use(router);
      }
      app.use(answerUnknownRoutes);
      app.use(refuseBadBodies(options.dependencies.logger));
      const running = await listenApp(apollo, httpServer, port, host);
      return {
        ...running,
        async stop() {
          await running.stop();
          await options.onStop?.();
        },
      };
    },
  };
}
