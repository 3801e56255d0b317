// HTTP plumbing shared by the gateway and every subgraph: the request id, JSON bodies that are either parsed or
// refused with a GraphQL-shaped JSON error carrying a stable code, and one log line per refused request — with its
// request id and the reason, never with the body (it may hold personal data) or a stack.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { ErrorCode } from './errors';
import type { Logger } from './logger';
import { endServerSpan, runInContext, startServerSpan } from './tracing';

export const REQUEST_ID_HEADER = 'x-request-id';

/** A request id a client may choose: printable, no spaces, short enough to log. */
const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{7,127}$/;

/** The caller's id when it is well formed, else a fresh one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && REQUEST_ID_PATTERN.test(value) ? value : randomUUID();
}

/**
 * Epoch milliseconds until which the caller waits for this request (set by the gateway on every subgraph request, and
 * passed on by a subgraph calling the graph back), so a nested call never outlives the one it serves.
 */
export const DEADLINE_HEADER = 'x-hub-deadline';

/** The deadline a request carries, or null when it has none or it is not a plausible one. */
export function deadlineFrom(header: string | string[] | undefined, now = Date.now()): number | null {
  const value = Number(Array.isArray(header) ? header[0] : header);
  // More than ten minutes ahead is not a deadline this hub sets; a past one is honoured (nothing is left to wait).
  return Number.isSafeInteger(value) && value <= now + 600_000 ? value : null;
}

/** The request id of this request, set by `requestId()`. */
export const requestIdOf = (res: Response): string => String(res.locals.requestId ?? '');

/** Whether a request comes from one of the hub's own processes, whose trace (and its sampling) the request joins. */
export type FromHub = (req: Request) => boolean | Promise<boolean>;

/**
 * Takes (or makes) the request id, echoes it on the response and keeps it for the rest of the request, which runs in
 * its own server span of `component` (continuing the caller's trace when `fromHub` says the caller is the hub's own;
 * see tracing.ts). When the answer is a refusal (4xx), logs one line saying which and why.
 */
export function requestId(logger: Logger, component: string, fromHub: FromHub): RequestHandler {
  return (req, res, next) => {
    const id = requestIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.locals.requestId = id;
    res.setHeader(REQUEST_ID_HEADER, id);
    res.once('finish', () => {
      if (res.statusCode < 400 || res.statusCode >= 500) return;
      const refusal = res.locals.refusal as { code: string; reason: string } | undefined;
      logger.warn({ requestId: id, status: res.statusCode, path: req.path, ...refusal }, 'refused a request');
    });
    const serve = (trusted: boolean) => {
      const traced = startServerSpan(component, req, id, trusted);
      res.once('close', () => endServerSpan(traced.span, res.statusCode));
      runInContext(traced.context, next);
    };
    const trusted = fromHub(req);
    if (typeof trusted === 'boolean') serve(trusted);
    else trusted.then(serve, next);
  };
}

/** Answers like a GraphQL server would: a JSON body with one error and its stable code. */
export function sendGraphQLError(
  res: Response,
  status: number,
  code: string,
  message: string,
  extensions: Record<string, unknown> = {},
): void {
  res.locals.refusal = { code, reason: message };
  res.status(status).json({ errors: [{ message, extensions: { code, ...extensions } }] });
}

/** POST bodies must be one of `accepted`; anything else is refused before parsing. GET passes. */
export function requireBodyType(accepted: readonly string[] = ['application/json']): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'POST') return next();
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (accepted.includes(type)) return next();
    sendGraphQLError(
      res,
      415,
      ErrorCode.UNSUPPORTED_MEDIA_TYPE,
      `send the request as ${accepted.join(' or ')}`,
    );
  };
}

/** Parses JSON bodies up to `limit`; `refuseBadBodies` answers for the ones it cannot parse. */
export const jsonBody = (limit: string): RequestHandler => express.json({ limit });

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
}

/** Answers an address nothing is served at like every other refusal (JSON with a code), not with Express's HTML page. */
export const answerUnknownRoutes: RequestHandler = (_req, res) =>
  sendGraphQLError(res, 404, ErrorCode.NOT_FOUND, 'nothing is served at this address');

/**
 * Turns body-parser failures into JSON answers. Placed after the routes that parse bodies. Any other error is
 * answered as an internal error without details and logged without its message (it may quote the body).
 */
export function refuseBadBodies(logger: Logger): ErrorRequestHandler {
  return (error: BodyParserError, _req, res, next) => {
    if (res.headersSent) return next(error);
    switch (error.type) {
      case 'entity.too.large':
        return sendGraphQLError(res, 413, ErrorCode.REQUEST_TOO_LARGE, 'the request body is too large', {
          limit: error.limit,
        });
      case 'entity.parse.failed':
        return sendGraphQLError(res, 400, ErrorCode.BAD_REQUEST, 'the request body is not valid JSON');
      case 'encoding.unsupported':
      case 'charset.unsupported':
        return sendGraphQLError(res, 415, ErrorCode.UNSUPPORTED_MEDIA_TYPE, 'unsupported body encoding');
      default: {
        const status = error.status ?? 500;
        if (status >= 400 && status < 500) {
          return sendGraphQLError(res, status, ErrorCode.BAD_REQUEST, 'the request could not be read');
        }
        logger.error(
          { requestId: requestIdOf(res), reason: error.type ?? 'unexpected' },
          'request failed before reaching GraphQL',
        );
        return sendGraphQLError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
      }
    }
  };
}

/** Node's reasons for not reading a request, and how each is answered. */
const UNREADABLE: Readonly<Record<string, { status: number; code: ErrorCode; message: string }>> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: ErrorCode.REQUEST_TOO_LARGE,
    message: 'the request headers are too large (a long GET document belongs in a POST body)',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: ErrorCode.BAD_REQUEST,
    message: 'the request was not received in time',
  },
};
const NOT_HTTP = { status: 400, code: ErrorCode.BAD_REQUEST, message: 'the request is not valid HTTP' };

/**
 * Node refuses a request it cannot read — headers over its limit (a GET with a long document, an outsized token), a
 * malformed request line or header — with a bare status line: no body, no code, no request id, no log line. This
 * answers it like every other refusal instead.
 */
export function answerUnreadableRequests(httpServer: Server, logger: Logger): void {
  httpServer.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // As Node itself does: nobody to answer on a reset or closed socket, and no answer into one already being written.
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const { status, code, message } = UNREADABLE[error.code ?? ''] ?? NOT_HTTP;
    const requestId = randomUUID();
    const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
    logger.warn({ requestId, status, code, reason: message }, 'refused a request');
    socket.end(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
        'content-type: application/json; charset=utf-8',
        `content-length: ${Buffer.byteLength(body)}`,
        `${REQUEST_ID_HEADER}: ${requestId}`,
        'connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
}
