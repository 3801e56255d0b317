// Every root field of the graph, called through the gateway with hostile values in each argument in turn by an operator
// holding every scope, and the arguments of the fields below the root likewise: each answer is data or a client error
// with a stable code (never INTERNAL_SERVER_ERROR, an error without a code, a 5xx or a body that is not JSON), in time,
// and the hub logs no error meanwhile. Each field is also called plainly by every kind of caller; whom it refuses, and
// which fields of their own viewer a member and a guest are refused, must be what test/access-matrix.json says, and a
// field refused below the root must cost that field alone (be nullable), never the list or the viewer holding it. A
// field added open to everyone, or a change to who may call one, shows in review as a change to that file
// (HUB_ACCESS_MATRIX=update rewrites it). The cases come from the schema (test/support/fuzz.ts), so an argument added
// tomorrow is covered. HUB_FUZZ=full runs every hostile value instead of the sharpest few, as the member and the guest
// too (about 34,000 requests, three minutes).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildClientSchema, getIntrospectionQuery, isObjectType, type GraphQLSchema } from 'graphql';
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
/** Every kind of caller: the access matrix's columns. `operator` holds that scope alone. */
const CALLERS = ['anonymous', 'guest', 'member', 'builder', 'audit', 'federation', 'operator'] as const;
type Caller = (typeof CALLERS)[number];
let callers: Record<Caller, Record<string, string>>;
/** An operator holding every scope a client token may carry: the hostile sweep reaches every resolver's checks. */
let everyScope: Record<string, string>;
const MATRIX_PATH = path.join(__dirname, 'access-matrix.json');
/** What the tests below saw, compared with the matrix last: whom each root field lets through, what the viewer hides. */
const observed: Record<string, string[]> = {};

beforeAll(async () => {
  hub = await startTestHub('graph-fuzz', { logger: log.logger });
  everyScope = bearer(await clientToken('OP-FUZZ', 'operator pii:read builder audit'));
  const token = async (subject: string, scope: string) => bearer(await clientToken(subject, scope));
  callers = {
    anonymous: {},
    guest: { 'x-device-id': 'device-fuzz-0001' },
    member: await token('M0001', 'member'),
    builder: await token('builder.fuzz', 'builder'),
    audit: await token('audit.fuzz', 'audit'),
    federation: await token('participant.fuzz', 'federation'),
    operator: await token('ops.fuzz', 'operator'),
  };
  const introspection = await graphql(hub.gatewayUrl, getIntrospectionQuery(), {}, everyScope);
  schema = buildClientSchema(introspection.data as never);
}, 120_000);
afterAll(() => stopTestHub(hub));

/**
 * The matrix as prettier writes it (its API cannot run inside jest), so that a change to who may call a field is a
 * one-line diff: an entry on one line when it fits in the print width, else an item a line.
 */
function matrixText(matrix: Record<string, string[]>): string {
  const entries = Object.entries(matrix).map(([key, values], index, all) => {
    const comma = index < all.length - 1 ? ',' : '';
    const line = `  ${JSON.stringify(key)}: [${values.map((value) => JSON.stringify(value)).join(', ')}]${comma}`;
    if (line.length <= PRINT_WIDTH) return line;
    const items = values.map((value) => `    ${JSON.stringify(value)}`).join(',\n');
    return `  ${JSON.stringify(key)}: [\n${items}\n  ]${comma}`;
  });
  return `{\n${entries.join('\n')}\n}\n`;
}
const PRINT_WIDTH = (
  JSON.parse(readFileSync(path.join(__dirname, '..', '.prettierrc.json'), 'utf8')) as { printWidth: number }
).printWidth;

interface Answer {
  /** What is wrong with the answer, or null. */
  finding: string | null;
  /** Whether the field itself refused the caller (UNAUTHENTICATED or FORBIDDEN on its own path). */
  refused: boolean;
}

async function send(headers: Record<string, string>, fuzz: FuzzCase): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(hub.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: bodyOf(fuzz.document, fuzz.variables),
  });
  const text = await response.text();
  const elapsed = performance.now() - started;
  const wrong = (finding: string): Answer => ({ finding, refused: false });
  if (elapsed > SLOW_MS) return wrong(`answered after ${Math.round(elapsed)} ms`);
  if (response.status >= 500) return wrong(`status ${response.status}: ${text.slice(0, 300)}`);
  let body: GraphQLAnswer;
  try {
    body = JSON.parse(text) as GraphQLAnswer;
  } catch {
    return wrong(`not JSON: ${text.slice(0, 300)}`);
  }
  const errors = body.errors ?? [];
  const uncoded = errors.filter(
    (error) =>
      typeof error.extensions?.code !== 'string' || error.extensions.code === 'INTERNAL_SERVER_ERROR',
  );
  if (uncoded.length > 0) return wrong(`errors ${JSON.stringify(uncoded).slice(0, 300)}`);
  const costly = refusalsThatCostTheirParent(body);
  if (costly.length > 0) return wrong(`refusing ${costly.join(', ')} lost what holds it`);
  return {
    finding: null,
    refused: errors.some((error) => (error.path?.length ?? 0) <= 1 && isRefusal(error)),
  };
}

interface GraphQLAnswer {
  data?: unknown;
  errors?: { path?: (string | number)[]; extensions?: { code?: unknown } }[];
}

const isRefusal = (error: NonNullable<GraphQLAnswer['errors']>[number]) =>
  error.extensions?.code === 'UNAUTHENTICATED' || error.extensions?.code === 'FORBIDDEN';

/**
 * The paths of fields refused below the root whose refusal also nulled the object holding them: a field a caller may
 * not read must be nullable, so that refusing it costs that field alone, not the list or the viewer it sits in.
 */
function refusalsThatCostTheirParent(answer: GraphQLAnswer): string[] {
  return (answer.errors ?? [])
    .filter((error) => isRefusal(error) && (error.path?.length ?? 0) > 1)
    .filter((error) => (valueAt(answer.data, error.path!.slice(0, -1)) ?? null) === null)
    .map((error) => error.path!.join('.'));
}

/** The value at `path` in a query's data: undefined past a null. */
const valueAt = (data: unknown, path: readonly (string | number)[]): unknown =>
  path.reduce<unknown>((value, step) => (value as Record<string | number, unknown> | null)?.[step], data);

/** Sends every case as the caller, a few at a time, and lists what came back wrong; `answered` hears each answer. */
async function sweep(
  headers: Record<string, string>,
  cases: FuzzCase[],
  answered: (fuzz: FuzzCase, answer: Answer) => void = () => undefined,
): Promise<string[]> {
  const findings: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fuzz = cases[next++]!;
      const answer = await send(headers, fuzz);
      answered(fuzz, answer);
      if (answer.finding)
        findings.push(`${fuzz.operation}, ${fuzz.argument} = ${preview(fuzz)}: ${answer.finding}`);
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
      everyScope,
    );
    idsIn(answer.data, found);
  }
  return [...found].sort();
}

describe('every field of the graph, every argument hostile in turn', () => {
  it('is answered with data or a client error with a code, in time, as an operator', async () => {
    const ids = await seededIds();
    // A lean run names four of the seed's 200-odd ids, spread over what the hub holds; a full run each of them.
    const named =
      depth === 'full' ? ids : ids.filter((_id, index) => index % Math.ceil(ids.length / 4) === 0);
    const cases = fuzzCases(schema, depth, named);
    // The seed's members and pages were found, so resolvers are called with what exists, not only NOT_FOUND.
    expect(ids).toEqual(expect.arrayContaining(['M0001', 'home']));
    expect(await sweep(everyScope, cases)).toEqual([]);
  }, 900_000);

  it('answers every kind of caller of each root field with data or a coded error, refusing some', async () => {
    const findings: string[] = [];
    for (const caller of CALLERS) {
      // A full run also sends a member and a guest, the callers a channel holds, every hostile value.
      const cases = fuzzCases(schema, depth, []).filter(
        (fuzz) =>
          fuzz.argument === '(plain)' || (depth === 'full' && (caller === 'member' || caller === 'guest')),
      );
      // Callers are asked in CALLERS' order, so each field's list of those it let through keeps that order.
      const record = (fuzz: FuzzCase, answer: Answer) => {
        if (fuzz.argument !== '(plain)') return;
        observed[fuzz.operation] ??= [];
        if (!answer.refused) observed[fuzz.operation]!.push(caller);
      };
      findings.push(
        ...(await sweep(callers[caller], cases, record)).map((finding) => `${caller}: ${finding}`),
      );
    }
    expect(findings).toEqual([]);
  }, 900_000);

  it.each(['member', 'guest'] as const)(
    'gives a %s every field of their own viewer but those the matrix lists, refused on their own paths',
    async (caller) => {
      // Each field of the member three levels down, and their home page: all a channel could ask of its own user.
      const member = schema.getType('Member');
      if (!isObjectType(member)) throw new Error('the graph has no Member');
      const selections = [
        ...Object.values(member.getFields())
          .filter((field) => !needsArguments(field))
          .map((field) => `${field.name} ${selectionOf(field.type, 3)}`),
        `page(channel: APP, key: "home") ${selectionOf(schema.getType('Page') as never, 4)}`,
      ];
      const refused = new Set<string>();
      for (const selection of selections) {
        const document = `{ viewer { id ${selection} } }`;
        const response = await graphql(hub.gatewayUrl, document, {}, callers[caller]);
        expect({ selection, id: response.data?.viewer?.id }).toEqual({ selection, id: expect.any(String) });
        expect({ selection, costly: refusalsThatCostTheirParent(response) }).toEqual({
          selection,
          costly: [],
        });
        for (const error of response.errors ?? []) {
          expect({ selection, code: error.extensions?.code }).toEqual({
            selection,
            code: expect.stringMatching(/^(FORBIDDEN|UNAUTHENTICATED)$/),
          });
          refused.add((error.path ?? []).filter((step) => typeof step === 'string').join('.'));
        }
      }
      observed[`viewer: fields refused to a ${caller}`] = [...refused].sort();
    },
  );

  it('saw what test/access-matrix.json says', async () => {
    const sorted = Object.fromEntries(
      Object.keys(observed)
        .sort()
        .map((key) => [key, observed[key]!]),
    );
    if (process.env.HUB_ACCESS_MATRIX === 'update') writeFileSync(MATRIX_PATH, matrixText(sorted));
    expect(sorted).toEqual(JSON.parse(readFileSync(MATRIX_PATH, 'utf8')));
  });

  it('reaches the arguments of fields below the root too, as an operator and as the member', async () => {
    // A member's own fields (inbox, claims, ledger, page) are reached through viewer, an operator's through the lists.
    const cases = nestedFuzzCases(schema, depth);
    expect(cases.map((fuzz) => fuzz.operation)).toEqual(
      expect.arrayContaining(['Member.inbox', 'Member.page', 'Campaign.messages', 'Creative.stats']),
    );
    expect([...(await sweep(everyScope, cases)), ...(await sweep(callers.member, cases))]).toEqual([]);
  }, 900_000);

  it('left no error in the hub’s log', () => {
    const errors = log.lines().filter((line) => (line.level as number) >= 50);
    expect(errors).toEqual([]);
  });
});
