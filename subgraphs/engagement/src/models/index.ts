// Opens every engagement repository on one database connection and makes sure its indexes exist. Each area
// (activities, benefits, referrals) keeps its collections in its own folder.
import type { Connection } from 'mongoose';
import { AuditLog, JobLeases } from '@bank-hub/shared';
import { FeedCursors } from '../activities/feed-consumer';
import { openActivityRepositories, type ActivityRepositories } from '../activities/model';
import { openBenefitRepositories, type BenefitRepositories } from '../benefits/models';
import { openReferralRepositories, type ReferralRepositories } from '../referrals/model';

export interface EngagementRepositories
  extends ActivityRepositories, BenefitRepositories, ReferralRepositories {
  audit: AuditLog;
  leases: JobLeases;
  cursors: FeedCursors;
}

export async function openRepositories(connection: Connection): Promise<EngagementRepositories> {
  const repositories: EngagementRepositories = {
    ...openActivityRepositories(connection),
    ...openBenefitRepositories(connection),
    ...openReferralRepositories(connection),
    audit: AuditLog.open(connection),
    leases: JobLeases.open(connection),
    cursors: FeedCursors.open(connection),
  };
  // Unique ids (idempotency keys, counters) must have their indexes before the first concurrent write.
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
