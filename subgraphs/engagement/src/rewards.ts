// Rewards for what members do in engagement (a completed task, a referral): points through members' awardPoints with
// the hub's service identity, and a benefit through grantBenefit. Both are idempotent by the caller's key, so an area
// that grants a reward again after a crash grants it once. grantInTurn is how every area retries the rewards it owes.
import { createHash } from 'node:crypto';
import { ErrorCode, type BankCalendar, type GraphClient, type Logger } from '@bank-hub/shared';
import { grantBenefit } from './benefits/grant';
import type { ClaimDoc } from './benefits/models/claim';
import { graphMemberPoints } from './members-points';
import type { EngagementRepositories } from './models';

export interface Reward {
  memberId: string;
  /** Points to award (spendable and growth); 0 for none. */
  points: number;
  /** The benefit to grant; null for none. */
  benefitId: string | null;
  /** The caller's key for this reward (8 to 64 of letters, digits, - _ . :). */
  idempotencyKey: string;
  source: 'TASK_REWARD' | 'REFERRAL';
  /** Why, as the points ledger shows it. */
  reason: string;
  requestId: string;
  /** The deadline of the member's request granting it (see MemberPoints); none for a background pass. */
  deadline?: number | null;
}

export interface Rewarded {
  pointsEntryId: string | null;
  claim: ClaimDoc | null;
}

export interface RewardGranter {
  grant(reward: Reward): Promise<Rewarded>;
}

/** Members' ledger keys are global: this one names the member, the source and the caller's key, in 64 characters. */
const awardKey = (reward: Reward) =>
  `reward:${createHash('sha256').update(`${reward.memberId}|${reward.source}|${reward.idempotencyKey}`).digest('hex').slice(0, 40)}`;

export function createRewardGranter({
  repos,
  graph,
  calendar,
}: {
  repos: EngagementRepositories;
  graph: GraphClient;
  calendar: BankCalendar;
}): RewardGranter {
  const points = graphMemberPoints(graph);
  return {
    async grant(reward) {
      const pointsEntryId =
        reward.points > 0
          ? await points.move(
              'awardPoints',
              {
                memberId: reward.memberId,
                amount: reward.points,
                reason: reward.reason,
                idempotencyKey: awardKey(reward),
              },
              reward.requestId,
              reward.deadline,
            )
          : null;
      const claim = reward.benefitId
        ? await grantBenefit(
            { repos, calendar },
            {
              benefitId: reward.benefitId,
              memberId: reward.memberId,
              idempotencyKey: reward.idempotencyKey,
              source: reward.source,
              deadline: reward.deadline,
            },
          )
        : null;
      return { pointsEntryId, claim };
    },
  };
}

/**
 * What a grant refused for good: the claim's refusals, which its key's record repeats to every retry (the benefit's
 * limits, stock, availability, an unknown benefit or member, a benefit the task no longer names under its key) —
 * unless it passes by itself (see retryAtOf). Anything else (a subgraph down, a claim still in progress) is tried
 * again later.
 */
const FINAL_REFUSALS = new Set<string>([
  ErrorCode.CLAIM_LIMIT_REACHED,
  ErrorCode.DAILY_LIMIT_REACHED,
  ErrorCode.OUT_OF_STOCK,
  ErrorCode.BENEFIT_NOT_AVAILABLE,
  ErrorCode.NOT_IN_AUDIENCE,
  ErrorCode.NOT_FOUND,
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.IDEMPOTENCY_KEY_REUSED,
]);

const extensionsOf = (error: unknown) =>
  (error as { extensions?: { code?: unknown; retryAt?: unknown } }).extensions ?? {};

/**
 * When a grant refused only for now may be tried again (its benefit starts, the bank's next day begins: see
 * grantBenefit); null for any other error.
 */
export function retryAtOf(error: unknown): Date | null {
  const { retryAt } = extensionsOf(error);
  return typeof retryAt === 'string' ? new Date(retryAt) : null;
}

/** Whether a grant's error is a refusal for good; its code when it is. */
export function finalRefusal(error: unknown): { code: string; message: string } | null {
  const { code } = extensionsOf(error);
  return typeof code === 'string' && FINAL_REFUSALS.has(code) && retryAtOf(error) === null
    ? { code, message: (error as Error).message }
    : null;
}

/** Failed grants (other than refusals) after which a pass stops: a subgraph that is down fails every grant alike. */
export const FAILURES_PER_PASS = 5;
const FIRST_RETRY_MS = 5_000;
const LAST_RETRY_MS = 3_600_000;

/** When a reward that failed `attempts` times before may be tried again: 5 s, doubling up to an hour. */
const retryAfter = (attempts: number, now: Date) =>
  new Date(now.getTime() + Math.min(FIRST_RETRY_MS * 2 ** Math.min(attempts, 20), LAST_RETRY_MS));

/** A reward still owed, as the area that owes it keeps it: what it is called in logs, and its failures so far. */
export interface OwedReward {
  _id: string;
  rewardAttempts?: number;
}

/** How an area grants one owed reward and records what came of it. */
export interface RewardLedger<T extends OwedReward> {
  /** What the logs call it ("task reward", "referral rewards"). */
  what: string;
  grant(owed: T): Promise<void>;
  rewarded(owed: T): Promise<void>;
  /** Refused for good: recorded with its code, never tried again. */
  refused(owed: T, refusal: { code: string; message: string }): Promise<void>;
  /** Failed otherwise, or refused only until `retryAt`: counted, and not tried again before then. */
  deferred(owed: T, retryAt: Date): Promise<void>;
}

/**
 * Time a member's request must have left to ask members for one more reward: members answers a key still in progress
 * CONFLICT half a second before the call's deadline, and the request still records the outcome and answers after it.
 */
const GRANT_TIME_MS = 1_000;

/**
 * Grants owed rewards in the order given (the caller's query: oldest first, none waiting out a backoff), each under
 * its own key: a refusal is recorded and never tried again; one refused only for now waits until then; any other
 * failure backs off, and a pass stops after FAILURES_PER_PASS of them — so no reward that keeps failing holds up the
 * ones behind it. Within a member's request (`deadline`, epoch ms) it also stops once too little time is left to ask
 * members: the rest stay due for the background pass, untried rather than failed.
 */
export async function grantInTurn<T extends OwedReward>(
  owed: readonly T[],
  ledger: RewardLedger<T>,
  logger: Logger,
  now: Date,
  deadline: number | null = null,
): Promise<void> {
  let failures = 0;
  for (const reward of owed) {
    if (deadline !== null && Date.now() > deadline - GRANT_TIME_MS) return;
    try {
      await ledger.grant(reward);
      await ledger.rewarded(reward);
    } catch (error) {
      const later = retryAtOf(error);
      if (later) {
        // Not a failure: nothing is wrong, the reward just cannot be given before then.
        await ledger.deferred(reward, later);
        logger.info({ id: reward._id, retryAt: later }, `${ledger.what} waits for its benefit`);
        continue;
      }
      const refusal = finalRefusal(error);
      if (refusal) {
        await ledger.refused(reward, refusal);
        logger.warn({ id: reward._id, ...refusal }, `${ledger.what} refused; not tried again`);
        continue;
      }
      await ledger.deferred(reward, retryAfter(reward.rewardAttempts ?? 0, now));
      logger.warn(
        { id: reward._id, reason: (error as Error).message },
        `${ledger.what} not granted; a later pass retries`,
      );
      if (++failures >= FAILURES_PER_PASS) return;
    }
  }
}
