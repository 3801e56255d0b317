// POST /receipts: where SMS and 5G gateways report what became of messages (delivered, failed, read, clicked, a reply).
// Providers are no clients of the graph: they hold no token, and they sign each request instead, which the subgraph
// that sends messages (the one resolving Mutation.unsubscribe) checks against its receipt secret. The gateway only
// passes the body on untouched — a signature covers the exact bytes — with its headers, as an anonymous caller.
import express, { type Router } from 'express';
import {
  ANONYMOUS,
  DEADLINE_HEADER,
  ErrorCode,
  IDENTITY_HEADER,
  REQUEST_ID_HEADER,
  refuseBadBodies,
  sendGraphQLError,
  type HubConfig,
  type Logger,
} from '@bank-hub/shared';
import { contextFor } from './request-context';
import { SubgraphUnavailable, type SubgraphClient } from './subgraph-client';

/** The headers a provider signs with, passed on as they came. */
const SIGNED_HEADERS = ['x-receipt-signature', 'x-receipt-timestamp'] as const;

export function receipts(options: {
  config: HubConfig;
  logger: Logger;
  /** The client of the subgraph that sends messages, or null when the supergraph has none. */
  messages: SubgraphClient | null;
}): Router {
  const { config, logger, messages } = options;
  const router = express.Router();
  router.post('/receipts', express.text({ type: () => true, limit: '256kb' }), async (req, res) => {
    if (!messages)
      return sendGraphQLError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, 'no subgraph sends messages');
    const context = contextFor(config, logger, ANONYMOUS, res);
    const deadline = Date.now() + config.SUBGRAPH_TIMEOUT_MS;
    const signed: Record<string, string> = {};
    for (const header of SIGNED_HEADERS) {
      const value = req.headers[header];
      if (typeof value === 'string') signed[header] = value;
    }
    try {
      const answer = await messages.call({
        body: typeof req.body === 'string' ? req.body : '',
        headers: {
          'content-type': 'text/plain',
          [IDENTITY_HEADER]: await context.internalToken(),
          [REQUEST_ID_HEADER]: context.requestId,
          [DEADLINE_HEADER]: String(deadline),
          ...signed,
        },
        signal: context.signal,
        deadline,
        shareKey: null,
        path: '/receipts',
      });
      res.status(answer.status).type('application/json').send(answer.text);
    } catch (error) {
      if (!(error instanceof SubgraphUnavailable)) throw error;
      sendGraphQLError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, error.message, {
        serviceName: messages.name,
      });
    }
  });
  router.use('/receipts', refuseBadBodies(logger));
  return router;
}
