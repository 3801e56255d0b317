// What the console says for each way a request can fail (web/console/app/errors.ts): the hub's reason when it gave
// one — in a GraphQL answer or in the JSON body of an HTTP refusal — and a sentence by HTTP status when it did not.
import { CombinedGraphQLErrors, ServerError, ServerParseError } from '@apollo/client/errors';
import { codeOf, explain } from '../web/console/app/errors';

const refused = (code: string, message: string, extensions: Record<string, unknown> = {}) =>
  new CombinedGraphQLErrors({ data: null, errors: [{ message, extensions: { code, ...extensions } }] });

function http(status: number, bodyText: string, contentType = 'application/json'): ServerError {
  const response = new Response(bodyText, { status, headers: { 'content-type': contentType } });
  return new ServerError(`Response not successful: Received status code ${status}`, { response, bodyText });
}

describe('a refusal for a reason', () => {
  it('says why an operator may not do something, as the hub says it', () => {
    expect(explain(refused('FORBIDDEN', 'four eyes: the last editor cannot approve their own edit'))).toBe(
      'Not allowed: four eyes: the last editor cannot approve their own edit',
    );
    expect(explain(refused('FORBIDDEN', 'scope "builder" is required'))).toBe(
      'Not allowed: scope "builder" is required',
    );
  });

  it('still ends at "log in again" for a refused token', () => {
    expect(explain(refused('UNAUTHENTICATED', 'token has expired'))).toMatch(/^The hub refused your token/);
  });
});

describe('a refusal before GraphQL runs (an HTTP error status with the errors in a JSON body)', () => {
  it.each([
    [413, 'REQUEST_TOO_LARGE', 'the request body is too large'],
    [413, 'OPERATION_TOO_LARGE', 'operation document is larger than 20000 bytes'],
  ])('says a %i %s request is too large', (status, code, message) => {
    expect(explain(http(status, JSON.stringify({ errors: [{ message, extensions: { code } }] })))).toBe(
      'The hub refused the request as too large: make the rule or the text shorter.',
    );
  });

  it("quotes the gateway's reason for a request it cannot take", () => {
    const body = {
      errors: [{ message: 'operation depth 14 exceeds 12', extensions: { code: 'OPERATION_TOO_DEEP' } }],
    };
    expect(explain(http(400, JSON.stringify(body)))).toBe('operation depth 14 exceeds 12');
  });

  it('ends the way a GraphQL answer would for a refused token', () => {
    const body = { errors: [{ message: 'token has expired', extensions: { code: 'UNAUTHENTICATED' } }] };
    expect(explain(http(401, JSON.stringify(body)))).toMatch(/^The hub refused your token/);
  });
});

describe('a failure the hub did not explain', () => {
  it.each([
    [413, 'The hub refused the request as too large: make the rule or the text shorter.'],
    [
      400,
      'The hub refused the request (HTTP 400). Reload the console; if it keeps happening, tell the hub team.',
    ],
    [502, 'The hub answered with an error (HTTP 502). Try again in a moment.'],
  ])('names HTTP %i without quoting the page that came with it', (status, said) => {
    expect(explain(http(status, '<html><body>nginx at http://10.0.0.7</body></html>', 'text/html'))).toBe(
      said,
    );
  });

  it('names an answer that is not JSON', () => {
    const response = new Response('<html>', { status: 200 });
    const error = new ServerParseError(new SyntaxError('Unexpected token <'), {
      response,
      bodyText: '<html>',
    });
    expect(explain(error)).toBe('The hub answered something the console cannot read. Try again in a moment.');
  });

  it('says the hub could not be reached only when nothing answered', () => {
    expect(explain(new TypeError('Failed to fetch'))).toBe(
      'The hub could not be reached. Check the connection and try again in a moment.',
    );
  });
});

describe('the code shown beside the sentence', () => {
  it("is the hub's stable code, from a GraphQL answer or the JSON body of an HTTP refusal", () => {
    expect(codeOf(refused('CONFLICT', 'segment S is at version 2, not 1'))).toBe('CONFLICT');
    const body = { errors: [{ message: 'too large', extensions: { code: 'REQUEST_TOO_LARGE' } }] };
    expect(codeOf(http(413, JSON.stringify(body)))).toBe('REQUEST_TOO_LARGE');
  });

  it('is none when the hub named none, or named something that is not a code', () => {
    expect(codeOf(new TypeError('Failed to fetch'))).toBeNull();
    expect(codeOf(http(502, '<html>', 'text/html'))).toBeNull();
    expect(codeOf(new CombinedGraphQLErrors({ data: null, errors: [{ message: 'x' }] }))).toBeNull();
    expect(codeOf(refused('see http://10.0.0.7/trace', 'x'))).toBeNull();
  });
});
