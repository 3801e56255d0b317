// Per-request loaders of the activities area: activities by id (operators', and what the published ones in memory
// lack), members' participations and progress, each one query however many the request asks for.
import DataLoader from 'dataloader';
import { keyedLoader } from '@bank-hub/shared';
import type { ActivityDoc, ActivityRepositories, ParticipationDoc, ProgressDoc } from './model';

export interface ActivityLoaders {
  activityById: DataLoader<string, ActivityDoc | null>;
  participationsByMember: DataLoader<string, ParticipationDoc[]>;
  progressByMember: DataLoader<string, ProgressDoc[]>;
  participantsByActivity: DataLoader<string, number>;
}

/** Groups documents by member, in the order the members were asked. */
const byMember =
  <T extends { memberId: string }>(read: (ids: readonly string[]) => Promise<T[]>) =>
  async (memberIds: readonly string[]) => {
    const docs = await read(memberIds);
    return memberIds.map((memberId) => docs.filter((doc) => doc.memberId === memberId));
  };

export function createActivityLoaders(repos: ActivityRepositories): ActivityLoaders {
  return {
    activityById: keyedLoader(
      (ids) => repos.activities.findByIds(ids),
      (activity) => activity._id,
    ),
    participationsByMember: new DataLoader(byMember((ids) => repos.participations.ofMembers(ids))),
    progressByMember: new DataLoader(byMember((ids) => repos.progress.ofMembers(ids))),
    participantsByActivity: new DataLoader(async (ids) => {
      const counts = new Map((await repos.participations.count(ids)).map(({ _id, n }) => [_id, n]));
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
