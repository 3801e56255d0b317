// Rewards for what members do in engagement (a completed task, a referral): points through members' awardPoints with
// the hub's service identity, and a benefit through grantBenefit. Both are idempotent by the caller's key, so an area
// that grants a reward again after a crash grants it once.
import { createHash } from 'node:crypto';
import type { GraphClient } from '@bank-hub/shared';
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
}: {
  repos: EngagementRepositories;
  graph: GraphClient;
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
            )
          : null;
      const claim = reward.benefitId
        ? await grantBenefit(
            { repos },
            {
              benefitId: reward.benefitId,
              memberId: reward.memberId,
              idempotencyKey: reward.idempotencyKey,
              source: reward.source,
            },
          )
        : null;
      return { pointsEntryId, claim };
    },
  };
}
