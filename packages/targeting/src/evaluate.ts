// Evaluates a rule against one member's targeting profile in memory. Value matching follows MongoDB query
// semantics (a list matches when any element does; `neq`/`nin` match a missing value), so the in-memory result
// and a rule compiled to a MongoDB filter always agree.
import { parseInstant } from './instant';
import type { Condition, Rule, RuleValue, Scalar } from './rule';

export interface TargetProfile {
  segmentCodes?: readonly string[];
  level?: string | null;
  levelRank?: number | null;
  lifecycleStage?: string | null;
  riskLevel?: string | null;
  channel?: string | null;
  tags?: Readonly<Record<string, unknown>>;
  attributes?: Readonly<Record<string, unknown>>;
  now?: Date;
}

export function evaluate(rule: Rule, profile: TargetProfile): boolean {
  if ('all' in rule) return rule.all.every((child) => evaluate(child, profile));
  if ('any' in rule) return rule.any.some((child) => evaluate(child, profile));
  if ('not' in rule) return !evaluate(rule.not, profile);
  return matchCondition(rule, profile);
}

/**
 * A key of a member's tags or attributes. Own properties only: `tag.constructor` must not find the function every
 * object inherits, which MongoDB (holding plain documents) would never match.
 */
function ownValue(record: Readonly<Record<string, unknown>> | undefined, key: string): unknown {
  return record !== undefined && Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

export function valueOf(field: string, profile: TargetProfile): unknown {
  if (field.startsWith('tag.')) return ownValue(profile.tags, field.slice(4));
  if (field.startsWith('attr.')) return ownValue(profile.attributes, field.slice(5));
  switch (field) {
    case 'segment':
      return profile.segmentCodes ?? [];
    case 'now':
      return (profile.now ?? new Date()).getTime();
    case 'level':
      return profile.level;
    case 'levelRank':
      return profile.levelRank;
    case 'lifecycleStage':
      return profile.lifecycleStage;
    case 'riskLevel':
      return profile.riskLevel;
    case 'channel':
      return profile.channel;
    default:
      return undefined;
  }
}

function matchCondition(condition: Condition, profile: TargetProfile): boolean {
  const expected = condition.field === 'now' ? instantsIn(condition.value) : condition.value;
  return matchValue(valueOf(condition.field, profile), condition.op, expected);
}

/**
 * `now` compares instants: rule values may carry any offset, so they are compared as milliseconds since the epoch,
 * never as strings (as strings, 2026-12-01T00:00:00+08:00 sorts after 2026-11-30T17:00:00Z, the same instant).
 */
function instantsIn(value: RuleValue | undefined): RuleValue | undefined {
  const instant = (scalar: Scalar): Scalar =>
    typeof scalar === 'string' ? (parseInstant(scalar)?.getTime() ?? Number.NaN) : scalar;
  return Array.isArray(value) ? value.map(instant) : value === undefined ? undefined : instant(value);
}

/** MongoDB query semantics for one field value. */
export function matchValue(actual: unknown, op: Condition['op'], expected: RuleValue | undefined): boolean {
  const present = actual !== undefined && actual !== null;
  const elements: unknown[] = Array.isArray(actual) ? actual : present ? [actual] : [];
  switch (op) {
    case 'exists':
      return present === expected;
    case 'eq':
    case 'contains':
      return elements.some((element) => element === expected);
    case 'neq':
      return !elements.some((element) => element === expected);
    case 'in':
      return elements.some((element) => (expected as Scalar[]).includes(element as Scalar));
    case 'nin':
      return !elements.some((element) => (expected as Scalar[]).includes(element as Scalar));
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return elements.some((element) => compare(element, op, expected as Scalar));
  }
}

function compare(actual: unknown, op: 'gt' | 'gte' | 'lt' | 'lte', expected: Scalar): boolean {
  // MongoDB only compares values of the same type bracket.
  if (typeof actual !== typeof expected || (typeof actual !== 'number' && typeof actual !== 'string'))
    return false;
  const order =
    typeof actual === 'string'
      ? compareCodePoints(actual, expected as string)
      : (actual as number) - (expected as number);
  if (op === 'gt') return order > 0;
  if (op === 'gte') return order >= 0;
  if (op === 'lt') return order < 0;
  return order <= 0;
}

/**
 * Strings in MongoDB's order: by their UTF-8 bytes, which is the order of their code points. JavaScript's `<` orders
 * UTF-16 code units instead, and puts a character beyond U+FFFF (two surrogates, 0xD800–0xDFFF: 𠮷, emoji) before
 * one from U+E000 to U+FFFF (the full-width forms of Chinese text): the first differing unit decides, with
 * surrogates moved above that range.
 */
function compareCodePoints(a: string, b: string): number {
  const rank = (unit: number) => (unit < 0xd800 ? unit : unit >= 0xe000 ? unit - 0x800 : unit + 0x2000);
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return rank(x) - rank(y);
  }
  return a.length - b.length;
}

/**
 * Why a rule does not match: the path of the deepest node that decided the failure (the first failing child of
 * an `all`, the `any` or `not` node itself, or a condition), or null when the rule matches.
 */
export function explainMismatch(rule: Rule, profile: TargetProfile, path = 'rule'): string | null {
  if (evaluate(rule, profile)) return null;
  if ('all' in rule) {
    const index = rule.all.findIndex((child) => !evaluate(child, profile));
    return explainMismatch(rule.all[index]!, profile, `${path}.all[${index}]`);
  }
  return path;
}

/** What the graph tells other subgraphs about a member (via @requires), enough to target them. */
export interface MemberAttributes {
  segmentCodes?: readonly string[] | null;
  level?: { code: string; rank: number } | null;
  riskLevel?: string | null;
  lifecycleStage?: string | null;
  /** Tag codes and interests the member has; rules outside members see tags by presence, not value. */
  affinityKeys?: readonly string[] | null;
}

export function profileOfMember(
  member: MemberAttributes,
  context: { now: Date; channel?: string | null },
): TargetProfile {
  return {
    segmentCodes: member.segmentCodes ?? [],
    level: member.level?.code ?? null,
    levelRank: member.level?.rank ?? null,
    lifecycleStage: member.lifecycleStage ?? null,
    riskLevel: member.riskLevel ?? null,
    channel: context.channel ?? null,
    tags: Object.fromEntries((member.affinityKeys ?? []).map((key) => [key, true])),
    now: context.now,
  };
}
