// Tag codes and values are checked against the tag library before they are stored.
import type { TagValue } from '../models/member';
import type { TagDefinitionDoc, TagValueType } from '../models/tag-definition';

export const TAG_CODE_PATTERN = /^[a-z][a-z0-9_]{0,63}$/;
export const SEGMENT_CODE_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;

/** Returns the value as stored, or a message saying why it does not fit the tag's type. */
export function checkTagValue(
  definition: Pick<TagDefinitionDoc, 'valueType'>,
  value: unknown,
): { ok: true; value: TagValue } | { ok: false; message: string } {
  const expected: Record<TagValueType, (v: unknown) => v is TagValue> = {
    BOOLEAN: (v): v is boolean => typeof v === 'boolean',
    NUMBER: (v): v is number => typeof v === 'number' && Number.isFinite(v),
    STRING: (v): v is string => typeof v === 'string' && v.length <= 256,
    STRING_LIST: (v): v is string[] =>
      Array.isArray(v) &&
      v.length <= 100 &&
      v.every((item) => typeof item === 'string' && item.length <= 256),
  };
  return expected[definition.valueType](value)
    ? { ok: true, value: value as TagValue }
    : { ok: false, message: `value does not match the tag's type ${definition.valueType}` };
}
