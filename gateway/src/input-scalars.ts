// The gateway reads custom scalar input exactly as the subgraphs do. The supergraph's scalars are otherwise opaque
// to it (any value passes), so a DateTime of "1" travelled on to a subgraph, whose refusal the gateway could only
// report as an internal error, and JSON nested 20,000 levels deep overflowed the gateway's stack while it encoded the
// request for a subgraph. Now both are BAD_USER_INPUT before any subgraph is asked.
import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLScalarType, type GraphQLSchema } from 'graphql';
import { HUB_SCALARS } from '@bank-hub/shared';

/** Gives the schema's custom scalars the hub's input parsing; output passes through as the subgraphs wrote it. */
export function readInputLikeSubgraphs(schema: GraphQLSchema): void {
  for (const scalar of HUB_SCALARS) {
    const type = schema.getType(scalar.name);
    if (!(type instanceof GraphQLScalarType)) continue;
    type.parseValue = scalar.parseValue;
    type.parseLiteral = scalar.parseLiteral;
  }
}

/** Applies `readInputLikeSubgraphs` to every schema the gateway loads, before it serves a request with it. */
export function hubInputScalars(): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return {
        schemaDidLoadOrUpdate: ({ apiSchema }) => readInputLikeSubgraphs(apiSchema),
      };
    },
  };
}
