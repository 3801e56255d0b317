// The per-request context: identity, repositories, the graph client and loaders created fresh for every request.
import type { BankCalendar, BaseContext, Cached, GraphClient, Snapshot } from '@bank-hub/shared';
import type { ActivityRankingModel } from '@bank-hub/targeting';
import type { PublishedActivities } from './activities/published';
import type { KnownMembers } from './audience';
import { createActivityLoaders, type ActivityLoaders } from './activities/loaders';
import { createBenefitLoaders, type BenefitLoaders } from './benefits/loaders';
import type { MemberPoints } from './members-points';
import type { EngagementRepositories } from './models';
import { createReferralLoaders, type ReferralLoaders } from './referrals/loaders';
import type { RewardGranter } from './rewards';

/** What lives as long as the process: shared by every request. */
export interface EngagementServices {
  repos: EngagementRepositories;
  graph: GraphClient;
  /** Members' points, moved through the graph with the hub's service identity. */
  points: MemberPoints;
  /** Whether the member a token names is one members knows. */
  knownMembers: KnownMembers;
  /** Grants task and referral rewards: points through members, benefits through claims. */
  granter: RewardGranter;
  /** Published activities, in memory; `changed()` after writing activities. */
  publishedActivities: Snapshot<PublishedActivities>;
  /** The active activity ranking model, from analytics (its defaults when analytics cannot answer). */
  activityRanking: Cached<ActivityRankingModel>;
  /** Each published activity's completion rate among the members who joined it, learned from progress. */
  completionRates: Cached<ReadonlyMap<string, number>>;
  /** The bank's calendar (BANK_TIME_ZONE): the business days of daily limits, sign-ins and claims' valid days. */
  calendar: BankCalendar;
  /** The bank's currency (BANK_CURRENCY): of the amounts a task reads when it names none. */
  bankCurrency: string;
}

/** A member as the gateway hands it over: an id and, for Member.activities, what @requires brought along. */
export type MemberRef = { id: string } & Record<string, unknown>;

/** A membership level as engagement knows it: by code (members owns the rest). */
export interface LevelRef {
  code: string;
}

/** A bundle as the gateway hands it over: an id and what @requires brought along, unchecked. */
export type BundleRef = { id: string } & Record<string, unknown>;

/** An operator acting, as the workflow and the audit log name them. */
export interface Operator {
  id: string;
}

export type EngagementLoaders = BenefitLoaders & ActivityLoaders & ReferralLoaders;

export interface EngagementContext extends BaseContext, EngagementServices {
  loaders: EngagementLoaders;
  now: Date;
}

export function createContext(services: EngagementServices) {
  return (base: BaseContext): EngagementContext => {
    const now = new Date();
    return {
      ...base,
      ...services,
      now,
      loaders: {
        ...createBenefitLoaders(services.repos, now),
        ...createActivityLoaders(services.repos),
        ...createReferralLoaders(services.repos),
      },
    };
  };
}
