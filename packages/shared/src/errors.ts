// Errors with stable `extensions.code` values: clients switch on the code, never on the message.
import { HeaderMap } from '@apollo/server';
import { GraphQLError } from 'graphql';

export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  OPERATION_TOO_DEEP: 'OPERATION_TOO_DEEP',
  OPERATION_TOO_COMPLEX: 'OPERATION_TOO_COMPLEX',
  OPERATION_TOO_LARGE: 'OPERATION_TOO_LARGE',
  /** The HTTP request itself is malformed (e.g. its body is not JSON). */
  BAD_REQUEST: 'BAD_REQUEST',
  REQUEST_TOO_LARGE: 'REQUEST_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** A persisted query (APQ) whose sha256Hash is not the hash of the query sent with it. */
  PERSISTED_QUERY_HASH_MISMATCH: 'PERSISTED_QUERY_HASH_MISMATCH',
  /** A persisted query (APQ) of a protocol version other than 1. */
  PERSISTED_QUERY_VERSION_NOT_SUPPORTED: 'PERSISTED_QUERY_VERSION_NOT_SUPPORTED',
  /** A persisted document id (documentId, or a persisted query's hash sent without its text) not in the manifest. */
  PERSISTED_DOCUMENT_NOT_FOUND: 'PERSISTED_DOCUMENT_NOT_FOUND',
  /** Operation text sent to a gateway that takes only the manifest's documents (PERSISTED_DOCUMENTS_ONLY). */
  PERSISTED_DOCUMENT_REQUIRED: 'PERSISTED_DOCUMENT_REQUIRED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** An entity representation lacks a field named in @requires: a planner or subgraph bug, never "none". */
  INVALID_REPRESENTATION: 'INVALID_REPRESENTATION',
  /** An activity that has ended cannot be joined or signed in to. */
  ACTIVITY_ENDED: 'ACTIVITY_ENDED',
  /** An activity that has not started cannot be joined yet. */
  ACTIVITY_NOT_STARTED: 'ACTIVITY_NOT_STARTED',
  /** The member is outside the audience (the rule, the levels) of the activity or benefit they asked for. */
  NOT_IN_AUDIENCE: 'NOT_IN_AUDIENCE',
  /** An idempotency key sent again with other arguments than the first time. */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** A spend of more spendable points than the member's balance holds. */
  INSUFFICIENT_POINTS: 'INSUFFICIENT_POINTS',
  /** An award or refund that would take a balance past the largest the graph can answer (2,147,483,647). */
  BALANCE_LIMIT_REACHED: 'BALANCE_LIMIT_REACHED',
  /** A refund that, with the refunds of the same spend before it, would give back more points than the spend took. */
  REFUND_EXCEEDS_SPEND: 'REFUND_EXCEEDS_SPEND',
  /** A purchase in the points mall that costs another number of points than the member was shown and agreed to. */
  POINTS_COST_CHANGED: 'POINTS_COST_CHANGED',
  /** A new segment past the most the members subgraph keeps (every page evaluates every segment). */
  SEGMENT_LIMIT_REACHED: 'SEGMENT_LIMIT_REACHED',
  /** New tag definitions past the most the library holds (every process keeps it, every tag write reads it). */
  TAG_DEFINITION_LIMIT_REACHED: 'TAG_DEFINITION_LIMIT_REACHED',
  /** A benefit whose stock is gone. */
  OUT_OF_STOCK: 'OUT_OF_STOCK',
  /** A benefit that is not published, not yet claimable or no longer claimable. */
  BENEFIT_NOT_AVAILABLE: 'BENEFIT_NOT_AVAILABLE',
  /** A member who has claimed a benefit as often as its per-member limit allows. */
  CLAIM_LIMIT_REACHED: 'CLAIM_LIMIT_REACHED',
  /** A benefit claimed as often today (UTC) as its per-day limit allows. */
  DAILY_LIMIT_REACHED: 'DAILY_LIMIT_REACHED',
  /** No invite has this code. */
  INVITE_CODE_UNKNOWN: 'INVITE_CODE_UNKNOWN',
  /** Another member already accepted this invite. */
  INVITE_CODE_USED: 'INVITE_CODE_USED',
  /** A member accepting their own invite. */
  SELF_REFERRAL: 'SELF_REFERRAL',
  /** Accepting would make the inviter's referrer chain come back to the invitee. */
  REFERRAL_LOOP: 'REFERRAL_LOOP',
  /** The member already accepted another invite. */
  ALREADY_REFERRED: 'ALREADY_REFERRED',
  /** A message template names a variable the hub does not know. */
  UNKNOWN_VARIABLE: 'UNKNOWN_VARIABLE',
  /** An SMS rendering that can bill more segments than its template allows. */
  SMS_TOO_LONG: 'SMS_TOO_LONG',
  /** An SMS rendering without the sender's signature (e.g. 【海川银行】). */
  SMS_SIGNATURE_REQUIRED: 'SMS_SIGNATURE_REQUIRED',
  /** An SMS rendering without an opt-out line (e.g. 回复TD退订). */
  SMS_OPT_OUT_REQUIRED: 'SMS_OPT_OUT_REQUIRED',
  /** A campaign whose audience selects nobody. */
  EMPTY_AUDIENCE: 'EMPTY_AUDIENCE',
  /** A provider receipt whose signature or timestamp does not check out: it changes nothing. */
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  /** More than a rate limit lets through this minute (HTTP 429, with Retry-After). */
  RATE_LIMITED: 'RATE_LIMITED',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export function hubError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extensions } });
}

/**
 * An error that rejects the whole request before execution (bad token, operation too large or deep, events past a
 * budget), with the HTTP status to answer it with and any headers to send along (a Retry-After). Field errors never
 * carry one: a status would fail every other field of the response along with them.
 */
export function requestError(
  code: ErrorCode,
  status: number,
  message: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): GraphQLError {
  // Apollo Server reads headers from a Map (a HeaderMap); the http extension's type, as graphql-yoga declares it in
  // the workspace, says a plain object, which Apollo Server would ignore.
  const http: Record<string, unknown> =
    Object.keys(headers).length > 0
      ? { status, headers: new HeaderMap(Object.entries(headers)) }
      : { status };
  return new GraphQLError(message, { extensions: { code, ...extensions, http } });
}

/** Invalid input; `field` names the argument path at fault, e.g. `rule.all[1].op`. */
export const badInput = (message: string, field: string): GraphQLError =>
  hubError(ErrorCode.BAD_USER_INPUT, message, { field });

/** What an error repeats of a caller's id or code: its first 64 characters, so that a megabyte of it is not sent back. */
export const echoed = (id: string): string => id.slice(0, 64);

export const notFound = (what: string, id: string): GraphQLError =>
  hubError(ErrorCode.NOT_FOUND, `${what} ${echoed(id)} does not exist`, { id: echoed(id) });

export const forbidden = (message: string): GraphQLError => hubError(ErrorCode.FORBIDDEN, message);

export const unauthenticated = (message: string): GraphQLError =>
  hubError(ErrorCode.UNAUTHENTICATED, message);

export const conflict = (message: string, extensions: Record<string, unknown> = {}): GraphQLError =>
  hubError(ErrorCode.CONFLICT, message, extensions);
