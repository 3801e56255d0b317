// A service flow version's graph as plain data, shared by validation, the run API and diffs.
import { parseInstant } from '@bank-hub/targeting';
import type { ServiceValueType } from './catalog';

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

export function conditionHolds(
  condition: FlowCondition,
  outputs: FlowOutputs,
  typeOf: OutputTypeOf,
): boolean {
  const actual = outputs[condition.step]?.[condition.output];
  const expected = condition.value;
  // The same instant is written many ways ("…+08:00" vs "…Z"): DATE_TIME outputs compare as instants, not text.
  if (typeOf(condition.step, condition.output) === 'DATE_TIME') {
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
export function nextStepId(step: FlowStep, outputs: FlowOutputs, typeOf: OutputTypeOf): string | null {
  const branch = step.next.find((edge) => edge.when && conditionHolds(edge.when, outputs, typeOf));
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
