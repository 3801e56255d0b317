// What a flow may sell, checked when a product is selected and again when it is bought: pure, so the rules are
// unit-tested apart from the run API that applies them.
import { isWholeCents } from '@bank-hub/shared';
import { maxPurchaseOf } from '../domain/purchase-limit';
import { isSuitable, type RiskLevel } from '../domain/suitability';
import type { Channel, ProductDoc } from '../models/product';

/** Flows run in the mini-program, so they sell only what is sold there. */
export const FLOW_CHANNEL: Channel = 'MINI_PROGRAM';

export type SaleRefusalReason =
  | 'NOT_ON_SALE'
  | 'NOT_ON_CHANNEL'
  | 'WRONG_PRODUCT_TYPE'
  | 'ABOVE_MAX_RISK'
  | 'INVALID_AMOUNT'
  | 'BELOW_MINIMUM'
  | 'ABOVE_MAXIMUM';

export interface SaleRefusal {
  reason: SaleRefusalReason;
  message: string;
}

/** A SELECT_PRODUCT step's resolved inputs; only those the flow maps are present. */
export interface SelectionLimits {
  productType?: unknown;
  maxRiskLevel?: unknown;
}

/**
 * Why a flow may not sell `product` (null when it may): it must exist, be on sale and be sold on the mini-program,
 * and fit the step's mapped `productType` and `maxRiskLevel`. A mapped limit without a value (an optional output
 * left out) refuses rather than lets anything through.
 */
export function saleRefusal(
  productId: string,
  product: Pick<ProductDoc, 'type' | 'riskLevel' | 'status' | 'channels'> | null | undefined,
  limits: SelectionLimits = {},
): SaleRefusal | null {
  if (!product || product.status !== 'ON_SALE')
    return { reason: 'NOT_ON_SALE', message: `product ${productId} is not on sale` };
  if (!product.channels.includes(FLOW_CHANNEL)) {
    return { reason: 'NOT_ON_CHANNEL', message: `product ${productId} is not sold on ${FLOW_CHANNEL}` };
  }
  if (Object.hasOwn(limits, 'productType') && product.type !== limits.productType) {
    return {
      reason: 'WRONG_PRODUCT_TYPE',
      message: `product ${productId} is a ${product.type} product; this step sells ${String(limits.productType)}`,
    };
  }
  if (
    Object.hasOwn(limits, 'maxRiskLevel') &&
    !isSuitable(product.riskLevel, limits.maxRiskLevel as RiskLevel | null | undefined)
  ) {
    return {
      reason: 'ABOVE_MAX_RISK',
      message: `product ${productId} (${product.riskLevel}) is above this step's risk level ${String(limits.maxRiskLevel)}`,
    };
  }
  return null;
}

/**
 * Why `amount` cannot buy `product` (null when it can): it must be a positive amount in whole cents (the smallest unit
 * of every currency the catalogue sells in), at most the product's maximum per purchase (maxPurchaseOf, which keeps
 * cents exact) and at least its minimum. A product whose minimum is 0 still takes no purchase of nothing.
 */
export function amountRefusal(
  amount: unknown,
  product: Pick<ProductDoc, 'minAmount' | 'maxAmount' | 'currency'>,
): SaleRefusal | null {
  const invalid: SaleRefusal = {
    reason: 'INVALID_AMOUNT',
    message: `the amount must be a positive ${product.currency} amount in whole cents`,
  };
  if (typeof amount !== 'number' || !(amount > 0)) return invalid;
  const maximum = maxPurchaseOf(product);
  // Negated: a maximum stored as something other than a number (NaN) refuses rather than lets anything through.
  if (!(amount <= maximum)) {
    return {
      reason: 'ABOVE_MAXIMUM',
      message: `the amount is above the product's maximum of ${maximum} ${product.currency} per purchase`,
    };
  }
  if (!isWholeCents(amount)) return invalid;
  if (amount < product.minAmount) {
    return {
      reason: 'BELOW_MINIMUM',
      message: `the amount is below the product's minimum of ${product.minAmount} ${product.currency}`,
    };
  }
  return null;
}
