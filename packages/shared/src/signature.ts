// Timed HMAC-SHA256 signatures: what a system outside the graph that shares a secret with the hub signs its word with,
// over `<unix seconds>.<payload>` — providers' delivery receipts (messages), the bank systems' attestations of the flow
// steps they performed (products). Checked in constant time, and only within SIGNATURE_MAX_SKEW_S of now.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a signature's timestamp may be from now, either way: past it, the signature is a replay. */
export const SIGNATURE_MAX_SKEW_S = 300;

const TIMESTAMP = /^\d{1,12}$/;

/** The hex HMAC-SHA256 with `secret` of `<timestamp>.<payload>`. */
export const timedSignature = (secret: string, timestamp: string, payload: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${payload}`).digest('hex');

/** VALID, EXPIRED (signed with the secret over this payload, but too far from now) or INVALID (anything else). */
export type SignatureCheck = 'VALID' | 'EXPIRED' | 'INVALID';

export function checkTimedSignature(
  secret: string,
  signed: { signature: unknown; timestamp: unknown },
  payload: string,
  now = Date.now(),
): SignatureCheck {
  const { signature, timestamp } = signed;
  if (typeof signature !== 'string' || typeof timestamp !== 'string' || !TIMESTAMP.test(timestamp))
    return 'INVALID';
  const expected = Buffer.from(timedSignature(secret, timestamp, payload));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'INVALID';
  return Math.abs(now / 1_000 - Number(timestamp)) > SIGNATURE_MAX_SKEW_S ? 'EXPIRED' : 'VALID';
}
