// Opens every engagement repository on one database connection and makes sure its indexes exist. Each area
// (activities, benefits, referrals) keeps its collections in its own folder.
import type { Connection } from 'mongoose';
import { AuditLog } from '@bank-hub/shared';

export interface EngagementRepositories {
  audit: AuditLog;
}

export async function openRepositories(connection: Connection): Promise<EngagementRepositories> {
  const repositories: EngagementRepositories = {
    audit: AuditLog.open(connection),
  };
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
