// What a hostile client sends, through the gateway: each class of bad input is answered fast, with a status and a
// stable code, leaves stored data as it was, and is logged as one line with its request id — never with the body or a
// stack.
import { createHash } from 'node:crypto';
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import {
  buildClientSchema,
  getIntrospectionQuery,
  parse,
  specifiedRules,
  validate,
  type GraphQLSchema,
  type IntrospectionQuery,
  type ValidationRule,
} from 'graphql';
import { evaluate, parseRule, type Rule } from '@bank-hub/targeting';
import { operationGuards } from '../gateway/src/guards';
import { loadPersistedDocuments } from '../gateway/src/persisted-documents';
import type { RunningHub } from '../scripts/hub';
import { targetProfileOf } from '../subgraphs/members/src/domain/segments';
import type { MemberDoc } from '../subgraphs/members/src/models/member';
import { capturingLogger, graphql, testConfig, type GraphQLResponse } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { storedState, type StoredState } from './support/stored';

let hub: RunningHub;
let log: ReturnType<typeof capturingLogger>;
let before: StoredState;

beforeAll(async () => {
  log = capturingLogger();
  hub = await startTestHub('hostile', { logger: log.logger });
  before = await storedState(hub.connections);
});

afterAll(async () => {
  // Nothing any test here sent may have changed what is stored.
  expect(await storedState(hub.connections)).toEqual(before);
  await stopTestHub(hub);
});

/** Well under a second, on a machine shared with the rest of the suite. */
const FAST_MS = 800;

interface RawAnswer {
  status: number;
  body: GraphQLResponse;
  ms: number;
  requestId: string | null;
}

async function send(body: string, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const started = performance.now();
  const response = await fetch(hub.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: JSON.parse(text) as GraphQLResponse,
    ms: performance.now() - started,
    requestId: response.headers.get('x-request-id'),
  };
}

const codesOf = (answer: RawAnswer) => (answer.body.errors ?? []).map((error) => error.extensions?.code);

const now = () => Math.floor(Date.now() / 1000);

/** A client token with exactly the time claims given (absent when undefined), signed as the gateway expects. */
function signedToken(subject: string, scope: string, times: { iat?: number; exp?: number }): Promise<string> {
  const jwt = new SignJWT({ scope })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(testConfig.JWT_ISSUER)
    .setAudience(testConfig.JWT_AUDIENCE);
  if (times.iat !== undefined) jwt.setIssuedAt(times.iat);
  if (times.exp !== undefined) jwt.setExpirationTime(times.exp);
  return jwt.sign(new TextEncoder().encode(testConfig.JWT_SECRET));
}

describe('the operation guard', () => {
  it('rejects a doubling fragment chain of depth 30 quickly, its cost linear in the document', async () => {
    const depth = 30;
    const fragments = Array.from(
      { length: depth },
      (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    );
    const document = `query { ...F0 } ${fragments.join(' ')} fragment F${depth} on Query { viewer { id } }`;
    expect(document.length).toBeLessThan(2_000);
    const answer = await send(JSON.stringify({ query: document }));
    expect(answer.status).toBe(400);
    expect(codesOf(answer)).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(answer.ms).toBeLessThan(FAST_MS);
  });

  it('refuses 1,500 inline fragments nested in one another (no depth, but deep enough to overflow the planner)', async () => {
    const levels = 1_500;
    const document = `{${'...on Query{'.repeat(levels)}__typename${'}'.repeat(levels)}}`;
    expect(document.length).toBeLessThan(testConfig.MAX_DOCUMENT_BYTES);
    const answer = await send(JSON.stringify({ query: document }));
    expect({ status: answer.status, codes: codesOf(answer) }).toEqual({
      status: 400,
      codes: ['OPERATION_TOO_DEEP'],
    });
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ nesting: levels, limit: 64 });
    expect(answer.ms).toBeLessThan(FAST_MS);
  });

  it('counts aliases of introspection: 700 aliases of __schema are refused', async () => {
    const aliases = Array.from({ length: 700 }, (_, i) => `a${i.toString(36)}:__schema{description}`).join(
      ' ',
    );
    const answer = await send(JSON.stringify({ query: `{${aliases}}` }));
    expect(answer.status).toBe(400);
    expect(codesOf(answer)).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ aliases: 700, limit: 30 });
    expect(answer.ms).toBeLessThan(FAST_MS);
  });

  it('counts fields of introspection against the field limit', async () => {
    // Repeating a field is legal GraphQL; every occurrence is work the server does.
    const repeated = Array.from({ length: 600 }, () => 'name').join(' ');
    const answer = await send(JSON.stringify({ query: `{ __type(name: "Member") { ${repeated} } }` }));
    expect(codesOf(answer)).toEqual(['OPERATION_TOO_COMPLEX']);
    expect(answer.body.errors?.[0]?.extensions).toMatchObject({ fields: 601, limit: 500 });
  });

  it('refuses introspection that nests lists of types level after level', async () => {
    const answer = await send(
      JSON.stringify({
        query: '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
      }),
    );
    expect(answer.status).toBe(400);
    expect(codesOf(answer)[0]).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(answer.ms).toBeLessThan(FAST_MS);
  });

  it('still answers the standard introspection query that Sandbox and GraphiQL send', async () => {
    const { getIntrospectionQuery } = await import('graphql');
    const response = await graphql(
      hub.gatewayUrl,
      getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, inputValueDeprecation: true }),
    );
    expect(response.errors).toBeUndefined();
    expect(response.data?.__schema.queryType.name).toBe('Query');
  });

  it('answers a document the query planner cannot handle as a validation failure, not an internal error', async () => {
    const response = await graphql(hub.gatewayUrl, '{ __schema { types { isOneOf } } }');
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
  });

  it.each([
    [
      'an operation name the document does not define',
      { query: 'query A { __typename }', operationName: 'B' },
    ],
    ['two operations and no operation name', { query: 'query A { __typename } query B { __typename }' }],
    ['a subscription, which the graph has none of', { query: 'subscription { __typename }' }],
    ['introspection the query planner cannot plan', { query: '{ __schema { types { isOneOf } } }' }],
  ])('answers %s with 400, not as a failure of the gateway (500)', async (_name, body) => {
    const answer = await send(JSON.stringify(body));
    expect({ status: answer.status, codes: codesOf(answer) }).toEqual({
      status: 400,
      codes: ['GRAPHQL_VALIDATION_FAILED'],
    });
    expect(answer.ms).toBeLessThan(FAST_MS);
  });
});

describe('documents that would stall validation', () => {
  /** `head`, then as many `unit`s as keep the document within MAX_DOCUMENT_BYTES, then `tail`. */
  function filled(head: string, unit: (i: number) => string, tail: string): string {
    const units: string[] = [];
    let bytes = head.length + tail.length + 16; // room for the comment that makes each copy sent unique
    for (let i = 0; bytes + unit(i).length + 1 <= testConfig.MAX_DOCUMENT_BYTES; i++) {
      units.push(unit(i));
      bytes += unit(i).length + 1;
    }
    return `${head}${units.join(' ')}${tail}`;
  }
  const name = (i: number) => i.toString(36);
  const fragments = (count: number, on: string, body: string) =>
    Array.from({ length: count }, (_, i) => `fragment F${name(i)} on ${on}{${body}}`).join(' ');
  const spreads = (count: number) => Array.from({ length: count }, (_, i) => `...F${name(i)}`).join(' ');

  // The costliest documents found within 20 KB: graphql-js compares same-named fields and the fragments spread in a
  // selection set pair by pair, in every operation and fragment definition, spread or not.
  const hostile: [string, { query: string; operationName?: string }, string][] = [
    [
      'the same field over and over',
      { query: filled('{', () => 'viewer{id}', '}') },
      'OPERATION_TOO_COMPLEX',
    ],
    ['one alias over and over', { query: filled('{', () => 'a:viewer{id}', '}') }, 'OPERATION_TOO_COMPLEX'],
    ['__typename over and over', { query: filled('{', () => '__typename', '}') }, 'OPERATION_TOO_COMPLEX'],
    [
      'hundreds of fragments spread side by side',
      { query: `{viewer{${spreads(420)}}} ${fragments(420, 'Member', 'id')}` },
      'OPERATION_TOO_COMPLEX',
    ],
    [
      'a fragment no operation spreads',
      { query: filled('{__typename} fragment U on Query{', () => 'viewer{id}', '}') },
      'OPERATION_TOO_COMPLEX',
    ],
    [
      'many operations besides the one run',
      {
        query: Array.from({ length: 20 }, (_, i) => `query Q${i}{${'__typename '.repeat(85)}}`).join(' '),
        operationName: 'Q0',
      },
      'OPERATION_TOO_COMPLEX',
    ],
    [
      'inline fragments nested 1,500 deep',
      { query: `{${'...on Query{'.repeat(1_500)}__typename${'}'.repeat(1_500)}}` },
      'OPERATION_TOO_DEEP',
    ],
  ];

  /** How many errors of each guard's code the gateway's /metrics has counted. */
  async function refusalsCounted(): Promise<{ deep: number; complex: number }> {
    const text = await (await fetch(hub.gatewayUrl.replace(/\/graphql$/, '/metrics'))).text();
    const counted = (code: string) =>
      Number(
        new RegExp(`^hub_graphql_errors_total\\{[^}]*code="${code}"[^}]*\\} (\\d+)$`, 'm').exec(text)?.[1] ??
          0,
      );
    return { deep: counted('OPERATION_TOO_DEEP'), complex: counted('OPERATION_TOO_COMPLEX') };
  }

  let schema: GraphQLSchema;
  beforeAll(async () => {
    const response = await graphql(hub.gatewayUrl, getIntrospectionQuery());
    schema = buildClientSchema(response.data as IntrospectionQuery);
  });

  it('are refused with the guards’ codes before validation runs', async () => {
    let copy = 0;
    const answers: { name: string; status: number; codes: unknown[] }[] = [];
    const before = await refusalsCounted();
    for (const [name, body] of hostile) {
      expect(Buffer.byteLength(body.query)).toBeLessThanOrEqual(testConfig.MAX_DOCUMENT_BYTES);
      // Twice each, every copy new to the document store, which keeps documents that passed validation.
      for (let i = 0; i < 2; i++) {
        const answer = await send(JSON.stringify({ ...body, query: `${body.query}\n#${copy++}` }));
        answers.push({ name, status: answer.status, codes: codesOf(answer) });
      }
    }
    // Only the guards' refusal: validation's own rules would have added errors of theirs (a fragment nobody spreads)
    // had they walked the document.
    expect(answers).toEqual(
      hostile.flatMap(([name, , code]) => [0, 1].map(() => ({ name, status: 400, codes: [code] }))),
    );
    // Apollo Server's request hooks saw each refusal: the gateway's metrics count them by code.
    const after = await refusalsCounted();
    expect({
      deep: after.deep - before.deep,
      complex: after.complex - before.complex,
    }).toEqual({ deep: 2, complex: 2 * (hostile.length - 1) });
  });

  it('leave the rules that would stall on them no selection to visit', () => {
    // The rules as Apollo Server runs them (graphql-js's, then the gateway's), and one more that counts what it sees:
    // all walk the document together, so what the last one never sees, the costly comparisons never saw either.
    const guards = operationGuards({
      maxDepth: testConfig.MAX_QUERY_DEPTH,
      maxAliases: testConfig.MAX_QUERY_ALIASES,
      maxFields: testConfig.MAX_QUERY_FIELDS,
    });
    for (const [name, body, code] of hostile) {
      let visited = 0;
      const counting: ValidationRule = () => ({
        SelectionSet() {
          visited += 1;
        },
      });
      const errors = validate(schema, parse(body.query), [...specifiedRules, guards, counting]);
      expect({ name, codes: errors.map((error) => error.extensions.code), visited }).toEqual({
        name,
        codes: [code],
        visited: 0,
      });
    }
  });

  it('still lets the channels’ Home document through', async () => {
    const home = loadPersistedDocuments().operations.find((operation) => operation.name === 'Home')!;
    const response = await graphql(hub.gatewayUrl, home.body);
    expect(response.errors).toBeUndefined();
    expect(response.data?.viewer).toBeNull();
  });
});

describe('bad bodies', () => {
  const PHONE = '13800001234';

  it.each([
    ['malformed JSON', `{"query": "{ viewer { id } }", "phone": "${PHONE}"`, {}, 400, 'BAD_REQUEST'],
    [
      'a body over the limit',
      JSON.stringify({ query: '{ __typename }', pad: PHONE.repeat(30_000) }),
      {},
      413,
      'REQUEST_TOO_LARGE',
    ],
    [
      'a wrong content type',
      `{"query": "{ __typename }", "phone": "${PHONE}"}`,
      { 'content-type': 'text/plain' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['a batch (an array)', `[{"query": "{ __typename }"}]`, {}, 400, 'BAD_REQUEST'],
    ['a query that is not a string', `{"query": 5}`, {}, 400, 'BAD_REQUEST'],
  ] as const)(
    'answers %s with JSON, a status and a code, and logs one quiet line',
    async (_name, body, headers, status, code) => {
      const requestId = `hostile-${code.toLowerCase()}-${Math.random().toString(36).slice(2, 10)}`;
      const answer = await send(body, { ...headers, 'x-request-id': requestId });
      expect(answer.status).toBe(status);
      expect(codesOf(answer)).toEqual([code]);
      expect(answer.requestId).toBe(requestId);
      expect(answer.ms).toBeLessThan(FAST_MS);
      expect(JSON.stringify(answer.body)).not.toMatch(/at |node_modules|\/work\//);
      const lines = log.lines().filter((line) => line.requestId === requestId);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ status });
      for (const line of lines) {
        expect(JSON.stringify(line)).not.toContain(PHONE);
        expect(JSON.stringify(line)).not.toContain('stack');
      }
    },
  );

  it('never writes a request body or a stack to the log', () => {
    const all = JSON.stringify(log.lines());
    expect(all).not.toContain(PHONE);
    expect(all).not.toMatch(/"stack"/);
  });
});

describe('requests Node cannot read as HTTP', () => {
  /** Sends bytes as they are, and reads the status line, the request id and the body of the answer. */
  async function sendRaw(request: string) {
    const { port } = new URL(hub.gatewayUrl);
    const socket = connect(Number(port), '127.0.0.1');
    socket.end(request);
    let raw = '';
    for await (const chunk of socket) raw += String(chunk);
    const [head = '', body = ''] = raw.split('\r\n\r\n');
    return {
      status: Number(head.split(' ')[1]),
      requestId: /^x-request-id: (.+)$/im.exec(head)?.[1] ?? null,
      body: body ? (JSON.parse(body) as GraphQLResponse) : null,
    };
  }

  it.each([
    [
      'a GET whose document (17 KB, under MAX_DOCUMENT_BYTES) makes its headers too large',
      `GET /graphql?query=${encodeURIComponent(`{ __typename }\n#${'x'.repeat(17_000)}`)} HTTP/1.1\r\nhost: hub\r\napollo-require-preflight: true\r\n\r\n`,
      431,
      'REQUEST_TOO_LARGE',
    ],
    [
      'a malformed Content-Length',
      'POST /graphql HTTP/1.1\r\nhost: hub\r\ncontent-type: application/json\r\ncontent-length: twelve\r\n\r\n{}',
      400,
      'BAD_REQUEST',
    ],
  ])('answers %s with JSON, a status, a code and a request id', async (_name, request, status, code) => {
    const answer = await sendRaw(request);
    expect({
      status: answer.status,
      codes: answer.body?.errors?.map((error) => error.extensions?.code),
    }).toEqual({
      status,
      codes: [code],
    });
    expect(answer.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(log.lines().filter((line) => line.requestId === answer.requestId)).toHaveLength(1);
  });
});

describe('introspection in production', () => {
  const production = {
    NODE_ENV: 'production' as const,
    JWT_SECRET: 'p'.repeat(40),
    SUBGRAPH_SECRET: 's'.repeat(40),
  };

  it.each([
    ['refused by default', {}, false],
    ['allowed with ALLOW_INTROSPECTION=true', { ALLOW_INTROSPECTION: true }, true],
  ])('is %s', async (_name, extra, allowed) => {
    const productionHub = await startTestHub('hostile_prod', {
      config: { ...production, ...extra },
      seed: 'none',
    });
    try {
      const response = await graphql(productionHub.gatewayUrl, '{ __schema { queryType { name } } }');
      if (allowed) {
        expect(response.data?.__schema.queryType.name).toBe('Query');
      } else {
        expect(response.errors?.map((error) => error.extensions?.code)).toEqual([
          'GRAPHQL_VALIDATION_FAILED',
        ]);
        expect(response.data).toBeUndefined();
      }
      // Nor do errors suggest the names a misspelt field or enum value was near, which would give the schema away.
      const misspelt = await Promise.all([
        graphql(productionHub.gatewayUrl, '{ viewr { id } }'),
        graphql(
          productionHub.gatewayUrl,
          'query ($channel: Channel!) { viewer { page(channel: $channel, key: "home") { key } } }',
          { channel: 'AP' },
        ),
      ]);
      const messages = misspelt.flatMap((answer) => answer.errors?.map((error) => error.message) ?? []);
      expect(messages).toHaveLength(2);
      for (const message of messages) {
        if (allowed) expect(message).toMatch(/Did you mean "viewer"|Did you mean the enum value "APP"/);
        else expect(message).not.toMatch(/Did you mean|viewer"|"APP"/);
      }
      // __typename stays free either way.
      expect((await graphql(productionHub.gatewayUrl, '{ __typename }')).data).toEqual({
        __typename: 'Query',
      });
      // Nor does the gateway hand its query plan (every subgraph and field it fetches) to whoever asks for it.
      const planned = await fetch(productionHub.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'apollo-query-plan-experimental': 'true' },
        body: JSON.stringify({ query: '{ viewer { id } }' }),
      });
      expect(JSON.stringify(await planned.json())).not.toMatch(/queryPlan|QueryPlan/);
    } finally {
      await stopTestHub(productionHub);
    }
  });
});

describe('tokens', () => {
  it.each([
    ['without exp', () => ({ iat: now() })],
    ['without iat', () => ({ exp: now() + 600 })],
    ['older than JWT_MAX_AGE_S', () => ({ iat: now() - testConfig.JWT_MAX_AGE_S - 60, exp: now() + 600 })],
  ])('refuses a token %s with 401 UNAUTHENTICATED, even for a mutation', async (_name, times) => {
    const authorization = `Bearer ${await signedToken('M0001', 'member operator', times())}`;
    for (const query of [
      '{ viewer { id } }',
      'mutation { awardPoints(memberId: "M0001", amount: 5, reason: "r", idempotencyKey: "hostile-token-1") { id } }',
    ]) {
      const answer = await send(JSON.stringify({ query }), { authorization });
      expect(answer.status).toBe(401);
      expect(codesOf(answer)).toEqual(['UNAUTHENTICATED']);
      expect(answer.ms).toBeLessThan(FAST_MS);
    }
  });

  it.each([
    ['a number', 12345],
    ['an object', { id: 'M0001' }],
    ['a list', ['M0001']],
  ])('refuses a token whose subject is %s with 401 UNAUTHENTICATED', async (_name, sub) => {
    const token = await new SignJWT({ sub, scope: 'member operator' } as Record<string, unknown>)
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(testConfig.JWT_ISSUER)
      .setAudience(testConfig.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(testConfig.JWT_SECRET));
    const answer = await send(JSON.stringify({ query: '{ viewer { id } }' }), {
      authorization: `Bearer ${token}`,
    });
    expect({ status: answer.status, codes: codesOf(answer) }).toEqual({
      status: 401,
      codes: ['UNAUTHENTICATED'],
    });
  });
});

describe('persisted queries', () => {
  const award =
    'mutation { awardPoints(memberId: "M0001", amount: 5, reason: "apq", idempotencyKey: "hostile-apq-1") { id } }';
  const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
  const persisted = (version: unknown, sha256Hash: unknown) => ({ persistedQuery: { version, sha256Hash } });

  it.each([
    [
      "a hash that is not the query's",
      { query: award, extensions: persisted(1, sha256('{ __typename }')) },
      'PERSISTED_QUERY_HASH_MISMATCH',
    ],
    [
      'a hash that is not a string',
      { query: award, extensions: persisted(1, ['x']) },
      'PERSISTED_QUERY_HASH_MISMATCH',
    ],
    [
      'an unknown version',
      { query: award, extensions: persisted(2, sha256(award)) },
      'PERSISTED_QUERY_VERSION_NOT_SUPPORTED',
    ],
    [
      'an unknown version, hash only',
      { extensions: persisted('1', sha256(award)) },
      'PERSISTED_QUERY_VERSION_NOT_SUPPORTED',
    ],
  ])('answers %s with 400 and its own code, running nothing', async (_name, body, code) => {
    const operator = `Bearer ${await signedToken('ops.mallory', 'operator', { iat: now(), exp: now() + 300 })}`;
    const answer = await send(JSON.stringify(body), { authorization: operator });
    expect(answer.status).toBe(400);
    expect(codesOf(answer)).toEqual([code]);
    expect(answer.ms).toBeLessThan(FAST_MS);
  });

  it('still answers a persisted query sent the right way', async () => {
    const query = '{ __typename }';
    const registered = await send(JSON.stringify({ query, extensions: persisted(1, sha256(query)) }));
    const byHash = await send(JSON.stringify({ extensions: persisted(1, sha256(query)) }));
    expect([registered.body.data, byHash.body.data]).toEqual([
      { __typename: 'Query' },
      { __typename: 'Query' },
    ]);
  });
});

/** A body whose variables are written as raw JSON: deep values would overflow JSON.stringify in the test itself. */
const withRawVariables = (query: string, variables: string) =>
  `{"query": ${JSON.stringify(query)}, "variables": ${variables}}`;

const operatorToken = () => signedToken('ops.mallory', 'operator', { iat: now(), exp: now() + 300 });

describe('rules and JSON input', () => {
  const UPSERT =
    'mutation ($rule: TargetingRule!) { upsertSegment(input: { code: "HOSTILE", name: "h", rule: $rule }) { code } }';
  const PREVIEW = 'mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }';
  const ADVANCE =
    'mutation ($output: JSON!) { advanceFlow(sessionId: "S-1", stepId: "identity", output: $output, idempotencyKey: "hostile-json-1") { completed } }';
  const nested = (levels: number) =>
    '{"all":['.repeat(levels) + '{"field":"level","op":"eq","value":"GOLD"}' + ']}'.repeat(levels);
  const deepList = '['.repeat(20_000) + '1' + ']'.repeat(20_000);
  const wideList = `[${Array.from({ length: 20_000 }, () => '0').join(',')}]`;
  const inList = (values: number) =>
    JSON.stringify({ field: 'tag.aum', op: 'in', value: Array.from({ length: values }, (_, i) => i) });

  it.each([
    ['a rule nested 20,000 levels deep', UPSERT, `{"rule": ${nested(20_000)}}`, 'operator'],
    ['a rule with 21,500 values', UPSERT, `{"rule": ${inList(21_500)}}`, 'operator'],
    ['a flow output nested 20,000 levels deep, from a member', ADVANCE, `{"output": ${deepList}}`, 'member'],
    ['a flow output nested 20,000 levels deep, from anyone', ADVANCE, `{"output": ${deepList}}`, 'anonymous'],
    ['a flow output of 20,000 values', ADVANCE, `{"output": ${wideList}}`, 'member'],
    ['a rule nested 20,000 levels deep in a preview', PREVIEW, `{"rule": ${nested(20_000)}}`, 'operator'],
  ])(
    'refuses %s with 400 BAD_USER_INPUT before any subgraph runs',
    async (_name, query, variables, caller) => {
      const headers: Record<string, string> =
        caller === 'operator'
          ? { authorization: `Bearer ${await operatorToken()}` }
          : caller === 'member'
            ? {
                authorization: `Bearer ${await signedToken('M0001', 'member', { iat: now(), exp: now() + 300 })}`,
              }
            : {};
      const answer = await send(withRawVariables(query, variables), headers);
      expect(answer.status).toBe(400);
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.ms).toBeLessThan(FAST_MS);
    },
  );

  it.each([
    ['an in list of 101 values', inList(101), 'rule.value'],
    [
      'a rule of 201 nodes',
      JSON.stringify({
        any: Array.from({ length: 201 }, () => ({ field: 'level', op: 'eq', value: 'GOLD' })),
      }),
      'rule.any[199]',
    ],
    [
      'a rule nested 11 levels deep',
      nested(11),
      'rule.all[0].all[0].all[0].all[0].all[0].all[0].all[0].all[0].all[0].all[0]',
    ],
    [
      'a rule over 16 KB',
      JSON.stringify({
        any: Array.from({ length: 90 }, (_, i) => ({
          field: 'attr.city',
          op: 'eq',
          value: `${i}`.padEnd(190, 'x'),
        })),
      }),
      'rule.any[70]',
    ],
  ])('refuses %s, storing nothing, with BAD_USER_INPUT naming the node', async (_name, rule, field) => {
    const authorization = `Bearer ${await operatorToken()}`;
    for (const [query, argument] of [
      [UPSERT, 'input.'],
      [PREVIEW, ''],
    ] as const) {
      const answer = await send(withRawVariables(query, `{"rule": ${rule}}`), { authorization });
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body.errors?.[0]?.extensions?.field).toBe(`${argument}${field}`);
      expect(answer.ms).toBeLessThan(FAST_MS);
    }
  });

  // A draft flow stored such keys as given ({"$where": …} and {"a.b": 1} in its steps) and lost __proto__ without a
  // word: the builder saw {} where they had sent an object.
  const ADD_STEP = (constant: string) =>
    `mutation ${constant === '$constant' ? '($constant: JSON)' : ''} { addFlowStep(flowId: "SF-buy-fund-v1", step: { id: "odd", service: "SHOW_PAGE", title: "x", inputs: [{ input: "pageKey", constant: ${constant} }] }) { id } }`;
  const builderToken = () => signedToken('builder.mallory', 'builder', { iat: now(), exp: now() + 300 });
  const memberToken = () => signedToken('M0001', 'member', { iat: now(), exp: now() + 300 });

  it.each([
    ['a $-prefixed key', ADD_STEP('$constant'), '{"constant": {"$where": "sleep(100)"}}', builderToken],
    [
      'a dotted key, nested in a list',
      ADD_STEP('$constant'),
      '{"constant": [{"ok": {"a.b": 1}}]}',
      builderToken,
    ],
    ['a key with a NUL', ADD_STEP('$constant'), '{"constant": {"a\\u0000b": 1}}', builderToken],
    [
      '__proto__ as a key',
      ADD_STEP('$constant'),
      '{"constant": {"__proto__": {"admin": true}}}',
      builderToken,
    ],
    ['__proto__ as a key in the document', ADD_STEP('{ __proto__: { admin: true } }'), '{}', builderToken],
    ['a $-prefixed key in a flow output', ADVANCE, '{"output": {"$gt": ""}}', memberToken],
  ])(
    'refuses JSON with %s with BAD_USER_INPUT before any subgraph runs',
    async (_name, query, variables, token) => {
      const answer = await send(withRawVariables(query, variables), {
        authorization: `Bearer ${await token()}`,
      });
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body.errors?.[0]?.message).toMatch(/keys may not start with \$/);
      expect(answer.ms).toBeLessThan(FAST_MS);
    },
  );
});

describe('times', () => {
  /** createCreative with `startsAt` written as given: a variable or a literal. */
  const create = (startsAt: string, variables = '') => `mutation ${variables} {
    createCreative(input: { pageId: "PG-APP-home", slotCode: "picks", name: "t", kind: PRODUCT, refId: "P-DP-007",
      startsAt: ${startsAt}, endsAt: "2027-01-01T00:00:00Z" }) { id }
  }`;

  it.each([
    ['a number as text', '1'],
    ['a time without an offset', '2026-12-01T00:00:00'],
    ['a date alone', '2026-12-01'],
    ['30 February', '2026-02-30T00:00:00Z'],
    ['an English date', 'Tue, 01 Dec 2026 00:00:00 GMT'],
  ])('refuses %s as a DateTime with 400 BAD_USER_INPUT, from anyone', async (_name, startsAt) => {
    const callers: Record<string, string>[] = [{}, { authorization: `Bearer ${await operatorToken()}` }];
    for (const headers of callers) {
      for (const body of [
        { query: create('$startsAt', '($startsAt: DateTime!)'), variables: { startsAt } },
        { query: create(JSON.stringify(startsAt)) },
      ]) {
        const answer = await send(JSON.stringify(body), headers);
        expect(answer.status).toBe(400);
        expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
        expect(answer.ms).toBeLessThan(FAST_MS);
      }
    }
  });

  it('refuses a rule that compares now with a time without an offset, naming the node', async () => {
    const answer = await send(
      JSON.stringify({
        query: 'mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }',
        variables: { rule: { all: [{ field: 'now', op: 'gt', value: '2026-12-01T00:00:00' }] } },
      }),
      { authorization: `Bearer ${await operatorToken()}` },
    );
    expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answer.body.errors?.[0]?.extensions?.field).toBe('rule.all[0].value');
  });

  it.each([
    [{ field: 'levelRank', op: 'gt', value: '2' }, 'rule.value'],
    [{ field: 'levelRank', op: 'eq', value: 'abc' }, 'rule.value'],
    [{ any: [{ field: 'levelRank', op: 'in', value: ['5'] }] }, 'rule.any[0].value[0]'],
  ])(
    'refuses %j, a value of another type than its field, naming the node (the database would cast it)',
    async (rule, field) => {
      const answer = await send(
        JSON.stringify({
          query: 'mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }',
          variables: { rule },
        }),
        { authorization: `Bearer ${await operatorToken()}` },
      );
      expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
      expect(answer.body.errors?.[0]?.extensions?.field).toBe(field);
    },
  );

  it('compares now with a time written in another offset as the instant it is', async () => {
    // A minute ago, written in UTC+8: as a string it sorts after the current UTC time, as an instant before it.
    const aMinuteAgo = new Date(Date.now() - 60_000 + 8 * 3600_000).toISOString().replace('Z', '+08:00');
    const audience = async (op: string) => {
      const answer = await send(
        JSON.stringify({
          query: 'mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }',
          variables: { rule: { field: 'now', op, value: aMinuteAgo } },
        }),
        { authorization: `Bearer ${await operatorToken()}` },
      );
      return answer.body.data?.previewSegment.audienceSize;
    };
    expect(await audience('gt')).toBeGreaterThan(1_000);
    expect(await audience('lt')).toBe(0);
  });
});

describe('field names every object inherits', () => {
  const PREVIEW = 'mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }';

  it.each<[string, Rule]>([
    ['attr.constructor exists', { field: 'attr.constructor', op: 'exists', value: true }],
    ['attr.toString is not "x"', { field: 'attr.toString', op: 'neq', value: 'x' }],
    ['attr.valueOf is one of two values', { field: 'attr.valueOf', op: 'in', value: ['a', 'b'] }],
    ['not attr.hasOwnProperty exists', { not: { field: 'attr.hasOwnProperty', op: 'exists', value: true } }],
  ])('%s: the audience counted in MongoDB is the one evaluated in memory', async (_name, rule) => {
    const answer = await send(JSON.stringify({ query: PREVIEW, variables: { rule } }), {
      authorization: `Bearer ${await operatorToken()}`,
    });
    expect(answer.status).toBe(200);
    expect(answer.ms).toBeLessThan(FAST_MS);
    const now = new Date();
    const members = await hub.connections.members.collection<MemberDoc>('members').find({}).toArray();
    const inMemory = members.filter((member) => evaluate(rule, targetProfileOf(member, now))).length;
    expect(answer.body.data?.previewSegment.audienceSize).toBe(inMemory);
    // Nobody holds these attributes: a negated condition selects everyone, a positive one no one.
    expect([0, members.length]).toContain(inMemory);
  });

  it('refuses __proto__ as an attribute name, naming the node', async () => {
    const rule = { all: [{ field: 'attr.__proto__', op: 'exists', value: true }] };
    expect(parseRule(rule).ok).toBe(false);
    const answer = await send(JSON.stringify({ query: PREVIEW, variables: { rule } }), {
      authorization: `Bearer ${await operatorToken()}`,
    });
    expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answer.body.errors?.[0]?.extensions?.field).toBe('rule.all[0].field');
  });
});

describe('link targets on creatives', () => {
  const CREATE = `mutation ($link: String!) {
    createCreative(input: { pageId: "PG-APP-home", slotCode: "hero", name: "offer", kind: BANNER, title: "Offer",
      imageUrl: "https://cdn.haichuan-bank.example/x.jpg", link: $link,
      startsAt: "2026-01-01T00:00:00Z", endsAt: "2027-01-01T00:00:00Z" }) { id }
  }`;

  it.each([
    ['//evil.example'],
    ['/\\evil.example'],
    ['https://evil.example/login'],
    ['https://www.haichuan-bank.example@evil.example/'],
    ['javascript:alert(document.cookie)'],
    ['bankapp://transfer?to=evil'],
  ])('refuses %s with BAD_USER_INPUT on input.link, storing nothing', async (link) => {
    const answer = await send(JSON.stringify({ query: CREATE, variables: { link } }), {
      authorization: `Bearer ${await operatorToken()}`,
    });
    expect(answer.status).toBe(200);
    expect(codesOf(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answer.body.errors?.[0]?.extensions?.field).toBe('input.link');
    expect(answer.ms).toBeLessThan(FAST_MS);
  });
});

describe('ids that are not there', () => {
  const LONG = 'P'.repeat(100_000);

  it.each([
    ['a product', `query ($id: ID!) { product(id: $id) { id } }`, { id: LONG }],
    ['a page', `query ($key: String!) { viewer { page(channel: APP, key: $key) { id } } }`, { key: LONG }],
  ])(
    'are answered NOT_FOUND for %s, repeating at most 64 characters of a 100,000-character id',
    async (_what, query, variables) => {
      const member = await signedToken('M0001', 'member', { iat: now(), exp: now() + 600 });
      const answer = await send(JSON.stringify({ query, variables }), { authorization: `Bearer ${member}` });
      expect(codesOf(answer)).toContain('NOT_FOUND');
      const error = answer.body.errors!.find((found) => found.extensions?.code === 'NOT_FOUND')!;
      expect(error.message.length).toBeLessThan(120);
      expect(String(error.extensions?.id).length).toBeLessThanOrEqual(64);
      expect(JSON.stringify(answer.body).length).toBeLessThan(1_000);
    },
  );
});

describe('the log, after every request above', () => {
  it('holds no stack and no internal error: each refusal is a client error, logged as such', () => {
    const lines = log.lines();
    expect(JSON.stringify(lines)).not.toMatch(/"stack"/);
    expect(lines.filter((line) => Number(line.level) >= 50)).toEqual([]);
  });
});
