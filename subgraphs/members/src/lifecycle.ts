// Applying a computed lifecycle: analytics works out each member's stage and engagement tags from their behaviour
// and hands them over through the graph. Members checks them like any input (a known stage, COMPUTED tags of the
// library, values of the right type) and writes only what differs, so a rerun or a concurrent run changes nothing.
import { badInput } from '@bank-hub/shared';
import { checkTagValue } from './domain/tags';
import type { MembersRepositories } from './models';
import { isLifecycleStage, type LifecycleStage } from '@bank-hub/targeting';
import type { TagValue } from './models/member';

export const MAX_LIFECYCLE_RESULTS = 500;

export interface LifecycleResult {
  memberId: string;
  stage: LifecycleStage;
  tags: readonly { code: string; value: unknown }[];
}

export interface AppliedLifecycle {
  stagesChanged: number;
  tagsChanged: number;
  unchanged: number;
  /** Results naming no member: reported, never counted as unchanged. */
  unknownMemberIds: string[];
}

export async function applyLifecycle(
  repos: MembersRepositories,
  service: { id: string; requestId: string },
  results: readonly LifecycleResult[],
  now: Date,
): Promise<AppliedLifecycle> {
  if (results.length === 0 || results.length > MAX_LIFECYCLE_RESULTS)
    throw badInput(`apply 1 to ${MAX_LIFECYCLE_RESULTS} results at a time`, 'results');
  const library = new Map(
    (await repos.tagDefinitions.all()).map((definition) => [definition._id, definition]),
  );
  const seen = new Set<string>();
  const checked = results.map((result, i) => {
    if (seen.has(result.memberId))
      throw badInput(`member ${result.memberId} appears twice`, `results[${i}].memberId`);
    seen.add(result.memberId);
    if (!isLifecycleStage(result.stage)) throw badInput('unknown stage', `results[${i}].stage`);
    const tags: Record<string, TagValue> = {};
    result.tags.forEach((tag, t) => {
      const definition = library.get(tag.code);
      if (!definition || definition.source !== 'COMPUTED') {
        throw badInput(
          `tag ${tag.code} is not a COMPUTED tag of the library`,
          `results[${i}].tags[${t}].code`,
        );
      }
      const value = checkTagValue(definition, tag.value);
      if (!value.ok) throw badInput(value.message, `results[${i}].tags[${t}].value`);
      tags[tag.code] = value.value;
    });
    return { memberId: result.memberId, stage: result.stage, tags };
  });
  // An unknown id would otherwise match no update and pass for a member already as computed.
  const known = new Set(await repos.members.existingIds(checked.map((result) => result.memberId)));
  const unknownMemberIds = checked
    .filter((result) => !known.has(result.memberId))
    .map((result) => result.memberId);
  const existing = checked.filter((result) => known.has(result.memberId));
  const { stagesChanged, tagsChanged, touched } = await repos.members.applyComputed(existing, now);
  // A rerun that changes nothing leaves no trace either.
  if (touched.length === 0)
    return { stagesChanged, tagsChanged, unchanged: existing.length, unknownMemberIds };
  await repos.audit.record({
    actor: service.id,
    action: 'applyLifecycle',
    targetType: 'Member',
    targetId: `${touched.length} members`,
    before: null,
    after: { stagesChanged, tagsChanged, members: touched },
    requestId: service.requestId,
  });
  return { stagesChanged, tagsChanged, unchanged: existing.length - touched.length, unknownMemberIds };
}
