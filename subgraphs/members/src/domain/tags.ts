// Tag codes and values are checked against the tag library before they are stored.
import { InputProblem, visibleText } from '@bank-hub/shared';
import { RULE_LIMITS } from '@bank-hub/targeting';
import type { TagValue } from '../models/member';
import type { TagDefinitionDoc, TagSource, TagValueType } from '../models/tag-definition';

export const TAG_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const SEGMENT_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Characters in a string value (of a STRING tag or an element of a list): the rule language's own limit, so that a
 * segment can compare a tag with any value it may hold.
 */
export const MAX_TAG_STRING = RULE_LIMITS.valueLength;
/** Strings in a STRING_LIST value, and their characters together. */
export const MAX_LIST_VALUES = 100;
export const MAX_LIST_CHARACTERS = 4_096;
/**
 * Tags one member carries. With the bounds on each value, a member's tags stay about a megabyte at worst, far from
 * MongoDB's 16 MB document limit, however often they are set.
 */
export const MAX_MEMBER_TAGS = 100;

/**
 * Whether a member carrying the tag codes `stored` stays within the bound once `set` is set: within `maxTags`, or
 * carrying no more tags than before (a member already past it, stored before it, may still replace). The same rule as
 * the member repository's write filter, which decides when writes race; this tells a writer beforehand.
 */
export function fitsTagLimit(stored: readonly string[], set: readonly string[], maxTags: number): boolean {
  const carried = new Set([...stored, ...set]).size;
  return carried <= maxTags || carried <= stored.length;
}

/**
 * Returns the value as stored, or a message saying why it does not fit the tag's type or has hidden characters. Every
 * writer of members' tags (operators' setMemberTags, analytics' applyLifecycle) checks values here.
 */
export function checkTagValue(
  definition: Pick<TagDefinitionDoc, 'valueType'>,
  value: unknown,
): { ok: true; value: TagValue } | { ok: false; message: string } {
  const expected: Record<TagValueType, (v: unknown) => v is TagValue> = {
    BOOLEAN: (v): v is boolean => typeof v === 'boolean',
    NUMBER: (v): v is number => typeof v === 'number' && Number.isFinite(v),
    STRING: (v): v is string => typeof v === 'string' && v.length <= MAX_TAG_STRING,
    STRING_LIST: (v): v is string[] =>
      Array.isArray(v) &&
      v.length <= MAX_LIST_VALUES &&
      v.every((item) => typeof item === 'string' && item.length <= MAX_TAG_STRING) &&
      v.reduce((sum: number, item: string) => sum + item.length, 0) <= MAX_LIST_CHARACTERS,
  };
  if (!expected[definition.valueType](value)) {
    return {
      ok: false,
      message: `value does not match the tag's type ${definition.valueType} (strings of at most ${MAX_TAG_STRING} characters; lists of at most ${MAX_LIST_VALUES} strings, ${MAX_LIST_CHARACTERS} characters together)`,
    };
  }
  // Members read their tags, and segments compare them: "travel\u200B" would look like travel and match nothing.
  const texts = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as string[]) : [];
  try {
    texts.forEach((text) => visibleText(text, 'value'));
  } catch (error) {
    if (error instanceof InputProblem) return { ok: false, message: error.message };
    throw error;
  }
  return { ok: true, value: value as TagValue };
}

/** Why a tag a bank system or job hands over was not written (the schema's TagRefusal). */
export type TagRefusal = 'NOT_IN_LIBRARY' | 'NOT_COMPUTED' | 'NOT_IMPORTED' | 'INVALID_VALUE' | 'TAG_LIMIT';

/** The refusal of a tag whose source in the library is not the writer's own. */
const NOT_OWN_SOURCE: Record<'COMPUTED' | 'IMPORTED', TagRefusal> = {
  COMPUTED: 'NOT_COMPUTED',
  IMPORTED: 'NOT_IMPORTED',
};

/**
 * The tags a writer of one source may set (analytics' applyLifecycle COMPUTED ones, bank systems' upsertMembers
 * IMPORTED ones), checked against the library: each tag not in it, of another source (an operator made it MANUAL), or
 * with a value setMemberTags would refuse, is refused alone, and the others are kept.
 */
export function tagsOfSource(
  library: ReadonlyMap<string, Pick<TagDefinitionDoc, 'valueType' | 'source'>>,
  source: Exclude<TagSource, 'MANUAL'>,
  given: readonly { code: string; value: unknown }[],
): { tags: Record<string, TagValue>; refused: { code: string; reason: TagRefusal }[] } {
  const tags: Record<string, TagValue> = {};
  const refused: { code: string; reason: TagRefusal }[] = [];
  for (const { code, value } of given) {
    const definition = library.get(code);
    const checked = definition?.source === source ? checkTagValue(definition, value) : null;
    if (checked?.ok) tags[code] = checked.value;
    else
      refused.push({
        code,
        reason: !definition ? 'NOT_IN_LIBRARY' : checked ? 'INVALID_VALUE' : NOT_OWN_SOURCE[source],
      });
  }
  return { tags, refused };
}

const YOUNG_AGE_GROUPS = new Set(['18-24', '25-34']);

/**
 * Tag codes with a true, non-zero or non-empty value, plus the values of list tags, plus `young` for members under
 * 35 (products and content match on it without seeing the age group itself); sorted, without repeats.
 */
export function affinityKeysOf(tags: Readonly<Record<string, TagValue>>, ageGroup?: string | null): string[] {
  const keys = new Set<string>(ageGroup && YOUNG_AGE_GROUPS.has(ageGroup) ? ['young'] : []);
  for (const [code, value] of Object.entries(tags)) {
    if (Array.isArray(value)) value.forEach((item) => keys.add(item));
    if (Array.isArray(value) ? value.length > 0 : Boolean(value)) keys.add(code);
  }
  return [...keys].sort();
}
