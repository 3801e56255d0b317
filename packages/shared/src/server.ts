// The subgraph server factory: schema, identity context, error policy and health endpoints, built apart from
// listening so tests can start a subgraph on a free port with the very same code.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { parse, type DocumentNode, type GraphQLFormattedError } from 'graphql';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { ErrorCode } from './errors';
import { jsonBody, refuseBadBodies, requestId, requestIdOf, requireBodyType } from './http';
import { IDENTITY_HEADER, verifyInternalIdentity, type Identity } from './identity';
import type { Logger } from './logger';
import { recognizedError } from './recognized-errors';

export interface BaseContext {
  identity: Identity;
  requestId: string;
  logger: Logger;
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

const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'DOWNSTREAM_SERVICE_ERROR',
]);

/**
 * The gateway's query planner rejects some documents graphql-js accepts (e.g. introspection of `isOneOf`, which its
 * schema lacks) with its own code; to a client that is a validation failure like any other.
 */
const CLIENT_CODES: Record<string, string> = { INVALID_GRAPHQL: 'GRAPHQL_VALIDATION_FAILED' };

/** Errors we raised on purpose pass through; anything else is logged and masked so no internals leak. */
export function formatErrorFor(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const recognized = recognizedError(formatted, error, logger);
    if (recognized) return recognized;
    const raw = formatted.extensions?.code;
    const code = typeof raw === 'string' ? (CLIENT_CODES[raw] ?? raw) : raw;
    if (typeof code === 'string' && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      // `response` is what a failed subgraph answered, internal addresses included: never for clients.
      const { stacktrace: _stacktrace, response: _response, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions: { ...extensions, code } };
    }
    logger.error({ err: error, path: formatted.path }, 'unexpected error while serving a request');
    return {
      message: 'Internal server error',
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/** Starts an express app on host:port and returns its URL and a stop function. */
export async function listenApp(
  server: { start(): Promise<void>; stop(): Promise<void> } | null,
  httpServer: http.Server,
  port: number,
  host: string,
): Promise<RunningServer> {
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  return {
    port: address.port,
    url: `http://${host}:${address.port}/graphql`,
    stop: async () => {
      await server?.stop();
      if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

/** Reads a subgraph's SDL, which sits beside its `src/` folder (`dir` is that folder, i.e. `__dirname`). */
export function readSubgraphSchema(dir: string): DocumentNode {
  return parse(readFileSync(path.join(dir, '..', 'schema.graphql'), 'utf8'));
}

async function pingDatabase(connection: Connection): Promise<void> {
  if (!connection.db) throw new Error('not connected to MongoDB');
  await connection.db.admin().ping();
}

export interface SubgraphServerOptions<TContext extends BaseContext> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TContext>;
  subgraphSecret: string;
  logger: Logger;
  /** Builds the per-request context (loaders, repositories) on top of the verified identity. */
  context: (base: BaseContext) => TContext;
  /** The subgraph's database: /ready answers only while it does. */
  connection: Connection;
  plugins?: ApolloServerPlugin<TContext>[];
}

export function createSubgraphServer<TContext extends BaseContext>(
  options: SubgraphServerOptions<TContext>,
): HttpGraphQLServer {
  const app = express();
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<TContext>({
    schema: buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: options.resolvers }]),
    includeStacktraceInErrorResponses: false,
    formatError: formatErrorFor(options.logger),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      // Traces are for Apollo Studio reporting, which this hub does not use.
      ApolloServerPluginInlineTraceDisabled(),
      ...(options.plugins ?? []),
    ],
  });
  app.disable('x-powered-by');
  app.use(requestId(options.logger));
  app.get('/health', (_req, res) => void res.json({ status: 'ok', subgraph: options.name }));
  app.get('/ready', (_req, res) => {
    pingDatabase(options.connection).then(
      () => res.json({ status: 'ready', subgraph: options.name }),
      (error: Error) =>
        res.status(503).json({ status: 'unavailable', subgraph: options.name, reason: error.message }),
    );
  });

  return {
    app,
    async listen(port, host) {
      await apollo.start();
      app.use(
        '/graphql',
        requireBodyType(),
        jsonBody('1mb'),
        expressMiddleware(apollo, {
          context: async ({ req, res }) => {
            const header = req.headers[IDENTITY_HEADER];
            const identity = await verifyInternalIdentity(
              Array.isArray(header) ? header[0] : header,
              options.subgraphSecret,
            );
            const requestId = requestIdOf(res);
            return options.context({ identity, requestId, logger: options.logger.child({ requestId }) });
          },
        }),
      );
      app.use(refuseBadBodies(options.logger));
      return listenApp(apollo, httpServer, port, host);
    },
  };
}
