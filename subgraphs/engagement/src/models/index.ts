// Opens every engagement repository on one database connection and makes sure its indexes exist. Each area
// (activities, benefits, referrals) keeps its collections in its own folder.
import type { Connection } from 'mongoose';
import { AuditLog } from '@bank-hub/shared';
import { openBenefitRepositories, type BenefitRepositories } from '../benefits/models';

export interface EngagementRepositories extends BenefitRepositories {
  audit: AuditLog;
}

export async function openRepositories(connection: Connection): Promise<EngagementRepositories> {
  const repositories: EngagementRepositories = {
    ...openBenefitRepositories(connection),
    audit: AuditLog.open(connection),
  };
  // Unique ids (idempotency keys, counters) must have their indexes before the first concurrent write.
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
