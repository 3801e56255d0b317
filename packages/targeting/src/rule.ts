// The targeting rule language: a small JSON tree of `all` / `any` / `not` over conditions on a member's
// targeting attributes. Rules are data (stored on segments and creatives), so they are parsed and validated
// at the edge and every problem names the node at fault.

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
const MAX_DEPTH = 10;
const MAX_NODES = 200;

export interface RuleProblem {
  /** Path of the offending node, e.g. `rule.all[1].op`. */
  path: string;
  message: string;
}

export type ParseResult = { ok: true; rule: Rule } | { ok: false; problem: RuleProblem };

export interface ParseOptions {
  /** Fields this kind of rule may use; defaults to every field. */
  allowField?: (field: string) => boolean;
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

export function parseRule(input: unknown, path = 'rule', options: ParseOptions = {}): ParseResult {
  const state = { nodes: 0 };
  try {
    return { ok: true, rule: parseNode(input, path, 1, state, options.allowField ?? (() => true)) };
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
  state: { nodes: number },
  allowField: (field: string) => boolean,
): Rule {
  if (depth > MAX_DEPTH) throw new RuleSyntaxError(path, `rule is nested deeper than ${MAX_DEPTH} levels`);
  if (++state.nodes > MAX_NODES) throw new RuleSyntaxError(path, `rule has more than ${MAX_NODES} nodes`);
  if (!isObject(input)) throw new RuleSyntaxError(path, 'a rule node must be an object');
  const keys = Object.keys(input);
  if (keys.length === 1 && (keys[0] === 'all' || keys[0] === 'any')) {
    const combinator = keys[0];
    const children = input[combinator];
    if (!Array.isArray(children) || children.length === 0) {
      throw new RuleSyntaxError(`${path}.${combinator}`, `"${combinator}" needs a non-empty list of rules`);
    }
    const parsed = children.map((child, i) =>
      parseNode(child, `${path}.${combinator}[${i}]`, depth + 1, state, allowField),
    );
    return combinator === 'all' ? { all: parsed } : { any: parsed };
  }
  if (keys.length === 1 && keys[0] === 'not') {
    return { not: parseNode(input.not, `${path}.not`, depth + 1, state, allowField) };
  }
  if ('field' in input || 'op' in input) return parseCondition(input, path, allowField);
  throw new RuleSyntaxError(
    path,
    'a rule node must be {all: [...]}, {any: [...]}, {not: {...}} or {field, op, value}',
  );
}

function parseCondition(
  input: Record<string, unknown>,
  path: string,
  allowField: (field: string) => boolean,
): Condition {
  const extra = Object.keys(input).filter((key) => key !== 'field' && key !== 'op' && key !== 'value');
  if (extra.length > 0)
    throw new RuleSyntaxError(`${path}.${extra[0]}`, `unknown key "${extra[0]}" in a condition`);
  const { field, op, value } = input;
  if (typeof field !== 'string' || !isKnownField(field)) {
    throw new RuleSyntaxError(
      `${path}.field`,
      `unknown field ${JSON.stringify(field)}; use one of ${PLAIN_FIELDS.join(', ')}, tag.<code> or attr.<name>`,
    );
  }
  if (!allowField(field))
    throw new RuleSyntaxError(`${path}.field`, `field "${field}" is not allowed in this rule`);
  if (typeof op !== 'string' || !(OPERATORS as readonly string[]).includes(op)) {
    throw new RuleSyntaxError(
      `${path}.op`,
      `unknown operator ${JSON.stringify(op)}; use one of ${OPERATORS.join(', ')}`,
    );
  }
  const operator = op as Operator;
  const valuePath = `${path}.value`;
  if (operator === 'exists') {
    if (typeof value !== 'boolean') throw new RuleSyntaxError(valuePath, '"exists" takes true or false');
    return { field, op: operator, value };
  }
  if (operator === 'in' || operator === 'nin') {
    if (!Array.isArray(value) || value.length === 0 || !value.every(isScalar)) {
      throw new RuleSyntaxError(
        valuePath,
        `"${operator}" takes a non-empty list of strings, numbers or booleans`,
      );
    }
    return { field, op: operator, value };
  }
  if (!isScalar(value))
    throw new RuleSyntaxError(valuePath, `"${operator}" takes a string, number or boolean`);
  if (['gt', 'gte', 'lt', 'lte'].includes(operator) && typeof value === 'boolean') {
    throw new RuleSyntaxError(valuePath, `"${operator}" compares numbers or strings, not booleans`);
  }
  if (field === 'now' && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
    throw new RuleSyntaxError(valuePath, '"now" is compared with an ISO-8601 date-time string');
  }
  return { field, op: operator, value };
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
