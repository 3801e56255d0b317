// Documents graphql-js validates but the gateway cannot run as sent: an operation name the document does not define,
// several operations and no name, a subscription, introspection of a field the query planner's schema lacks. Apollo
// Gateway refuses them by throwing from its executor (code INVALID_GRAPHQL), which Apollo Server answers with HTTP 500
// as if the gateway had failed — what monitors and retrying proxies count as an outage. The client's document is at
// fault: such a refusal is answered 400, its code unchanged (the error policy names it GRAPHQL_VALIDATION_FAILED).
import type { GatewayInterface } from '@apollo/server-gateway-interface';
import { GraphQLError } from 'graphql';

const PLANNER_REFUSAL = 'INVALID_GRAPHQL';

function asClientError(error: unknown): unknown {
  if (!(error instanceof GraphQLError) || error.extensions.code !== PLANNER_REFUSAL) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { ...error.extensions, http: { status: 400 } },
  });
}

/** The gateway, its executor's refusals of a client's document answered 400. */
export function refusingClientDocuments(gateway: GatewayInterface): GatewayInterface {
  return {
    onSchemaLoadOrUpdate: (callback) => gateway.onSchemaLoadOrUpdate(callback),
    stop: () => gateway.stop(),
    async load(options) {
      const loaded = await gateway.load(options);
      const { executor } = loaded;
      if (!executor) return loaded;
      return {
        ...loaded,
        executor: async (requestContext) => {
          try {
            return await executor(requestContext);
          } catch (error) {
            throw asClientError(error);
          }
        },
      };
    },
  };
}
