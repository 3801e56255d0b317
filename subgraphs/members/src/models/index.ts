// Opens every members repository on one database connection and makes sure its indexes exist.
import type { Connection } from 'mongoose';
import { AuditLog, JobLeases } from '@bank-hub/shared';
import { MemberRepository, memberSchema, type MemberDoc } from './member';
import {
  MembershipLevelRepository,
  membershipLevelSchema,
  type MembershipLevelDoc,
} from './membership-level';
import { PointsLedgerRepository, pointsEntrySchema, type PointsEntryDoc } from './points-ledger';
import { SegmentRepository, segmentSchema, type SegmentDoc } from './segment';
import { TagDefinitionRepository, tagDefinitionSchema, type TagDefinitionDoc } from './tag-definition';

export interface MembersRepositories {
  members: MemberRepository;
  tagDefinitions: TagDefinitionRepository;
  segments: SegmentRepository;
  levels: MembershipLevelRepository;
  ledger: PointsLedgerRepository;
  audit: AuditLog;
  /** Lets one process at a time run the points recovery pass. */
  leases: JobLeases;
}

export async function openRepositories(connection: Connection): Promise<MembersRepositories> {
  const repositories: MembersRepositories = {
    members: new MemberRepository(connection.model<MemberDoc>('Member', memberSchema)),
    tagDefinitions: new TagDefinitionRepository(
      connection.model<TagDefinitionDoc>('TagDefinition', tagDefinitionSchema),
    ),
    segments: new SegmentRepository(connection.model<SegmentDoc>('Segment', segmentSchema)),
    levels: new MembershipLevelRepository(
      connection.model<MembershipLevelDoc>('MembershipLevel', membershipLevelSchema),
    ),
    ledger: new PointsLedgerRepository(connection.model<PointsEntryDoc>('PointsEntry', pointsEntrySchema)),
    audit: AuditLog.open(connection),
    leases: JobLeases.open(connection),
  };
  // Unique indexes (idempotency keys) must exist before the first concurrent write.
  await Promise.all(Object.values(connection.models).map((model) => model.init()));
  return repositories;
}
