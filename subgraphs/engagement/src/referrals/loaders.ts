// Per-request loaders of the referrals area: referrals by invitee, so that an inviter's invitations read where each
// referral stands in one query.
import { keyedLoader } from '@bank-hub/shared';
import type DataLoader from 'dataloader';
import type { ReferralDoc, ReferralRepositories } from './model';

export interface ReferralLoaders {
  referralByInvitee: DataLoader<string, ReferralDoc | null>;
}

export function createReferralLoaders(repos: ReferralRepositories): ReferralLoaders {
  return {
    referralByInvitee: keyedLoader(
      (inviteeIds) => repos.referrals.findByInvitees(inviteeIds),
      (referral) => referral._id,
    ),
  };
}
