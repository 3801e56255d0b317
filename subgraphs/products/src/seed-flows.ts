// Demo service flows: open an account; buy a wealth product with a risk assessment (branching on the amount);
// claim a welcome benefit.
import type { ServiceFlowDoc } from './models/service-flow';
import type { FlowStep, FlowTransition, InputMapping } from './flows/flow';

const SEEDED_AT = new Date('2026-01-01T00:00:00.000Z');

const from = (input: string, fromStep: string, fromOutput: string): InputMapping => ({
  input,
  fromStep,
  fromOutput,
  constant: null,
});
const constant = (input: string, value: unknown): InputMapping => ({
  input,
  fromStep: null,
  fromOutput: null,
  constant: value,
});
const to = (step: string, when: FlowTransition['when'] = null): FlowTransition => ({ to: step, when });
const step = (
  id: string,
  service: string,
  title: string,
  inputs: InputMapping[],
  next: FlowTransition[],
): FlowStep => ({
  id,
  service,
  title,
  inputs,
  next,
  terminal: next.length === 0,
});

function published(key: string, name: string, steps: FlowStep[]): ServiceFlowDoc {
  return {
    _id: `SF-${key}-v1`,
    key,
    name,
    version: 1,
    status: 'PUBLISHED',
    startStepId: steps[0]!.id,
    steps,
    revision: 0,
    updatedBy: 'builder.seed',
    updatedAt: SEEDED_AT,
    publishedAt: SEEDED_AT,
  };
}

export const FLOWS: ServiceFlowDoc[] = [
  published('open-account', '开立电子账户 Open an account', [
    step('identity', 'IDENTITY_CHECK', '身份核验', [], [to('terms')]),
    step(
      'terms',
      'SIGN_AGREEMENT',
      '签署开户协议',
      [constant('agreementCode', 'ACCOUNT-TERMS-2026')],
      [to('open')],
    ),
    step(
      'open',
      'OPEN_ACCOUNT',
      '开户',
      [from('verified', 'identity', 'verified'), constant('accountType', 'II')],
      [],
    ),
  ]),
  published('buy-wealth', '购买理财 Buy a wealth product', [
    step('assess', 'RISK_ASSESSMENT', '风险测评', [], [to('select')]),
    step(
      'select',
      'SELECT_PRODUCT',
      '选择产品',
      [constant('productType', 'WEALTH'), from('maxRiskLevel', 'assess', 'riskLevel')],
      // Large purchases (500,000 CNY or more) need an extra disclosure before confirmation.
      [
        to('disclose', { step: 'select', output: 'amount', op: 'gte', value: 500_000, currency: 'CNY' }),
        to('confirm'),
      ],
    ),
    step(
      'disclose',
      'SIGN_AGREEMENT',
      '大额购买风险揭示',
      [constant('agreementCode', 'LARGE-PURCHASE-DISCLOSURE')],
      [to('confirm')],
    ),
    step(
      'confirm',
      'CONFIRM_PURCHASE',
      '确认购买',
      [from('productId', 'select', 'productId'), from('amount', 'select', 'amount')],
      [],
    ),
  ]),
  published('welcome-benefit', '新人礼包 Claim a welcome benefit', [
    step('intro', 'SHOW_PAGE', '新人礼包介绍', [constant('pageKey', 'welcome')], [to('claim')]),
    step('claim', 'CLAIM_BENEFIT', '领取礼包', [constant('benefitId', 'B-WELCOME-50')], []),
  ]),
];
