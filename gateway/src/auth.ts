// Names the caller: verifies the client's bearer JWT (HS256 with JWT_SECRET by default, or keys from JWT_JWKS_URL in
// production), or, without one, takes the device a guest names.
import type { IncomingHttpHeaders } from 'node:http';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  jwksCache,
  jwtVerify,
  errors as joseErrors,
  type JSONWebKeySet,
  type JWKSCacheInput,
  type JWTVerifyGetKey,
} from 'jose';
import {
  ANONYMOUS,
  CLIENT_ID,
  DEVICE_ID_HEADER,
  ErrorCode,
  MEMBER_ID,
  MEMBER_ID_RULE,
  Scope,
  parseScopes,
  requestError,
  type HubConfig,
  type Identity,
  type Logger,
} from '@bank-hub/shared';

const unauthenticated = (message: string) => requestError(ErrorCode.UNAUTHENTICATED, 401, message);

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

/** How long the issuer's JWKS is not asked again after it failed to answer; the keys fetched before serve meanwhile. */
const ISSUER_RETRY_MS = 30_000;

/**
 * Whether the issuer's key set could not be read (unreachable, too slow, not 200, not a key set), as opposed to a
 * token naming a key the set does not hold: the first is no fault of the caller's.
 */
const issuerFailed = (error: unknown) =>
  !(error instanceof joseErrors.JOSEError) ||
  error instanceof joseErrors.JWKSTimeout ||
  error instanceof joseErrors.JWKSInvalid ||
  error.code === joseErrors.JOSEError.code;

/**
 * The issuer's keys from its JWKS, which jose fetches again every ten minutes and for a key id it does not know. When
 * the JWKS cannot be fetched, the keys fetched last go on verifying tokens (a key the issuer withdrew is dropped as soon
 * as it answers again): an issuer's outage must not refuse every member's token, which makes apps drop their sessions.
 * With no key fetched yet, the caller is told the service is unavailable, not that their token is bad.
 */
function issuerKeys(url: URL, logger: Logger): JWTVerifyGetKey {
  const fetched: JWKSCacheInput = {};
  const remote = createRemoteJWKSet(url, { [jwksCache]: fetched });
  let lastFetched: { jwks: JSONWebKeySet; keys: JWTVerifyGetKey } | null = null;
  let askAgainAt = 0;
  const fromLastFetched: JWTVerifyGetKey = (header, token) => {
    if ('jwks' in fetched && lastFetched?.jwks !== fetched.jwks)
      lastFetched = { jwks: fetched.jwks, keys: createLocalJWKSet(fetched.jwks) };
    if (!lastFetched) {
      throw requestError(
        ErrorCode.SERVICE_UNAVAILABLE,
        503,
        "the token issuer's keys could not be fetched; try again",
      );
    }
    return lastFetched.keys(header, token);
  };
  return async (header, token) => {
    // While the issuer is down, each request would otherwise wait for it again (up to jose's 5 s).
    if (Date.now() < askAgainAt) return fromLastFetched(header, token);
    try {
      return await remote(header, token);
    } catch (error) {
      if (!issuerFailed(error)) throw error;
      askAgainAt = Date.now() + ISSUER_RETRY_MS;
      logger.warn(
        { reason: error instanceof Error ? error.message : String(error) },
        "the token issuer's JWKS could not be fetched: tokens are verified with the keys fetched before, if any",
      );
      return fromLastFetched(header, token);
    }
  };
}

export function createTokenVerifier(config: HubConfig, logger: Logger): TokenVerifier {
  const options = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    // A token that never expires, or was issued long ago, is a stolen token's best friend: every token must say
    // when it was issued and when it expires, and is refused once older than JWT_MAX_AGE_S whatever its expiry.
    requiredClaims: ['exp', 'iat'],
    maxTokenAge: config.JWT_MAX_AGE_S,
  };
  const jwks: JWTVerifyGetKey | null = config.JWT_JWKS_URL
    ? issuerKeys(new URL(config.JWT_JWKS_URL), logger)
    : null;
  const secret = new TextEncoder().encode(config.JWT_SECRET);

  return async (authorization) => {
    if (!authorization) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
    if (!match) throw unauthenticated('Authorization header must be "Bearer <token>"');
    try {
      const { payload } = jwks
        ? await jwtVerify(match[1]!, jwks, { ...options, algorithms: ['RS256', 'ES256', 'PS256', 'EdDSA'] })
        : await jwtVerify(match[1]!, secret, { ...options, algorithms: ['HS256'] });
      // A claim is whatever JSON the issuer wrote: a subject that is not a string would reach subgraphs and audit
      // records as a number or an object.
      if (typeof payload.sub !== 'string' || !payload.sub) throw unauthenticated('token has no subject');
      const scopes = parseScopes(payload.scope);
      // Acting for the hub itself is for the hub's own subgraphs (signed with SUBGRAPH_SECRET), never a client.
      scopes.delete(Scope.SERVICE);
      // A member token names a member: a subject no member id can be (200 characters, spaces, a guest's id) would be
      // stored on events, handed on to members and echoed back, and name nobody there.
      if (scopes.has(Scope.MEMBER) && !MEMBER_ID.test(payload.sub))
        throw unauthenticated(`a member token's subject is not a member id (${MEMBER_ID_RULE})`);
      return { subject: payload.sub, scopes };
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired)
        throw unauthenticated(error.claim === 'iat' ? 'token is too old' : 'token has expired');
      if (error instanceof joseErrors.JWTClaimValidationFailed && error.reason === 'missing')
        throw unauthenticated(`token has no "${error.claim}" claim`);
      if (error instanceof joseErrors.JOSEError) throw unauthenticated(`token is not valid (${error.code})`);
      throw error;
    }
  };
}

/**
 * A caller without a token who names their device: a guest, anonymous in every other respect (no subject, no scope),
 * so nothing a member or operator may do is open to them. A malformed device id is refused before execution.
 */
export function deviceIdentity(header: string | string[]): Identity {
  if (typeof header !== 'string' || !CLIENT_ID.test(header)) {
    throw requestError(
      ErrorCode.BAD_USER_INPUT,
      400,
      `${DEVICE_ID_HEADER} must be 8 to 64 letters, digits, -, _, . or :, starting with a letter or digit`,
      { field: DEVICE_ID_HEADER },
    );
  }
  return { ...ANONYMOUS, deviceId: header };
}

/** Who calls the graph: whom their token names; without a token, a guest when they name a device; else anonymous. */
export async function identifyCaller(
  verifyToken: TokenVerifier,
  headers: IncomingHttpHeaders,
): Promise<Identity> {
  // A token always wins: a member's app may send its device id too, and stays that member.
  if (headers.authorization) return verifyToken(headers.authorization);
  const device = headers[DEVICE_ID_HEADER];
  return device === undefined ? ANONYMOUS : deviceIdentity(device);
}
