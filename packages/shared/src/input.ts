// Checking operators' input in plain domain functions: a problem names the input field at fault, and `checked` turns
// it into the GraphQL error clients see (BAD_USER_INPUT, or the problem's own stable code, with `extensions.field`),
// so domain code stays GraphQL-free.
import { ErrorCode, hubError } from './errors';

export class InputProblem extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** A code of its own when clients must tell this problem apart (e.g. SMS_TOO_LONG); else BAD_USER_INPUT. */
    readonly code: ErrorCode = ErrorCode.BAD_USER_INPUT,
    /** What the client needs besides the field, e.g. the segments an SMS would take. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Runs a check; an InputProblem becomes an error with its code, naming the field. */
export function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof InputProblem)
      throw hubError(error.code, error.message, { ...error.details, field: error.field });
    throw error;
  }
}

/** Half of a surrogate pair on its own: no character at all, which the database would store as U+FFFD instead. */
const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * Characters that change how the text around them reads without showing themselves: controls (but tab and line
 * breaks) and every format character (Unicode's Cf) — bidirectional overrides, embeddings and isolates, which reverse
 * what follows on screen (U+202E turns "8.88%" into "%88.8"), bidirectional marks, which can move a sign away from its
 * number (U+200F), and invisible spaces, soft hyphens and tag characters (U+200B, U+00AD, U+E0041) that make one title
 * look like another. Members and approvers would read something other than what is stored. ZWJ and ZWNJ stay: emoji
 * and scripts need them.
 */
const HIDDEN = /(?![\t\n\r\u200C\u200D])[\p{Cc}\p{Cf}]/u;

/** `value` as given, if it reads as stored: no half characters, none hidden (see HIDDEN). */
export function visibleText(value: string, field: string): string {
  if (LONE_SURROGATE.test(value))
    throw new InputProblem(field, `${field} has half a character (a lone UTF-16 surrogate)`);
  const hidden = HIDDEN.exec(value)?.[0];
  if (hidden !== undefined) {
    const codePoint = hidden.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
    throw new InputProblem(
      field,
      `${field} has a control or invisible formatting character (U+${codePoint})`,
    );
  }
  return value;
}

/** Trimmed text of 1 to `max` characters, none of them hidden (see HIDDEN). */
export function requiredText(value: string | null | undefined, field: string, max: number): string {
  const trimmed = (value ?? '').trim();
  if (trimmed.length === 0 || trimmed.length > max)
    throw new InputProblem(field, `${field} must be 1 to ${max} characters`);
  return visibleText(trimmed, field);
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

/** What may follow a link's host or start an app route: RFC 3986 path, query and fragment characters, no `\`. */
const URL_TAIL = "[A-Za-z0-9\\-._~!$&'()*+,;=:@%/?#]{0,500}";
/** An app route: one `/`, then anything but a second `/` or `\`, which browsers read as another host. */
const APP_ROUTE = new RegExp(`^/(?![/\\\\])${URL_TAIL}$`);
/** An https URL: a bare host name (no user, no port), then path, query or fragment. */
const HTTPS_LINK = new RegExp(`^https://([A-Za-z0-9.-]{1,253})(?:[/?#]${URL_TAIL})?$`);
/**
 * An https URL, as images and covers are given: a host (any, with a port if need be), then RFC 3986 characters only —
 * no quotes, angle brackets, spaces, controls or invisible characters, which a channel could paste into markup.
 */
export const HTTPS_URL = new RegExp(`^https://[A-Za-z0-9.-]{1,253}(?::[0-9]{1,5})?(?:[/?#]${URL_TAIL})?$`);

/**
 * Where a tap on a creative or a message may send a member: a route inside the app, or an https page on a host the bank
 * trusts. Anything else (`//evil.example`, `/\evil.example`, `javascript:`, another host) could send members to a
 * look-alike site from the bank's own page.
 */
export function checkLink(
  value: string | null | undefined,
  field: string,
  allowedHosts: ReadonlySet<string>,
): string {
  const host = value ? HTTPS_LINK.exec(value)?.[1]?.toLowerCase() : undefined;
  if (value && (APP_ROUTE.test(value) || (host !== undefined && allowedHosts.has(host)))) return value;
  const hosts = [...allowedHosts].join(', ');
  throw new InputProblem(
    field,
    `${field} must be an app route (/…)${hosts ? ` or an https URL on ${hosts}` : ''}`,
  );
}
