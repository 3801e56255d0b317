// Granting a benefit for something a member did elsewhere in engagement (a completed task, a referral): the caller has
// decided the member earned it, so no audience check; stock, limits and idempotency hold as for any claim.
import type { BankCalendar } from '@bank-hub/shared';
import type { EngagementRepositories } from '../models';
import { checkClaimArguments, claim } from './claim';
import type { ClaimDoc } from './models/claim';

export interface BenefitGrant {
  benefitId: string;
  memberId: string;
  /** The caller's key for this grant (8 to 64 of letters, digits, - _ . :): the same key grants once. */
  idempotencyKey: string;
  source: 'TASK_REWARD' | 'REFERRAL';
  /** The deadline of the member's request granting it (see ClaimCommand); none for a background pass. */
  deadline?: number | null;
}

/**
 * The claim the grant made (the same one for a repeated key), or its refusal as an error with a stable code — with
 * `extensions.retryAt` when it passes by itself then (not started yet, the day full), and the key keeps no answer.
 */
export function grantBenefit(
  deps: { repos: EngagementRepositories; calendar: BankCalendar },
  grant: BenefitGrant,
): Promise<ClaimDoc> {
  checkClaimArguments(grant.benefitId, 'benefitId', grant.idempotencyKey);
  return claim(deps.repos, deps.calendar, {
    ...grant,
    deadline: grant.deadline ?? null,
    claimant: null,
    accepts: () => undefined,
    payment: null,
    expectedPointsCost: null,
    retriesLater: true,
  });
}
