// Bringing in members from the bank's core banking and CRM systems: a customer who registered becomes a member (拉新),
// and the profile and IMPORTED tags those systems own (risk level, AUM, wealth holdings, a verified phone) follow them.
// Members checks each member as any input and writes only what differs, so a rerun changes nothing, and never touches
// what it owns itself: points, ledger, level, lifecycle stage, computed and manual tags.
import { InputProblem, MEMBER_ID, MEMBER_ID_RULE, badInput, echoed } from '@bank-hub/shared';
import { AUM_BAND_TAG, NEW_USER_TAG, derives, newUserValue, withAumBand } from './domain/computed-tags';
import { levelForGrowthPoints } from './domain/levels';
import {
  MAX_SYNC_MEMBERS,
  newMember,
  syncedFields,
  type MemberSyncInput,
  type SyncedFields,
} from './domain/member-sync';
import { MAX_MEMBER_TAGS, tagsOfSource, type TagRefusal } from './domain/tags';
import type { MembersRepositories } from './models';
import type { MembershipLevelDoc } from './models/membership-level';

export type MemberSyncOutcome = 'CREATED' | 'UPDATED' | 'UNCHANGED' | 'REFUSED';
/** Why nothing of a member was written (the schema's MemberSyncRefusal). */
export type MemberSyncRefusal = 'INVALID_FIELD' | 'INCOMPLETE_NEW_MEMBER';

export interface MemberSyncResult {
  id: string;
  outcome: MemberSyncOutcome;
  refusal: MemberSyncRefusal | null;
  /** The input field at fault, e.g. members[3].phone; null unless refused. */
  field: string | null;
  message: string | null;
  /** Tags not written, each with its reason; the member's other fields and tags were. */
  refusedTags: { code: string; reason: TagRefusal }[];
}

export interface MembersSynced {
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  /** One per member given, in the order given. */
  results: MemberSyncResult[];
}

/** Call-level checks: nothing of a call that fails one is written. */
function checkCall(inputs: readonly MemberSyncInput[]): void {
  if (inputs.length === 0 || inputs.length > MAX_SYNC_MEMBERS)
    throw badInput(`sync 1 to ${MAX_SYNC_MEMBERS} members at a time`, 'members');
  const seen = new Set<string>();
  inputs.forEach((input, i) => {
    // Each result names its member: an id no member can have (any length, any character) is not echoed back.
    if (!MEMBER_ID.test(input.id))
      throw badInput(`id is not a member id (${MEMBER_ID_RULE})`, `members[${i}].id`);
    // Which of two records of one member would stand? The system should say, not the order of its list.
    if (seen.has(input.id)) throw badInput(`member ${input.id} appears twice`, `members[${i}].id`);
    seen.add(input.id);
    const tags = input.tags ?? [];
    if (tags.length > MAX_MEMBER_TAGS)
      throw badInput(`a member carries at most ${MAX_MEMBER_TAGS} tags`, `members[${i}].tags`);
    const codes = new Set<string>();
    tags.forEach((tag, j) => {
      if (codes.has(tag.code))
        throw badInput(`tag ${echoed(tag.code)} appears twice`, `members[${i}].tags[${j}].code`);
      codes.add(tag.code);
    });
  });
}

const refused = (
  id: string,
  refusal: MemberSyncRefusal,
  field: string,
  message: string,
): MemberSyncResult => ({ id, outcome: 'REFUSED', refusal, field, message, refusedTags: [] });

export async function upsertMembers(
  repos: MembersRepositories,
  caller: { id: string; requestId: string },
  inputs: readonly MemberSyncInput[],
  levels: readonly MembershipLevelDoc[],
  now: Date,
): Promise<MembersSynced> {
  checkCall(inputs);
  const [library, known] = await Promise.all([
    repos.tagDefinitions.all().then((all) => new Map(all.map((definition) => [definition._id, definition]))),
    repos.members.existingIds(inputs.map((input) => input.id)).then((ids) => new Set(ids)),
  ]);
  const entryLevel = levelForGrowthPoints(levels, 0);
  // Each member's writes are their own: one that fails (a store fault) fails the call, but only once the others are
  // done and what they wrote is audited — a rerun answers UNCHANGED for those and would never audit them.
  const settled = await Promise.allSettled(
    inputs.map(async (input, i): Promise<MemberSyncResult> => {
      const at = `members[${i}]`;
      let fields: SyncedFields;
      try {
        fields = syncedFields(input, at, now);
      } catch (error) {
        if (error instanceof InputProblem)
          return refused(input.id, 'INVALID_FIELD', error.field, error.message);
        throw error;
      }
      const imported = tagsOfSource(library, 'IMPORTED', input.tags ?? []);
      const refusedTags = imported.refused;
      // The computed tags that follow from what is imported, as setMemberTags writes them.
      const tags = derives(library, AUM_BAND_TAG, 'STRING')
        ? withAumBand(imported.tags, []).set
        : imported.tags;
      const echoedRefusals = refusedTags.map(({ code, reason }) => ({ code: echoed(code), reason }));
      if (!known.has(input.id)) {
        const registeredAt = fields.registeredAt ?? now;
        const newUser = derives(library, NEW_USER_TAG, 'BOOLEAN')
          ? newUserValue(registeredAt, false, now)
          : null;
        const withNewUser = newUser === null ? tags : { ...tags, [NEW_USER_TAG]: newUser };
        // Checked against the call's bound, the imported tags always fit; the derived ones only where room is left.
        const member = newMember(
          input.id,
          fields,
          Object.keys(withNewUser).length <= MAX_MEMBER_TAGS ? withNewUser : imported.tags,
          entryLevel,
          now,
        );
        if (!member)
          return refused(
            input.id,
            'INCOMPLETE_NEW_MEMBER',
            at,
            `no member has id ${input.id}: a new member needs name, phone and idNumber`,
          );
        if (await repos.members.insertNew(member))
          return { ...noRefusal(input.id, 'CREATED'), refusedTags: echoedRefusals };
      }
      const applied = await repos.members.applySynced(input.id, fields, tags, MAX_MEMBER_TAGS, now);
      const overLimit = applied.overTagLimit
        ? Object.keys(tags).map((code) => ({ code, reason: 'TAG_LIMIT' as const }))
        : [];
      return {
        ...noRefusal(input.id, applied.changed ? 'UPDATED' : 'UNCHANGED'),
        refusedTags: [...echoedRefusals, ...overLimit],
      };
    }),
  );
  const results = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result) => result.status === 'rejected');
  const count = (outcome: MemberSyncOutcome) => results.filter((result) => result.outcome === outcome).length;
  const synced = {
    created: count('CREATED'),
    updated: count('UPDATED'),
    unchanged: count('UNCHANGED'),
    refused: count('REFUSED'),
    results,
  };
  const idsOf = (outcome: MemberSyncOutcome) =>
    results.filter((result) => result.outcome === outcome).map((result) => result.id);
  // A rerun that changes nothing leaves no trace either. Personal data stays out of the audit trail: ids only.
  if (synced.created + synced.updated > 0)
    await repos.audit.record({
      actor: caller.id,
      action: 'upsertMembers',
      targetType: 'Member',
      targetId: `${synced.created + synced.updated} members`,
      before: null,
      after: {
        created: idsOf('CREATED'),
        updated: idsOf('UPDATED'),
        unchanged: synced.unchanged,
        refused: idsOf('REFUSED'),
        refusedTags: results.reduce((total, result) => total + result.refusedTags.length, 0),
        ...(failure ? { failed: inputs.length - results.length } : {}),
      },
      requestId: caller.requestId,
    });
  if (failure) throw failure.reason;
  return synced;
}

function noRefusal(id: string, outcome: MemberSyncOutcome) {
  return { id, outcome, refusal: null, field: null, message: null };
}
