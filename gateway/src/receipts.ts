// POST /receipts: where SMS and 5G gateways report what became of messages (delivered, failed, read, clicked, a reply).
// Providers are no clients of the graph: they hold no token, and they sign each request instead, which the subgraph
// that sends messages (the one resolving Mutation.unsubscribe) checks against its receipt secret. The gateway only
// passes the body on untouched — a signature covers the exact bytes — with its headers, as an anonymous caller.
import express, { type Router } from 'express';
import {
  ANONYMOUS,
  ErrorCode,
  refuseBadBodies,
  sendGraphQLError,
  type HubConfig,
  type Logger,
} from '@bank-hub/shared';
import { forwardBody } from './forward-body';
import type { SubgraphClient } from './subgraph-client';

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
    const signed: Record<string, string> = {};
    for (const header of SIGNED_HEADERS) {
      const value = req.headers[header];
      if (typeof value === 'string') signed[header] = value;
    }
    await forwardBody(res, {
      config,
      logger,
      identity: ANONYMOUS,
      subgraph: messages,
      path: '/receipts',
      body: typeof req.body === 'string' ? req.body : '',
      headers: signed,
    });
  });
  router.use('/receipts', refuseBadBodies(logger));
  return router;
}
