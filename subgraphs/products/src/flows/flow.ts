// A service flow version's graph as plain data, shared by validation, the run API and diffs.
import { parseInstant } from '@bank-hub/targeting';
import { outputFieldsOf, type ServiceValueType } from './catalog';

export interface InputMapping {
  input: string;
  fromStep: string | null;
  fromOutput: string | null;
  constant: unknown;
}

export type ConditionOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in';
export const CONDITION_OPS: readonly ConditionOp[] = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in'];

export interface FlowCondition {
  step: string;
  output: string;
  op: ConditionOp;
  value: unknown;
  /**
   * A branch on an amount of money: the currency it compares in (ISO 4217). Absent on a branch on anything else, and
   * on one stored before branches named a currency, which compares in the bank's (see withAmountCurrencies).
   */
  currency?: string;
}

export interface FlowTransition {
  to: string;
  when: FlowCondition | null;
}

export interface FlowStep {
  id: string;
  service: string;
  title: string;
  inputs: InputMapping[];
  next: FlowTransition[];
  terminal: boolean;
}

export interface FlowGraph {
  startStepId: string | null;
  steps: FlowStep[];
}

/** Outputs recorded so far in a session, by step id. */
export type FlowOutputs = Record<string, Record<string, unknown>>;

/** The declared type of a step's output in the flow being run, or null when unknown. */
export type OutputTypeOf = (stepId: string, output: string) => ServiceValueType | null;

/** What a branch knows of the outputs it tests besides their values. */
export interface BranchFacts {
  typeOf: OutputTypeOf;
  /** The currency of the amount a step's output holds (the picked product's); null when no amount or not known. */
  currencyOf: (stepId: string, output: string) => string | null;
}

const ORDER: Record<Exclude<ConditionOp, 'in'>, (a: number | string, b: number | string) => boolean> = {
  eq: (a, b) => a === b,
  neq: (a, b) => a !== b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
};

/** Milliseconds since the epoch of an RFC 3339 instant, or null for anything else. */
const instantOf = (value: unknown): number | null =>
  typeof value === 'string' ? (parseInstant(value)?.getTime() ?? null) : null;

export function conditionHolds(condition: FlowCondition, outputs: FlowOutputs, facts: BranchFacts): boolean {
  // 100,000 USD is not 100,000 CNY: an amount in another currency (or one not known) meets no branch, whatever the op.
  if (
    condition.currency !== undefined &&
    facts.currencyOf(condition.step, condition.output) !== condition.currency
  )
    return false;
  const actual = outputs[condition.step]?.[condition.output];
  const expected = condition.value;
  // The same instant is written many ways ("…+08:00" vs "…Z"): DATE_TIME outputs compare as instants, not text.
  if (facts.typeOf(condition.step, condition.output) === 'DATE_TIME') {
    const at = instantOf(actual);
    if (at !== null) {
      if (condition.op === 'in')
        return Array.isArray(expected) && expected.some((value) => instantOf(value) === at);
      const threshold = instantOf(expected);
      if (threshold !== null) return ORDER[condition.op](at, threshold);
    }
  }
  switch (condition.op) {
    case 'eq':
      return actual === expected;
    case 'neq':
      return actual !== expected;
    case 'in':
      return Array.isArray(expected) && expected.includes(actual);
    default:
      if (typeof actual !== typeof expected || (typeof actual !== 'number' && typeof actual !== 'string'))
        return false;
      return ORDER[condition.op](actual as number | string, expected as number | string);
  }
}

/** Where a completed step leads: the first conditional edge that holds, else the default edge, else nowhere. */
export function nextStepId(step: FlowStep, outputs: FlowOutputs, facts: BranchFacts): string | null {
  const branch = step.next.find((edge) => edge.when && conditionHolds(edge.when, outputs, facts));
  return branch?.to ?? step.next.find((edge) => !edge.when)?.to ?? null;
}

/** The values a step's inputs take, given the outputs recorded so far. */
export function resolveInputs(step: FlowStep, outputs: FlowOutputs): Record<string, unknown> {
  return Object.fromEntries(
    step.inputs.map((mapping) => [
      mapping.input,
      mapping.fromStep ? outputs[mapping.fromStep]?.[mapping.fromOutput ?? ''] : mapping.constant,
    ]),
  );
}

/**
 * The steps with every branch on an amount naming its currency: one stored before branches named a currency compares
 * in the bank's (`bankCurrency`), as the builder now stores one that names none.
 */
export function withAmountCurrencies(steps: readonly FlowStep[], bankCurrency: string): FlowStep[] {
  const fieldOf = outputFieldsOf(steps);
  const named = (when: FlowCondition | null): FlowCondition | null =>
    when && when.currency === undefined && fieldOf(when.step, when.output)?.currencyOf !== undefined
      ? { ...when, currency: bankCurrency }
      : when;
  return steps.map((step) => ({
    ...step,
    next: step.next.map((edge) => ({ ...edge, when: named(edge.when) })),
  }));
}
