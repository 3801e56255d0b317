// Who is calling. The gateway verifies the client's JWT and hands subgraphs a short-lived token signed with a
// secret only it and the subgraphs share, so a subgraph never trusts identity a client could have set itself.
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { forbidden, unauthenticated } from './errors';

export const Scope = {
  MEMBER: 'member',
  OPERATOR: 'operator',
  /** Lets an operator see personal data (name, phone, ID number) unmasked. */
  PII_READ: 'pii:read',
  BUILDER: 'builder',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

export interface Identity {
  /** The verified `sub` of the caller's token; null when anonymous. */
  subject: string | null;
  scopes: ReadonlySet<string>;
}

export const ANONYMOUS: Identity = { subject: null, scopes: new Set() };

export const IDENTITY_HEADER = 'x-hub-identity';
const INTERNAL_ISSUER = 'hub-gateway';
const INTERNAL_AUDIENCE = 'hub-subgraph';

export function parseScopes(claim: unknown): Set<string> {
  if (typeof claim !== 'string') return new Set();
  return new Set(claim.split(/\s+/).filter(Boolean));
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function signInternalIdentity(identity: Identity, secret: string): Promise<string> {
  return new SignJWT({ scope: [...identity.scopes].join(' ') })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(identity.subject ?? '')
    .setIssuer(INTERNAL_ISSUER)
    .setAudience(INTERNAL_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(key(secret));
}

/** Reads the identity the gateway forwarded; an absent header means an anonymous caller. */
export async function verifyInternalIdentity(header: string | undefined, secret: string): Promise<Identity> {
  if (!header) return ANONYMOUS;
  try {
    const { payload } = await jwtVerify(header, key(secret), {
      issuer: INTERNAL_ISSUER,
      audience: INTERNAL_AUDIENCE,
      algorithms: ['HS256'],
    });
    return { subject: payload.sub || null, scopes: parseScopes(payload.scope) };
  } catch (error) {
    const reason = error instanceof joseErrors.JOSEError ? error.code : 'invalid';
    throw unauthenticated(`identity forwarded by the gateway is not valid (${reason})`);
  }
}

/** The member the caller acts as, or UNAUTHENTICATED. */
export function requireMember(identity: Identity): string {
  if (!identity.subject || !identity.scopes.has(Scope.MEMBER))
    throw unauthenticated('a member token is required');
  return identity.subject;
}

/** The operator's id, or UNAUTHENTICATED / FORBIDDEN. */
export function requireScope(identity: Identity, scope: Scope): string {
  if (!identity.subject) throw unauthenticated(`a token with scope "${scope}" is required`);
  if (!identity.scopes.has(scope)) throw forbidden(`scope "${scope}" is required`);
  return identity.subject;
}

export const hasScope = (identity: Identity, scope: Scope): boolean => identity.scopes.has(scope);
