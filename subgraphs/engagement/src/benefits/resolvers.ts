// Benefits resolvers: thin — check scope and arguments, call a use case or a loader. Members see their own claims
// only; what operators configure (rules, workflow state, claim counts) is for operators.
import {
  Scope,
  badInput,
  deviceOfGuest,
  checkCount,
  decodeFeedCursor,
  encodeFeedCursor,
  forbidden,
  hasScope,
  parseRepresentation,
  requireAnyScope,
  operatorOnlyOf,
  requireScope,
  editorsOf,
  reviewOf,
  toConnection,
  unauthenticated,
  type WorkflowAction,
  isMemberThemself,
} from '@bank-hub/shared';
import { z } from 'zod';
import type { EngagementContext, Operator } from '../context';
import type { Resolvers } from '../generated/resolvers';
import { runEngagementWorkflow } from '../workflow';
import { claimBenefit, redeemPoints, revokeClaim, useClaim } from './claims';
import { expiringClaimsPage } from './expiring';
import { isOffered } from './domain/claiming';
import { createBenefit, updateBenefit } from './operations';
import type { BenefitDoc } from './models/benefit';
import { stateOf, type ClaimDoc } from './models/claim';

const MAX_PAGE = 100;
const MAX_IDS = 100;

/** What `Bundle.benefits` @requires of products. */
const BundleInputs = z.object({ id: z.string(), benefitIds: z.array(z.string()) });

/** The member themself, or an operator; anyone else is refused. */
function mayReadClaims(ctx: EngagementContext, memberId: string): void {
  if (!ctx.identity.subject) throw unauthenticated('a member or operator token is required');
  if (!isMemberThemself(ctx.identity, memberId) && !hasScope(ctx.identity, Scope.OPERATOR))
    throw forbidden('a member sees only their own claims');
}

const newestFirstCursor = (claim: ClaimDoc): string =>
  encodeFeedCursor({ at: claim.claimedAt, id: claim._id });

const operator = (ctx: EngagementContext): Operator => ({ id: requireScope(ctx.identity, Scope.OPERATOR) });

const operatorOnly = operatorOnlyOf<BenefitDoc>();

export const benefitResolvers: Resolvers = {
  Query: {
    expiringClaims: (_parent, { withinDays, benefitId, after, first }, ctx) => {
      requireScope(ctx.identity, Scope.SERVICE);
      return expiringClaimsPage(
        ctx.repos.claims,
        { withinDays, benefitId: benefitId ?? null, after: after ?? null, first: first ?? 500 },
        ctx.now,
      );
    },
    benefits: (_parent, { status, awaitingReview, first }, ctx) => {
      operator(ctx);
      return ctx.repos.benefits.newest(
        { status: status ?? null, awaitingReview: awaitingReview ?? false },
        checkCount(first ?? 20, MAX_PAGE, 'first'),
      );
    },
    benefitsByIds: async (_parent, { ids }, ctx) => {
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.BUILDER, Scope.SERVICE]);
      if (ids.length > MAX_IDS) throw badInput(`at most ${MAX_IDS} ids`, 'ids');
      return Promise.all(ids.map((id) => ctx.loaders.benefitById.load(id)));
    },
  },

  Mutation: {
    createBenefit: (_parent, { input }, ctx) => createBenefit(ctx, operator(ctx), input),
    updateBenefit: (_parent, { id, input, expectedVersion }, ctx) =>
      updateBenefit(ctx, operator(ctx), id, input, expectedVersion),
    engagementWorkflow: (_parent, { type, id, step, reason, expectedVersion }, ctx) =>
      runEngagementWorkflow(
        ctx,
        operator(ctx),
        type,
        id,
        step.toLowerCase() as WorkflowAction,
        reason ?? null,
        expectedVersion ?? null,
      ),
    claimBenefit: (_parent, { benefitId, idempotencyKey }, ctx) =>
      claimBenefit(ctx, benefitId, idempotencyKey),
    useClaim: (_parent, { claimId }, ctx) => useClaim(ctx, claimId),
    revokeClaim: (_parent, { claimId, reason }, ctx) => revokeClaim(ctx, operator(ctx), claimId, reason),
    redeemPoints: (_parent, { productId, idempotencyKey, expectedPointsCost }, ctx) =>
      redeemPoints(ctx, productId, idempotencyKey, expectedPointsCost ?? null),
  },

  Member: {
    // The reference as the gateway hands it: the id, and the attributes Member.activities @requires.
    __resolveReference: (reference) => reference,
    claims: async (member, { state, first }, ctx) => {
      // A guest has no claims; asking for them must not cost a guest their page.
      if (deviceOfGuest(member.id)) return [];
      mayReadClaims(ctx, member.id);
      const size = checkCount(first ?? 20, MAX_PAGE, 'first');
      return ctx.repos.claims.ofMember(member.id, state ?? null, ctx.now, size, null);
    },
    claimsConnection: async (member, { state, first, after }, ctx) => {
      const size = checkCount(first ?? 20, MAX_PAGE, 'first');
      const position = after ? decodeFeedCursor(after, 'claimsConnection') : null;
      // A guest has no claims, as above.
      if (deviceOfGuest(member.id)) return toConnection([], size);
      mayReadClaims(ctx, member.id);
      const fetched = await ctx.repos.claims.ofMember(member.id, state ?? null, ctx.now, size + 1, position);
      return toConnection(fetched, size, newestFirstCursor);
    },
  },

  Benefit: {
    __resolveReference: (reference, ctx) => ctx.loaders.benefitById.load(reference.id),
    id: (benefit) => benefit._id,
    rule: operatorOnly('rule'),
    status: (benefit, _args, ctx) => {
      requireAnyScope(ctx.identity, [Scope.OPERATOR, Scope.BUILDER]);
      return benefit.status;
    },
    version: operatorOnly('version'),
    lastEditedBy: operatorOnly('lastEditedBy'),
    editors: (benefit, _args, ctx) => {
      operator(ctx);
      return editorsOf(benefit);
    },
    approvedBy: operatorOnly('approvedBy'),
    updatedAt: operatorOnly('updatedAt'),
    pendingRevision: (benefit, _args, ctx) => {
      operator(ctx);
      return reviewOf(benefit);
    },
    claimCounts: (benefit, _args, ctx) => {
      operator(ctx);
      return ctx.loaders.claimCounts.load(benefit._id);
    },
  },

  MembershipLevel: {
    __resolveReference: (reference) => ({ code: reference.code }),
    privileges: (level, _args, ctx) => ctx.loaders.privilegesOf.load(level.code),
  },

  Bundle: {
    // No database: @requires makes the gateway bring the bundle's benefit ids along.
    __resolveReference: (reference) => reference,
    benefits: async (bundle, _args, ctx) => {
      const { benefitIds } = parseRepresentation(
        BundleInputs,
        bundle,
        { typename: 'Bundle', field: 'benefits' },
        ctx,
      );
      const benefits = await Promise.all(benefitIds.map((id) => ctx.loaders.benefitById.load(id)));
      return benefits.filter(
        (benefit): benefit is BenefitDoc => benefit !== null && isOffered(benefit, ctx.now),
      );
    },
  },

  BenefitClaim: {
    id: (claim) => claim._id,
    benefit: async (claim, _args, ctx) => {
      const benefit = await ctx.loaders.benefitById.load(claim.benefitId);
      if (!benefit)
        throw new Error(`claim ${claim._id} names benefit ${claim.benefitId}, which does not exist`);
      return benefit;
    },
    state: (claim, _args, ctx) => stateOf(claim, ctx.now),
    pointsPaid: (claim) => claim.pointsPaid ?? (claim.source === 'POINTS' ? null : 0),
  },
};
