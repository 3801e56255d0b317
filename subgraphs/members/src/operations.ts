// Operator-side use cases of the members subgraph: input checks against the library, writes, audit records.
// Resolvers call these; each rejects bad input before anything is written.
import { badInput, notFound } from '@bank-hub/shared';
import { conditionsOf, type Rule } from '@bank-hub/targeting';
import type { MembersRepositories } from './models';
import type { MemberCriteria, MemberDoc, TagValue } from './models/member';
import { compileRule } from './domain/segment-filter';
import type { SegmentDoc } from './models/segment';
import type { TagDefinitionDoc, TagSource, TagValueType } from './models/tag-definition';
import { parseSegmentRule } from './domain/segments';
import { SEGMENT_CODE_PATTERN, TAG_CODE_PATTERN, checkTagValue } from './domain/tags';

export interface Actor {
  operatorId: string;
  requestId: string;
}

interface TagDefinitionInput {
  code: string;
  name: string;
  category: string;
  valueType: TagValueType;
  source: TagSource;
  description?: string | null;
}

function checkText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max)
    throw badInput(`${field} must be 1 to ${max} characters`, field);
  return trimmed;
}

export async function defineTags(
  repos: MembersRepositories,
  actor: Actor,
  inputs: readonly TagDefinitionInput[],
): Promise<TagDefinitionDoc[]> {
  if (inputs.length === 0 || inputs.length > 100) throw badInput('define 1 to 100 tags at a time', 'tags');
  const seen = new Set<string>();
  const now = new Date();
  const definitions = inputs.map((input, i): TagDefinitionDoc => {
    if (!TAG_CODE_PATTERN.test(input.code)) {
      throw badInput(
        'tag code must be lower snake case (a-z, 0-9, _), at most 64 characters',
        `tags[${i}].code`,
      );
    }
    if (seen.has(input.code)) throw badInput(`tag ${input.code} appears twice`, `tags[${i}].code`);
    seen.add(input.code);
    return {
      _id: input.code,
      name: checkText(input.name, `tags[${i}].name`, 100),
      category: checkText(input.category, `tags[${i}].category`, 50),
      valueType: input.valueType,
      source: input.source,
      description: input.description?.trim() || null,
      updatedAt: now,
    };
  });
  const before = new Map(
    (await repos.tagDefinitions.all()).map((definition) => [definition._id, definition]),
  );
  definitions.forEach((definition, i) => {
    const existing = before.get(definition._id);
    if (existing && existing.valueType !== definition.valueType) {
      // Stored member values were checked against the old type; changing it would make them lie.
      throw badInput(
        `tag ${definition._id} already has value type ${existing.valueType}`,
        `tags[${i}].valueType`,
      );
    }
  });
  await repos.tagDefinitions.upsertMany(definitions);
  await Promise.all(
    definitions.map((definition) =>
      repos.audit.record({
        actor: actor.operatorId,
        action: 'defineTag',
        targetType: 'TagDefinition',
        targetId: definition._id,
        before: before.get(definition._id) ?? null,
        after: definition,
        requestId: actor.requestId,
      }),
    ),
  );
  return definitions;
}

export async function setMemberTags(
  repos: MembersRepositories,
  actor: Actor,
  memberId: string,
  tags: readonly { code: string; value: unknown }[],
  removeCodes: readonly string[],
): Promise<MemberDoc> {
  const library = new Map(
    (await repos.tagDefinitions.all()).map((definition) => [definition._id, definition]),
  );
  const set: Record<string, TagValue> = {};
  tags.forEach((tag, i) => {
    const definition = library.get(tag.code);
    if (!definition) throw badInput(`tag ${tag.code} is not in the tag library`, `tags[${i}].code`);
    const checked = checkTagValue(definition, tag.value);
    if (!checked.ok) throw badInput(checked.message, `tags[${i}].value`);
    set[tag.code] = checked.value;
  });
  removeCodes.forEach((code, i) => {
    if (!library.has(code)) throw badInput(`tag ${code} is not in the tag library`, `removeCodes[${i}]`);
    if (Object.hasOwn(set, code)) throw badInput(`tag ${code} is both set and removed`, `removeCodes[${i}]`);
  });
  const [before] = await repos.members.findByIds([memberId]);
  if (!before) throw notFound('member', memberId);
  const after = await repos.members.setTags(memberId, set, removeCodes);
  if (!after) throw notFound('member', memberId);
  await repos.audit.record({
    actor: actor.operatorId,
    action: 'setMemberTags',
    targetType: 'Member',
    targetId: memberId,
    before: { tags: before.tags },
    after: { tags: after.tags },
    requestId: actor.requestId,
  });
  return after;
}

/** Members matching a filter; the segment must exist and the tag code be well formed. */
/** The most ids a member filter may name. */
const MAX_FILTER_IDS = 1_000;

export async function listMembers(
  repos: MembersRepositories,
  filter: MemberCriteria & { segmentCode?: string | null; rule?: unknown },
  first: number,
  after: string | null,
  now: Date,
): Promise<MemberDoc[]> {
  const filters = [];
  if (filter.segmentCode) {
    const segment = await repos.segments.findByCode(filter.segmentCode);
    if (!segment) throw badInput(`segment ${filter.segmentCode} does not exist`, 'filter.segmentCode');
    filters.push(compileRule(segment.rule, now));
  }
  if (filter.rule !== undefined && filter.rule !== null)
    filters.push(compileRule(await checkSegmentRule(repos, filter.rule, 'filter.rule'), now));
  if (filter.ids && filter.ids.length > MAX_FILTER_IDS)
    throw badInput(`at most ${MAX_FILTER_IDS} ids`, 'filter.ids');
  const segmentFilter = filters.length === 0 ? null : filters.length === 1 ? filters[0]! : { $and: filters };
  if (filter.tagCode && !TAG_CODE_PATTERN.test(filter.tagCode)) {
    throw badInput('tag code must be lower snake case', 'filter.tagCode');
  }
  return repos.members.pageMatching(filter, segmentFilter, first, after);
}

/** Parses a segment rule and checks that every tag it names is in the library. */
export async function checkSegmentRule(
  repos: MembersRepositories,
  input: unknown,
  path: string,
): Promise<Rule> {
  const parsed = parseSegmentRule(input, path);
  if (!parsed.ok) throw badInput(parsed.problem.message, parsed.problem.path);
  const library = new Set((await repos.tagDefinitions.all()).map((definition) => definition._id));
  const unknownTag = conditionsOf(parsed.rule, path).find(
    ({ condition }) => condition.field.startsWith('tag.') && !library.has(condition.field.slice(4)),
  );
  if (unknownTag) {
    throw badInput(`${unknownTag.condition.field} is not in the tag library`, `${unknownTag.path}.field`);
  }
  return parsed.rule;
}

/** The audience a rule would select, counted and sampled, without saving anything. */
export async function previewSegment(repos: MembersRepositories, input: unknown, now: Date) {
  const filter = compileRule(await checkSegmentRule(repos, input, 'rule'), now);
  const [audienceSize, sample] = await Promise.all([
    repos.members.count(filter),
    repos.members.page(filter, 10, null),
  ]);
  return { audienceSize, sample };
}

export async function upsertSegment(
  repos: MembersRepositories,
  actor: Actor,
  input: { code: string; name: string; description?: string | null; rule: unknown },
): Promise<SegmentDoc> {
  if (!SEGMENT_CODE_PATTERN.test(input.code)) {
    throw badInput(
      'segment code must be upper snake case (A-Z, 0-9, _), at most 64 characters',
      'input.code',
    );
  }
  const name = checkText(input.name, 'input.name', 100);
  const rule = await checkSegmentRule(repos, input.rule, 'input.rule');
  const before = await repos.segments.findByCode(input.code);
  const after = await repos.segments.upsert({
    _id: input.code,
    name,
    description: input.description?.trim() || null,
    rule,
    updatedAt: new Date(),
    updatedBy: actor.operatorId,
  });
  await repos.audit.record({
    actor: actor.operatorId,
    action: 'upsertSegment',
    targetType: 'Segment',
    targetId: input.code,
    before,
    after,
    requestId: actor.requestId,
  });
  return after;
}
