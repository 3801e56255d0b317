// How much one purchase of a product may be: what flows sell and what bundles may ask are both bounded by it.
import { sumInCents } from '@bank-hub/shared';
import type { ProductDoc } from '../models/product';

/**
 * The most one purchase of any product may be, in its currency, when operators set no lower `maxAmount`: every amount
 * up to it in whole cents has at most 15 significant digits, so it survives JSON and a double exactly (up to 2^53
 * cents, 0.01 steps would already blur), and a bundle's few products still sum exactly in cents (sumInCents).
 */
export const PURCHASE_AMOUNT_CEILING = 1_000_000_000_000;

/** The most one purchase of `product` may be: its `maxAmount` (stored or not), never above the hub-wide ceiling. */
export const maxPurchaseOf = (product: Pick<ProductDoc, 'maxAmount'>): number =>
  product.maxAmount === null || product.maxAmount === undefined
    ? PURCHASE_AMOUNT_CEILING
    : Math.min(product.maxAmount, PURCHASE_AMOUNT_CEILING);

/** What one purchase of each of `products` adds up to at most, in cents (maxPurchaseOf each). */
export const mostPerPurchaseInCents = (products: readonly Pick<ProductDoc, 'maxAmount'>[]): number =>
  sumInCents(products.map(maxPurchaseOf));
