// Who is logged in: the operator's (or a mini-program builder's) bearer token, kept for this browser tab only
// (sessionStorage), and what its claims say. The claims are read for the screen's sake; the gateway verifies the token
// on every request.
import { useSyncExternalStore } from 'react';
import { forgetKept } from './kept';

export interface Session {
  token: string;
  subject: string;
  scopes: string[];
}

const KEY = 'hub-console-token';
/** The scopes of the bank's staff: operators, and builders, who compose service flows. */
const STAFF = ['operator', 'builder'];

/** The payload of a JWT, unverified, or null when the text is not one. */
function claimsOf(token: string): { sub?: unknown; scope?: unknown } | null {
  const payload = token.split('.')[1];
  if (token.split('.').length !== 3 || !payload) return null;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='))) as object;
  } catch {
    return null;
  }
}

/** The session a token opens, or why it opens none. */
export function sessionFor(pasted: string): Session | { refused: string } {
  // A token is often copied as the header value it travels in ("Bearer <token>", as the explorer shows it).
  const token = pasted.trim().replace(/^bearer\s+/i, '');
  const claims = claimsOf(token);
  if (!claims || typeof claims.sub !== 'string')
    return { refused: 'That is not a token: a token is three parts separated by dots (a JWT).' };
  const scopes = typeof claims.scope === 'string' ? claims.scope.split(/\s+/).filter(Boolean) : [];
  if (!scopes.some((scope) => STAFF.includes(scope)))
    return {
      refused: `Operators and builders only: this token is for ${claims.sub} (${scopes.join(' ') || 'no scope'}), not the bank's staff.`,
    };
  return { token, subject: claims.sub, scopes };
}

function stored(): Session | null {
  const token = sessionStorage.getItem(KEY);
  if (!token) return null;
  const session = sessionFor(token);
  return 'refused' in session ? null : session;
}

let current: Session | null = stored();
/** Why the last session ended, shown on the login screen. */
let notice: string | null = null;
const listeners = new Set<() => void>();
const changed = () => listeners.forEach((listener) => listener());

export const session = {
  current: () => current,
  notice: () => notice,
  subscribe(listener: () => void) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
  start(opened: Session) {
    sessionStorage.setItem(KEY, opened.token);
    current = opened;
    notice = null;
    changed();
  },
  end(why: string | null = null) {
    sessionStorage.removeItem(KEY);
    current = null;
    notice = why;
    changed();
  },
  /** The operator chose to leave: their unsaved edits go too (a refused token keeps them for their next login). */
  logOut() {
    forgetKept();
    session.end();
  },
};

export const useSession = (): Session | null => useSyncExternalStore(session.subscribe, session.current);
export const useSessionNotice = (): string | null => useSyncExternalStore(session.subscribe, session.notice);
