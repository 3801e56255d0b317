// Errors that reach the error formatter without the code they deserve: a database that cannot be reached, Apollo
// Server's own refusals of persisted queries (no code at all), and the refusals of validation rules (a scalar's of a
// literal written in the document, the gateway's operation guards'), which Apollo Server reports as validation
// failures. Each gets a stable code here, so the formatter neither masks it as INTERNAL_SERVER_ERROR nor blurs what
// the client must fix.
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ErrorCode } from './errors';

/**
 * The MongoDB driver's and mongoose's names for "the database cannot be reached": no server to select, a broken or
 * timed-out connection, a pool cleared or closed, a client, topology or server already closed. Names rather than
 * classes, so that an error from another copy of the driver is recognized too.
 */
const UNREACHABLE = new Set([
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
  'MongoPoolClosedError',
  'MongoNotConnectedError',
  'MongoClientClosedError',
  'MongoTopologyClosedError',
  'MongoServerClosedError',
]);

/** Errors wrap their cause (GraphQL's originalError, the driver's cause); a few levels are plenty. */
function* causes(error: unknown): Generator<Error> {
  let current: unknown = error;
  for (let level = 0; level < 5 && current instanceof Error; level++) {
    yield current;
    current =
      current instanceof GraphQLError && current.originalError ? current.originalError : current.cause;
  }
}

/** Whether an error means the database could not be reached (so the request may simply be retried). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (const cause of causes(error)) {
    if (UNREACHABLE.has(cause.name)) return true;
    // mongoose queues commands while disconnected and gives up with a plain MongooseError.
    if (cause.name === 'MongooseError' && /buffering timed out/.test(cause.message)) return true;
  }
  return false;
}

/**
 * Apollo Server refuses these persisted-query requests (HTTP 400) with an error that carries no code at all; its
 * message is the only thing that tells them apart.
 */
const PERSISTED_QUERY_REFUSALS: ReadonlyMap<string, ErrorCode> = new Map([
  ['provided sha does not match query', ErrorCode.PERSISTED_QUERY_HASH_MISMATCH],
  ['Unsupported persisted query version', ErrorCode.PERSISTED_QUERY_VERSION_NOT_SUPPORTED],
]);

/** Codes a validation rule refuses with, which Apollo Server reports as GRAPHQL_VALIDATION_FAILED. */
const REFUSED_IN_VALIDATION = new Set<unknown>([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.OPERATION_TOO_DEEP,
  ErrorCode.OPERATION_TOO_COMPLEX,
]);

/** The answer for an error recognized here, or null to let the formatter decide. */
export function recognizedError(
  formatted: GraphQLFormattedError,
  error: unknown,
): GraphQLFormattedError | null {
  const where = { path: formatted.path, locations: formatted.locations };
  // The driver's message names hosts and ports: the request's log says it (see logUnexpectedErrors), never the client.
  if (isDatabaseUnavailable(error)) {
    return {
      message: 'the database could not be reached; try again',
      ...where,
      extensions: { code: ErrorCode.SERVICE_UNAVAILABLE },
    };
  }
  // A literal the scalar refused (e.g. a DateTime without an offset) is bad input, wherever it was written; a document
  // the gateway's operation guards refused is too deep or too complex.
  const refusedBy = error instanceof GraphQLError ? error.originalError : undefined;
  if (
    formatted.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' &&
    refusedBy instanceof GraphQLError &&
    REFUSED_IN_VALIDATION.has(refusedBy.extensions.code)
  ) {
    return { message: formatted.message, ...where, extensions: { ...refusedBy.extensions } };
  }
  const refusal =
    error instanceof GraphQLError && error.extensions.code === undefined
      ? PERSISTED_QUERY_REFUSALS.get(error.message)
      : undefined;
  if (refusal) return { message: formatted.message, ...where, extensions: { code: refusal } };
  return null;
}
