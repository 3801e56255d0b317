// What the benefits screen asks engagement: the benefits with their stock and what became of their claims, a member's
// claims, and revoking one.
import { document } from '../../app/document';

/** The workflow statuses a list may be narrowed to; null lists every status. */
export const STATUSES = ['PUBLISHED', 'IN_REVIEW', 'DRAFT', 'ARCHIVED'] as const;
export type Status = (typeof STATUSES)[number];

/** The most benefits the list shows: engagement answers at most 100 a call. */
export const BENEFITS_SHOWN = 100;

export interface BenefitInventory {
  id: string;
  title: string;
  kind: string;
  status: string;
  pointsCost: number;
  stock: number;
  remaining: number;
  perMemberLimit: number;
  perDayLimit: number | null;
  startsAt: string;
  endsAt: string;
  claimCounts: { state: string; claims: number }[];
}

export const BENEFITS = document<{ benefits: BenefitInventory[] }, { status: Status | null }>(`
  query ConsoleBenefits($status: ContentStatus) {
    benefits(status: $status, first: ${BENEFITS_SHOWN}) {
      id title kind status pointsCost stock remaining perMemberLimit perDayLimit startsAt endsAt
      claimCounts { state claims }
    }
  }
`);

/** The most claims shown of one member: engagement answers at most 100 a call. */
export const CLAIMS_SHOWN = 50;

export interface MemberClaim {
  id: string;
  state: string;
  source: string;
  claimedAt: string;
  expiresAt: string;
  usedAt: string | null;
  pointsPaid: number | null;
  benefit: { id: string; title: string; kind: string };
}

export const MEMBER_CLAIMS = document<
  { member: { id: string; claims: MemberClaim[] } | null },
  { memberId: string }
>(`
  query ConsoleMemberClaims($memberId: ID!) {
    member(id: $memberId) {
      id
      claims(first: ${CLAIMS_SHOWN}) {
        id state source claimedAt expiresAt usedAt pointsPaid
        benefit { id title kind }
      }
    }
  }
`);

export const REVOKE_CLAIM = document<
  { revokeClaim: { id: string; state: string } },
  { claimId: string; reason: string }
>(`
  mutation ConsoleRevokeClaim($claimId: ID!, $reason: String!) {
    revokeClaim(claimId: $claimId, reason: $reason) { id state }
  }
`);
