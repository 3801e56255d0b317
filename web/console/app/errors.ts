// What the console tells an operator when something fails: a sentence chosen by the error's code. Only messages the
// hub wrote for people (a refused input, a failed precondition) are shown, and never a stack or an address; a network
// failure or an unexpected error is named, not quoted.
import { CombinedGraphQLErrors } from '@apollo/client/errors';

export const UNAUTHENTICATED_NOTICE =
  'The hub refused your token: it has expired or was not issued for this hub. Log in again.';
export const OPERATORS_ONLY = 'Operators only: this needs a token with the operator scope.';

/** Sentences the hub writes for people may still quote an address; the console never shows one. */
const tidy = (message: string) =>
  message
    .split('\n')[0]!
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '…')
    .slice(0, 300);

export function explain(error: unknown): string {
  if (!CombinedGraphQLErrors.is(error))
    return 'The hub could not be reached, or answered something unexpected. Try again in a moment.';
  const first = error.errors[0];
  const code = String(first?.extensions?.code ?? '');
  switch (code) {
    case 'UNAUTHENTICATED':
      return UNAUTHENTICATED_NOTICE;
    case 'FORBIDDEN':
      return OPERATORS_ONLY;
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
