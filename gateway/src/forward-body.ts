// Passing a plain HTTP request's body on to the subgraph that owns it (events to /collect, provider receipts to
// /receipts): as the caller the gateway named, with the request id and a deadline, untouched; the subgraph's answer
// goes back as it came, and a subgraph that cannot be reached is SERVICE_UNAVAILABLE naming it.
import type { Response } from 'express';
import {
  DEADLINE_HEADER,
  ErrorCode,
  IDENTITY_HEADER,
  REQUEST_ID_HEADER,
  sendGraphQLError,
  type HubConfig,
  type Identity,
  type Logger,
} from '@bank-hub/shared';
import { contextFor } from './request-context';
import { SubgraphUnavailable, type SubgraphClient } from './subgraph-client';

export async function forwardBody(
  res: Response,
  options: {
    config: HubConfig;
    logger: Logger;
    identity: Identity;
    subgraph: SubgraphClient;
    path: string;
    body: string;
    /** Headers of the caller's own to pass on besides the gateway's. */
    headers: Record<string, string>;
  },
): Promise<void> {
  const { config, logger, identity, subgraph } = options;
  const context = contextFor(config, logger, identity, res, res.req.ip ?? '');
  const deadline = Date.now() + config.SUBGRAPH_TIMEOUT_MS;
  try {
    const answer = await subgraph.call({
      body: options.body,
      headers: {
        'content-type': 'text/plain',
        [IDENTITY_HEADER]: await context.internalToken(),
        [REQUEST_ID_HEADER]: context.requestId,
        [DEADLINE_HEADER]: String(deadline),
        ...options.headers,
      },
      signal: context.signal,
      deadline,
      shareKey: null,
      path: options.path,
    });
    res.status(answer.status).type('application/json').send(answer.text);
  } catch (error) {
    if (!(error instanceof SubgraphUnavailable)) throw error;
    sendGraphQLError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, error.message, { serviceName: subgraph.name });
  }
}
