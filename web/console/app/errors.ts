// What the console tells an operator when something fails: a sentence chosen by the error's code. Only messages the
// hub wrote for people (a refused input, a failed precondition, a refusal and its reason) are shown, and never a stack
// or an address; a network failure or an unexpected error is named, not quoted.
import { CombinedGraphQLErrors, ServerError, ServerParseError } from '@apollo/client/errors';

export const UNAUTHENTICATED_NOTICE =
  'The hub refused your token: it has expired or was not issued for this hub. Log in again.';
const TOO_LARGE = 'The hub refused the request as too large: make the rule or the text shorter.';

/** An error as the hub writes it: a message for people and a stable code. */
interface HubError {
  message?: unknown;
  extensions?: Record<string, unknown>;
}

/**
 * The errors the hub answered with: a GraphQL response's, or those of a refusal the gateway sends before GraphQL runs
 * (a body too large, a request it cannot read) with an HTTP error status and a JSON body, which Apollo Client reports
 * as a ServerError. Null when the hub did not say.
 */
export function hubErrors(error: unknown): readonly HubError[] | null {
  if (CombinedGraphQLErrors.is(error)) return error.errors;
  if (!ServerError.is(error)) return null;
  try {
    const body = JSON.parse(error.bodyText) as { errors?: unknown } | null;
    return Array.isArray(body?.errors) && body.errors.length > 0 ? (body.errors as HubError[]) : null;
  } catch {
    return null;
  }
}

/** Sentences the hub writes for people may still quote an address; the console never shows one. */
const tidy = (message: unknown) =>
  String(message ?? '')
    .split('\n')[0]!
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '…')
    .slice(0, 300);

/** An answer with no errors the console can read (a proxy's page, say), by its HTTP status. */
function httpFailure(status: number): string {
  if (status < 300) return 'The hub answered something the console cannot read. Try again in a moment.';
  if (status === 413) return TOO_LARGE;
  if (status < 500)
    return `The hub refused the request (HTTP ${status}). Reload the console; if it keeps happening, tell the hub team.`;
  return `The hub answered with an error (HTTP ${status}). Try again in a moment.`;
}

/**
 * The hub's stable code for a failure (`extensions.code`, as the README's table of errors lists it), shown beside the
 * sentence so support staff can look it up; null when the hub named none, or named something not shaped as a code.
 */
export function codeOf(error: unknown): string | null {
  const code = hubErrors(error)?.[0]?.extensions?.code;
  return typeof code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(code) ? code : null;
}

export function explain(error: unknown): string {
  const errors = hubErrors(error);
  if (!errors) {
    if (ServerError.is(error) || ServerParseError.is(error)) return httpFailure(error.statusCode);
    return 'The hub could not be reached. Check the connection and try again in a moment.';
  }
  const first = errors[0];
  const code = String(first?.extensions?.code ?? '');
  switch (code) {
    case 'UNAUTHENTICATED':
      return UNAUTHENTICATED_NOTICE;
    // Refused for a reason the hub names: a scope the token lacks, or four eyes on a change one edited.
    case 'FORBIDDEN':
      return first?.message ? `Not allowed: ${tidy(first.message)}` : 'Not allowed.';
    case 'REQUEST_TOO_LARGE':
    case 'OPERATION_TOO_LARGE':
      return TOO_LARGE;
    case 'SERVICE_UNAVAILABLE':
      return `Part of the hub (${String(first?.extensions?.serviceName ?? 'a service')}) is unavailable. Try again in a moment.`;
    case 'INTERNAL_SERVER_ERROR':
    case '':
      return 'Something went wrong in the hub. Try again; if it keeps failing, tell the hub team.';
    default: {
      const field = first?.extensions?.field;
      return `${tidy(first?.message ?? code)}${typeof field === 'string' ? ` (${field})` : ''}`;
    }
  }
}
