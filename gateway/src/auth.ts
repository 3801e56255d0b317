// Names the caller: verifies the client's bearer JWT (HS256 with JWT_SECRET by default, or keys from JWT_JWKS_URL in
// production), or, without one, takes the device a guest names.
import type { IncomingHttpHeaders } from 'node:http';
import { createRemoteJWKSet, jwtVerify, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import {
  ANONYMOUS,
  CLIENT_ID,
  DEVICE_ID_HEADER,
  ErrorCode,
  Scope,
  parseScopes,
  requestError,
  type HubConfig,
  type Identity,
} from '@bank-hub/shared';

const unauthenticated = (message: string) => requestError(ErrorCode.UNAUTHENTICATED, 401, message);

export type TokenVerifier = (authorization: string | undefined) => Promise<Identity>;

export function createTokenVerifier(config: HubConfig): TokenVerifier {
  const options = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    // A token that never expires, or was issued long ago, is a stolen token's best friend: every token must say
    // when it was issued and when it expires, and is refused once older than JWT_MAX_AGE_S whatever its expiry.
    requiredClaims: ['exp', 'iat'],
    maxTokenAge: config.JWT_MAX_AGE_S,
  };
  const jwks: JWTVerifyGetKey | null = config.JWT_JWKS_URL
    ? createRemoteJWKSet(new URL(config.JWT_JWKS_URL))
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
