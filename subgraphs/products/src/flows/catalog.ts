// The service catalogue: the banking services a mini-program flow is built from, with typed inputs and outputs.
import { parseInstant } from '@bank-hub/targeting';

export type ServiceValueType = 'STRING' | 'NUMBER' | 'BOOLEAN' | 'PRODUCT_ID' | 'RISK_LEVEL' | 'DATE_TIME';

export interface ServiceField {
  name: string;
  type: ServiceValueType;
  required: boolean;
  /** For an amount of money: the field of the same step naming the product whose currency it is in. */
  currencyOf?: string;
}

/**
 * Who performs a service, and so whose word its outputs are: the member's (a choice, a signature, a page read), or a
 * system of the bank's, whose outputs a step records only with that system's attestation (see attestation.ts) — a
 * member's mini-program cannot say that an account was opened or an order placed.
 */
export type ServicePerformer = 'MEMBER' | 'BANK';

export interface ServiceDefinition {
  code: string;
  name: string;
  description: string;
  inputs: ServiceField[];
  outputs: ServiceField[];
  scopes: string[];
  performedBy: ServicePerformer;
}

const field = (name: string, type: ServiceValueType, required = true): ServiceField => ({
  name,
  type,
  required,
});

export const SERVICE_CATALOG: readonly ServiceDefinition[] = [
  {
    code: 'IDENTITY_CHECK',
    name: '身份核验 Identity check',
    description: 'Verifies the member with their ID document and a face match.',
    inputs: [],
    outputs: [field('verified', 'BOOLEAN')],
    scopes: ['member'],
    // The bank's identity service matches the document and the face: its verdict opens accounts.
    performedBy: 'BANK',
  },
  {
    code: 'RISK_ASSESSMENT',
    name: '风险测评 Risk assessment',
    description: "Questionnaire that sets the member's risk tolerance.",
    inputs: [],
    outputs: [field('riskLevel', 'RISK_LEVEL'), field('score', 'NUMBER')],
    scopes: ['member'],
    // The member answers, the bank's suitability system scores: the level decides what may be sold to them.
    performedBy: 'BANK',
  },
  {
    code: 'OPEN_ACCOUNT',
    name: '开户 Open account',
    description: 'Opens an electronic account for a verified member who declined no agreement on the way.',
    inputs: [field('verified', 'BOOLEAN'), field('accountType', 'STRING', false)],
    outputs: [field('accountId', 'STRING')],
    scopes: ['member'],
    // Core banking opens the account: an opened account pays referral and task rewards.
    performedBy: 'BANK',
  },
  {
    code: 'SELECT_PRODUCT',
    name: '选择产品 Select product',
    description: 'The member picks a product and an amount.',
    inputs: [field('productType', 'STRING', false), field('maxRiskLevel', 'RISK_LEVEL', false)],
    // The amount is in the currency of the product picked: a branch on it compares it in that currency only.
    outputs: [field('productId', 'PRODUCT_ID'), { ...field('amount', 'NUMBER'), currencyOf: 'productId' }],
    scopes: ['member'],
    // The member's choice; products checks it against the catalogue.
    performedBy: 'MEMBER',
  },
  {
    code: 'CONFIRM_PURCHASE',
    name: '确认购买 Confirm purchase',
    description:
      'Places the order; the product must be suitable for the member, the amount at least its minimum in whole ' +
      'cents, and no identity check failed or agreement declined on the way.',
    inputs: [field('productId', 'PRODUCT_ID'), field('amount', 'NUMBER')],
    outputs: [field('orderId', 'STRING'), field('confirmed', 'BOOLEAN')],
    scopes: ['member'],
    // The bank's order system places (or declines) the order: a placed one completes purchase tasks.
    performedBy: 'BANK',
  },
  {
    code: 'CLAIM_BENEFIT',
    name: '领取权益 Claim benefit',
    description: 'Claims a benefit such as a welcome coupon.',
    inputs: [field('benefitId', 'STRING')],
    outputs: [field('claimId', 'STRING')],
    scopes: ['member'],
    // Claimed from engagement by the member's own call (claimBenefit), which grants the benefit or refuses it: the
    // claim id the step records grants nothing.
    performedBy: 'MEMBER',
  },
  {
    code: 'SHOW_PAGE',
    name: '展示页面 Show page',
    description: 'Shows a content page (e.g. a product introduction) to the member.',
    inputs: [field('pageKey', 'STRING')],
    outputs: [field('viewed', 'BOOLEAN')],
    scopes: ['member'],
    performedBy: 'MEMBER',
  },
  {
    code: 'SIGN_AGREEMENT',
    name: '签署协议 Sign agreement',
    description: 'The member reads and signs an agreement.',
    inputs: [field('agreementCode', 'STRING')],
    outputs: [field('signed', 'BOOLEAN'), field('signedAt', 'DATE_TIME')],
    scopes: ['member'],
    // The member's own consent; a declined one stops committing steps (consent.ts).
    performedBy: 'MEMBER',
  },
];

const BY_CODE = new Map(SERVICE_CATALOG.map((service) => [service.code, service]));

export const serviceByCode = (code: string): ServiceDefinition | undefined => BY_CODE.get(code);

/** Whether a step of this service records its outputs only with the attestation of the bank system performing it. */
export const performedByBank = (code: string): boolean => serviceByCode(code)?.performedBy === 'BANK';

const RISK = /^R[1-5]$/;

/** Whether a JSON value fits a service value type. */
export function fitsType(value: unknown, type: ServiceValueType): boolean {
  switch (type) {
    case 'STRING':
    case 'PRODUCT_ID':
      return typeof value === 'string' && value.length > 0 && value.length <= 200;
    case 'NUMBER':
      return typeof value === 'number' && Number.isFinite(value);
    case 'BOOLEAN':
      return typeof value === 'boolean';
    case 'RISK_LEVEL':
      return typeof value === 'string' && RISK.test(value);
    case 'DATE_TIME':
      return typeof value === 'string' && parseInstant(value) !== null;
  }
}

/** The catalogue's declaration of each step's output in a flow, or null when the step or output is unknown. */
export function outputFieldsOf(
  steps: Iterable<{ id: string; service: string }>,
): (stepId: string, output: string) => ServiceField | null {
  const services = new Map([...steps].map((step) => [step.id, step.service]));
  return (stepId, output) =>
    serviceByCode(services.get(stepId) ?? '')?.outputs.find((field) => field.name === output) ?? null;
}

/** The declared type of each step's output in a flow: what a branch on it compares (DATE_TIME as instants). */
export function outputTypesOf(
  steps: Iterable<{ id: string; service: string }>,
): (stepId: string, output: string) => ServiceValueType | null {
  const fieldOf = outputFieldsOf(steps);
  return (stepId, output) => fieldOf(stepId, output)?.type ?? null;
}
