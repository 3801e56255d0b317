// Claiming a benefit without transactions. One record per idempotency key admits one writer (its lease lets a retry
// take over from a writer that died halfway) and keeps the first answer, claim or refusal, for every repeat. The claim
// then reserves, each with one conditional update that carries the claim's id — the member's count (cheap, nobody
// else contends), the day's count, and last the contended stock — and gives back what it reserved when a later step
// refuses. Carrying the id, and recording each place taken under it (see ClaimCounterRepository), makes every step safe
// to repeat, so a retry finishes a claim without taking twice, however many claims came since.
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  badInput,
  hubError,
  notFound,
  waitForOwnerUntil,
  type BankCalendar,
  type Logger,
} from '@bank-hub/shared';
import type { MemberAttributes } from '@bank-hub/targeting';
import {
  BENEFIT_ID,
  IDEMPOTENCY_KEY,
  argumentsHash,
  audienceRefusal,
  availabilityRefusal,
  claimIdOf,
  claimRequestId,
  endedRefusal,
  expiryOf,
  hasAudience,
  limitsOf,
  outOfStock,
  pointsCostRefusal,
  type ClaimRefusal,
} from './domain/claiming';
import type { BenefitDoc } from './models/benefit';
import type { BenefitRepositories } from './models';
import type { ClaimDoc, ClaimSource } from './models/claim';
import type { ClaimRequestDoc, Lease } from './models/claim-request';

/** Longer than any claim takes; a writer that died is taken over after it. */
const LEASE_MS = 15_000;
const POLL_MS = 40;

/** Points paid for a claim (redeemPoints), under keys derived from the claim so that a retry pays once. */
export interface Payment {
  /** Takes the points; throws INSUFFICIENT_POINTS when the balance does not cover them, NOT_FOUND for nobody. */
  pay(claimId: string, points: number): Promise<void>;
  /** Gives them back when the claim is refused after paying. */
  refund(claimId: string, points: number): Promise<void>;
}

/** What members says of the member claiming. */
export interface Claimant {
  /** Their attributes, for a benefit with an audience (FORBIDDEN for nobody). */
  attributes(): Promise<MemberAttributes>;
  /** FORBIDDEN unless members knows them: nothing is given to nobody, also where no audience asks who they are. */
  known(): Promise<void>;
}

export interface ClaimCommand {
  memberId: string;
  benefitId: string;
  idempotencyKey: string;
  source: ClaimSource;
  /** Who the member is; null when the caller decided already (task, referral). */
  claimant: Claimant | null;
  /** Refuses a benefit this way of claiming does not take (BAD_USER_INPUT), before anything is stored. */
  accepts: (benefit: BenefitDoc) => void;
  payment: Payment | null;
  /**
   * The points the member agreed to pay (redeemPoints' expectedPointsCost), or null when they named none. A purchase
   * costs what its key's first call fixed — for a new key, the product's pointsCost now — and one that would cost
   * anything else is POINTS_COST_CHANGED before anything is stored or paid.
   */
  expectedPointsCost: number | null;
  /**
   * A grant its caller tries again until it is given or refused for good (a task's or referral's reward, never paid
   * for): a refusal that passes by itself — the benefit has not started, the day's limit is reached — is not the key's
   * answer but an error with `extensions.retryAt`, so that the member gets the reward then instead of never.
   */
  retriesLater: boolean;
  /**
   * Until when (epoch ms) the caller waits for the answer — the member's request's deadline (the gateway's
   * SUBGRAPH_TIMEOUT_MS) — or null (a background pass): a repeat of a key still in progress answers CONFLICT in time
   * before it. (A payment is given the same deadline: see pointsPayment.)
   */
  deadline: number | null;
}

export function checkClaimArguments(benefitId: string, benefitField: string, idempotencyKey: string): void {
  if (!BENEFIT_ID.test(benefitId)) throw badInput(`${benefitField} is not a benefit id`, benefitField);
  if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw badInput('idempotencyKey must be 8 to 64 letters, digits or - _ . :', 'idempotencyKey');
  }
}

const newLease = (): Lease => ({ holder: randomUUID(), leaseUntil: new Date(Date.now() + LEASE_MS) });

/** A refusal that passes by itself at `retryAt`, as a grant's caller is told it: the key keeps no answer. */
const notYet = ({ code, message }: ClaimRefusal, retryAt: Date) =>
  hubError(code as ErrorCode, message, { retryAt: retryAt.toISOString() });

/** What a key's record keeps of a refusal: its code and message, and the refund of what was paid for it. */
const recorded = ({ code, message }: ClaimRefusal, refund: 'DUE' | null) => ({ code, message, refund });

/** Refuses a purchase that would cost `pointsCost` when its member agreed to another price (see ClaimCommand). */
function mustCostAsAgreed(pointsCost: number, command: ClaimCommand): void {
  const refusal = pointsCostRefusal(pointsCost, command.expectedPointsCost);
  if (refusal)
    throw hubError(refusal.code as ErrorCode, refusal.message, { field: 'expectedPointsCost', pointsCost });
}

const codeOf = (error: unknown) => (error as { extensions?: { code?: unknown } }).extensions?.code;

/**
 * Members' refusals of a spend, decided before it stores anything under the key: the balance does not cover it, there
 * is no such member (a token members does not know), or the key is applied to another entry for good (an operator's
 * award under it), which this spend can then never be. Nothing was ever paid; any other failure leaves that unknown.
 */
const REFUSED_SPEND = new Set<unknown>([
  ErrorCode.INSUFFICIENT_POINTS,
  ErrorCode.NOT_FOUND,
  ErrorCode.IDEMPOTENCY_KEY_REUSED,
]);
const refusedSpend = (error: unknown) => REFUSED_SPEND.has(codeOf(error));

/**
 * Claims a benefit for a member once per key: the claim, or the refusal as an error with its stable code. `calendar`:
 * the bank's, whose business days the daily limit and a claim's valid days count.
 */
export async function claim(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  command: ClaimCommand,
): Promise<ClaimDoc> {
  const requestId = claimRequestId(command.memberId, command.source, command.idempotencyKey);
  const hash = argumentsHash({ benefitId: command.benefitId });
  // A repeat waits for the first writer of its key to answer: 10 s at most, and never past its caller's deadline.
  const deadline = waitForOwnerUntil(Date.now(), command.deadline);
  for (;;) {
    const existing = await repos.claimRequests.find(requestId);
    if (!existing) {
      // Refused before anything is stored: an unknown benefit, a members subgraph that cannot say who is claiming.
      const benefit = await benefitFor(repos, command);
      const pointsCost = command.payment ? benefit.pointsCost : 0;
      const claimId = claimIdOf(requestId);
      const now = new Date();
      const refusal = await refusalBeforeReserving(repos, calendar, benefit, command, now);
      if (refusal?.retryAt && command.retriesLater) throw notYet(refusal, refusal.retryAt);
      // A purchase refused anyway is told why, not what it would cost: a product members are not offered (a draft)
      // keeps its price to itself.
      if (!refusal) mustCostAsAgreed(pointsCost, command);
      const request: ClaimRequestDoc = {
        _id: requestId,
        memberId: command.memberId,
        source: command.source,
        argumentsHash: hash,
        benefitId: command.benefitId,
        claimId,
        pointsCost,
        createdAt: now,
        paidAt: null,
        ...newLease(),
        // A refusal decided here is the key's answer from the start: only a request that passed these checks is
        // ever taken over, and its retry goes on from where the first writer stopped.
        outcome: refusal ? { claimId: null, refusal: recorded(refusal, null) } : null,
      };
      if (!(await repos.claimRequests.tryInsert(request))) continue;
      return refusal
        ? answer(repos, request, null)
        : proceed(repos, calendar, command, request, benefit, true);
    }
    if (existing.argumentsHash !== hash) {
      throw hubError(ErrorCode.IDEMPOTENCY_KEY_REUSED, 'idempotencyKey was used before for another benefit', {
        field: 'idempotencyKey',
      });
    }
    if (!existing.outcome?.refusal) mustCostAsAgreed(existing.pointsCost, command);
    if (existing.outcome) return answer(repos, existing, command.payment);
    const taken = await repos.claimRequests.takeOver(requestId, newLease(), new Date());
    if (taken) return proceed(repos, calendar, command, taken, await benefitFor(repos, command));
    if (Date.now() > deadline) {
      throw hubError(
        ErrorCode.CONFLICT,
        'a claim with this idempotencyKey is still in progress; retry later',
        {
          field: 'idempotencyKey',
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

async function benefitFor(repos: BenefitRepositories, command: ClaimCommand): Promise<BenefitDoc> {
  const [benefit] = await repos.benefits.findByIds([command.benefitId]);
  if (!benefit) throw notFound('benefit', command.benefitId);
  command.accepts(benefit);
  return benefit;
}

/**
 * Whether the member may claim the benefit at all now: available, in stock, under its limits (as read now: the
 * reservations decide), in its audience. Refusing here, before any points are paid, spares a refund.
 */
async function refusalBeforeReserving(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  benefit: BenefitDoc,
  command: ClaimCommand,
  now: Date,
): Promise<ClaimRefusal | null> {
  const unavailable = availabilityRefusal(benefit, now);
  if (unavailable) return unavailable;
  for (const { counterId, limit, refusal } of limitsOf(benefit, command.memberId, now, calendar)) {
    const counter = await repos.claimCounters.find(counterId);
    if (counter && counter.count >= limit) return refusal;
  }
  if (!command.claimant) return null;
  if (!hasAudience(benefit)) {
    await command.claimant.known();
    return null;
  }
  return audienceRefusal(benefit, await command.claimant.attributes(), now);
}

/**
 * Runs a held request that passed the checks to its answer: pay (when buying), reserve, store the claim; or refuse.
 * `fresh`: the request was stored just now, so nothing was paid for it yet. One taken over after its benefit ended is
 * finished only if it was settled while on sale — its claim stored, or its price paid (`paidAt`) — and cancelled
 * otherwise: nothing is bought, nor paid for, after the end.
 */
async function proceed(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  command: ClaimCommand,
  request: ClaimRequestDoc,
  benefit: BenefitDoc,
  fresh = false,
): Promise<ClaimDoc> {
  const { payment } = command;
  if (!fresh) {
    const ended = endedRefusal(benefit, new Date());
    if (ended && !request.paidAt && (await repos.claims.findByIds([request.claimId])).length === 0)
      return answer(repos, await cancel(repos, calendar, request, benefit, ended, payment), payment);
  }
  if (payment && !request.paidAt) {
    const [perMember] = limitsOf(benefit, command.memberId, request.createdAt, calendar);
    // A new purchase reserves the member's count before paying: of a member's concurrent purchases past the limit,
    // the others are refused for that, paying nothing — not INSUFFICIENT_POINTS for points one bound to be refused
    // holds for a moment. A request taken over pays first: its points may be spent, so any refusal must refund them.
    if (
      fresh &&
      perMember &&
      !(await repos.claimCounters.reserve(perMember.counterId, perMember.limit, request.claimId))
    )
      return refuse(repos, request, perMember.refusal, payment, false);
    try {
      await payment.pay(request.claimId, request.pointsCost);
    } catch (error) {
      const refused = refusedSpend(error);
      // Refused: nothing was ever paid under this key, so nothing past the member's count was reserved; give it back.
      // Unknown: only a fresh request's own count goes back (a taken-over one's may hold paid reservations), leaving
      // the request as settlement cancels it.
      if (perMember && (fresh || refused))
        await repos.claimCounters.release(perMember.counterId, request.claimId);
      if (refused)
        return refuse(
          repos,
          request,
          { code: codeOf(error) as string, message: (error as Error).message },
          payment,
          false,
        );
      // Whether the points moved is unknown (members may have saved the spend and lost its answer). The request stays,
      // unanswered: a retry of the key takes it over and pays again under the same derived key — which members answers
      // with the first spend — then reserves, or refunds. Forgotten, the retry would be a new request that may be
      // refused before paying, and the first spend would never come back.
      await repos.claimRequests.endLease(request._id, request.holder);
      throw error;
    }
    await repos.claimRequests.notePaid(request._id, request.holder, new Date());
  }
  const refusal = await reserve(
    repos,
    calendar,
    benefit,
    command.memberId,
    request.claimId,
    request.createdAt,
  );
  if (refusal?.retryAt && command.retriesLater) {
    // Everything reserved went back and nothing was paid: the key is forgotten, so that the next try reserves on the
    // day it is made, not again on this full one.
    await repos.claimRequests.forget(request._id, request.holder);
    throw notYet(refusal, refusal.retryAt);
  }
  if (refusal) return refuse(repos, request, refusal, payment, payment !== null);
  const claimDoc: ClaimDoc = {
    _id: request.claimId,
    benefitId: benefit._id,
    memberId: command.memberId,
    source: command.source,
    state: 'CLAIMED',
    claimedAt: request.createdAt,
    expiresAt: expiryOf(request.createdAt, benefit.validDays, calendar),
    usedAt: null,
    revokedAt: null,
    revokedBy: null,
    revokeReason: null,
    pointsPaid: request.pointsCost,
  };
  await repos.claims.insertOnce(claimDoc);
  const answered = await repos.claimRequests.answer(request._id, request.holder, {
    claimId: claimDoc._id,
    refusal: null,
  });
  // Null when a writer this one took over from answered meanwhile: its answer is the one.
  return answered ? claimDoc : answer(repos, (await repos.claimRequests.find(request._id))!, payment);
}

/**
 * Reserves the member's count, the day's count and last an item of stock; on a refusal, gives back what it reserved
 * and returns the refusal.
 */
async function reserve(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  benefit: BenefitDoc,
  memberId: string,
  claimId: string,
  claimedAt: Date,
): Promise<ClaimRefusal | null> {
  const reserved: string[] = [];
  const giveBack = () =>
    Promise.all(reserved.map((counterId) => repos.claimCounters.release(counterId, claimId)));
  for (const { counterId, limit, refusal } of limitsOf(benefit, memberId, claimedAt, calendar)) {
    if (!(await repos.claimCounters.reserve(counterId, limit, claimId))) {
      await giveBack();
      return refusal;
    }
    reserved.push(counterId);
  }
  if (!(await repos.benefits.takeStock(benefit._id, claimId))) {
    await giveBack();
    return outOfStock(benefit._id);
  }
  return null;
}

/** Records a refusal after reserving as the key's answer, with a refund due when the claim was paid for, and answers it. */
async function refuse(
  repos: BenefitRepositories,
  request: ClaimRequestDoc,
  refusal: ClaimRefusal,
  payment: Payment | null,
  refundDue: boolean,
): Promise<ClaimDoc> {
  const answered = await repos.claimRequests.answer(request._id, request.holder, {
    claimId: null,
    refusal: recorded(refusal, refundDue ? 'DUE' : null),
  });
  return answer(repos, answered ?? (await repos.claimRequests.find(request._id))!, payment);
}

/** How long a purchase whose payment's outcome is unknown waits for a retry of its key before it is cancelled. */
export const ABANDONED_AFTER_MS = 10 * 60_000;
/** Purchases one pass settles at most; the next pass goes on. */
const SETTLED_PER_PASS = 100;

const CANCELLED: ClaimRefusal = {
  code: ErrorCode.FAILED_PRECONDITION,
  message:
    'this purchase could not be completed in time and was cancelled; any points it took were given back',
};

/**
 * Gives back the points a revoked purchase paid, under the claim's own refund key (members answers a repeat with the
 * first refund, so the points come back once, whoever gives them), and notes it given.
 */
export async function refundRevoked(
  repos: BenefitRepositories,
  claimDoc: ClaimDoc,
  payment: Payment,
): Promise<void> {
  const request = await repos.claimRequests.ofClaim(claimDoc._id);
  if (!request) throw new Error(`claim ${claimDoc._id} has no request to say what it cost`);
  if (request.pointsCost > 0) await payment.refund(claimDoc._id, request.pointsCost);
  await repos.claims.refunded(claimDoc._id);
}

/**
 * Settles purchases (redeemPoints) nobody finished, so that no member's points stay taken for nothing when they never
 * retry: refunds still due (a refund that failed after a refusal or a revocation), and requests whose payment's answer
 * was lost (see proceed) with no retry of their key for ABANDONED_AFTER_MS.
 */
export async function settlePurchases(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  paymentOf: (memberId: string) => Payment,
  logger: Logger,
  now: Date,
): Promise<void> {
  const warn = (request: ClaimRequestDoc, what: string, error: unknown) =>
    logger.warn({ request: request._id, reason: (error as Error).message }, `${what}; the next pass retries`);
  const due = await repos.claimRequests.refundsDueBefore(
    new Date(now.getTime() - LEASE_MS),
    SETTLED_PER_PASS,
  );
  for (const request of due) {
    try {
      await paymentOf(request.memberId).refund(request.claimId, request.pointsCost);
      await repos.claimRequests.refunded(request._id);
    } catch (error) {
      warn(request, 'refund not given', error);
    }
  }
  const revoked = await repos.claims.refundsDueBefore(new Date(now.getTime() - LEASE_MS), SETTLED_PER_PASS);
  for (const claimDoc of revoked) {
    await refundRevoked(repos, claimDoc, paymentOf(claimDoc.memberId)).catch((error: unknown) =>
      logger.warn(
        { claim: claimDoc._id, reason: (error as Error).message },
        'refund of a revoked purchase not given; the next pass retries',
      ),
    );
  }
  const abandoned = await repos.claimRequests.unansweredPaidBefore(
    new Date(now.getTime() - ABANDONED_AFTER_MS),
    SETTLED_PER_PASS,
  );
  for (const stale of abandoned) {
    const request = await repos.claimRequests.takeOver(stale._id, newLease(), now);
    // Held right now by a retry of its key, which settles it; or stored before requests named their benefit.
    if (!request?.benefitId) continue;
    try {
      await settleAbandoned(repos, calendar, request, request.benefitId, paymentOf(request.memberId));
    } catch (error) {
      await repos.claimRequests.endLease(request._id, request.holder);
      warn(request, 'purchase not settled', error);
    }
  }
}

/**
 * A held purchase nobody finished. One whose writer got as far as paying or reserving (it died between reserving the
 * member's count and paying) is finished as a retry would finish it, paying under its key once (see proceed for one
 * whose benefit ended since). Any other is cancelled (see cancel); a retry of the key is answered with the cancellation
 * from then on.
 */
async function settleAbandoned(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  request: ClaimRequestDoc,
  benefitId: string,
  payment: Payment,
): Promise<void> {
  const [[benefit], [claimed]] = await Promise.all([
    repos.benefits.findByIds([benefitId]),
    repos.claims.findByIds([request.claimId]),
  ]);
  const [perMember] = benefit ? limitsOf(benefit, request.memberId, request.createdAt, calendar) : [];
  const reserved = perMember && (await repos.claimCounters.holds(perMember.counterId, request.claimId));
  if (claimed || request.paidAt || reserved) {
    if (!benefit) throw new Error(`benefit ${benefitId} of claim ${request.claimId} is missing`);
    const command: ClaimCommand = {
      memberId: request.memberId,
      benefitId,
      idempotencyKey: request._id,
      source: request.source,
      claimant: null,
      accepts: () => undefined,
      payment,
      expectedPointsCost: null,
      retriesLater: false,
      deadline: null,
    };
    // A refusal is an answer too (refunded); anything else leaves it unanswered for the next pass.
    await proceed(repos, calendar, command, request, benefit).catch(async (error: unknown) => {
      if (!(await repos.claimRequests.find(request._id))?.outcome) throw error;
    });
    return;
  }
  await refundIfDue(
    repos,
    await cancel(repos, calendar, request, benefit ?? null, CANCELLED, payment),
    payment,
  );
}

/**
 * Answers a held request with `refusal`, cancelling it: what it reserved goes back, and a purchase pays under its key
 * — nothing more when an earlier payment went through, now when none did — so that the refund noted due with the
 * answer leaves the balance as it was either way. The request as answered, by this writer or one before it.
 */
async function cancel(
  repos: BenefitRepositories,
  calendar: BankCalendar,
  request: ClaimRequestDoc,
  benefit: BenefitDoc | null,
  refusal: ClaimRefusal,
  payment: Payment | null,
): Promise<ClaimRequestDoc> {
  const limits = benefit ? limitsOf(benefit, request.memberId, request.createdAt, calendar) : [];
  await Promise.all(limits.map(({ counterId }) => repos.claimCounters.release(counterId, request.claimId)));
  let refund: 'DUE' | null = null;
  if (payment) {
    try {
      await payment.pay(request.claimId, request.pointsCost);
      refund = 'DUE';
    } catch (error) {
      // Refused now, so nothing was ever spent under this key: nothing to give back.
      if (!refusedSpend(error)) throw error;
    }
  }
  const answered = await repos.claimRequests.answer(request._id, request.holder, {
    claimId: null,
    refusal: recorded(refusal, refund),
  });
  return answered ?? (await repos.claimRequests.find(request._id))!;
}

/** Gives back the points a refused request paid while the refund is due (members answers a repeat with the first). */
async function refundIfDue(
  repos: BenefitRepositories,
  request: ClaimRequestDoc,
  payment: Payment | null,
): Promise<void> {
  if (request.outcome?.refusal?.refund !== 'DUE') return;
  if (!payment) throw new Error(`claim request ${request._id} owes a refund nobody can pay`);
  await payment.refund(request.claimId, request.pointsCost);
  await repos.claimRequests.refunded(request._id);
}

/** A key's recorded answer: its claim, or its refusal again — once any points paid for it are given back. */
async function answer(
  repos: BenefitRepositories,
  request: ClaimRequestDoc,
  payment: Payment | null,
): Promise<ClaimDoc> {
  const { outcome } = request;
  if (!outcome) throw new Error(`claim request ${request._id} has no answer`);
  if (outcome.refusal === null) {
    const [stored] = await repos.claims.findByIds([outcome.claimId]);
    if (!stored) throw new Error(`claim ${outcome.claimId} of request ${request._id} is missing`);
    return stored;
  }
  await refundIfDue(repos, request, payment);
  throw hubError(outcome.refusal.code as ErrorCode, outcome.refusal.message);
}
