// Checking operators' input in plain domain functions: a problem names the input field at fault, and `checked` turns
// it into the GraphQL error clients see (BAD_USER_INPUT with `extensions.field`), so domain code stays GraphQL-free.
import { badInput } from './errors';

export class InputProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs a check; an InputProblem becomes BAD_USER_INPUT naming the field. */
export function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputProblem) throw badInput(error.message, error.field);
    throw error;
  }
}

/** Trimmed text of 1 to `max` characters. */
export function requiredText(value: string | null | undefined, field: string, max: number): string {
  const trimmed = (value ?? '').trim();
  if (trimmed.length === 0 || trimmed.length > max)
    throw new InputProblem(field, `${field} must be 1 to ${max} characters`);
  return trimmed;
}

/** Trimmed text of at most `max` characters, or null when empty. */
export function optionalText(value: string | null | undefined, field: string, max: number): string | null {
  return value === null || value === undefined || value.trim() === ''
    ? null
    : requiredText(value, field, max);
}

/** A value matching `pattern`; `what` says what it must be. */
export function matching(
  value: string | null | undefined,
  pattern: RegExp,
  field: string,
  what: string,
): string {
  if (!value || !pattern.test(value)) throw new InputProblem(field, `${field} must be ${what}`);
  return value;
}

/** A whole number from `min` to `max`. */
export function wholeNumber(value: number, field: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new InputProblem(field, `${field} must be a whole number from ${min} to ${max}`);
  return value;
}

/** An https URL, as images and covers are given. */
export const HTTPS_URL = /^https:\/\/\S{1,500}$/;
