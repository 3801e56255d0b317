// The rules of claiming that need no database: who may claim a benefit now, what a claim's ids are, when it expires.
import { createHash } from 'node:crypto';
import { ErrorCode, addDays, type BankCalendar } from '@bank-hub/shared';
import { evaluate, profileOfMember, type MemberAttributes } from '@bank-hub/targeting';
import type { BenefitDoc } from '../models/benefit';
import type { ClaimSource } from '../models/claim';

/** Why a claim is refused: a stable code, and a message for people. */
export interface ClaimRefusal {
  code: string;
  message: string;
  /** When the refusal passes by itself (the benefit starts, the bank's next day begins); absent when it does not. */
  retryAt?: Date;
}

/** Idempotency keys a member sends: what the schema promises. */
export const IDEMPOTENCY_KEY = /^[\w.:-]{8,64}$/;
export const BENEFIT_ID = /^[A-Za-z0-9_-]{1,64}$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The record of one idempotency key: a member's key is theirs alone, and each way of claiming has its own keys. */
export const claimRequestId = (memberId: string, source: ClaimSource, idempotencyKey: string) =>
  `${memberId}|${source}|${idempotencyKey}`;

/** A claim's id follows from its request, so a retry after a crash makes (and finds) the same claim. */
export const claimIdOf = (requestId: string) => `CL-${sha256(requestId).slice(0, 32)}`;

/** What a repeated key must repeat: the same arguments. */
export const argumentsHash = (args: Readonly<Record<string, string>>) =>
  sha256(JSON.stringify(Object.entries(args).sort(([a], [b]) => a.localeCompare(b))));

/**
 * When a claim stops being usable: at the end of its `validDays`-th business day, the day it was claimed being the
 * first — "valid 7 days" as a bank's customer reads it, not 7 × 24 hours from the minute they claimed.
 */
export const expiryOf = (claimedAt: Date, validDays: number, calendar: BankCalendar) =>
  calendar.endOf(addDays(calendar.dayOf(claimedAt), validDays - 1));

/** Whether members are offered a benefit at all: published and not ended (it may not have started yet). */
export const isOffered = (benefit: BenefitDoc, now: Date) =>
  benefit.status === 'PUBLISHED' && now < benefit.endsAt;

/** A benefit members cannot claim now at all, whoever they are: unpublished, not yet started, ended, sold out. */
export function availabilityRefusal(benefit: BenefitDoc, now: Date): ClaimRefusal | null {
  if (benefit.status !== 'PUBLISHED')
    return { code: ErrorCode.BENEFIT_NOT_AVAILABLE, message: `benefit ${benefit._id} is not published` };
  if (now < benefit.startsAt)
    return {
      code: ErrorCode.BENEFIT_NOT_AVAILABLE,
      message: `benefit ${benefit._id} may be claimed from ${benefit.startsAt.toISOString()}`,
      retryAt: benefit.startsAt,
    };
  const ended = endedRefusal(benefit, now);
  if (ended) return ended;
  // A hint read with the benefit: the conditional update on the stock decides, this only spares the counters.
  if (benefit.remaining <= 0) return outOfStock(benefit._id);
  return null;
}

/** A benefit whose window has closed by `now`: nothing is claimed (or bought) from then on. */
export function endedRefusal(benefit: BenefitDoc, now: Date): ClaimRefusal | null {
  if (now < benefit.endsAt) return null;
  return {
    code: ErrorCode.BENEFIT_NOT_AVAILABLE,
    message: `benefit ${benefit._id} could be claimed until ${benefit.endsAt.toISOString()}`,
  };
}

/**
 * A purchase that costs `pointsCost` although the member agreed to `expected` (null when they named no price): refused,
 * so that a price changed between showing the product and buying it is never charged unseen.
 */
export function pointsCostRefusal(pointsCost: number, expected: number | null): ClaimRefusal | null {
  if (expected === null || expected === pointsCost) return null;
  return {
    code: ErrorCode.POINTS_COST_CHANGED,
    message: `this purchase costs ${pointsCost} points, not the ${expected} named in expectedPointsCost`,
  };
}

export const outOfStock = (benefitId: string): ClaimRefusal => ({
  code: ErrorCode.OUT_OF_STOCK,
  message: `benefit ${benefitId} is out of stock`,
});

/** A counter that bounds claims: its id, its limit and the refusal at the limit. */
export interface ClaimLimit {
  counterId: string;
  limit: number;
  refusal: ClaimRefusal;
}

/**
 * The limits a claim must fit, cheapest first: the member's own count (nobody else contends for it), then the count of
 * the bank's business day it is claimed on.
 */
export function limitsOf(
  benefit: BenefitDoc,
  memberId: string,
  claimedAt: Date,
  calendar: BankCalendar,
): ClaimLimit[] {
  const perMember: ClaimLimit = {
    counterId: `M|${benefit._id}|${memberId}`,
    limit: benefit.perMemberLimit,
    refusal: {
      code: ErrorCode.CLAIM_LIMIT_REACHED,
      message: `benefit ${benefit._id} may be claimed ${benefit.perMemberLimit} time(s) per member`,
    },
  };
  if (benefit.perDayLimit === null) return [perMember];
  const day = calendar.dayOf(claimedAt);
  return [
    perMember,
    {
      counterId: `D|${benefit._id}|${day}`,
      limit: benefit.perDayLimit,
      refusal: {
        code: ErrorCode.DAILY_LIMIT_REACHED,
        message: `benefit ${benefit._id} may be claimed ${benefit.perDayLimit} time(s) a day; ${day} is full`,
        retryAt: calendar.endOf(day),
      },
    },
  ];
}

/** Whether the benefit's audience needs to know who the member is: a rule, or levels it is a privilege of. */
export const hasAudience = (benefit: BenefitDoc) => benefit.rule !== null || benefit.levelCodes.length > 0;

/** A member outside the benefit's audience: its levels (when it is a privilege) and its rule. */
export function audienceRefusal(
  benefit: BenefitDoc,
  member: MemberAttributes,
  now: Date,
): ClaimRefusal | null {
  const level = member.level?.code ?? null;
  if (benefit.levelCodes.length > 0 && (level === null || !benefit.levelCodes.includes(level)))
    return {
      code: ErrorCode.NOT_IN_AUDIENCE,
      message: `benefit ${benefit._id} is a privilege of ${benefit.levelCodes.join(', ')}`,
    };
  if (benefit.rule && !evaluate(benefit.rule, profileOfMember(member, { now })))
    return {
      code: ErrorCode.NOT_IN_AUDIENCE,
      message: `benefit ${benefit._id} is not offered to this member`,
    };
  return null;
}
