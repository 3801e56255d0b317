// The token in a marketing message's unsubscribe link: the message's id and an HMAC of it, so following the link needs
// no login and no one can unsubscribe a member from a message they never got. The key is derived from
// SUBGRAPH_SECRET, which every deployment already keeps secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

const keyOf = (secret: string) => createHmac('sha256', secret).update('messages-unsubscribe-v1').digest();

const macOf = (secret: string, messageId: string) =>
  createHmac('sha256', keyOf(secret)).update(messageId).digest().subarray(0, 18);

export function unsubscribeToken(secret: string, messageId: string): string {
  return `${Buffer.from(messageId, 'utf8').toString('base64url')}.${macOf(secret, messageId).toString('base64url')}`;
}

/** The message a token names, or null when it is not a token this hub signed. */
export function messageOfToken(secret: string, token: string): string | null {
  if (token.length > 400) return null;
  const [id, mac, ...rest] = token.split('.');
  if (!id || !mac || rest.length > 0) return null;
  const messageId = Buffer.from(id, 'base64url').toString('utf8');
  if (Buffer.from(messageId, 'utf8').toString('base64url') !== id) return null;
  const given = Buffer.from(mac, 'base64url');
  // Base64 ignores trailing bits that make no whole byte: a MAC with a character added would decode the same.
  if (given.toString('base64url') !== mac) return null;
  const expected = macOf(secret, messageId);
  return given.length === expected.length && timingSafeEqual(given, expected) ? messageId : null;
}

export const unsubscribeUrl = (base: string, token: string): string =>
  `${base}${base.includes('?') ? '&' : '?'}t=${token}`;
