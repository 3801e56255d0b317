// The gateway's side of one subgraph fetch. It forwards only what the gateway itself vouches for (the verified
// identity, signed; the request id; the deadline), and when the subgraph cannot answer it answers in its place: every
// field the fetch asked for is missing, each with a SERVICE_UNAVAILABLE error on its own path, so the rest of the
// response still comes back and the client sees exactly what is missing and why.
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import {
  Kind,
  OperationTypeNode,
  type DocumentNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import {
  DEADLINE_HEADER,
  ErrorCode,
  IDENTITY_HEADER,
  REQUEST_ID_HEADER,
  tracedCall,
  type HubMetrics,
} from '@bank-hub/shared';
import type { GatewayContext } from './request-context';
import { SubgraphUnavailable, type SubgraphClient } from './subgraph-client';

export interface HubDataSourceOptions {
  /** How long one fetch may take at most. */
  timeoutMs: number;
  /** Whether identical queries in flight at once share one request. */
  dedupe: boolean;
  /** Where each fetch's latency and outcome is counted. */
  metrics: HubMetrics;
}

/** A fetch the gateway makes while executing a client's operation (rather than health checks or schema loading). */
type IncomingOperation = Extract<
  GraphQLDataSourceProcessOptions<GatewayContext>,
  { incomingRequestContext: unknown }
>;

export class HubDataSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly client: SubgraphClient,
    private readonly options: HubDataSourceOptions,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    // The supergraph is static: the gateway never loads schemas or health-checks through a data source.
    if (!('incomingRequestContext' in options)) {
      throw new Error(`unexpected ${options.kind} request to the ${this.client.name} subgraph`);
    }
    const started = performance.now();
    const headers: Record<string, string> = {};
    const { answer, outcome } = await tracedCall(
      `subgraph ${this.client.name}`,
      { 'hub.subgraph': this.client.name },
      headers,
      () => this.fetch(options, headers),
      (fetched) => fetched.outcome,
    );
    this.options.metrics.observeFetch(this.client.name, outcome, (performance.now() - started) / 1_000);
    return answer;
  }

  /** One fetch, with the trace headers `traced` carries, and how it ended. */
  private async fetch(
    options: IncomingOperation,
    traced: Record<string, string>,
  ): Promise<{ answer: GatewayGraphQLResponse; outcome: string }> {
    const { request, context, document } = options;
    const deadline = Math.min(Date.now() + this.options.timeoutMs, context.deadline ?? Infinity);
    const body = JSON.stringify({
      query: request.query,
      variables: request.variables,
      operationName: request.operationName,
    });
    const shareable = this.options.dedupe && document !== undefined && isQuery(document);
    try {
      const answer = await this.client.call({
        body,
        headers: {
          ...traced,
          'content-type': 'application/json',
          [IDENTITY_HEADER]: await context.internalToken(),
          [REQUEST_ID_HEADER]: context.requestId,
          [DEADLINE_HEADER]: String(deadline),
        },
        signal: context.signal,
        deadline,
        // The same document and variables for the same caller: the answer is the same.
        shareKey: shareable ? `${identityKey(context)}\n${body}` : null,
      });
      const parsed = answer.contentType.includes('json') ? parseJson(answer.text) : null;
      if (parsed) return { answer: parsed, outcome: parsed.errors?.length ? 'errors' : 'ok' };
      context.logger.warn(
        { subgraph: this.client.name, status: answer.status },
        'subgraph answered something that is not GraphQL',
      );
      return {
        answer: unavailableAnswer(options, this.client.name, `the ${this.client.name} subgraph failed`),
        outcome: 'invalid',
      };
    } catch (error) {
      if (!(error instanceof SubgraphUnavailable)) throw error;
      if (error.reason !== 'cancelled')
        context.logger.warn({ subgraph: this.client.name, reason: error.reason }, error.message);
      return { answer: unavailableAnswer(options, this.client.name, error.message), outcome: error.reason };
    }
  }
}

const isQuery = (document: DocumentNode) =>
  document.definitions.some(
    (definition) =>
      definition.kind === Kind.OPERATION_DEFINITION && definition.operation === OperationTypeNode.QUERY,
  );

/**
 * Everything the internal identity token tells a subgraph about the caller (subject, scopes, device), so two callers
 * share an answer only when a subgraph could not tell them apart. Encoded as JSON: a token's subject and scopes are
 * whatever strings its issuer wrote (`auth0|…` subjects, say), so no separator character is safe, and the key holds no
 * raw newline for the body after it to be confused with.
 */
const identityKey = ({ identity }: GatewayContext) =>
  JSON.stringify([identity.subject, [...identity.scopes].sort(), identity.deviceId ?? null]);

function parseJson(text: string): GatewayGraphQLResponse | null {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && ('data' in value || 'errors' in value)
      ? (value as GatewayGraphQLResponse)
      : null;
  } catch {
    return null;
  }
}

/** Response names selected directly in a selection set (fragments on `typename` included, __typename not). */
function fieldsSelected(selectionSet: SelectionSetNode, typename: string | null): string[] {
  return selectionSet.selections.flatMap((selection) => {
    if (selection.kind === Kind.FIELD)
      return selection.name.value === '__typename' ? [] : [(selection.alias ?? selection.name).value];
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const condition = selection.typeCondition?.name.value;
      return condition === undefined || condition === typename
        ? fieldsSelected(selection.selectionSet, typename)
        : [];
    }
    return [];
  });
}

/**
 * The answer in place of a subgraph that could not give one: no data, and an error on the path of every field the
 * fetch asked for. For an entity fetch that is each entity's fields (the gateway maps `_entities.<i>` to where the
 * entity sits in the response); for a root fetch, each root field.
 */
export function unavailableAnswer(
  options: IncomingOperation,
  serviceName: string,
  message: string,
): GatewayGraphQLResponse {
  const error = (path: (string | number)[]): GraphQLFormattedError => ({
    message,
    path,
    extensions: { code: ErrorCode.SERVICE_UNAVAILABLE, serviceName },
  });
  const operation = options.document?.definitions.find(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (!operation) return { errors: [error([])] };
  const entities = operation.selectionSet.selections.find(
    (selection) => selection.kind === Kind.FIELD && selection.name.value === '_entities',
  );
  if (entities?.kind !== Kind.FIELD || !entities.selectionSet) {
    return { errors: fieldsSelected(operation.selectionSet, null).map((field) => error([field])) };
  }
  const representations = options.request.variables?.representations;
  const list = Array.isArray(representations) ? (representations as { __typename?: unknown }[]) : [];
  const selection = entities.selectionSet;
  return {
    errors: list.flatMap((representation, index) =>
      fieldsSelected(selection, String(representation.__typename)).map((field) =>
        error(['_entities', index, field]),
      ),
    ),
  };
}
