// Amounts of money as the hub keeps them: in whole cents of their currency, added and compared as whole numbers
// of cents. As binary fractions decimal amounts are inexact (0.1 + 0.2 !== 0.3): a bundle's minimum equal to the exact
// sum of its products' would compare above or below the sum of the floats.

/** Cents in a unit of every currency the hub counts in (each has two decimals, ISO 4217 exponent 2). */
const CENTS_PER_UNIT = 100;

/** An amount in whole cents: the nearest, as a stored amount in whole cents is so but for a binary fraction. */
export const toCents = (amount: number): number => Math.round(amount * CENTS_PER_UNIT);

/** The amount of `cents` in units of its currency. */
export const fromCents = (cents: number): number => cents / CENTS_PER_UNIT;

/** Whether `amount` is a finite number of whole cents. */
export const isWholeCents = (amount: number): boolean =>
  Number.isFinite(amount) && fromCents(toCents(amount)) === amount;

/** What `amounts` add up to, in cents: exact while the total stays below 2^53 cents (NaN when one is not a number). */
export const sumInCents = (amounts: readonly number[]): number =>
  amounts.reduce((total, amount) => total + toCents(amount), 0);

/**
 * `amount` in cents when it is a whole number of them that adds up exactly (at most 2^53 cents), else null: an amount
 * of fractions of a cent, or too large to count, is no amount the hub counts.
 */
export const exactCents = (amount: number): number | null => {
  const cents = toCents(amount);
  return isWholeCents(amount) && Number.isSafeInteger(cents) ? cents : null;
};

/** The fewest whole cents that reach `amount`: its cents when it is whole cents, else the next cent up. */
export const centsReaching = (amount: number): number => {
  const cents = toCents(amount);
  return fromCents(cents) >= amount ? cents : cents + 1;
};
