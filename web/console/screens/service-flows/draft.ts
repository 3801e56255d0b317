// The flow editor's model of a step and of a transition as the forms hold them (text as typed, a mapping's source as
// picked), and what each becomes for the builder API: a FlowStepInput, a FlowConditionInput. Values are typed by what
// the service catalogue declares, so that a constant the catalogue reads as a NUMBER is sent as one.
import type { CatalogueService, FlowStep, ServiceField, ValueType } from './operations';

export const CONDITION_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in'] as const;
export type ConditionOp = (typeof CONDITION_OPS)[number];

/** Where one input of a step takes its value: nowhere yet, a constant as typed, or an earlier step's output. */
export interface MappingRow {
  source: 'none' | 'constant' | 'step';
  constant: string;
  /** `step.output`, as the select of outputs names it. */
  output: string;
}

export interface StepForm {
  id: string;
  service: string;
  title: string;
  terminal: boolean;
  /** By input name: one row for each input the service declares. */
  inputs: Record<string, MappingRow>;
}

export interface BranchForm {
  from: string;
  to: string;
  /** The default way on, or a branch tried before it. */
  kind: 'default' | 'branch';
  /** `step.output` tested by a branch. */
  tested: string;
  op: ConditionOp;
  /** As typed: a list for `in` is comma-separated. */
  value: string;
  /** For a branch on an amount: blank for the bank's currency. */
  currency: string;
}

/** An input mapping as the builder API takes it: from a step's output, or a constant. */
export type InputMappingInput =
  { input: string; fromStep: string; fromOutput: string } | { input: string; constant: unknown };

export type FlowStepInput = {
  id: string;
  service: string;
  title: string;
  terminal: boolean;
  inputs: InputMappingInput[];
};

export type FlowConditionInput = {
  step: string;
  output: string;
  op: ConditionOp;
  value: unknown;
  currency?: string;
};

const EMPTY_ROW: MappingRow = { source: 'none', constant: '', output: '' };

/** A constant as the catalogue's type reads it: a number or a boolean when it is one, else the text. */
export function typedValue(text: string, type: ValueType | null): unknown {
  const trimmed = text.trim();
  if (type === 'NUMBER' && trimmed !== '' && Number.isFinite(Number(trimmed))) return Number(trimmed);
  if (type === 'BOOLEAN' && (trimmed === 'true' || trimmed === 'false')) return trimmed === 'true';
  return trimmed;
}

const textOf = (value: unknown): string =>
  typeof value === 'string' ? value : value === null || value === undefined ? '' : JSON.stringify(value);

/** The form for a new step of `service`, or for editing `step`: a row for every input the service declares. */
export function stepFormOf(service: CatalogueService | undefined, step?: FlowStep): StepForm {
  const inputs: Record<string, MappingRow> = {};
  for (const field of service?.inputs ?? []) {
    const mapping = step?.inputs.find((candidate) => candidate.input === field.name);
    inputs[field.name] = !mapping
      ? EMPTY_ROW
      : mapping.fromStep
        ? { ...EMPTY_ROW, source: 'step', output: `${mapping.fromStep}.${mapping.fromOutput ?? ''}` }
        : { ...EMPTY_ROW, source: 'constant', constant: textOf(mapping.constant) };
  }
  return {
    id: step?.id ?? '',
    service: service?.code ?? step?.service ?? '',
    title: step?.title ?? '',
    terminal: step?.terminal ?? false,
    inputs,
  };
}

/** `step.output` split at its dot (neither a step id nor an output name has one). */
function splitOutput(output: string): { step: string; output: string } {
  const at = output.indexOf('.');
  return at < 0 ? { step: output, output: '' } : { step: output.slice(0, at), output: output.slice(at + 1) };
}

/** The step the form describes, its inputs in the catalogue's order; an input left unmapped is not sent. */
export function toStepInput(form: StepForm, service: CatalogueService | undefined): FlowStepInput {
  const inputs = (service?.inputs ?? []).flatMap((field): InputMappingInput[] => {
    const row = form.inputs[field.name] ?? EMPTY_ROW;
    if (row.source === 'constant')
      return [{ input: field.name, constant: typedValue(row.constant, field.type) }];
    if (row.source === 'step' && row.output) {
      const { step, output } = splitOutput(row.output);
      return [{ input: field.name, fromStep: step, fromOutput: output }];
    }
    return [];
  });
  return {
    id: form.id.trim(),
    service: form.service,
    title: form.title.trim(),
    terminal: form.terminal,
    inputs,
  };
}

/** The declared output a `step.output` names in this flow, or null. */
export function outputField(
  steps: readonly Pick<FlowStep, 'id' | 'service'>[],
  catalogue: readonly CatalogueService[],
  tested: string,
): ServiceField | null {
  const { step, output } = splitOutput(tested);
  const service = steps.find((candidate) => candidate.id === step)?.service;
  return (
    catalogue
      .find((candidate) => candidate.code === service)
      ?.outputs.find((field) => field.name === output) ?? null
  );
}

/** Every step's outputs, as `step.output`, of the given type when one is given (what an input of that type takes). */
export function outputsOf(
  steps: readonly Pick<FlowStep, 'id' | 'service'>[],
  catalogue: readonly CatalogueService[],
  type?: ValueType,
): { value: string; field: ServiceField }[] {
  return steps.flatMap((step) =>
    (catalogue.find((service) => service.code === step.service)?.outputs ?? [])
      .filter((field) => !type || field.type === type)
      .map((field) => ({ value: `${step.id}.${field.name}`, field })),
  );
}

/**
 * The condition of the transition the form describes: null for the default way on. The value is typed as the tested
 * output is; a currency is sent only for a branch on an amount that names one (blank: the bank's).
 */
export function toCondition(form: BranchForm, tested: ServiceField | null): FlowConditionInput | null {
  if (form.kind === 'default') return null;
  const { step, output } = splitOutput(form.tested);
  const type = tested?.type ?? null;
  const value =
    form.op === 'in'
      ? form.value
          .split(',')
          .map((item) => item.trim())
          .filter(Boolean)
          .map((item) => typedValue(item, type))
      : typedValue(form.value, type);
  const currency = form.currency.trim().toUpperCase();
  return { step, output, op: form.op, value, ...(tested?.currencyOf && currency ? { currency } : {}) };
}
