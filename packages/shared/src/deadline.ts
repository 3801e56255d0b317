// How long a caller of an idempotency key waits for another writer of the same key (members' points ledger,
// engagement's claims) before answering CONFLICT: never past the caller's own deadline, so that the caller hears
// CONFLICT (retry later) rather than its own timeout.

/** How long a caller of a key waits at most for another writer of it, when the caller set no deadline of its own. */
const WAIT_FOR_OWNER_MS = 10_000;
/** Time kept back from the caller's deadline to send CONFLICT before the caller stops listening. */
const ANSWER_MARGIN_MS = 500;

/**
 * Until when (epoch ms) a caller of a key waits for another writer of it before answering CONFLICT: WAIT_FOR_OWNER_MS
 * at most, and never past the caller's own deadline (`callerDeadline`, epoch ms; null when it set none).
 */
export function waitForOwnerUntil(now: number, callerDeadline: number | null): number {
  return Math.min(
    now + WAIT_FOR_OWNER_MS,
    callerDeadline === null ? Infinity : callerDeadline - ANSWER_MARGIN_MS,
  );
}
