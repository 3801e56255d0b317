// Bringing in members from the bank's core banking and CRM systems: a customer who registered becomes a member (拉新),
// and the profile and IMPORTED tags those systems own (risk level, AUM, wealth holdings, a verified phone) follow them.
// Members checks each member as any input and writes a field or tag only over a value from an older record of the
// systems (asOf), so a rerun or a late replay changes nothing, and never touches what it owns itself: points, ledger,
// level, lifecycle stage, computed and manual tags.
import { InputProblem, MEMBER_ID, MEMBER_ID_RULE, badInput, conflict, echoed } from '@bank-hub/shared';
import { AUM_BAND_TAG, NEW_USER_TAG, derives, newUserValue, withAumBand } from './domain/computed-tags';
import { levelForGrowthPoints } from './domain/levels';
import {
  MAX_SYNC_MEMBERS,
  changesValues,
  newMember,
  planSync,
  stampsOf,
  syncAsOf,
  syncedFields,
  type MemberSyncInput,
  type SyncPlan,
  type SyncedFields,
} from './domain/member-sync';
import { MAX_MEMBER_TAGS, tagsOfSource, type TagRefusal } from './domain/tags';
import type { MembersRepositories } from './models';
import type { MemberDoc, TagValue } from './models/member';
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
  /** Given fields and tags not written because the member stores a value from a newer record (phone, tags.aum). */
  staleFields: string[];
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
): MemberSyncResult => ({
  id,
  outcome: 'REFUSED',
  refusal,
  field,
  message,
  refusedTags: [],
  staleFields: [],
});

/**
 * How often one member's record is planned and written before the call gives up on it (CONFLICT). Each write is a
 * compare-and-set, as MongoDB here has no transactions: it applies only while the state it was planned from holds, and
 * another writer that got in between makes the next plan smaller (its newer fields turn stale), so a few suffice.
 */
const MAX_SYNC_ATTEMPTS = 8;

/** One record planned and written on a stored member; null when there is no such member (any more). */
async function applyToStored(
  repos: MembersRepositories,
  id: string,
  read: MemberDoc | undefined,
  record: { asOf: Date; fields: SyncedFields; tags: Readonly<Record<string, TagValue>> },
  rules: { deriveAumBand: boolean; maxTags: number },
  now: Date,
): Promise<{ changed: boolean; plan: SyncPlan } | null> {
  for (let attempt = 0; attempt < MAX_SYNC_ATTEMPTS; attempt += 1) {
    const member = attempt === 0 && read ? read : (await repos.members.syncStates([id])).get(id);
    if (!member) return null;
    const plan = planSync(member, record, rules);
    if (Object.keys(plan.stamps).length === 0) return { changed: false, plan };
    // Only stamps moving is no change of the member: its updatedAt stays, and the outcome is UNCHANGED.
    const updatedAt = changesValues(member, plan) ? now : null;
    const before = await repos.members.applySyncPlan(id, plan, record.asOf, rules.maxTags, updatedAt);
    if (before) return { changed: changesValues(before, plan), plan };
  }
  throw conflict(`member ${id} kept changing while this sync wrote it: retry`, { id });
}

export async function upsertMembers(
  repos: MembersRepositories,
  caller: { id: string; requestId: string },
  inputs: readonly MemberSyncInput[],
  levels: readonly MembershipLevelDoc[],
  now: Date,
): Promise<MembersSynced> {
  checkCall(inputs);
  const [library, stored] = await Promise.all([
    repos.tagDefinitions.all().then((all) => new Map(all.map((definition) => [definition._id, definition]))),
    repos.members.syncStates(inputs.map((input) => input.id)),
  ]);
  const entryLevel = levelForGrowthPoints(levels, 0);
  const rules = { deriveAumBand: derives(library, AUM_BAND_TAG, 'STRING'), maxTags: MAX_MEMBER_TAGS };
  // Each member's writes are their own: one that fails (a store fault) fails the call, but only once the others are
  // done and what they wrote is audited — a rerun answers UNCHANGED for those and would never audit them.
  const settled = await Promise.allSettled(
    inputs.map(async (input, i): Promise<MemberSyncResult> => {
      const at = `members[${i}]`;
      let asOf: Date;
      let fields: SyncedFields;
      try {
        asOf = syncAsOf(input, at, now);
        fields = syncedFields(input, at, now);
      } catch (error) {
        if (error instanceof InputProblem)
          return refused(input.id, 'INVALID_FIELD', error.field, error.message);
        throw error;
      }
      const imported = tagsOfSource(library, 'IMPORTED', input.tags ?? []);
      const echoedRefusals = imported.refused.map(({ code, reason }) => ({ code: echoed(code), reason }));
      const record = { asOf, fields, tags: imported.tags };
      if (!stored.has(input.id)) {
        const created = await createNew(repos, input.id, record, library, entryLevel, now);
        if (created === 'incomplete')
          return refused(
            input.id,
            'INCOMPLETE_NEW_MEMBER',
            at,
            `no member has id ${input.id}: a new member needs name, phone and idNumber`,
          );
        if (created)
          return { ...noRefusal(input.id, 'CREATED'), refusedTags: echoedRefusals, staleFields: [] };
      }
      // Another sync created the member a moment ago: this record is written over it, field by field, as any other.
      const applied = await applyToStored(repos, input.id, stored.get(input.id), record, rules, now);
      if (!applied)
        throw conflict(`member ${input.id} disappeared while this sync wrote it: retry`, { id: input.id });
      return {
        ...noRefusal(input.id, applied.changed ? 'UPDATED' : 'UNCHANGED'),
        refusedTags: [
          ...echoedRefusals,
          ...applied.plan.overTagLimit.map((code) => ({ code, reason: 'TAG_LIMIT' as const })),
        ],
        staleFields: applied.plan.stale,
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

/**
 * Stores a customer seen for the first time, every value stamped with the record's asOf, with the computed tags that
 * follow from it; false when another sync created the member a moment ago, 'incomplete' without the personal data a
 * new member needs.
 */
async function createNew(
  repos: MembersRepositories,
  id: string,
  record: { asOf: Date; fields: SyncedFields; tags: Readonly<Record<string, TagValue>> },
  library: ReadonlyMap<string, { source: string; valueType: string }>,
  entryLevel: MembershipLevelDoc,
  now: Date,
): Promise<boolean | 'incomplete'> {
  const { fields, tags: imported } = record;
  // The computed tags that follow from what is imported, as setMemberTags writes them.
  const tags = derives(library, AUM_BAND_TAG, 'STRING') ? withAumBand(imported, []).set : imported;
  const newUser = derives(library, NEW_USER_TAG, 'BOOLEAN')
    ? newUserValue(fields.registeredAt ?? now, false, now)
    : null;
  const withNewUser = newUser === null ? tags : { ...tags, [NEW_USER_TAG]: newUser };
  // Checked against the call's bound, the imported tags always fit; the derived ones only where room is left.
  const member = newMember(
    id,
    fields,
    Object.keys(withNewUser).length <= MAX_MEMBER_TAGS ? withNewUser : imported,
    stampsOf(fields, Object.keys(imported), record.asOf),
    entryLevel,
    now,
  );
  if (!member) return 'incomplete';
  return repos.members.insertNew(member);
}

function noRefusal(id: string, outcome: MemberSyncOutcome) {
  return { id, outcome, refusal: null, field: null, message: null };
}
