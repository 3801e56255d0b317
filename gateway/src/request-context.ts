// The gateway's per-request context: who is calling (their verified token, or a subgraph calling back on their
// behalf), the request id every log line of the request carries, a signal that aborts when the client goes away,
// and the deadline a calling subgraph passed on.
import type { Request, Response } from 'express';
import {
  DEADLINE_HEADER,
  ON_BEHALF_OF_HEADER,
  deadlineFrom,
  requestIdOf,
  signInternalIdentity,
  verifyOnBehalfOf,
  type HubConfig,
  type Identity,
  type Logger,
} from '@bank-hub/shared';
import type { TokenVerifier } from './auth';

export interface GatewayContext {
  identity: Identity;
  requestId: string;
  /** Logs with this request's id. */
  logger: Logger;
  /** The identity token for subgraphs, signed once per request. */
  internalToken: () => Promise<string>;
  /** Aborts when the client goes away before its answer is sent: its subgraph requests are cancelled. */
  signal: AbortSignal;
  /** When a subgraph calls back on behalf of its caller: until when that caller waits (epoch ms). */
  deadline: number | null;
}

export function gatewayContext(config: HubConfig, logger: Logger, verifyToken: TokenVerifier) {
  return async ({ req, res }: { req: Request; res: Response }): Promise<GatewayContext> => {
    const requestId = requestIdOf(res);
    // A subgraph calling back on behalf of its caller carries that caller's identity, signed with a secret only the
    // hub holds; everyone else is identified by their bearer token.
    const onBehalfOf = req.headers[ON_BEHALF_OF_HEADER];
    const internal = typeof onBehalfOf === 'string';
    const identity = internal
      ? await verifyOnBehalfOf(onBehalfOf, config.SUBGRAPH_SECRET)
      : await verifyToken(req.headers.authorization);
    const disconnected = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) disconnected.abort();
    });
    let token: Promise<string> | undefined;
    return {
      identity,
      requestId,
      logger: logger.child({ requestId }),
      internalToken: () => (token ??= signInternalIdentity(identity, config.SUBGRAPH_SECRET)),
      signal: disconnected.signal,
      // Only the hub's own subgraphs may shorten the gateway's time limits.
      deadline: internal ? deadlineFrom(req.headers[DEADLINE_HEADER]) : null,
    };
  };
}
