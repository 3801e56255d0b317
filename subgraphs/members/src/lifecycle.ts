// Applying a computed lifecycle: analytics works out each member's stage and engagement tags from their behaviour
// and hands them over through the graph. Members checks them like any input (a known stage, COMPUTED tags of the
// library, values of the right type, the tags a member may carry), adds new_user, which follows from its own data, and
// writes only what differs, so a rerun or a concurrent run changes nothing.
import { MEMBER_ID, MEMBER_ID_RULE, badInput, echoed } from '@bank-hub/shared';
import { NEW_USER_TAG, derives, newUserValue } from './domain/computed-tags';
import { MAX_MEMBER_TAGS, tagsOfSource, type TagRefusal } from './domain/tags';
import type { MembersRepositories } from './models';
import { isLifecycleStage, type LifecycleStage } from '@bank-hub/targeting';

export const MAX_LIFECYCLE_RESULTS = 500;

export interface LifecycleResult {
  memberId: string;
  stage: LifecycleStage;
  tags: readonly { code: string; value: unknown }[];
}

export interface RefusedTag {
  /** The code as given, at most its first 64 characters (no tag code is longer). */
  code: string;
  reason: TagRefusal;
  memberIds: string[];
}

export interface AppliedLifecycle {
  stagesChanged: number;
  tagsChanged: number;
  unchanged: number;
  /** Results naming no member: reported, never counted as unchanged. */
  unknownMemberIds: string[];
  /** Tags not written, by code and reason; everything else of their results was. */
  refusedTags: RefusedTag[];
}

export async function applyLifecycle(
  repos: MembersRepositories,
  service: { id: string; requestId: string },
  results: readonly LifecycleResult[],
  now: Date,
): Promise<AppliedLifecycle> {
  if (results.length === 0 || results.length > MAX_LIFECYCLE_RESULTS)
    throw badInput(`apply 1 to ${MAX_LIFECYCLE_RESULTS} results at a time`, 'results');
  const seen = new Set<string>();
  results.forEach((result, i) => {
    // Unknown ids are named back in the answer: one no member can have (any length, any character) is the caller's
    // mistake, not a closed member's.
    if (!MEMBER_ID.test(result.memberId))
      throw badInput(`memberId is not a member id (${MEMBER_ID_RULE})`, `results[${i}].memberId`);
    if (seen.has(result.memberId))
      throw badInput(`member ${echoed(result.memberId)} appears twice`, `results[${i}].memberId`);
    seen.add(result.memberId);
    if (!isLifecycleStage(result.stage)) throw badInput('unknown stage', `results[${i}].stage`);
    // Which value would the member carry? The job should say, not the order of its list (as in setMemberTags).
    const codes = new Set<string>();
    result.tags.forEach((tag, j) => {
      if (codes.has(tag.code))
        throw badInput(`tag ${echoed(tag.code)} appears twice`, `results[${i}].tags[${j}].code`);
      codes.add(tag.code);
    });
  });
  // An unknown id would otherwise match no update and pass for a member already as computed.
  const [library, known] = await Promise.all([
    repos.tagDefinitions.all().then((all) => new Map(all.map((definition) => [definition._id, definition]))),
    repos.members
      .registrations([...seen], NEW_USER_TAG)
      .then((found) => new Map(found.map((member) => [member._id, member]))),
  ]);
  // new_user is members' own: it follows from when the member registered, which members alone knows. Derived here for
  // every member handed (newUserValue), while the library keeps it COMPUTED (an operator who made it MANUAL sets it).
  const derivesNewUser = derives(library, NEW_USER_TAG, 'BOOLEAN');
  const unknownMemberIds = results
    .filter((result) => !known.has(result.memberId))
    .map((result) => result.memberId);
  // A tag an operator made MANUAL, or took out of the library, is refused alone: every member's stage and other tags
  // still move, and the caller learns which tag was refused and why.
  const refusals = new Map<string, RefusedTag>();
  const refuse = (given: string, reason: TagRefusal, memberId: string) => {
    const code = echoed(given);
    const key = `${reason} ${code}`;
    const refusal = refusals.get(key) ?? { code, reason, memberIds: [] };
    refusal.memberIds.push(memberId);
    refusals.set(key, refusal);
  };
  const existing = results
    .filter((result) => known.has(result.memberId))
    .map((result) => {
      // new_user follows from members' own data: a value given for it is not the job's to set.
      const given = derivesNewUser ? result.tags.filter((tag) => tag.code !== NEW_USER_TAG) : result.tags;
      const { tags, refused } = tagsOfSource(library, 'COMPUTED', given);
      refused.forEach(({ code, reason }) => refuse(code, reason, result.memberId));
      const registration = known.get(result.memberId);
      const newUser =
        derivesNewUser && registration
          ? newUserValue(registration.registeredAt, registration.carriesTag, now)
          : null;
      if (newUser !== null) tags[NEW_USER_TAG] = newUser;
      return { memberId: result.memberId, stage: result.stage, tags };
    });
  const { stagesChanged, tagsChanged, touched, overTagLimit } = await repos.members.applyComputed(
    existing,
    now,
    MAX_MEMBER_TAGS,
  );
  const tagsOf = new Map(existing.map((result) => [result.memberId, result.tags]));
  for (const memberId of overTagLimit)
    Object.keys(tagsOf.get(memberId) ?? {}).forEach((code) => refuse(code, 'TAG_LIMIT', memberId));
  const refusedTags = [...refusals.values()]
    .map((refusal) => ({ ...refusal, memberIds: refusal.memberIds.sort() }))
    .sort((a, b) => a.code.localeCompare(b.code) || a.reason.localeCompare(b.reason));
  const applied = {
    stagesChanged,
    tagsChanged,
    unchanged: existing.length - touched.length,
    unknownMemberIds,
  };
  // A rerun that changes nothing leaves no trace either.
  if (touched.length === 0) return { ...applied, refusedTags };
  await repos.audit.record({
    actor: service.id,
    action: 'applyLifecycle',
    targetType: 'Member',
    targetId: `${touched.length} members`,
    before: null,
    after: {
      stagesChanged,
      tagsChanged,
      members: touched,
      refusedTags: refusedTags.map(({ code, reason, memberIds }) => ({
        code,
        reason,
        members: memberIds.length,
      })),
    },
    requestId: service.requestId,
  });
  return { ...applied, refusedTags };
}
