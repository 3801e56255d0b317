// Opens every engagement repository on one database connection and makes sure its indexes exist. Each area
// (activities, benefits, referrals) keeps its collections in its own folder.
import type { Connection } from 'mongoose';
import { AuditLog, JobLeases } from '@bank-hub/shared';
import { openActivityRepositories, type ActivityRepositories } from '../activities/model';
import { FeedCursors } from '../activities/feed-consumer';

export interface EngagementRepositories extends ActivityRepositories {
  audit: AuditLog;
  leases: JobLeases;
  cursors: FeedCursors;
}

export async function openRepositories(connection: Connection): Promise<EngagementRepositories> {
  const repositories: EngagementRepositories = {
    ...openActivityRepositories(connection),
    audit: AuditLog.open(connection),
    leases: JobLeases.open(connection),
    cursors: FeedCursors.open(connection),
  };
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
