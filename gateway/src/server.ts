// Builds the gateway: Apollo Gateway over the composed supergraph, identity, operation guards, Sandbox and
// health endpoints. `index.ts` only reads config and listens; tests build it on free ports.
import http from 'node:http';
import cors from 'cors';
import express from 'express';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginLandingPageLocalDefault,
  ApolloServerPluginLandingPageProductionDefault,
} from '@apollo/server/plugin/landingPage/default';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, MaxIntrospectionDepthRule } from 'graphql';
import {
  ErrorCode,
  IDENTITY_HEADER,
  ON_BEHALF_OF_HEADER,
  formatErrorFor,
  hubError,
  jsonBody,
  listenApp,
  refuseBadBodies,
  requestId,
  requestIdOf,
  requireBodyType,
  sendGraphQLError,
  signInternalIdentity,
  verifyOnBehalfOf,
  type HttpGraphQLServer,
  type HubConfig,
  type Identity,
  type Logger,
} from '@bank-hub/shared';
import { createTokenVerifier } from './auth';
import { operationGuards } from './guards';
import { hubInputScalars } from './input-scalars';

export interface GatewayContext {
  identity: Identity;
  requestId: string;
  /** The identity token for subgraphs, signed once per request. */
  internalToken: () => Promise<string>;
}

export interface GatewayOptions {
  config: HubConfig;
  logger: Logger;
  supergraphSdl: string;
  /** Overrides the URLs in the supergraph, by subgraph name (tests use free ports). */
  subgraphUrls?: Record<string, string>;
}

const READY_TIMEOUT_MS = 2_000;

function readyUrl(graphqlUrl: string): string {
  const url = new URL(graphqlUrl);
  url.pathname = url.pathname.replace(/\/graphql\/?$/, '') + '/ready';
  return url.toString();
}

/** Forwards the verified identity, and names the subgraph when it cannot be reached at all. */
class HubDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  constructor(
    config: ConstructorParameters<typeof RemoteGraphQLDataSource<GatewayContext>>[0] & { name: string },
  ) {
    super(config);
    this.name = config.name;
  }

  private readonly name: string;

  override didEncounterError(error: Error): never {
    if (error instanceof GraphQLError) throw error;
    // A network failure: report it as the subgraph being unavailable rather than as an internal error.
    throw hubError(ErrorCode.SERVICE_UNAVAILABLE, `the ${this.name} subgraph is unavailable`, {
      serviceName: this.name,
    });
  }
}

export function buildGateway(
  options: GatewayOptions,
): HttpGraphQLServer & { subgraphUrls: () => Record<string, string> } {
  const { config, logger } = options;
  const resolvedUrls: Record<string, string> = {};
  const gateway = new ApolloGateway({
    supergraphSdl: options.supergraphSdl,
    buildService: ({ name, url }) => {
      const target = options.subgraphUrls?.[name] ?? url;
      if (!target) throw new Error(`subgraph ${name} has no URL`);
      resolvedUrls[name] = target;
      return new HubDataSource({
        name,
        url: target,
        async willSendRequest({ request, context }) {
          // Only what the gateway itself verified reaches subgraphs; client headers are not forwarded.
          if (!context.internalToken) return;
          request.http?.headers.set(IDENTITY_HEADER, await context.internalToken());
          request.http?.headers.set('x-request-id', context.requestId);
        },
      });
    },
  });

  const app = express();
  const httpServer = http.createServer(app);
  const production = config.NODE_ENV === 'production';
  const apollo = new ApolloServer<GatewayContext>({
    gateway,
    includeStacktraceInErrorResponses: false,
    formatError: formatErrorFor(logger),
    // Introspection is for developers: on in development, off in production unless ALLOW_INTROSPECTION says so.
    introspection: !production || config.ALLOW_INTROSPECTION,
    // Bounds how deeply introspection may nest lists of types (fields → type → fields …), which would otherwise
    // multiply the answer's size level after level.
    validationRules: [MaxIntrospectionDepthRule],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      hubInputScalars(),
      operationGuards({
        maxDepth: config.MAX_QUERY_DEPTH,
        maxAliases: config.MAX_QUERY_ALIASES,
        maxFields: config.MAX_QUERY_FIELDS,
      }),
      production
        ? ApolloServerPluginLandingPageProductionDefault({ footer: false })
        : ApolloServerPluginLandingPageLocalDefault({ footer: false, includeCookies: false }),
    ],
  });
  const verifyToken = createTokenVerifier(config);

  app.disable('x-powered-by');
  app.use(requestId(logger));
  app.get('/health', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/ready', async (_req, res) => {
    const checks = await Promise.all(
      Object.entries(resolvedUrls)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(async ([name, url]) => {
          try {
            const response = await fetch(readyUrl(url), { signal: AbortSignal.timeout(READY_TIMEOUT_MS) });
            return { name, ready: response.ok };
          } catch {
            return { name, ready: false };
          }
        }),
    );
    const ready = checks.length > 0 && checks.every((check) => check.ready);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'unavailable', subgraphs: checks });
  });

  return {
    app,
    subgraphUrls: () => ({ ...resolvedUrls }),
    async listen(port, host) {
      await apollo.start();
      // Sandbox opens at the root as well as at /graphql.
      app.all(
        ['/', '/graphql'],
        cors(),
        requireBodyType(),
        jsonBody('256kb'),
        (req, res, next) => {
          const query: unknown =
            req.method === 'GET' ? req.query.query : (req.body as { query?: unknown })?.query;
          if (typeof query === 'string' && Buffer.byteLength(query) > config.MAX_DOCUMENT_BYTES) {
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
        expressMiddleware(apollo, {
          context: async ({ req, res }) => {
            // A subgraph calling back on behalf of its caller carries that caller's identity, signed by a secret
            // only the hub holds; everyone else is identified by their bearer token.
            const onBehalfOf = req.headers[ON_BEHALF_OF_HEADER];
            const identity =
              typeof onBehalfOf === 'string'
                ? await verifyOnBehalfOf(onBehalfOf, config.SUBGRAPH_SECRET)
                : await verifyToken(req.headers.authorization);
            const requestId = requestIdOf(res);
            let token: Promise<string> | undefined;
            return {
              identity,
              requestId,
              internalToken: () => (token ??= signInternalIdentity(identity, config.SUBGRAPH_SECRET)),
            };
          },
        }),
      );
      app.use(refuseBadBodies(logger));
      return listenApp(apollo, httpServer, port, host);
    },
  };
}
