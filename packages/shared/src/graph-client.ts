// Lets a subgraph learn about another subgraph's data through the graph — the gateway — on behalf of its
// caller, never by opening that subgraph's collections or calling its endpoint directly.
import { ErrorCode, hubError } from './errors';
import { ON_BEHALF_OF_HEADER, signOnBehalfOf, type Identity } from './identity';

export interface GraphResponse<TData> {
  data: TData | null;
  errors: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

export class GraphClient {
  constructor(
    /** The gateway's URL; a function because in-process hubs learn it only after the gateway listens. */
    private readonly gatewayUrl: () => string,
    private readonly secret: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async query<TData>(
    onBehalfOf: Identity,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphResponse<TData>> {
    let response: Response;
    try {
      response = await fetch(this.gatewayUrl(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [ON_BEHALF_OF_HEADER]: await signOnBehalfOf(onBehalfOf, this.secret),
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the graph could not be reached; try again', {
        reason: (error as Error).message,
      });
    }
    const body = (await response.json()) as Partial<GraphResponse<TData>>;
    return { data: body.data ?? null, errors: body.errors ?? [] };
  }
}
