// A service flow version's graph as plain data, shared by validation, the run API and diffs.

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

export function conditionHolds(condition: FlowCondition, outputs: FlowOutputs): boolean {
  const actual = outputs[condition.step]?.[condition.output];
  const expected = condition.value;
  switch (condition.op) {
    case 'eq':
      return actual === expected;
    case 'neq':
      return actual !== expected;
    case 'in':
      return Array.isArray(expected) && expected.includes(actual);
    default: {
      if (typeof actual !== typeof expected || (typeof actual !== 'number' && typeof actual !== 'string'))
        return false;
      const [a, b] = [actual as number | string, expected as number | string];
      return condition.op === 'gt'
        ? a > b
        : condition.op === 'gte'
          ? a >= b
          : condition.op === 'lt'
            ? a < b
            : a <= b;
    }
  }
}

/** Where a completed step leads: the first conditional edge that holds, else the default edge, else nowhere. */
export function nextStepId(step: FlowStep, outputs: FlowOutputs): string | null {
  const branch = step.next.find((edge) => edge.when && conditionHolds(edge.when, outputs));
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
