// POST /collect on the analytics subgraph: what the gateway's collector forwards, the beacon's body as it came, with
// the caller's identity signed by the gateway. The same ingestion as Mutation.trackEvents, without GraphQL in
// between: events arrive in volume, and the batch is checked item by item anyway.
import express, { type Router } from 'express';
import { GraphQLError } from 'graphql';
import {
  DEVICE_ID_HEADER,
  ErrorCode,
  jsonSizeProblem,
  type BaseContext,
  sendGraphQLError,
} from '@bank-hub/shared';
import { readBeacon } from './domain/beacon';
import { batchLimitExceeded } from './domain/events';
import { trackEvents, type IngestionContext } from './ingest';

export function collectRoute(
  ingestion: Omit<IngestionContext, 'identity' | 'now'>,
): (
  router: Router,
  contextOf: (req: express.Request, res: express.Response) => Promise<BaseContext>,
) => void {
  return (router, contextOf) => {
    router.post('/collect', express.text({ type: () => true, limit: '256kb' }), async (req, res) => {
      try {
        const base = await contextOf(req, res);
        let body: unknown;
        try {
          body = JSON.parse(String(req.body));
        } catch {
          body = null;
        }
        // Checking an event encodes its properties: nothing that deep may reach it (a RangeError, HTTP 500).
        const tooLarge = jsonSizeProblem(body, 'the beacon');
        if (tooLarge) return sendGraphQLError(res, 400, ErrorCode.BAD_USER_INPUT, tooLarge);
        const reading = readBeacon(body);
        if (!reading.ok && reading.problem === 'BATCH_LIMIT_EXCEEDED') {
          const { code, message } = batchLimitExceeded();
          return sendGraphQLError(res, 400, code, message, { field: 'events' });
        }
        if (!reading.ok) {
          return sendGraphQLError(
            res,
            400,
            ErrorCode.BAD_REQUEST,
            'send a JSON array of events, or {"deviceId", "token"?, "events": [...]}',
          );
        }
        const { beacon } = reading;
        const device = beacon.deviceId ?? req.headers[DEVICE_ID_HEADER];
        if (typeof device !== 'string') {
          return sendGraphQLError(res, 400, ErrorCode.BAD_USER_INPUT, 'a device id is required', {
            field: 'deviceId',
          });
        }
        const outcome = await trackEvents(
          { ...ingestion, identity: base.identity, now: new Date() },
          device,
          beacon.events.map(({ event }) => event),
        );
        // trackEvents numbered the events it was given; the client numbers what it sent.
        const rejected = [
          ...beacon.malformed,
          ...outcome.rejected.map((rejection) => ({
            ...rejection,
            index: beacon.events[rejection.index]!.index,
          })),
        ].sort((a, b) => a.index - b.index);
        res.json({ accepted: outcome.accepted, duplicates: outcome.duplicates, rejected });
      } catch (error) {
        if (error instanceof GraphQLError && typeof error.extensions.code === 'string') {
          const http = error.extensions.http as { status?: number } | undefined;
          const status = http?.status ?? (error.extensions.code === ErrorCode.BAD_USER_INPUT ? 400 : 500);
          return sendGraphQLError(res, status, error.extensions.code, error.message, {
            field: error.extensions.field,
          });
        }
        throw error;
      }
    });
  };
}
