// The per-request context: identity, repositories, the graph client and loaders created fresh for every request.
import DataLoader from 'dataloader';
import { keyedLoader, type BaseContext, type GraphClient } from '@bank-hub/shared';
import type { ActivityDoc, ParticipationDoc, ProgressDoc } from './activities/model';
import type { RewardGranter } from './activities/progress';
import type { EngagementRepositories } from './models';

/** What lives as long as the process: shared by every request. */
export interface EngagementServices {
  repos: EngagementRepositories;
  graph: GraphClient;
  /** Grants task and referral rewards: points through members, benefits through claims. */
  granter: RewardGranter;
}

export interface EngagementLoaders {
  activityById: DataLoader<string, ActivityDoc | null>;
  /** Published activities that have not ended (one key, 'now': one read per request). */
  publishedActivities: DataLoader<'now', ActivityDoc[]>;
  participationsByMember: DataLoader<string, ParticipationDoc[]>;
  progressByMember: DataLoader<string, ProgressDoc[]>;
  participantsByActivity: DataLoader<string, number>;
}

export interface EngagementContext extends BaseContext, EngagementServices {
  loaders: EngagementLoaders;
  now: Date;
}

/** Groups documents by member, in the order the members were asked. */
const byMember =
  <T extends { memberId: string }>(read: (ids: readonly string[]) => Promise<T[]>) =>
  async (memberIds: readonly string[]) => {
    const docs = await read(memberIds);
    return memberIds.map((memberId) => docs.filter((doc) => doc.memberId === memberId));
  };

function createLoaders(repos: EngagementRepositories, now: Date): EngagementLoaders {
  return {
    activityById: keyedLoader(
      (ids) => repos.activities.findByIds(ids),
      (activity) => activity._id,
    ),
    publishedActivities: new DataLoader(async (keys) => {
      const published = await repos.activities.published(now);
      return keys.map(() => published);
    }),
    participationsByMember: new DataLoader(byMember((ids) => repos.participations.ofMembers(ids))),
    progressByMember: new DataLoader(byMember((ids) => repos.progress.ofMembers(ids))),
    participantsByActivity: new DataLoader(async (ids) => {
      const counts = new Map((await repos.participations.count(ids)).map(({ _id, n }) => [_id, n]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}

export function createContext(services: EngagementServices) {
  return (base: BaseContext): EngagementContext => {
    const now = new Date();
    return { ...base, ...services, now, loaders: createLoaders(services.repos, now) };
  };
}
