// Operator-side use cases of the members subgraph: input checks against the library, writes, audit records.
// Resolvers call these; each rejects bad input before anything is written.
import {
  ErrorCode,
  badInput,
  checked,
  conflict,
  echoed,
  hubError,
  notFound,
  optionalText,
  requiredText,
  waitForOwnerUntil,
  type Snapshot,
} from '@bank-hub/shared';
import { conditionsOf, type Rule, type Scalar } from '@bank-hub/targeting';
import type { MembersRepositories } from './models';
import type { MemberCriteria, MemberDoc, TagValue } from './models/member';
import { compileRule } from './domain/segment-filter';
import type { SegmentDoc } from './models/segment';
import type { TagDefinitionDoc, TagSource, TagValueType } from './models/tag-definition';
import { AUM_BAND_TAG, derives, withAumBand } from './domain/computed-tags';
import { parseSegmentRule } from './domain/segments';
import { MAX_MEMBER_TAGS, SEGMENT_CODE_PATTERN, TAG_CODE_PATTERN, checkTagValue } from './domain/tags';

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

/** Descriptions: optional, at most this many characters (Sandbox and the console show them whole). */
const MAX_DESCRIPTION = 500;

/**
 * What every process serves of the library and segments (definitions.ts), told of a write: also when its audit record
 * then fails, since the change is stored by then.
 */
export type ServedDefinitions = Pick<Snapshot<unknown>, 'afterWrite'>;

/**
 * The most tag definitions the library holds. Every process keeps the whole library in memory, and every
 * setMemberTags, lifecycle run and segment rule check reads all of it, so a script defining tags in a loop would
 * otherwise slow every one of them without end. A bank's taxonomy (demographics, products held, behaviour,
 * preferences, computed scores) runs to a few hundred tags; a thousand leaves room to grow and, at their longest
 * (700 characters of name, category and description), still holds under a megabyte per process.
 */
export const MAX_TAG_DEFINITIONS = 1_000;

/**
 * Creates or updates tag definitions, all of the call or none: a call whose new tags would take the library past
 * MAX_TAG_DEFINITIONS, or that gives a stored tag another value type, stores nothing, also when calls race (see
 * TagDefinitionRepository.define). Existing definitions stay editable past the bound.
 */
export async function defineTags(
  repos: MembersRepositories,
  served: ServedDefinitions,
  actor: Actor,
  inputs: readonly TagDefinitionInput[],
  deadline: number | null,
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
      // Members read tag names and descriptions with their tags: no hidden characters, as every operator text.
      name: checked(() => requiredText(input.name, `tags[${i}].name`, 100)),
      category: checked(() => requiredText(input.category, `tags[${i}].category`, 50)),
      valueType: input.valueType,
      source: input.source,
      description: checked(() => optionalText(input.description, `tags[${i}].description`, MAX_DESCRIPTION)),
      updatedAt: now,
    };
  });
  const written = await repos.tagDefinitions.define(
    definitions,
    MAX_TAG_DEFINITIONS,
    waitForOwnerUntil(Date.now(), deadline),
  );
  if (written === 'limitReached') {
    throw hubError(
      ErrorCode.TAG_DEFINITION_LIMIT_REACHED,
      `at most ${MAX_TAG_DEFINITIONS} tag definitions: edit or reuse ones that exist`,
      { field: 'tags', maxTagDefinitions: MAX_TAG_DEFINITIONS },
    );
  }
  if (written === 'inProgress') {
    throw conflict(
      'another call is defining some of these tags, or the last places, at this moment; retry later',
      {
        field: 'tags',
      },
    );
  }
  if ('otherValueType' in written) {
    // Stored member values were checked against the stored type; changing it would make them lie.
    const { index, stored } = written.otherValueType;
    throw badInput(
      `tag ${definitions[index]!._id} already has value type ${stored}`,
      `tags[${index}].valueType`,
    );
  }
  await served.afterWrite(() =>
    Promise.all(
      written.before.map((before, i) =>
        repos.audit.record({
          actor: actor.operatorId,
          action: 'defineTag',
          targetType: 'TagDefinition',
          targetId: definitions[i]!._id,
          before,
          after: definitions[i],
          requestId: actor.requestId,
        }),
      ),
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
    if (!definition) throw badInput(`tag ${echoed(tag.code)} is not in the tag library`, `tags[${i}].code`);
    // Which value would the member carry? The caller should say, not the order of the list.
    if (Object.hasOwn(set, tag.code)) throw badInput(`tag ${tag.code} appears twice`, `tags[${i}].code`);
    const value = checkTagValue(definition, tag.value);
    if (!value.ok) throw badInput(value.message, `tags[${i}].value`);
    set[tag.code] = value.value;
  });
  removeCodes.forEach((code, i) => {
    if (!library.has(code))
      throw badInput(`tag ${echoed(code)} is not in the tag library`, `removeCodes[${i}]`);
    if (Object.hasOwn(set, code)) throw badInput(`tag ${code} is both set and removed`, `removeCodes[${i}]`);
  });
  const written = derives(library, AUM_BAND_TAG, 'STRING')
    ? withAumBand(set, removeCodes)
    : { set, remove: [...removeCodes] };
  const changed = await repos.members.setTags(memberId, written.set, written.remove, MAX_MEMBER_TAGS);
  if (!changed) throw notFound('member', memberId);
  if (changed === 'tooManyTags')
    throw badInput(`a member carries at most ${MAX_MEMBER_TAGS} tags: remove some first`, 'tags');
  const { before, after } = changed;
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
    if (!segment)
      throw badInput(`segment ${echoed(filter.segmentCode)} does not exist`, 'filter.segmentCode');
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

/** The type of the values a rule compares a tag with (a list tag's elements are strings). */
const RULE_VALUE_TYPE: Record<TagValueType, 'boolean' | 'number' | 'string'> = {
  BOOLEAN: 'boolean',
  NUMBER: 'number',
  STRING: 'string',
  STRING_LIST: 'string',
};

/**
 * Parses a segment rule and checks it against the library and the levels: every tag it names exists and is compared
 * with values of its type, every level code exists. Stored values are all of those, so any other value matches no
 * member: {aum gte "500000"} or {level eq "gold"} would select nobody, and its negation everybody, without a word.
 */
export async function checkSegmentRule(
  repos: MembersRepositories,
  input: unknown,
  path: string,
): Promise<Rule> {
  const parsed = parseSegmentRule(input, path);
  if (!parsed.ok) throw badInput(parsed.problem.message, parsed.problem.path);
  const [definitions, levels] = await Promise.all([repos.tagDefinitions.all(), repos.levels.all()]);
  const library = new Map(definitions.map((definition) => [definition._id, definition]));
  const levelCodes = levels.map((level) => level._id);
  /** What values of a field some member holds, or null when the parser's check is all there is. */
  const valuesOf = (field: string): { fits: (value: Scalar) => boolean; message: string } | null => {
    if (field === 'level')
      return {
        fits: (value) => levelCodes.includes(value as string),
        message: `level is one of ${levelCodes.join(', ')}`,
      };
    const definition = field.startsWith('tag.') ? library.get(field.slice(4)) : undefined;
    if (!definition) return null;
    const type = RULE_VALUE_TYPE[definition.valueType];
    return {
      fits: (value) => typeof value === type,
      message: `${field} holds ${definition.valueType} values: compare it with ${type}s`,
    };
  };
  for (const { condition, path: at } of conditionsOf(parsed.rule, path)) {
    const { field, op, value } = condition;
    if (field.startsWith('tag.') && !library.has(field.slice(4)))
      throw badInput(`${field} is not in the tag library`, `${at}.field`);
    const expected = op === 'exists' ? null : valuesOf(field);
    if (!expected) continue;
    const values = Array.isArray(value) ? value : [value ?? ''];
    const wrong = values.findIndex((element) => !expected.fits(element));
    if (wrong >= 0)
      throw badInput(expected.message, Array.isArray(value) ? `${at}.value[${wrong}]` : `${at}.value`);
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

/**
 * The most segments the hub keeps: every page works out the viewer's segments by evaluating every rule, so their
 * number is a cost every page pays. It holds also for operators creating segments at the same moment (see
 * SegmentRepository.create); counting audiences stays under MongoDB's command size whatever the number (see countMany).
 */
export const MAX_SEGMENTS = 200;

/**
 * Creates a segment (`expectedVersion` null) or edits one from the version the operator saw: a late retry, or an
 * operator working from an old copy, never silently replaces an edit made since.
 */
export async function upsertSegment(
  repos: MembersRepositories,
  served: ServedDefinitions,
  actor: Actor,
  input: { code: string; name: string; description?: string | null; rule: unknown },
  expectedVersion: number | null,
): Promise<SegmentDoc> {
  if (!SEGMENT_CODE_PATTERN.test(input.code)) {
    throw badInput(
      'segment code must be upper snake case (A-Z, 0-9, _), at most 64 characters',
      'input.code',
    );
  }
  // Members see the names of the segments they are in.
  const name = checked(() => requiredText(input.name, 'input.name', 100));
  const description = checked(() => optionalText(input.description, 'input.description', MAX_DESCRIPTION));
  const rule = await checkSegmentRule(repos, input.rule, 'input.rule');
  // Every field is set, so the segment after the write is the one written.
  const after: SegmentDoc = {
    _id: input.code,
    name,
    description,
    rule,
    updatedAt: new Date(),
    updatedBy: actor.operatorId,
    version: (expectedVersion ?? 0) + 1,
  };
  const before =
    expectedVersion === null ? await create(repos, after) : await edit(repos, after, expectedVersion);
  await served.afterWrite(() =>
    repos.audit.record({
      actor: actor.operatorId,
      action: 'upsertSegment',
      targetType: 'Segment',
      targetId: input.code,
      before,
      after,
      requestId: actor.requestId,
    }),
  );
  return after;
}

async function create(repos: MembersRepositories, segment: SegmentDoc): Promise<null> {
  // Only creates are bounded: a segment that exists may still be edited, also past the limit (stored before it).
  const created = await repos.segments.create(segment, MAX_SEGMENTS);
  if (created === 'limitReached') {
    throw hubError(
      ErrorCode.SEGMENT_LIMIT_REACHED,
      `at most ${MAX_SEGMENTS} segments: edit or reuse one that exists`,
      { field: 'input.code', maxSegments: MAX_SEGMENTS },
    );
  }
  if (created !== 'created') {
    const version = created.exists.version ?? 0;
    throw conflict(
      `segment ${segment._id} exists already, at version ${version}: edit it with expectedVersion, or pick another code`,
      { field: 'input.code', version },
    );
  }
  return null;
}

/** Edits a segment still at `expectedVersion`; returns the segment it replaced. */
async function edit(
  repos: MembersRepositories,
  segment: SegmentDoc,
  expectedVersion: number,
): Promise<SegmentDoc> {
  const replaced = await repos.segments.replaceIfVersion(segment, expectedVersion);
  if (replaced === 'notFound') throw notFound('segment', segment._id);
  if ('current' in replaced) {
    throw conflict(
      `segment ${segment._id} is at version ${replaced.current}, not ${expectedVersion}: it was changed since; reload and retry`,
      { field: 'expectedVersion', version: replaced.current },
    );
  }
  return replaced.before;
}
