// The error policy of every server of the hub. Errors raised on purpose (a stable code) reach the client as they
// are; anything else is logged with the request's id and reaches the client as INTERNAL_SERVER_ERROR with no detail.
// A resolver may also report an error next to data it still answers — e.g. a page without the product cards a
// subgraph could not vouch for — which is added to the response with its path.
import type { ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError, GraphQLFormattedError } from 'graphql';
import { ErrorCode } from './errors';
import type { Logger } from './logger';
import { isDatabaseUnavailable, recognizedError } from './recognized-errors';

const DELIBERATE_CODES = new Set<string>([
  ...Object.values(ErrorCode).filter((code) => code !== ErrorCode.INTERNAL_SERVER_ERROR),
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
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

function clientCode(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  const renamed = CLIENT_CODES[code] ?? code;
  return DELIBERATE_CODES.has(renamed) ? renamed : null;
}

/**
 * Apollo Server's formatError: deliberate errors pass (minus internals), errors recognized by what they are get their
 * code (an unreachable database, a refused persisted query), the rest is masked.
 */
export function formatError(formatted: GraphQLFormattedError, error?: unknown): GraphQLFormattedError {
  const recognized = recognizedError(formatted, error);
  if (recognized) return recognized;
  const code = clientCode(formatted.extensions?.code);
  if (code) {
    // `response` is what a failed subgraph answered, internal addresses included: never for clients.
    const { stacktrace: _stacktrace, response: _response, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions: { ...extensions, code } };
  }
  return {
    message: 'Internal server error',
    path: formatted.path,
    locations: formatted.locations,
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/** Logs what formatError masks, with the request's own logger (so its request id) when there is one. */
export function logUnexpectedErrors<TContext extends { logger?: Logger }>(
  fallback: Logger,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          const logger = contextValue?.logger ?? fallback;
          for (const error of errors) {
            if (isDatabaseUnavailable(error)) {
              // The driver's message names hosts and ports: for the log, never for the client.
              const cause = error.originalError ?? error;
              logger.error(
                { path: error.path, reason: `${cause.name}: ${cause.message}` },
                'database unavailable',
              );
              continue;
            }
            if (clientCode(error.extensions?.code) || recognizedError(error.toJSON(), error)) continue;
            logger.error({ err: error.originalError ?? error, path: error.path }, 'unexpected error');
          }
        },
      };
    },
  };
}

/** Errors a request reports next to data it still answers; each carries its own path. */
export class PartialErrors {
  private readonly errors: GraphQLError[] = [];

  add(error: GraphQLError): void {
    this.errors.push(error);
  }

  all(): readonly GraphQLError[] {
    return this.errors;
  }
}

/** Adds the request's partial errors to its response. */
export function reportPartialErrors<
  TContext extends { partial: PartialErrors },
>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, contextValue }) {
          const partial = contextValue.partial.all();
          if (partial.length === 0 || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          result.errors = [...(result.errors ?? []), ...partial.map((error) => formatError(error.toJSON()))];
        },
      };
    },
  };
}
