// The gateway's per-request context: who is calling (their verified token, or a subgraph calling back on their
// behalf), the request id every log line of the request carries, a signal that aborts when the client goes away,
// and the deadline a calling subgraph passed on.
import type { IncomingHttpHeaders } from 'node:http';
import type { Request, Response } from 'express';
import {
  DEADLINE_HEADER,
  ON_BEHALF_OF_HEADER,
  deadlineFrom,
  activeTraceId,
  requestIdOf,
  signInternalIdentity,
  verifyOnBehalfOf,
  type HubConfig,
  type Identity,
  type Logger,
} from '@bank-hub/shared';
import { identifyCaller, type TokenVerifier } from './auth';

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
  /**
   * The client's address (req.ip: the connection's, or the right-most X-Forwarded-For hop no TRUSTED_PROXIES entry
   * is), which anonymous events are budgeted by; null when a subgraph calls back, whose address is none of its caller's.
   */
  clientAddress: string | null;
}

/** The context of a request whose caller is already known, answered on `res`. */
export function contextFor(
  config: HubConfig,
  logger: Logger,
  identity: Identity,
  res: Response,
  clientAddress: string | null,
  deadline: number | null = null,
): GatewayContext {
  const requestId = requestIdOf(res);
  const disconnected = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) disconnected.abort();
  });
  let token: Promise<string> | undefined;
  return {
    identity,
    requestId,
    logger: logger.child({ requestId, traceId: activeTraceId() }),
    internalToken: () => (token ??= signInternalIdentity(identity, config.SUBGRAPH_SECRET)),
    signal: disconnected.signal,
    deadline,
    clientAddress,
  };
}

/**
 * Whether a request is one of the hub's own subgraphs asking the graph on its caller's behalf: it carries an
 * on-behalf-of identity signed with the secret only the hub holds. Answered at once for the usual request, without one.
 */
export function fromHub(headers: IncomingHttpHeaders, secret: string): boolean | Promise<boolean> {
  const signed = headers[ON_BEHALF_OF_HEADER];
  if (typeof signed !== 'string') return false;
  return verifyOnBehalfOf(signed, secret).then(
    () => true,
    () => false,
  );
}

export function gatewayContext(config: HubConfig, logger: Logger, verifyToken: TokenVerifier) {
  return async ({ req, res }: { req: Request; res: Response }): Promise<GatewayContext> => {
    // A subgraph calling back on behalf of its caller carries that caller's identity, signed with a secret only the
    // hub holds, and the caller's deadline (only the hub's own subgraphs may shorten the gateway's time limits);
    // everyone else is identified by their bearer token, or as a guest by the device they name.
    const onBehalfOf = req.headers[ON_BEHALF_OF_HEADER];
    if (typeof onBehalfOf === 'string') {
      const identity = await verifyOnBehalfOf(onBehalfOf, config.SUBGRAPH_SECRET);
      return contextFor(config, logger, identity, res, null, deadlineFrom(req.headers[DEADLINE_HEADER]));
    }
    return contextFor(config, logger, await identifyCaller(verifyToken, req.headers), res, req.ip ?? '');
  };
}
