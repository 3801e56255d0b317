// The flow editor's form model (web/console/screens/service-flows/draft.ts): what the forms send to the builder API for
// what was typed and picked, typed as the service catalogue declares, and the form an existing step opens in.
import {
  outputField,
  outputsOf,
  stepFormOf,
  toCondition,
  toStepInput,
  typedValue,
  type BranchForm,
} from '../web/console/screens/service-flows/draft';
import type { CatalogueService, FlowStep } from '../web/console/screens/service-flows/operations';

const field = (
  name: string,
  type: CatalogueService['inputs'][number]['type'],
  currencyOf: string | null = null,
) => ({
  name,
  type,
  required: true,
  currencyOf,
});
const service = (code: string, inputs: CatalogueService['inputs'], outputs: CatalogueService['outputs']) => ({
  code,
  name: code,
  description: '',
  inputs,
  outputs,
});
const CATALOGUE: CatalogueService[] = [
  service('RISK_ASSESSMENT', [], [field('riskLevel', 'RISK_LEVEL'), field('score', 'NUMBER')]),
  service(
    'SELECT_PRODUCT',
    [field('productType', 'STRING'), field('maxRiskLevel', 'RISK_LEVEL')],
    [field('productId', 'PRODUCT_ID'), field('amount', 'NUMBER', 'productId')],
  ),
  service('CONFIRM_PURCHASE', [field('productId', 'PRODUCT_ID'), field('amount', 'NUMBER')], []),
  service('OPEN_ACCOUNT', [field('verified', 'BOOLEAN')], []),
];
const byCode = (code: string) => CATALOGUE.find((candidate) => candidate.code === code);
const STEPS = [
  { id: 'assess', service: 'RISK_ASSESSMENT' },
  { id: 'select', service: 'SELECT_PRODUCT' },
];

describe('typedValue', () => {
  it.each([
    ['a number for a NUMBER', ' 500000 ', 'NUMBER', 500000],
    ['the text for a NUMBER that is none', '5e', 'NUMBER', '5e'],
    ['a boolean for a BOOLEAN', 'true', 'BOOLEAN', true],
    ['the text of a STRING, trimmed, even when it reads as a number', ' 42 ', 'STRING', '42'],
    ['a risk level as written', 'R3', 'RISK_LEVEL', 'R3'],
  ] as const)('reads %s', (_case, text, type, expected) => {
    expect(typedValue(text, type)).toEqual(expected);
  });
});

describe('toStepInput', () => {
  it('sends constants typed by the catalogue and outputs split into step and output, leaving unmapped inputs out', () => {
    const form = stepFormOf(byCode('CONFIRM_PURCHASE'));
    expect(toStepInput(form, byCode('CONFIRM_PURCHASE')).inputs).toEqual([]);
    const filled = {
      ...form,
      id: ' buy ',
      title: ' Buy ',
      terminal: true,
      inputs: {
        productId: { source: 'step' as const, constant: '', output: 'select.productId' },
        amount: { source: 'constant' as const, constant: '1000', output: '' },
      },
    };
    expect(toStepInput(filled, byCode('CONFIRM_PURCHASE'))).toEqual({
      id: 'buy',
      service: 'CONFIRM_PURCHASE',
      title: 'Buy',
      terminal: true,
      inputs: [
        { input: 'productId', fromStep: 'select', fromOutput: 'productId' },
        { input: 'amount', constant: 1000 },
      ],
    });
  });

  it('opens an existing step in the form it was sent from', () => {
    const step: FlowStep = {
      id: 'select',
      service: 'SELECT_PRODUCT',
      title: 'Pick',
      terminal: false,
      next: [],
      inputs: [
        { input: 'productType', fromStep: null, fromOutput: null, constant: 'FUND' },
        { input: 'maxRiskLevel', fromStep: 'assess', fromOutput: 'riskLevel', constant: null },
      ],
    };
    const form = stepFormOf(byCode('SELECT_PRODUCT'), step);
    expect(form.inputs).toEqual({
      productType: { source: 'constant', constant: 'FUND', output: '' },
      maxRiskLevel: { source: 'step', constant: '', output: 'assess.riskLevel' },
    });
    expect(toStepInput(form, byCode('SELECT_PRODUCT'))).toEqual({
      id: 'select',
      service: 'SELECT_PRODUCT',
      title: 'Pick',
      terminal: false,
      inputs: [
        { input: 'productType', constant: 'FUND' },
        { input: 'maxRiskLevel', fromStep: 'assess', fromOutput: 'riskLevel' },
      ],
    });
  });

  it('shows a non-text constant as JSON, and a boolean one as true or false', () => {
    const step: FlowStep = {
      id: 'open',
      service: 'OPEN_ACCOUNT',
      title: 'Open',
      terminal: true,
      next: [],
      inputs: [{ input: 'verified', fromStep: null, fromOutput: null, constant: true }],
    };
    const form = stepFormOf(byCode('OPEN_ACCOUNT'), step);
    expect(form.inputs.verified).toEqual({ source: 'constant', constant: 'true', output: '' });
    expect(toStepInput(form, byCode('OPEN_ACCOUNT')).inputs).toEqual([{ input: 'verified', constant: true }]);
  });
});

describe('outputsOf', () => {
  it('offers an input only the outputs of its type, named step.output', () => {
    expect(outputsOf(STEPS, CATALOGUE, 'RISK_LEVEL').map((output) => output.value)).toEqual([
      'assess.riskLevel',
    ]);
    expect(outputsOf(STEPS, CATALOGUE, 'NUMBER').map((output) => output.value)).toEqual([
      'assess.score',
      'select.amount',
    ]);
    expect(outputsOf(STEPS, CATALOGUE)).toHaveLength(4);
  });
});

describe('toCondition', () => {
  const branch = (change: Partial<BranchForm>): BranchForm => ({
    from: 'select',
    to: 'big',
    kind: 'branch',
    tested: 'select.amount',
    op: 'gte',
    value: '500000',
    currency: '',
    ...change,
  });
  const condition = (form: BranchForm) => toCondition(form, outputField(STEPS, CATALOGUE, form.tested));

  it('is null for the default way on', () => {
    expect(condition(branch({ kind: 'default' }))).toBeNull();
  });

  it('compares an amount as a number, in the bank’s currency unless one is named', () => {
    expect(condition(branch({}))).toEqual({ step: 'select', output: 'amount', op: 'gte', value: 500000 });
    expect(condition(branch({ currency: ' usd ' }))).toEqual({
      step: 'select',
      output: 'amount',
      op: 'gte',
      value: 500000,
      currency: 'USD',
    });
  });

  it('sends a list for in, each value typed, and no currency on what is no amount', () => {
    expect(
      condition(branch({ tested: 'assess.riskLevel', op: 'in', value: 'R4, R5,', currency: 'USD' })),
    ).toEqual({ step: 'assess', output: 'riskLevel', op: 'in', value: ['R4', 'R5'] });
    expect(condition(branch({ tested: 'assess.score', op: 'in', value: '1, 2' }))!.value).toEqual([1, 2]);
  });
});
