// Who is calling. The gateway verifies the client's JWT and hands subgraphs a short-lived token signed with a
// secret only it and the subgraphs share, so a subgraph never trusts identity a client could have set itself.
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { ErrorCode, forbidden, requestError, unauthenticated } from './errors';

export const Scope = {
  MEMBER: 'member',
  OPERATOR: 'operator',
  /** Lets an operator see personal data (name, phone, ID number) unmasked. */
  PII_READ: 'pii:read',
  BUILDER: 'builder',
  /**
   * Lets an auditor read every subgraph's audit trail (`<subgraph>AuditLog`), and nothing else: reading the trail
   * needs no right to change what it records. Operators read it too.
   */
  AUDIT: 'audit',
  /**
   * Another subgraph acting for the hub itself, e.g. analytics writing computed lifecycle stages back to members.
   * Only ever granted by the hub's own signed identities: the gateway drops it from client tokens.
   */
  SERVICE: 'service',
  /**
   * A data holder taking part in federated joint modelling (联邦学习联合建模): it posts its round keys and masked
   * updates as the participant its subject names, and reads the rounds it is listed in — nothing else.
   */
  FEDERATION: 'federation',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/** The scopes a client's token may carry: `service` is the hub's own, and the gateway drops it from client tokens. */
export const CLIENT_SCOPES: ReadonlySet<string> = new Set<string>([
  Scope.MEMBER,
  Scope.OPERATOR,
  Scope.PII_READ,
  Scope.BUILDER,
  Scope.AUDIT,
  Scope.FEDERATION,
]);

export interface Identity {
  /** The verified `sub` of the caller's token; null when anonymous. */
  subject: string | null;
  scopes: ReadonlySet<string>;
  /**
   * The device a caller without a token named (x-device-id), its shape checked by the gateway: such a caller gets
   * guest pages. Never set alongside a token (a token always wins), and never a reason to treat anyone as a member.
   */
  deviceId?: string | null;
}

export const ANONYMOUS: Identity = { subject: null, scopes: new Set() };

/** The header a client without a token names its device in (the event collector reads it too). */
export const DEVICE_ID_HEADER = 'x-device-id';
/** Ids a client chooses itself, for its device and its events: 8 to 64 letters, digits, `-`, `_`, `.` or `:`. */
export const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{7,63}$/;

/**
 * A member's id, in members and wherever another subgraph names a member: 1 to 64 letters, digits, `-` or `_`. The
 * subject of a member token must be one (the gateway refuses another), so an id a token or an event carries into
 * analytics, and from there to members, is bounded and prints as it is.
 */
export const MEMBER_ID = /^[A-Za-z0-9_-]{1,64}$/;
/**
 * MEMBER_ID as a MongoDB filter, for records stored before ids were refused: `\z` where the pattern ends, because
 * MongoDB's `$` also matches before a final newline (`M0001\n` would pass).
 */
export const MEMBER_ID_FILTER = { $regex: MEMBER_ID.source.replace(/\$$/, '\\z') } as const;
/** MEMBER_ID in words, for the messages that refuse an id. */
export const MEMBER_ID_RULE = '1 to 64 letters, digits, - or _';

/**
 * A guest's member id. Real member ids never hold a colon (MEMBER_ID), so a guest id can never name a real member, nor
 * a real member's id a guest.
 */
const GUEST_PREFIX = 'guest:';
export const guestMemberId = (deviceId: string): string => `${GUEST_PREFIX}${deviceId}`;

/** The device a guest member id names, or null when the id is not a well-formed guest id. */
export function deviceOfGuest(memberId: string): string | null {
  if (!memberId.startsWith(GUEST_PREFIX)) return null;
  const deviceId = memberId.slice(GUEST_PREFIX.length);
  return CLIENT_ID.test(deviceId) ? deviceId : null;
}

/** A subgraph acting for the hub itself (e.g. analytics writing computed lifecycles to members). */
export const serviceIdentity = (subgraph: string): Identity => ({
  subject: `svc.${subgraph}`,
  scopes: new Set([Scope.SERVICE]),
});

export const IDENTITY_HEADER = 'x-hub-identity';
/** A subgraph calling the graph back on behalf of its caller (e.g. to check a product it is told about). */
export const ON_BEHALF_OF_HEADER = 'x-hub-on-behalf-of';
const INTERNAL_ISSUER = 'hub-internal';
const SUBGRAPH_AUDIENCE = 'hub-subgraph';
const GATEWAY_AUDIENCE = 'hub-gateway';

export function parseScopes(claim: unknown): Set<string> {
  if (typeof claim !== 'string') return new Set();
  return new Set(claim.split(/\s+/).filter(Boolean));
}

const key = (secret: string) => new TextEncoder().encode(secret);

/** Internal tokens live two minutes; one is reused for the same caller while more than a minute is left. */
const INTERNAL_TOKEN_SECONDS = 120;
const REUSE_FOR_MS = 60_000;
/** Bounds for the caches below: past them the oldest entries go (a Map iterates in insertion order). */
const CACHE_ENTRIES = 10_000;

/** Signed internal tokens by audience, secret and caller: every request of a busy member needs the same one. */
const signed = new Map<string, { token: Promise<string>; reuseUntil: number }>();
/** Verified internal tokens and whom they name, until they expire: verifying means HMAC and JSON each time. */
const verified = new Map<string, { identity: Identity; expiresAt: number }>();

function remember<V>(cache: Map<string, V>, entry: string, value: V): void {
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  cache.set(entry, value);
}

function signIdentity(identity: Identity, secret: string, audience: string): Promise<string> {
  const scope = [...identity.scopes].sort().join(' ');
  const deviceId = identity.deviceId ?? null;
  const entry = `${audience}\n${secret}\n${identity.subject ?? ''}\n${scope}\n${deviceId ?? ''}`;
  const now = Date.now();
  const known = signed.get(entry);
  if (known && known.reuseUntil > now) return known.token;
  const token = new SignJWT(deviceId ? { scope, did: deviceId } : { scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(identity.subject ?? '')
    .setIssuer(INTERNAL_ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${INTERNAL_TOKEN_SECONDS}s`)
    .sign(key(secret));
  remember(signed, entry, { token, reuseUntil: now + INTERNAL_TOKEN_SECONDS * 1_000 - REUSE_FOR_MS });
  return token;
}

async function verifyIdentity(
  token: string,
  secret: string,
  audience: string,
  what: string,
): Promise<Identity> {
  const entry = `${audience}\n${secret}\n${token}`;
  const known = verified.get(entry);
  if (known && known.expiresAt > Date.now()) return known.identity;
  try {
    const { payload } = await jwtVerify(token, key(secret), {
      issuer: INTERNAL_ISSUER,
      audience,
      algorithms: ['HS256'],
    });
    const identity: Identity = {
      subject: payload.sub || null,
      scopes: parseScopes(payload.scope),
      deviceId: typeof payload.did === 'string' ? payload.did : null,
    };
    remember(verified, entry, { identity, expiresAt: (payload.exp ?? 0) * 1_000 });
    return identity;
  } catch (error) {
    const reason = error instanceof joseErrors.JOSEError ? error.code : 'invalid';
    throw requestError(ErrorCode.UNAUTHENTICATED, 401, `${what} is not valid (${reason})`);
  }
}

/** The gateway's word to a subgraph about who is calling. */
export const signInternalIdentity = (identity: Identity, secret: string): Promise<string> =>
  signIdentity(identity, secret, SUBGRAPH_AUDIENCE);

/**
 * Reads the identity the gateway forwarded. The gateway signs every request, anonymous ones too, so a request
 * without the header did not come through the gateway and could carry forged entity representations.
 */
export async function verifyInternalIdentity(header: string | undefined, secret: string): Promise<Identity> {
  if (!header) {
    throw requestError(
      ErrorCode.UNAUTHENTICATED,
      401,
      'subgraphs answer only requests that come through the gateway',
    );
  }
  return verifyIdentity(header, secret, SUBGRAPH_AUDIENCE, 'identity forwarded by the gateway');
}

/** A subgraph's word to the gateway that it calls on behalf of this (already verified) caller. */
export const signOnBehalfOf = (identity: Identity, secret: string): Promise<string> =>
  signIdentity(identity, secret, GATEWAY_AUDIENCE);

export const verifyOnBehalfOf = (token: string, secret: string): Promise<Identity> =>
  verifyIdentity(token, secret, GATEWAY_AUDIENCE, 'on-behalf-of identity');

/**
 * The member the caller acts as; UNAUTHENTICATED without a token (or as a guest), FORBIDDEN for another kind or for a
 * subject that is no member id (which the gateway refuses already: nothing past it may act as one).
 */
export function requireMember(identity: Identity): string {
  if (!identity.subject) throw unauthenticated('a member token is required');
  if (!identity.scopes.has(Scope.MEMBER)) throw forbidden('a member token is required: this one is not');
  if (!MEMBER_ID.test(identity.subject)) throw forbidden('the member token names no member id');
  return identity.subject;
}

/** The member a caller's token names, or null for a caller who is no member (no token, a guest, an operator). */
export const memberOf = (identity: Identity): string | null =>
  identity.subject && identity.scopes.has(Scope.MEMBER) && MEMBER_ID.test(identity.subject)
    ? identity.subject
    : null;

/** The operator's id, or UNAUTHENTICATED / FORBIDDEN. */
export function requireScope(identity: Identity, scope: Scope): string {
  if (!identity.subject) throw unauthenticated(`a token with scope "${scope}" is required`);
  if (!identity.scopes.has(scope)) throw forbidden(`scope "${scope}" is required`);
  return identity.subject;
}

/** The caller's id when they hold at least one of the scopes, else UNAUTHENTICATED / FORBIDDEN. */
export function requireAnyScope(identity: Identity, scopes: readonly Scope[]): string {
  if (!identity.subject) throw unauthenticated(`a token with scope ${scopes.join(' or ')} is required`);
  if (!scopes.some((scope) => identity.scopes.has(scope)))
    throw forbidden(`scope ${scopes.join(' or ')} is required`);
  return identity.subject;
}

export const hasScope = (identity: Identity, scope: Scope): boolean => identity.scopes.has(scope);

/**
 * Resolvers of fields of a `TParent` that only operators may read (how it is targeted, weighted and approved):
 * `operatorOnlyOf<ActivityDoc>()('status')`. Anyone else gets UNAUTHENTICATED or FORBIDDEN on that field, which the
 * schema keeps nullable so that the refusal costs the field alone, not the list or the member it sits in.
 */
export const operatorOnlyOf =
  <TParent>() =>
  <K extends keyof TParent>(field: K) =>
  (parent: TParent, _args: unknown, ctx: { identity: Identity }): TParent[K] => {
    requireScope(ctx.identity, Scope.OPERATOR);
    return parent[field];
  };

/** Whether the caller is the member `memberId` themself, with their own member token. */
export const isMemberThemself = (identity: Identity, memberId: string): boolean =>
  identity.subject === memberId && hasScope(identity, Scope.MEMBER);

/** Whether the caller is `memberId` themself: the member with their own token, or the guest whose device it names. */
export const isCallerThemself = (identity: Identity, memberId: string): boolean =>
  isMemberThemself(identity, memberId) ||
  (typeof identity.deviceId === 'string' && guestMemberId(identity.deviceId) === memberId);
