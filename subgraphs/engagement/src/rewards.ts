// Grants task and referral rewards. Until the benefits area lands, nothing is granted: completed tasks wait, marked
// unrewarded, and the feed consumer's next pass grants them once a granter can.
import type { RewardGranter } from './activities/progress';

export const createRewardGranter = (): RewardGranter => ({
  async grant() {
    throw new Error('rewards cannot be granted yet');
  },
});
