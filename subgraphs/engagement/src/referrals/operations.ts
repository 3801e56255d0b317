// Referral (拉新) use cases: members create invite codes; a newly acquired member accepts one, once; when the invitee
// activates (opens an account: products says the open-account flow completed) both sides are rewarded, once each. Without
// transactions: the referral is keyed by its invitee (one per member), its pair of members is unique (no two members
// refer each other) and the code is taken by a conditional update (one invitee per code), each step repeatable, so a
// retried or concurrent accept settles on one referral. A member's codes are reserved on a counter before stored.
import { randomInt, randomUUID } from 'node:crypto';
import { ErrorCode, hubError, isDuplicateKey, requireMember, type Logger } from '@bank-hub/shared';
import { viewerAttributes } from '../audience';
import { finalRefusal, grantInTurn, type RewardGranter } from '../rewards';
import { trusted, type CountedEvent } from '../activities/tasks';
import type { EngagementContext } from '../context';
import { pairOf, type InvitationDoc, type ReferralDoc, type ReferralRepositories } from './model';

export const MAX_CODES_PER_MEMBER = 20;
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE = /^[A-HJ-NP-Z2-9]{8}$/;
/** How far up an inviter's own referrals a loop is looked for. */
const MAX_CHAIN = 50;

/** What each side earns when an invitee activates. */
export const REFERRAL_REWARDS = {
  inviter: { points: 500, benefitId: null },
  invitee: { points: 200, benefitId: null },
} as const;

const newCode = () =>
  Array.from({ length: 8 }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');

export async function createInviteCode(ctx: EngagementContext): Promise<InvitationDoc> {
  const inviterId = requireMember(ctx.identity);
  // A code of a member members does not know could only bring rewards nobody can be granted.
  await ctx.knownMembers.require(inviterId, ctx.deadline);
  // Reserved first with one conditional update: counting the codes and then storing one lets concurrent calls past.
  if (!(await ctx.repos.invitations.reserveCode(inviterId, MAX_CODES_PER_MEMBER)))
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `a member has at most ${MAX_CODES_PER_MEMBER} invite codes`,
    );
  for (;;) {
    const invitation: InvitationDoc = {
      _id: newCode(),
      inviterId,
      createdAt: ctx.now,
      inviteeId: null,
      acceptedAt: null,
    };
    try {
      await ctx.repos.invitations.create(invitation);
      return invitation;
    } catch (error) {
      // One in a trillion: the code exists; draw another.
      if (isDuplicateKey(error)) continue;
      await ctx.repos.invitations.releaseCode(inviterId);
      throw error;
    }
  }
}

/** Whether `inviteeId` is up the chain of whoever referred `inviterId`. */
async function closesLoop(
  repos: ReferralRepositories,
  inviterId: string,
  inviteeId: string,
): Promise<boolean> {
  let current = inviterId;
  for (let depth = 0; depth < MAX_CHAIN; depth++) {
    const [referral] = await repos.referrals.findByInvitees([current]);
    if (!referral) return false;
    if (referral.inviterId === inviteeId) return true;
    current = referral.inviterId;
  }
  return true;
}

export async function acceptInvite(ctx: EngagementContext, code: string): Promise<ReferralDoc> {
  const inviteeId = requireMember(ctx.identity);
  const invitation = CODE.test(code) ? await ctx.repos.invitations.findByCode(code) : null;
  if (!invitation) throw hubError(ErrorCode.INVITE_CODE_UNKNOWN, 'no invite has this code');
  if (invitation.inviterId === inviteeId)
    throw hubError(ErrorCode.SELF_REFERRAL, 'a member cannot accept their own invite');
  if (invitation.inviteeId && invitation.inviteeId !== inviteeId)
    throw hubError(ErrorCode.INVITE_CODE_USED, 'this invite code was already used');
  const [existing] = await ctx.repos.referrals.findByInvitees([inviteeId]);
  // Accepting the same code again answers the same referral (and ends an accept that stopped after taking the code).
  if (existing && existing.code === code && invitation.inviteeId === inviteeId)
    return existing.state === 'ACCEPTING' ? accepted(ctx, inviteeId, code) : existing;
  if (existing && existing.code !== code)
    throw hubError(ErrorCode.ALREADY_REFERRED, 'this member was already referred');
  if ((await viewerAttributes(ctx.graph, ctx)).lifecycleStage !== 'ACQUISITION')
    throw hubError(ErrorCode.FAILED_PRECONDITION, 'only a newly acquired member can accept an invite');
  const loop = () =>
    hubError(ErrorCode.REFERRAL_LOOP, 'the inviter was brought in by this member: a referral loop');
  if (await closesLoop(ctx.repos, invitation.inviterId, inviteeId)) throw loop();
  // Null when the inviter was recorded as this member's invitee meanwhile (their unique pair): of two members
  // accepting each other's codes at once, exactly one is recorded.
  const referral = await ctx.repos.referrals.record({
    _id: inviteeId,
    inviterId: invitation.inviterId,
    pair: pairOf(inviteeId, invitation.inviterId),
    code,
    state: 'ACCEPTING',
    acceptedAt: ctx.now,
    activatedAt: null,
    rewardedAt: null,
  });
  if (!referral) throw loop();
  if (referral.code !== code) throw hubError(ErrorCode.ALREADY_REFERRED, 'this member was already referred');
  // A longer loop closed by accepts at the same time as this one: whichever is recorded last sees it whole, so at
  // least one of them gives its referral back (more than one may; each may accept again).
  if (await closesLoop(ctx.repos, invitation.inviterId, inviteeId)) {
    await ctx.repos.referrals.forget(inviteeId, code);
    throw loop();
  }
  if (!(await ctx.repos.invitations.take(code, inviteeId, ctx.now))) {
    await ctx.repos.referrals.forget(inviteeId, code);
    throw hubError(ErrorCode.INVITE_CODE_USED, 'this invite code was already used');
  }
  return accepted(ctx, inviteeId, code);
}

/** The referral made PENDING once its accept passed every check: only then may an account opened activate it. */
async function accepted(ctx: EngagementContext, inviteeId: string, code: string): Promise<ReferralDoc> {
  const referral = await ctx.repos.referrals.confirm(inviteeId, code);
  if (!referral) throw hubError(ErrorCode.CONFLICT, 'the referral changed while it was accepted; try again');
  return referral;
}

/** Whether an event activates its member: an account opened, as products recorded it (a member's own word is not). */
const activates = (event: CountedEvent) =>
  event.name === 'flow_completed' && trusted(event) && event.properties.flowKey === 'open-account';

/**
 * Each member's latest account opened among these events: what may activate a referral they accepted before it (a
 * referral accepted after every account they opened brought nobody in).
 */
export function accountsOpened(events: readonly CountedEvent[]): { inviteeId: string; openedAt: Date }[] {
  const latest = new Map<string, Date>();
  for (const event of events.filter(activates)) {
    const seen = latest.get(event.memberId);
    if (!seen || event.occurredAt > seen) latest.set(event.memberId, event.occurredAt);
  }
  return [...latest].map(([inviteeId, openedAt]) => ({ inviteeId, openedAt }));
}

/** Activates the referrals of members whose events say they opened an account after accepting their invite. */
export async function activateReferrals(
  repos: ReferralRepositories,
  events: readonly CountedEvent[],
  now: Date,
) {
  await repos.referrals.activate(accountsOpened(events), now);
}

/**
 * Grants both sides' rewards of activated referrals, each once under its own key, oldest activation first, then marks
 * them rewarded — in turn, with task rewards' backoff: a side refused for good (its member does not exist) is recorded
 * and never tried again; the other side is granted all the same.
 */
export async function rewardReferrals(
  deps: { repos: ReferralRepositories; granter: RewardGranter; logger: Logger },
  now: Date,
  requestId: string = randomUUID(),
): Promise<void> {
  await grantInTurn(
    await deps.repos.referrals.awaitingRewards(now),
    {
      what: 'referral rewards',
      async grant(referral) {
        let refused: { code: string; message: string } | null = null;
        for (const side of ['inviter', 'invitee'] as const) {
          const memberId = side === 'inviter' ? referral.inviterId : referral._id;
          try {
            await deps.granter.grant({
              memberId,
              ...REFERRAL_REWARDS[side],
              idempotencyKey: `referral:${referral._id}:${side}`,
              source: 'REFERRAL',
              reason: `referral of ${referral._id} by ${referral.inviterId}`,
              requestId,
            });
          } catch (error) {
            // One side refused for good still lets the other have its reward; any other failure retries both.
            const refusal = finalRefusal(error);
            if (!refusal) throw error;
            refused ??= { code: refusal.code, message: `${side} ${memberId}: ${refusal.message}` };
          }
        }
        if (refused) throw hubError(refused.code as ErrorCode, refused.message);
      },
      rewarded: (referral) => deps.repos.referrals.markRewarded(referral._id, now),
      refused: (referral, refusal) => deps.repos.referrals.markRewardRefused(referral._id, refusal, now),
      deferred: (referral, retryAt) => deps.repos.referrals.deferRewards(referral._id, retryAt),
    },
    deps.logger,
    now,
  );
}
