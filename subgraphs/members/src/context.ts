// The per-request context: identity plus loaders created fresh for every request.
import DataLoader from 'dataloader';
import { PersonalDataReads, keyedLoader, type BaseContext, type Snapshot } from '@bank-hub/shared';
import type { Definitions } from './definitions';
import { compileRule } from './domain/segment-filter';
import type { MembersRepositories } from './models';
import type { MemberDoc } from './models/member';
import type { PointsEntryDoc } from './models/points-ledger';
import type { MembershipLevelDoc } from './models/membership-level';
import type { SegmentDoc } from './models/segment';
import type { TagDefinitionDoc } from './models/tag-definition';

export interface MembersLoaders {
  memberById: DataLoader<string, MemberDoc | null>;
  segments: { load(): Promise<SegmentDoc[]> };
  levels: { load(): Promise<MembershipLevelDoc[]> };
  tagDefinitions: { load(): Promise<TagDefinitionDoc[]> };
  /** Ledger entries per member, newest first. */
  /** A member's newest ledger entries that moved the balance (up to LEDGER_PAGE_MAX), once per member per request. */
  ledgerByMember: DataLoader<MemberDoc, PointsEntryDoc[], string>;
  /** Audience size per segment code, counted for all requested segments in one aggregate. */
  audienceSize: DataLoader<SegmentDoc, number>;
}

/** The most ledger entries one request returns per member. */
export const LEDGER_PAGE_MAX = 100;

export interface MembersContext extends BaseContext {
  repos: MembersRepositories;
  /** Segments, levels and the tag library, in memory; `changed()` after writing them. */
  definitions: Snapshot<Definitions>;
  loaders: MembersLoaders;
  now: Date;
  /** The bank's time zone (BANK_TIME_ZONE): a member's when none is stored. */
  bankTimeZone: string;
  /** Personal data this request shows unmasked, recorded in the audit trail once it is answered. */
  personalDataReads: PersonalDataReads;
}

export function createLoaders(
  repos: MembersRepositories,
  definitions: Snapshot<Definitions>,
  now: Date,
): MembersLoaders {
  return {
    memberById: keyedLoader(
      (ids) => repos.members.findByIds(ids),
      (member) => member._id,
    ),
    segments: { load: async () => (await definitions.get()).segments },
    levels: { load: async () => (await definitions.get()).levels },
    tagDefinitions: { load: async () => (await definitions.get()).tagDefinitions },
    // One bounded, indexed query per member: a single $in query would read every entry of every member.
    ledgerByMember: new DataLoader<MemberDoc, PointsEntryDoc[], string>(
      (members) =>
        Promise.all(
          members.map((member) =>
            repos.ledger.historyFor(member._id, LEDGER_PAGE_MAX, member.appliedEntries ?? []),
          ),
        ),
      { cacheKeyFn: (member) => member._id },
    ),
    audienceSize: new DataLoader<SegmentDoc, number, string>(
      (segments) => repos.members.countMany(segments.map((segment) => compileRule(segment.rule, now))),
      { cacheKeyFn: (segment) => segment._id },
    ),
  };
}

export function createContext(
  repos: MembersRepositories,
  definitions: Snapshot<Definitions>,
  bankTimeZone: string,
) {
  return (base: BaseContext): MembersContext => {
    const now = new Date();
    return {
      ...base,
      repos,
      definitions,
      now,
      bankTimeZone,
      loaders: createLoaders(repos, definitions, now),
      personalDataReads: new PersonalDataReads(),
    };
  };
}
