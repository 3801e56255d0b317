// The targeting rule language: a small JSON tree of `all` / `any` / `not` over conditions on a member's
// targeting attributes. Rules are data (stored on segments and creatives), so they are parsed and validated
// at the edge and every problem names the node at fault.
import { parseInstant } from './instant';
import { LIFECYCLE_STAGES } from './lifecycle';

export const OPERATORS = ['eq', 'neq', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains'] as const;
export type Operator = (typeof OPERATORS)[number];

export type Scalar = string | number | boolean;
export type RuleValue = Scalar | Scalar[];

export interface Condition {
  /** `segment`, `level`, `levelRank`, `lifecycleStage`, `riskLevel`, `channel`, `now`, `tag.<code>` or `attr.<name>`. */
  field: string;
  op: Operator;
  value?: RuleValue;
}

export type Rule = { all: Rule[] } | { any: Rule[] } | { not: Rule } | Condition;

export const PLAIN_FIELDS = [
  'segment',
  'level',
  'levelRank',
  'lifecycleStage',
  'riskLevel',
  'channel',
  'now',
] as const;
export type PlainField = (typeof PLAIN_FIELDS)[number];

/** Tag codes are lower snake case (the tag library's own rule); profile attributes are camel case (`ageGroup`). */
const KEY_PATTERN = { tag: /^[a-z][a-z0-9_]{0,63}$/, attr: /^[a-z][A-Za-z0-9_]{0,63}$/ } as const;
/**
 * Every page evaluates every placement's rule for every member, so a rule's size is a cost every member pays: the
 * limits below keep the largest rule a few kilobytes.
 */
export const RULE_LIMITS = {
  depth: 10,
  nodes: 200,
  /** Values in one `in` / `nin` list. */
  listValues: 100,
  /** Characters in one string value. */
  valueLength: 256,
  /** Bytes of the rule's conditions encoded as JSON; the combinators around them add a few bytes each. */
  encodedBytes: 16_384,
} as const;

export interface RuleProblem {
  /** Path of the offending node, e.g. `rule.all[1].op`. */
  path: string;
  message: string;
}

export type ParseResult = { ok: true; rule: Rule } | { ok: false; problem: RuleProblem };

export interface ParseOptions {
  /** Fields this kind of rule may use; defaults to every field. */
  allowField?: (field: string) => boolean;
  /**
   * The rule is evaluated outside members, where a member's tags are seen by presence only (a true, non-zero or
   * non-empty value; members hands out the codes, not the values): a tag may only be tested with `exists`. Compared
   * with a value it would match nobody, or everybody once negated, without a word to whoever wrote it.
   */
  tagsByPresence?: boolean;
}

class RuleSyntaxError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

export function isKnownField(field: string): boolean {
  if ((PLAIN_FIELDS as readonly string[]).includes(field)) return true;
  const [prefix, key, ...rest] = field.split('.');
  return (
    (prefix === 'tag' || prefix === 'attr') &&
    rest.length === 0 &&
    key !== undefined &&
    KEY_PATTERN[prefix].test(key)
  );
}

interface ParseState {
  nodes: number;
  bytes: number;
}

export function parseRule(input: unknown, path = 'rule', options: ParseOptions = {}): ParseResult {
  const state: ParseState = { nodes: 0, bytes: 0 };
  try {
    return { ok: true, rule: parseNode(input, path, 1, state, options) };
  } catch (error) {
    if (error instanceof RuleSyntaxError)
      return { ok: false, problem: { path: error.path, message: error.message } };
    throw error;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseNode(
  input: unknown,
  path: string,
  depth: number,
  state: ParseState,
  options: ParseOptions,
): Rule {
  if (depth > RULE_LIMITS.depth)
    throw new RuleSyntaxError(path, `rule is nested deeper than ${RULE_LIMITS.depth} levels`);
  if (++state.nodes > RULE_LIMITS.nodes)
    throw new RuleSyntaxError(path, `rule has more than ${RULE_LIMITS.nodes} nodes`);
  if (!isObject(input)) throw new RuleSyntaxError(path, 'a rule node must be an object');
  const keys = Object.keys(input);
  if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any')) {
    const combinator = keys[0];
    const children = input[combinator];
    if (!Array.isArray(children) || children.length === 0) {
      throw new RuleSyntaxError(`${path}.${combinator}`, `"${combinator}" needs a non-empty list of rules`);
    }
    const parsed = children.map((child, i) =>
      parseNode(child, `${path}.${combinator}[${i}]`, depth + 1, state, options),
    );
    return combinator === 'all' ? { all: parsed } : { any: parsed };
  }
  if (keys.length === 1 && keys[0] === 'not') {
    return { not: parseNode(input.not, `${path}.not`, depth + 1, state, options) };
  }
  if ('field' in input || 'op' in input) {
    const condition = parseCondition(input, path, options);
    state.bytes += Buffer.byteLength(JSON.stringify(condition));
    if (state.bytes > RULE_LIMITS.encodedBytes) {
      throw new RuleSyntaxError(
        path,
        `rule is larger than ${RULE_LIMITS.encodedBytes} bytes encoded as JSON`,
      );
    }
    return condition;
  }
  throw new RuleSyntaxError(
    path,
    'a rule node must be {all: [...]}, {any: [...]}, {not: {...}} or {field, op, value}',
  );
}

function parseCondition(input: Record<string, unknown>, path: string, options: ParseOptions): Condition {
  const extra = Object.keys(input).find((key) => key !== 'field' && key !== 'op' && key !== 'value');
  if (extra !== undefined)
    throw new RuleSyntaxError(`${path}.${extra.slice(0, 64)}`, `unknown key ${quoted(extra)} in a condition`);
  const { field, op, value } = input;
  if (typeof field !== 'string' || !isKnownField(field)) {
    throw new RuleSyntaxError(
      `${path}.field`,
      `unknown field ${quoted(field)}; use one of ${PLAIN_FIELDS.join(', ')}, tag.<code> or attr.<name>`,
    );
  }
  if (options.allowField && !options.allowField(field))
    throw new RuleSyntaxError(`${path}.field`, `field "${field}" is not allowed in this rule`);
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    throw new RuleSyntaxError(
      `${path}.op`,
      `unknown operator ${quoted(op)}; use one of ${OPERATORS.join(', ')}`,
    );
  }
  const operator = op as Operator;
  if (options.tagsByPresence && field.startsWith('tag.') && operator !== 'exists')
    throw new RuleSyntaxError(
      `${path}.op`,
      `this rule sees a member's tags by presence only: test ${field} with "exists" (a segment compares tag values)`,
    );
  const unordered = UNORDERED_FIELDS[field];
  if (unordered !== undefined && ORDER_OPERATORS.includes(operator))
    throw new RuleSyntaxError(`${path}.op`, `"${operator}" does not apply to ${field}: ${unordered}`);
  const valuePath = `${path}.value`;
  if (operator === 'exists') {
    if (typeof value !== 'boolean') throw new RuleSyntaxError(valuePath, '"exists" takes true or false');
    return { field, op: operator, value };
  }
  if (operator === 'in' || operator === 'nin') {
    if (!Array.isArray(value) || value.length === 0) {
      throw new RuleSyntaxError(
        valuePath,
        `"${operator}" takes a non-empty list of strings, numbers or booleans`,
      );
    }
    if (value.length > RULE_LIMITS.listValues) {
      throw new RuleSyntaxError(valuePath, `"${operator}" takes at most ${RULE_LIMITS.listValues} values`);
    }
    value.forEach((element, i) => checkValue(field, operator, element, `${valuePath}[${i}]`));
    return { field, op: operator, value: value as Scalar[] };
  }
  checkValue(field, operator, value, valuePath);
  return { field, op: operator, value: value as Scalar };
}

function checkValue(
  field: string,
  operator: Operator,
  value: unknown,
  path: string,
): asserts value is Scalar {
  if (!isScalar(value)) throw new RuleSyntaxError(path, `"${operator}" takes a string, number or boolean`);
  if (typeof value === 'string' && value.length > RULE_LIMITS.valueLength) {
    throw new RuleSyntaxError(path, `a value has at most ${RULE_LIMITS.valueLength} characters`);
  }
  const type = valueTypeOf(field);
  if (type && typeof value !== type) {
    // Compared with a value of another type, a condition would hold for no member in memory, yet MongoDB's casting
    // (mongoose) would make a query of it hold for some: one rule, two audiences.
    throw new RuleSyntaxError(
      path,
      `"${field}" is compared with ${type === 'number' ? 'numbers' : 'strings'}`,
    );
  }
  if (ORDER_OPERATORS.includes(operator) && typeof value === 'boolean') {
    throw new RuleSyntaxError(path, `"${operator}" compares numbers or strings, not booleans`);
  }
  const domain = VALUE_DOMAINS[field];
  if (domain && !domain.includes(value as string)) {
    throw new RuleSyntaxError(path, `"${field}" is one of ${domain.join(', ')}`);
  }
  if (field === 'now' && (typeof value !== 'string' || !parseInstant(value))) {
    throw new RuleSyntaxError(
      path,
      '"now" is compared with an RFC 3339 date-time with an offset, e.g. 2026-12-01T00:00:00+08:00',
    );
  }
}

const ORDER_OPERATORS: readonly Operator[] = ['gt', 'gte', 'lt', 'lte'];

/**
 * Fields whose every value the hub fixes: any other value holds for no member, so a condition on it would select
 * nobody (and its negation everybody) without a word to whoever wrote it.
 */
const VALUE_DOMAINS: Partial<Record<string, readonly string[]>> = {
  riskLevel: ['R1', 'R2', 'R3', 'R4', 'R5'],
  lifecycleStage: LIFECYCLE_STAGES,
  // The graph's Channel enum: a page is always asked for on one of these.
  channel: ['APP', 'WEB', 'MINI_PROGRAM', 'PARTNER'],
};

/** Fields whose values are names without an order as strings (GOLD sorts after DIAMOND and before SILVER). */
const UNORDERED_FIELDS: Partial<Record<string, string>> = {
  level: 'compare levelRank to order levels',
  lifecycleStage: 'stages have no order',
  channel: 'channels have no order',
};

/** The type every member's value of a field has; null for tags, whose values are of their definition's type. */
function valueTypeOf(field: string): 'string' | 'number' | null {
  if (field === 'levelRank') return 'number';
  if (field.startsWith('tag.')) return null;
  return 'string';
}

/** Part of the input, quoted for a message: never more than a short line of it. */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 66 ? `${text.slice(0, 64)}…` : text;
}

function isScalar(value: unknown): value is Scalar {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/** Every condition in a rule with its path, depth first; used e.g. to check that referenced tags exist. */
export function conditionsOf(rule: Rule, path = 'rule'): { condition: Condition; path: string }[] {
  if ('all' in rule) return rule.all.flatMap((child, i) => conditionsOf(child, `${path}.all[${i}]`));
  if ('any' in rule) return rule.any.flatMap((child, i) => conditionsOf(child, `${path}.any[${i}]`));
  if ('not' in rule) return conditionsOf(rule.not, `${path}.not`);
  return [{ condition: rule, path }];
}
