// The segment form's model of a targeting rule: conditions joined by all or any, each optionally negated, with values
// as typed. Converts to the rule members evaluates and back; a deeper rule does not fit the form and is edited as JSON.
export const OPERATORS = ['eq', 'neq', 'in', 'nin', 'gt', 'gte', 'lt', 'lte', 'exists', 'contains'] as const;
export type Operator = (typeof OPERATORS)[number];

export interface ConditionRow {
  negate: boolean;
  field: string;
  op: Operator;
  /** As typed: a list is comma-separated; true, false and numbers are read as such. */
  value: string;
}

export interface RuleForm {
  match: 'all' | 'any';
  conditions: ConditionRow[];
}

type Condition = { field: string; op: Operator; value: unknown };
export type Rule = { all: RuleNode[] } | { any: RuleNode[] };
type RuleNode = Condition | { not: Condition };

const isOperator = (op: unknown): op is Operator => OPERATORS.includes(op as Operator);

function scalar(text: string): string | number | boolean {
  const trimmed = text.trim();
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? Number(trimmed) : trimmed;
}

function valueOf({ op, value }: ConditionRow): unknown {
  if (op === 'in' || op === 'nin')
    return value
      .split(',')
      .map(scalar)
      .filter((item) => item !== '');
  if (op === 'exists') return value.trim() !== 'false';
  return scalar(value);
}

const textOf = (value: unknown): string => (Array.isArray(value) ? value.join(', ') : String(value));

/** The rule the form describes; null until every condition names a field. */
export function toRule(form: RuleForm): Rule | null {
  if (form.conditions.length === 0 || form.conditions.some((row) => row.field.trim() === '')) return null;
  const nodes = form.conditions.map((row): RuleNode => {
    const condition = { field: row.field.trim(), op: row.op, value: valueOf(row) };
    return row.negate ? { not: condition } : condition;
  });
  return form.match === 'all' ? { all: nodes } : { any: nodes };
}

function rowOf(node: unknown): ConditionRow | null {
  const negated = typeof node === 'object' && node !== null && 'not' in node;
  const condition = (negated ? (node as { not: unknown }).not : node) as Partial<Condition> | null;
  if (typeof condition?.field !== 'string' || !isOperator(condition.op) || !('value' in condition))
    return null;
  return { negate: negated, field: condition.field, op: condition.op, value: textOf(condition.value) };
}

/** The form for a rule, or null when the rule nests deeper than the form can show. */
export function fromRule(rule: unknown): RuleForm | null {
  if (typeof rule !== 'object' || rule === null) return null;
  const single = rowOf(rule);
  if (single) return { match: 'all', conditions: [single] };
  const match = 'all' in rule ? 'all' : 'any' in rule ? 'any' : null;
  const nodes = match ? (rule as Record<string, unknown>)[match] : null;
  if (!match || !Array.isArray(nodes)) return null;
  const rows = nodes.map(rowOf);
  return rows.every((row): row is ConditionRow => row !== null) ? { match, conditions: rows } : null;
}
