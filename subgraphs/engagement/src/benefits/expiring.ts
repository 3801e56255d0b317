// Unused claims about to expire, for the hub's other subgraphs (messages' campaigns reminding members of a benefit
// they have not used): claims still CLAIMED whose expiry falls within the next `withinDays` days, page by page in id
// order. Each call answers what holds now; a caller that must act once per claim keys its action by the claim id.
import { badInput, checkCount, decodeCursor, encodeCursor } from '@bank-hub/shared';
import type { ClaimRepository } from './models/claim';

const DAY_MS = 86_400_000;
const MAX_PAGE = 1_000;
const MAX_DAYS = 30;
const CLAIM_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const BENEFIT_ID = /^[A-Za-z0-9_-]{1,64}$/;

export async function expiringClaimsPage(
  claims: ClaimRepository,
  args: { withinDays: number; benefitId: string | null; after: string | null; first: number },
  now: Date,
) {
  const withinDays = checkCount(args.withinDays, MAX_DAYS, 'withinDays');
  const first = checkCount(args.first, MAX_PAGE, 'first');
  if (args.benefitId !== null && !BENEFIT_ID.test(args.benefitId))
    throw badInput('benefitId is not a benefit id', 'benefitId');
  const afterId = args.after ? decodeCursor(args.after, CLAIM_ID, 'after') : null;
  // A rolling window of whole 24 hours from now, not business days: how far ahead a reminder looks does not depend on
  // the hour it runs at (claims themselves expire at a business day's end; see expiryOf).
  const until = new Date(now.getTime() + withinDays * DAY_MS);
  const fetched = await claims.expiringBetween(now, until, args.benefitId, afterId, first + 1);
  const page = fetched.slice(0, first);
  const last = page.at(-1);
  return {
    claims: page.map((claim) => ({
      claimId: claim._id,
      memberId: claim.memberId,
      benefitId: claim.benefitId,
      expiresAt: claim.expiresAt,
    })),
    next: fetched.length > first && last ? encodeCursor(last._id) : null,
  };
}
