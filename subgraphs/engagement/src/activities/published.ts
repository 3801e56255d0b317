// Published activities in memory (see Snapshot in @bank-hub/shared): every page with activity cards asks which
// activities run, and the cards show them, without a database read. Operators' changes bump the revision.
import { approximateBytes, Revisions, Snapshot, type Logger } from '@bank-hub/shared';
import type { ActivityDoc, ActivityRepositories } from './model';

export type PublishedActivities = ReadonlyMap<string, ActivityDoc>;

export function publishedActivities(
  repos: ActivityRepositories,
  options: { refreshMs: number; logger: Logger },
): Snapshot<PublishedActivities> {
  return new Snapshot<PublishedActivities>(Revisions.open(repos.activities.model.db), {
    name: 'engagement',
    ...options,
    load: async () => new Map((await repos.activities.published(new Date())).map((a) => [a._id, a])),
    describe: (activities) => ({
      activities: activities.size,
      bytes: approximateBytes([...activities.values()]),
    }),
  });
}
