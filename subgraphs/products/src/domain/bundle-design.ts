// Checks an operator's bundle design before anything is stored: its own fields first (checkBundleInput), then against
// the catalogue (checkBundleProducts). Each problem names the input field at fault, and a `reason` clients switch on.
import {
  ErrorCode,
  InputProblem,
  fromCents,
  isWholeCents,
  requiredText,
  sumInCents,
  toCents,
  visibleText,
} from '@bank-hub/shared';
import { parseRule, type Rule } from '@bank-hub/targeting';
import type { BundleFields } from '../models/bundle';
import type { ProductDoc } from '../models/product';
import { PRODUCT_ID_PATTERN } from '../models/product';
import { mostPerPurchaseInCents } from './purchase-limit';

export interface BundleInput {
  name: string;
  description: string;
  productIds: readonly string[];
  rule?: unknown;
  minTotalAmount: number;
  validFrom: Date;
  validTo: Date;
  discountRate?: number | null;
  rateBonus?: number | null;
  benefitIds?: readonly string[] | null;
}

export const BUNDLE_LIMITS = {
  name: 80,
  description: 500,
  /** Products sold together: a bundle of one is a product; more than ten is a shelf, not an offer. */
  minProducts: 2,
  maxProducts: 10,
  benefitIds: 10,
  /** Characters in a product or benefit id. */
  idLength: 64,
  /** A discount on fees, in percent: at most the whole fee. */
  discountRate: 100,
  /** Extra annual rate, in percentage points: more than this is a typo (10 for 0.1), not an offer. */
  rateBonus: 5,
} as const;

/**
 * Bundle rules target what products learns of a member through the graph (segments, level, lifecycle stage, risk level,
 * tags by presence, the time): no profile attributes, and no channel — a bundle is offered by the channels that sell it.
 */
export const parseBundleRule = (input: unknown, path: string) =>
  parseRule(input, path, {
    allowField: (field) => !field.startsWith('attr.') && field !== 'channel',
    tagsByPresence: true,
  });

/** A positive amount in whole cents, as every amount the catalogue sells in. */
const isAmount = (value: number) => value > 0 && isWholeCents(value);

function optionalBound(
  value: number | null | undefined,
  field: string,
  max: number,
  unit: string,
): number | null {
  if (value === null || value === undefined) return null;
  if (!Number.isFinite(value) || value <= 0 || value > max)
    throw new InputProblem(field, `${field} must be above 0 and at most ${max} ${unit}; omit it for none`);
  return value;
}

/** Ids given as a list: no repeats, each visible text of at most `maxLength`. */
function distinctIds(ids: readonly string[], field: string, maxLength: number): string[] {
  ids.forEach((id, i) => {
    if (id.length === 0 || id.length > maxLength)
      throw new InputProblem(`${field}[${i}]`, `${field}[${i}] must be 1 to ${maxLength} characters`);
    visibleText(id, `${field}[${i}]`);
    if (ids.indexOf(id) !== i) throw new InputProblem(`${field}[${i}]`, `${id} appears twice in ${field}`);
  });
  return [...ids];
}

/** The bundle's own fields, checked and normalized; what they name is checked by checkBundleProducts and engagement. */
export function checkBundleInput(input: BundleInput): BundleFields {
  const name = requiredText(input.name, 'input.name', BUNDLE_LIMITS.name);
  const description = requiredText(input.description, 'input.description', BUNDLE_LIMITS.description);
  const { productIds } = input;
  if (productIds.length < BUNDLE_LIMITS.minProducts || productIds.length > BUNDLE_LIMITS.maxProducts)
    throw new InputProblem(
      'input.productIds',
      `a bundle has ${BUNDLE_LIMITS.minProducts} to ${BUNDLE_LIMITS.maxProducts} products`,
    );
  const products = distinctIds(productIds, 'input.productIds', BUNDLE_LIMITS.idLength);
  products.forEach((id, i) => {
    if (!PRODUCT_ID_PATTERN.test(id))
      throw new InputProblem(`input.productIds[${i}]`, `${id} is not a product id`, undefined, {
        reason: 'UNKNOWN_PRODUCT',
      });
  });
  let rule: Rule | null = null;
  if (input.rule !== undefined && input.rule !== null) {
    const parsed = parseBundleRule(input.rule, 'input.rule');
    if (!parsed.ok) throw new InputProblem(parsed.problem.path, parsed.problem.message);
    rule = parsed.rule;
  }
  if (!isAmount(input.minTotalAmount))
    throw new InputProblem(
      'input.minTotalAmount',
      'input.minTotalAmount must be a positive amount in whole cents',
    );
  if (!(input.validTo.getTime() > input.validFrom.getTime()))
    throw new InputProblem('input.validTo', 'the window must end after it starts');
  const benefitIds = input.benefitIds ?? [];
  if (benefitIds.length > BUNDLE_LIMITS.benefitIds)
    throw new InputProblem('input.benefitIds', `at most ${BUNDLE_LIMITS.benefitIds} benefits`);
  return {
    name,
    description,
    productIds: products,
    rule,
    minTotalAmount: input.minTotalAmount,
    validFrom: input.validFrom,
    validTo: input.validTo,
    discountRate: optionalBound(
      input.discountRate,
      'input.discountRate',
      BUNDLE_LIMITS.discountRate,
      'percent',
    ),
    rateBonus: optionalBound(
      input.rateBonus,
      'input.rateBonus',
      BUNDLE_LIMITS.rateBonus,
      'percentage points',
    ),
    benefitIds: distinctIds(benefitIds, 'input.benefitIds', BUNDLE_LIMITS.idLength),
  };
}

export type BundleProductFacts = Pick<ProductDoc, '_id' | 'status' | 'currency' | 'minAmount' | 'maxAmount'>;

/**
 * Checks a bundle against the catalogue and answers its currency: every product exists and is on sale, all are sold in
 * one currency (minTotalAmount is an amount of it: 100,000 CNY and USD together is no amount), and minTotalAmount lies
 * between what the products' minimums and their maximums per purchase (maxPurchaseOf) add up to — below it asks less
 * than its parts, above it nobody can ever buy the bundle. `prefix` names the fields (`input.` for input); `code` is
 * what a problem is refused with (BAD_USER_INPUT for input, FAILED_PRECONDITION for a stored bundle to approve).
 */
export function checkBundleProducts(
  fields: Pick<BundleFields, 'productIds' | 'minTotalAmount'>,
  catalogue: ReadonlyMap<string, BundleProductFacts>,
  prefix = 'input.',
  code: ErrorCode = ErrorCode.BAD_USER_INPUT,
): string {
  const products = fields.productIds.map((id, i) => {
    const product = catalogue.get(id);
    const field = `${prefix}productIds[${i}]`;
    if (!product)
      throw new InputProblem(field, `product ${id} does not exist`, code, { reason: 'UNKNOWN_PRODUCT' });
    if (product.status !== 'ON_SALE')
      throw new InputProblem(field, `product ${id} is ${product.status}, not on sale`, code, {
        reason: 'PRODUCT_NOT_ON_SALE',
      });
    return product;
  });
  const [first] = products;
  const currency = first!.currency;
  const other = products.findIndex((product) => product.currency !== currency);
  if (other >= 0)
    throw new InputProblem(
      `${prefix}productIds[${other}]`,
      `product ${products[other]!._id} is sold in ${products[other]!.currency}, the bundle's first product in ${currency}: ` +
        'a bundle sells in one currency',
      code,
      { reason: 'MIXED_CURRENCIES' },
    );
  // In cents: a minimum equal to what the products' amounts add up to is no more, nor less, than their sum.
  const minimum = toCents(fields.minTotalAmount);
  const leastCents = sumInCents(products.map((product) => product.minAmount));
  const mostCents = mostPerPurchaseInCents(products);
  if (!(minimum >= leastCents && minimum <= mostCents)) {
    const [least, most] = [fromCents(leastCents), fromCents(mostCents)];
    throw new InputProblem(
      `${prefix}minTotalAmount`,
      `minTotalAmount must be from ${least} (the products' minimums together) to ${most} ${currency} (their maximums ` +
        'per purchase together)',
      code,
      { reason: 'MINIMUM_OUT_OF_REACH', least, most, currency },
    );
  }
  return currency;
}
