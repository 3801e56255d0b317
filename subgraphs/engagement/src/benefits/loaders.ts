// Per-request loaders of the benefits area: benefits by id (entity references, claims' benefits), claim counts per
// benefit and privileges per level, each one query however many the request asks for.
import DataLoader from 'dataloader';
import { keyedLoader } from '@bank-hub/shared';
import type { EngagementRepositories } from '../models';
import type { BenefitDoc } from './models/benefit';
import type { ClaimState } from './models/claim';

export const CLAIM_STATES: readonly ClaimState[] = ['CLAIMED', 'USED', 'EXPIRED', 'REVOKED'];

export interface ClaimCount {
  state: ClaimState;
  claims: number;
}

export interface BenefitLoaders {
  benefitById: DataLoader<string, BenefitDoc | null>;
  /** Claims of a benefit in every state, zeros included. */
  claimCounts: DataLoader<string, ClaimCount[]>;
  /** Published, unended benefits a level carries as privileges. */
  privilegesOf: DataLoader<string, BenefitDoc[]>;
}

export function createBenefitLoaders(repos: EngagementRepositories, now: Date): BenefitLoaders {
  return {
    benefitById: keyedLoader(
      (ids) => repos.benefits.findByIds(ids),
      (benefit) => benefit._id,
    ),
    claimCounts: new DataLoader(async (benefitIds) => {
      const rows = await repos.claims.countsByState(benefitIds, now);
      return benefitIds.map((benefitId) =>
        CLAIM_STATES.map((state) => ({
          state,
          claims: rows.find((row) => row.benefitId === benefitId && row.state === state)?.claims ?? 0,
        })),
      );
    }),
    privilegesOf: new DataLoader(async (levelCodes) => {
      const benefits = await repos.benefits.privilegesOf(levelCodes, now);
      return levelCodes.map((code) => benefits.filter((benefit) => benefit.levelCodes.includes(code)));
    }),
  };
}
