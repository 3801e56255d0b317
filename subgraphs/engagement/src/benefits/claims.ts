// What members (and operators) do with claims: claim a benefit, buy one with spendable points, use a claim once; and
// what operators alone do: revoke one. A member acts only on their own claims: to them, no other claim exists.
import {
  ErrorCode,
  Scope,
  badInput,
  checked,
  hasScope,
  hubError,
  notFound,
  requireMember,
  requiredText,
  wholeNumber,
} from '@bank-hub/shared';
import { viewerAttributes } from '../audience';
import type { EngagementContext, Operator } from '../context';
import type { MemberPoints } from '../members-points';
import { checkClaimArguments, claim, refundRevoked, type Claimant, type Payment } from './claim';
import { LIMITS } from './domain/validation';
import type { BenefitDoc } from './models/benefit';
import { stateOf, type ClaimDoc } from './models/claim';

/**
 * The claiming member, as members knows them. Whether members knows them is asked as the claim comes in, while the
 * claim reads what it needs: the members of a rush come in together, and so are asked together.
 */
function claimantOf(ctx: EngagementContext, memberId: string): Claimant {
  const known = ctx.knownMembers.require(memberId, ctx.deadline);
  // Awaited when the claim needs the answer; a claim refused before that does not.
  known.catch(() => undefined);
  return { attributes: () => viewerAttributes(ctx.graph, ctx), known: () => known };
}

const notBoughtWithPoints = (benefit: BenefitDoc) => {
  if (benefit.kind === 'POINTS_PRODUCT')
    throw badInput(`benefit ${benefit._id} is bought with points: use redeemPoints`, 'benefitId');
};

const boughtWithPoints = (benefit: BenefitDoc) => {
  if (benefit.kind !== 'POINTS_PRODUCT')
    throw badInput(`benefit ${benefit._id} is not a points product: use claimBenefit`, 'productId');
};

/** The member claims a benefit, once per idempotency key. */
export function claimBenefit(
  ctx: EngagementContext,
  benefitId: string,
  idempotencyKey: string,
): Promise<ClaimDoc> {
  const memberId = requireMember(ctx.identity);
  checkClaimArguments(benefitId, 'benefitId', idempotencyKey);
  return claim(ctx.repos, ctx.calendar, {
    memberId,
    benefitId,
    idempotencyKey,
    source: 'CLAIM',
    claimant: claimantOf(ctx, memberId),
    accepts: notBoughtWithPoints,
    payment: null,
    expectedPointsCost: null,
    retriesLater: false,
    deadline: ctx.deadline,
  });
}

/**
 * The member buys a points product (积分商城): its points leave members' ledger under a key derived from the claim,
 * and come back under another if the claim is refused after paying (the stock ran out meanwhile). `expectedPointsCost`:
 * the price the member was shown, which the purchase must cost (see ClaimCommand); null to take the price as it is.
 */
export function redeemPoints(
  ctx: EngagementContext,
  productId: string,
  idempotencyKey: string,
  expectedPointsCost: number | null,
): Promise<ClaimDoc> {
  const memberId = requireMember(ctx.identity);
  checkClaimArguments(productId, 'productId', idempotencyKey);
  if (expectedPointsCost !== null)
    checked(() => wholeNumber(expectedPointsCost, 'expectedPointsCost', 1, LIMITS.pointsCost));
  return claim(ctx.repos, ctx.calendar, {
    memberId,
    benefitId: productId,
    idempotencyKey,
    source: 'POINTS',
    claimant: {
      attributes: () => viewerAttributes(ctx.graph, ctx),
      // Paying asks members, who refuse nobody for good (NOT_FOUND) before anything is reserved.
      known: () => Promise.resolve(),
    },
    accepts: boughtWithPoints,
    payment: pointsPayment(ctx.points, memberId, `points mall: ${productId}`, ctx.requestId, ctx.deadline),
    expectedPointsCost,
    retriesLater: false,
    deadline: ctx.deadline,
  });
}

/**
 * A member's payments for claims, under keys derived from the claim: a retry, or anyone settling it, pays once. A
 * refund names the claim's spend, the only one it may give back. `deadline`: the member's request's, when it pays.
 */
export function pointsPayment(
  points: MemberPoints,
  memberId: string,
  reason: string,
  requestId: string,
  deadline: number | null = null,
): Payment {
  const spendKey = (claimId: string) => `spend:${claimId}`;
  return {
    pay: async (claimId, amount) => {
      await points.move(
        'spendPoints',
        { memberId, amount, reason, idempotencyKey: spendKey(claimId) },
        requestId,
        deadline,
      );
    },
    refund: async (claimId, amount) => {
      await points.refund(
        { memberId, amount, reason, idempotencyKey: `refund:${claimId}`, spendKey: spendKey(claimId) },
        requestId,
        deadline,
      );
    },
  };
}

/** The claim as `owner` may reach it (see ClaimRepository.findOwned), or NOT_FOUND. */
async function claimOrNotFound(
  ctx: EngagementContext,
  claimId: string,
  owner: string | null,
): Promise<ClaimDoc> {
  const found = await ctx.repos.claims.findOwned(claimId, owner);
  // An id is never longer: a caller's 100 KB "id" is not echoed back whole.
  if (!found) throw notFound('claim', claimId);
  return found;
}

/** A claim whose state now does not allow the step. */
const stateRefusal = (claim: ClaimDoc, now: Date, step: string) => {
  const state = stateOf(claim, now);
  return hubError(ErrorCode.FAILED_PRECONDITION, `claim ${claim._id} is ${state}; it cannot be ${step}`, {
    state,
  });
};

/**
 * Marks a claim used, exactly once: by its member, or by an operator (audited). Claim ids follow from member and key,
 * so another member's claim answers NOT_FOUND, exactly like an id that is no claim: a guessed id tells nothing.
 */
export async function useClaim(ctx: EngagementContext, claimId: string): Promise<ClaimDoc> {
  const operator = hasScope(ctx.identity, Scope.OPERATOR) ? ctx.identity.subject : null;
  const owner = operator ? null : requireMember(ctx.identity);
  const before = await claimOrNotFound(ctx, claimId, owner);
  const now = new Date();
  const used = await ctx.repos.claims.markUsed(claimId, now);
  if (!used) throw stateRefusal(await claimOrNotFound(ctx, claimId, owner), now, 'used');
  if (operator) await audit(ctx, operator, 'useClaim', before, used);
  return used;
}

/**
 * Withdraws a claim that is usable (not used, revoked or expired). Operator; audited. A purchase gives its points back:
 * the member keeps neither the item nor the points' loss.
 */
export async function revokeClaim(
  ctx: EngagementContext,
  operator: Operator,
  claimId: string,
  reason: string,
): Promise<ClaimDoc> {
  // The member and other operators read it: checked like any text operators write.
  const why = checked(() => requiredText(reason, 'reason', 500));
  const before = await claimOrNotFound(ctx, claimId, null);
  const now = new Date();
  // The refund is noted due with the revocation itself, so that a refund members cannot take now is given later.
  const revoked = await ctx.repos.claims.revoke(claimId, operator.id, why, now, before.source === 'POINTS');
  if (!revoked) throw stateRefusal(await claimOrNotFound(ctx, claimId, null), now, 'revoked');
  await audit(ctx, operator.id, 'revokeClaim', before, revoked);
  if (revoked.refund === 'DUE') {
    const payment = pointsPayment(
      ctx.points,
      revoked.memberId,
      `points mall: ${revoked.benefitId} revoked`,
      ctx.requestId,
      ctx.deadline,
    );
    // With members down the claim stays revoked and its refund due: engagement's background pass gives it.
    await refundRevoked(ctx.repos, revoked, payment).catch((error: unknown) =>
      ctx.logger.warn(
        { claim: revoked._id, reason: (error as Error).message },
        'refund of a revoked purchase not given; the background pass retries',
      ),
    );
  }
  return revoked;
}

function audit(ctx: EngagementContext, actor: string, action: string, before: ClaimDoc, after: ClaimDoc) {
  return ctx.repos.audit.record({
    actor,
    action,
    targetType: 'CLAIM',
    targetId: after._id,
    before,
    after,
    requestId: ctx.requestId,
  });
}
