// Every root field of the graph, called through the gateway with hostile values in each argument in turn, as an
// operator holding every scope, as a member and as a guest, and the arguments of the fields below the root likewise: each answer is data or a client error with a stable code
// (never INTERNAL_SERVER_ERROR, an error without a code, a 5xx or a body that is not JSON), in time, and the hub logs no
// error meanwhile. The cases come from the schema (test/support/fuzz.ts), so an argument added tomorrow is covered.
// HUB_FUZZ=full runs every hostile value instead of the sharpest few (about 34,000 requests, three minutes).
import { buildClientSchema, getIntrospectionQuery, type GraphQLSchema } from 'graphql';
import type { RunningHub } from '../scripts/hub';
import {
  bodyOf,
  fuzzCases,
  idsIn,
  needsArguments,
  nestedFuzzCases,
  selectionOf,
  type FuzzCase,
  type FuzzDepth,
} from './support/fuzz';
import { startTestHub, stopTestHub } from './support/hub';
import { bearer, capturingLogger, clientToken, graphql } from './support/env';

const depth: FuzzDepth = process.env.HUB_FUZZ === 'full' ? 'full' : 'lean';
/** Longer than any refusal may take: a resolver that stalls on a value is a finding too. */
const SLOW_MS = 3_000;
const log = capturingLogger('test', 'warn');
let hub: RunningHub;
let schema: GraphQLSchema;
let callers: Record<'operator' | 'member' | 'guest', Record<string, string>>;

beforeAll(async () => {
  hub = await startTestHub('graph-fuzz', { logger: log.logger });
  const operator = bearer(await clientToken('OP-FUZZ', 'operator pii:read builder audit'));
  callers = {
    operator,
    member: bearer(await clientToken('M0001', 'member')),
    guest: { 'x-device-id': 'device-fuzz-0001' },
  };
  const introspection = await graphql(hub.gatewayUrl, getIntrospectionQuery(), {}, operator);
  schema = buildClientSchema(introspection.data as never);
}, 120_000);
afterAll(() => stopTestHub(hub));

/** What is wrong with the answer to one case, or null. */
async function send(headers: Record<string, string>, fuzz: FuzzCase): Promise<string | null> {
  const started = performance.now();
  const response = await fetch(hub.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: bodyOf(fuzz.document, fuzz.variables),
  });
  const text = await response.text();
  const elapsed = performance.now() - started;
  if (elapsed > SLOW_MS) return `answered after ${Math.round(elapsed)} ms`;
  if (response.status >= 500) return `status ${response.status}: ${text.slice(0, 300)}`;
  let errors: { extensions?: { code?: unknown } }[];
  try {
    errors = (JSON.parse(text) as { errors?: typeof errors }).errors ?? [];
  } catch {
    return `not JSON: ${text.slice(0, 300)}`;
  }
  const uncoded = errors.filter(
    (error) =>
      typeof error.extensions?.code !== 'string' || error.extensions.code === 'INTERNAL_SERVER_ERROR',
  );
  return uncoded.length > 0 ? `errors ${JSON.stringify(uncoded).slice(0, 300)}` : null;
}

/** Sends every case as the caller, a few at a time, and lists what came back wrong. */
async function sweep(headers: Record<string, string>, cases: FuzzCase[]): Promise<string[]> {
  const findings: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fuzz = cases[next++]!;
      const finding = await send(headers, fuzz);
      if (finding) findings.push(`${fuzz.operation}, ${fuzz.argument} = ${preview(fuzz)}: ${finding}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
  return findings;
}

function preview(fuzz: FuzzCase): string {
  const text = JSON.stringify(fuzz.variables[fuzz.argument]) ?? 'undefined';
  return text.length > 60 ? `${text.slice(0, 60)}… (${text.length} characters)` : text;
}

/** Ids, codes and keys of what the seeded hub holds, read by every query an operator can call without arguments. */
async function seededIds(): Promise<string[]> {
  const found = new Set<string>();
  for (const field of Object.values(schema.getQueryType()!.getFields())) {
    if (needsArguments(field)) continue;
    const answer = await graphql(
      hub.gatewayUrl,
      `query { ${field.name} ${selectionOf(field.type, 2)} }`,
      {},
      callers.operator,
    );
    idsIn(answer.data, found);
  }
  return [...found].sort();
}

describe('every root field, every argument hostile in turn', () => {
  it('is answered with data or a client error with a code, in time, as an operator', async () => {
    const ids = await seededIds();
    // A lean run names four of the seed's 200-odd ids, spread over what the hub holds; a full run each of them.
    const named =
      depth === 'full' ? ids : ids.filter((_id, index) => index % Math.ceil(ids.length / 4) === 0);
    const cases = fuzzCases(schema, depth, named);
    // The seed's members and pages were found, so resolvers are called with what exists, not only NOT_FOUND.
    expect(ids).toEqual(expect.arrayContaining(['M0001', 'home']));
    expect(await sweep(callers.operator, cases)).toEqual([]);
  }, 900_000);

  it.each(['member', 'guest'] as const)(
    'is answered the same way to a %s',
    async (caller) => {
      // Most of what they may not call is refused before its arguments are read: a lean run sends each field plainly.
      const cases = fuzzCases(schema, depth, []).filter(
        (fuzz) => depth === 'full' || fuzz.argument === '(plain)',
      );
      expect(await sweep(callers[caller], cases)).toEqual([]);
    },
    900_000,
  );

  it('reaches the arguments of fields below the root too, as an operator and as the member', async () => {
    // A member's own fields (inbox, claims, ledger, page) are reached through viewer, an operator's through the lists.
    const cases = nestedFuzzCases(schema, depth);
    expect(cases.map((fuzz) => fuzz.operation)).toEqual(
      expect.arrayContaining(['Member.inbox', 'Member.page', 'Campaign.messages', 'Creative.stats']),
    );
    expect([...(await sweep(callers.operator, cases)), ...(await sweep(callers.member, cases))]).toEqual([]);
  }, 900_000);

  it('left no error in the hub’s log', () => {
    const errors = log.lines().filter((line) => (line.level as number) >= 50);
    expect(errors).toEqual([]);
  });
});
