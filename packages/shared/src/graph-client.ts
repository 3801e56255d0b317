// Lets a subgraph learn about another subgraph's data through the graph — the gateway — on behalf of its caller,
// never by opening that subgraph's collections or calling its endpoint directly. The call carries the caller's
// request id (so its log lines join the caller's) and ends before the caller's own deadline.
import { ErrorCode, hubError } from './errors';
import { DEADLINE_HEADER, REQUEST_ID_HEADER } from './http';
import { ON_BEHALF_OF_HEADER, signOnBehalfOf, type Identity } from './identity';
import { tracedCall } from './tracing';

export interface GraphResponse<TData> {
  data: TData | null;
  errors: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
}

/** On whose behalf a call is made, within which request, and until when the caller waits. */
export interface GraphCaller {
  identity: Identity;
  requestId?: string;
  /** Epoch milliseconds; null when the caller set none. */
  deadline?: number | null;
  /** Aborts when nobody waits for the caller's answer any more. */
  signal?: AbortSignal;
}

/** Time kept back from the caller's deadline to finish the caller's own work after the call. */
const DEADLINE_MARGIN_MS = 150;

/** Until when (epoch ms) a graph call may go on for a caller who waits until `callerDeadline`. */
export const graphCallDeadline = (callerDeadline: number): number => callerDeadline - DEADLINE_MARGIN_MS;

/** Time a call without a caller's deadline allows the gateway beyond its own wait for the subgraph. */
const GATEWAY_MARGIN_MS = 2_000;

/**
 * How long a call may take for a caller who set no deadline (a background job): as long as the gateway waits for the
 * subgraph that answers (`SUBGRAPH_TIMEOUT_MS`), and a margin for the gateway's own work, so a deployment that gives
 * its subgraphs longer gives its jobs' calls longer too.
 */
export const jobCallTimeoutMs = (subgraphTimeoutMs: number): number => subgraphTimeoutMs + GATEWAY_MARGIN_MS;

export class GraphClient {
  constructor(
    /** The gateway's URL; a function because in-process hubs learn it only after the gateway listens. */
    private readonly gatewayUrl: () => string,
    private readonly secret: string,
    /** How long a call may take for a caller who set no deadline (a background job); a caller's deadline decides. */
    private readonly timeoutMs = jobCallTimeoutMs(3_000),
  ) {}

  async query<TData>(
    caller: GraphCaller,
    query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphResponse<TData>> {
    const deadline = caller.deadline ? graphCallDeadline(caller.deadline) : Date.now() + this.timeoutMs;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [ON_BEHALF_OF_HEADER]: await signOnBehalfOf(caller.identity, this.secret),
      [DEADLINE_HEADER]: String(deadline),
    };
    if (caller.requestId) headers[REQUEST_ID_HEADER] = caller.requestId;
    let body: Partial<GraphResponse<TData>>;
    try {
      body = await tracedCall('graph call', {}, headers, async () => {
        const response = await fetch(this.gatewayUrl(), {
          method: 'POST',
          headers,
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.any([
            AbortSignal.timeout(Math.max(0, deadline - Date.now())),
            ...(caller.signal ? [caller.signal] : []),
          ]),
        });
        return (await response.json()) as Partial<GraphResponse<TData>>;
      });
    } catch (error) {
      throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'the graph could not be reached; try again', {
        reason: (error as Error).message,
      });
    }
    return { data: body.data ?? null, errors: body.errors ?? [] };
  }
}
