// POST /collect: the door for events from browsers, the codeless snippet's `navigator.sendBeacon` included (which can
// only send text/plain bodies and no headers). The gateway only names the caller — a bearer token in the header, or
// for beacons in the body; anonymous otherwise — and passes the batch to the subgraph that owns ingestion (the one
// resolving Mutation.trackEvents), which checks every event as the mutation would. Events arrive in volume, so no
// GraphQL is put in between. The answer says what was stored and, by index, what was not. Events without a member
// token (whose member limit holds them) draw on their client address's budget first, the one trackEvents at /graphql
// draws on too: past it nothing is forwarded.
import express, { type Router } from 'express';
import cors from 'cors';
import { GraphQLError } from 'graphql';
import {
  DEVICE_ID_HEADER,
  ErrorCode,
  jsonSizeProblem,
  memberOf,
  refuseBadBodies,
  sendGraphQLError,
  type HubConfig,
  type Logger,
} from '@bank-hub/shared';
import { ADDRESS_BUDGET_SPENT, type AddressBudget } from './address-budget';
import type { TokenVerifier } from './auth';
import { forwardBody } from './forward-body';
import type { SubgraphClient } from './subgraph-client';

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What a body costs the address's budget: the items it carries, events or not (a retry's again), and at least one, as
 * a body that is no batch costs analytics a request all the same.
 */
const costOf = (body: unknown): number =>
  Math.max(
    1,
    Array.isArray(body) ? body.length : isRecord(body) && Array.isArray(body.events) ? body.events.length : 0,
  );

export function collector(options: {
  config: HubConfig;
  logger: Logger;
  verifyToken: TokenVerifier;
  /** The client of the subgraph that owns ingestion, or null when the supergraph has none. */
  ingestion: SubgraphClient | null;
  /** Anonymous events per client address: the gateway's one budget, shared with trackEvents at /graphql. */
  addressBudget: AddressBudget;
}): Router {
  const { config, logger, verifyToken, ingestion, addressBudget } = options;
  const router = express.Router();
  router.post(
    '/collect',
    cors(),
    express.text({ type: ['text/plain', 'application/json'], limit: '256kb' }),
    async (req, res) => {
      if (typeof req.body !== 'string') {
        return sendGraphQLError(
          res,
          415,
          ErrorCode.UNSUPPORTED_MEDIA_TYPE,
          'send text/plain or application/json',
        );
      }
      if (!ingestion) {
        return sendGraphQLError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, 'no subgraph collects events');
      }
      let body: unknown;
      try {
        body = JSON.parse(req.body);
      } catch {
        return sendGraphQLError(res, 400, ErrorCode.BAD_REQUEST, 'the request body is not valid JSON');
      }
      // A body is encoded again below without its token: nothing that deep may reach JSON.stringify.
      const tooLarge = jsonSizeProblem(body, 'the beacon');
      if (tooLarge) return sendGraphQLError(res, 400, ErrorCode.BAD_USER_INPUT, tooLarge);
      // A beacon carries its token in the body; it names the caller here and goes no further.
      const token = isRecord(body) && typeof body.token === 'string' ? body.token : null;
      let identity;
      try {
        identity = await verifyToken(req.headers.authorization ?? (token ? `Bearer ${token}` : undefined));
      } catch (error) {
        // The issuer's keys out of reach is no fault of the caller's token.
        if (error instanceof GraphQLError && error.extensions.code === ErrorCode.SERVICE_UNAVAILABLE)
          return sendGraphQLError(res, 503, ErrorCode.SERVICE_UNAVAILABLE, error.message);
        return sendGraphQLError(res, 401, ErrorCode.UNAUTHENTICATED, 'the token is not valid');
      }
      // A string token is taken out (it goes no further); anything else under that key the subgraph ignores.
      if (token !== null) delete (body as Record<string, unknown>).token;
      if (memberOf(identity) === null) {
        // req.ip: the connection's address, or the right-most X-Forwarded-For hop that no TRUSTED_PROXIES entry is.
        const grant = addressBudget.take(req.ip ?? '', costOf(body), new Date());
        if (!grant.granted) {
          res.set('Retry-After', String(grant.retryAfterSeconds));
          return sendGraphQLError(res, 429, ErrorCode.RATE_LIMITED, ADDRESS_BUDGET_SPENT);
        }
      }
      const device = req.headers[DEVICE_ID_HEADER];
      await forwardBody(res, {
        config,
        logger,
        identity,
        subgraph: ingestion,
        path: '/collect',
        body: token !== null ? JSON.stringify(body) : req.body,
        headers: typeof device === 'string' ? { [DEVICE_ID_HEADER]: device } : {},
      });
    },
  );
  router.use('/collect', refuseBadBodies(logger));
  return router;
}
