// One debug line per GraphQL request a server answers, with the request's own logger (so its request id): with
// LOG_LEVEL=debug, every process's lines for one client request can be found by that id.
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from './logger';

export function logRequests<TContext extends { logger?: Logger }>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart({ contextValue }) {
      const started = performance.now();
      return {
        async willSendResponse({ response, operationName }) {
          const errors =
            response.body.kind === 'single' ? (response.body.singleResult.errors?.length ?? 0) : 0;
          contextValue?.logger?.debug(
            { operation: operationName ?? null, ms: Math.round(performance.now() - started), errors },
            'answered',
          );
        },
      };
    },
  };
}
