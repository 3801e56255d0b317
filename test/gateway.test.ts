// The composed supergraph end to end: gateway and members subgraph on free ports over a seeded database.
import { readFileSync } from 'node:fs';
import { buildGateway } from '../gateway/src/server';
import { SUPERGRAPH_PATH, type RunningHub } from '../scripts/hub';
import { SUBGRAPH_NAMES } from '../subgraphs/registry';
import { startTestHub, stopTestHub } from './support/hub';
import {
  bearer,
  clientToken,
  errorCodes,
  graphql,
  type GraphQLResponse,
  internalIdentity,
  testConfig,
  testLogger,
} from './support/env';

let hub: RunningHub;
let memberToken: string;
let wealthyToken: string;
let operatorToken: string;

beforeAll(async () => {
  hub = await startTestHub('gateway', { config: { MAX_QUERY_DEPTH: 5 } });
  [memberToken, wealthyToken, operatorToken] = await Promise.all([
    clientToken('M0001', 'member'),
    clientToken('M0002', 'member'),
    clientToken('ops.alice', 'operator'),
  ]);
});

afterAll(() => stopTestHub(hub));

const VIEWER =
  '{ viewer { id segmentCodes level { code } riskLevel lifecycleStage profile { name phone } } }';

describe('viewer through the gateway', () => {
  it('answers for M0001 with their targeting attributes and masked personal data', async () => {
    const response = await graphql(hub.gatewayUrl, VIEWER, {}, bearer(memberToken));
    expect(response.errors).toBeUndefined();
    expect(response.data?.viewer).toEqual({
      id: 'M0001',
      segmentCodes: ['CONSERVATIVE_SAVERS', 'NEW_YOUNG'],
      level: { code: 'STANDARD' },
      riskLevel: 'R1',
      lifecycleStage: 'ACQUISITION',
      profile: { name: '林**', phone: '*******0001' },
    });
  });

  it('gives M0002 different segments, a high level and R4', async () => {
    const response = await graphql(hub.gatewayUrl, VIEWER, {}, bearer(wealthyToken));
    const viewer = response.data?.viewer;
    expect(viewer).toMatchObject({
      id: 'M0002',
      level: { code: 'DIAMOND' },
      riskLevel: 'R4',
      lifecycleStage: 'REVENUE',
    });
    expect(viewer.segmentCodes).toEqual(expect.arrayContaining(['WEALTH_CLIENTS', 'PRIVATE_BANKING']));
    expect(viewer.segmentCodes).not.toContain('NEW_YOUNG');
  });

  it('is null for an anonymous caller', async () => {
    const response = await graphql(hub.gatewayUrl, '{ viewer { id } }');
    expect(response.data).toEqual({ viewer: null });
  });
});

describe('identity', () => {
  it.each([
    ['a malformed token', 'Bearer not-a-jwt'],
    ['a non-bearer header', 'Basic abc'],
  ])('rejects %s with UNAUTHENTICATED', async (_name, authorization) => {
    const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, { authorization });
    expect(response.status).toBe(401);
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects an expired token with UNAUTHENTICATED', async () => {
    const expired = await clientToken('M0001', 'member', { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, bearer(expired));
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.errors?.[0]?.message).toContain('expired');
  });

  it('rejects a token signed with another secret', async () => {
    const forged = await clientToken('M0002', 'member operator pii:read', { secret: 'x'.repeat(40) });
    const response = await graphql(hub.gatewayUrl, '{ viewer { id } }', {}, bearer(forged));
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('ignores an identity header set by the client', async () => {
    const forgedHeader = await internalIdentity('ops.mallory', ['operator', 'pii:read']);
    const response = await graphql(
      hub.gatewayUrl,
      '{ member(id: "M0002") { profile { name } } }',
      {},
      { 'x-hub-identity': forgedHeader },
    );
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data?.member ?? null).toBeNull();
  });

  it('fails only the field a caller may not see, not the rest of the answer', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      '{ membershipLevels { code } member(id: "M0001") { id } }',
    );
    expect(response.status).toBe(200);
    expect(response.data?.membershipLevels).toHaveLength(5);
    expect(response.data?.member).toBeNull();
    expect(response.errors).toEqual([
      expect.objectContaining({
        path: ['member'],
        extensions: expect.objectContaining({ code: 'UNAUTHENTICATED' }),
      }),
    ]);
    expect(JSON.stringify(response.errors)).not.toContain('127.0.0.1');
  });

  it("costs a member who asks for their segments' rules those fields alone, not their viewer", async () => {
    const response = await graphql(
      hub.gatewayUrl,
      '{ viewer { id segments { code rule audienceSize } } }',
      {},
      bearer(memberToken),
    );
    expect(response.data?.viewer.id).toBe('M0001');
    const segments = response.data?.viewer.segments as {
      code: string;
      rule: unknown;
      audienceSize: unknown;
    }[];
    expect(segments.length).toBeGreaterThan(0);
    for (const segment of segments) expect(segment).toMatchObject({ rule: null, audienceSize: null });
    expect(new Set(errorCodes(response))).toEqual(new Set(['FORBIDDEN']));
    expect(response.errors).toHaveLength(2 * segments.length);
    const operator = await graphql(
      hub.gatewayUrl,
      '{ member(id: "M0001") { segments { code rule audienceSize } } }',
      {},
      bearer(operatorToken),
    );
    expect(operator.errors).toBeUndefined();
    expect(operator.data?.member.segments[0].rule).toEqual(expect.any(Object));
    expect(operator.data?.member.segments[0].audienceSize).toEqual(expect.any(Number));
  });

  it('answers FORBIDDEN when a member token asks for an operator field', async () => {
    const response = await graphql(hub.gatewayUrl, '{ member(id: "M0002") { id } }', {}, bearer(memberToken));
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });

  it('unmasks personal data only with the pii:read scope', async () => {
    const query = '{ member(id: "M0002") { profile { name phone unmasked } } }';
    const masked = await graphql(hub.gatewayUrl, query, {}, bearer(operatorToken));
    expect(masked.data?.member.profile).toEqual({ name: '陈**', phone: '*******0002', unmasked: false });
    const privileged = await clientToken('ops.bob', 'operator pii:read');
    const unmasked = await graphql(hub.gatewayUrl, query, {}, bearer(privileged));
    expect(unmasked.data?.member.profile).toEqual({ name: '陈国华', phone: '13900020002', unmasked: true });
  });
});

describe('operator queries', () => {
  it('answers null with NOT_FOUND for an unknown member', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      '{ member(id: "M9999999") { id } }',
      {},
      bearer(operatorToken),
    );
    expect(response.data).toEqual({ member: null });
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
    expect(response.errors?.[0]?.path).toEqual(['member']);
  });

  it('pages through a segment with cursors', async () => {
    const query = `query ($after: String) {
      members(filter: { segmentCode: "PRIVATE_BANKING" }, first: 7, after: $after) {
        edges { cursor node { id segmentCodes } }
        pageInfo { hasNextPage endCursor }
      }
    }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 100; page++) {
      const response: GraphQLResponse = await graphql(
        hub.gatewayUrl,
        query,
        { after },
        bearer(operatorToken),
      );
      const connection = response.data?.members;
      for (const edge of connection.edges) {
        expect(edge.node.segmentCodes).toContain('PRIVATE_BANKING');
        seen.push(edge.node.id);
      }
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    const segments = await graphql(
      hub.gatewayUrl,
      '{ segments { code audienceSize } }',
      {},
      bearer(operatorToken),
    );
    const audience = segments.data?.segments.find(
      (s: { code: string }) => s.code === 'PRIVATE_BANKING',
    ).audienceSize;
    expect(seen.length).toBe(audience);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(seen);
  });

  it('lists the tag library and membership levels', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      '{ tagDefinitions(category: "asset") { code valueType source } membershipLevels { code rank threshold } }',
      {},
      bearer(operatorToken),
    );
    expect(response.data?.tagDefinitions).toContainEqual({
      code: 'aum',
      valueType: 'NUMBER',
      source: 'IMPORTED',
    });
    expect(response.data?.membershipLevels.map((level: { code: string }) => level.code)).toEqual([
      'STANDARD',
      'SILVER',
      'GOLD',
      'PLATINUM',
      'DIAMOND',
    ]);
  });
});

describe('operation guards', () => {
  it('rejects a too deep operation before execution', async () => {
    // The schema has no recursive fields, so this hub runs with MAX_QUERY_DEPTH = 5 to make depth 6 reachable.
    const query = '{ members(first: 1) { edges { node { tags { definition { code } } } } } }';
    const response = await graphql(hub.gatewayUrl, query, {}, bearer(operatorToken));
    expect(errorCodes(response)).toEqual(['OPERATION_TOO_DEEP']);
    expect(response.errors?.[0]?.extensions).toMatchObject({ depth: 6, limit: 5 });
    expect(response.data).toBeUndefined();
  });

  it('rejects too many aliases', async () => {
    const aliases = Array.from({ length: 40 }, (_, i) => `a${i}: viewer { id }`).join(' ');
    const response = await graphql(hub.gatewayUrl, `{ ${aliases} }`, {}, bearer(memberToken));
    expect(errorCodes(response)).toEqual(['OPERATION_TOO_COMPLEX']);
  });

  it('rejects a document larger than the limit with 413', async () => {
    const response = await graphql(hub.gatewayUrl, `{ viewer { id } } # ${'x'.repeat(30_000)}`);
    expect(response.status).toBe(413);
    expect(errorCodes(response)).toEqual(['OPERATION_TOO_LARGE']);
  });

  it('rejects a GET document larger than the limit with 413, however many other parameters come before it', async () => {
    // A limit below what request headers can hold (16 KB), so that a GET can carry a document over it.
    const gateway = await buildGateway({
      config: { ...testConfig, MAX_DOCUMENT_BYTES: 2_000 },
      logger: testLogger,
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    }).listen(0, '127.0.0.1');
    try {
      const query = encodeURIComponent(`{ __typename } # ${'x'.repeat(3_000)}`);
      // Express reads the first 1,000 parameters of a query string; Apollo Server reads them all.
      const padding = Array.from({ length: 1_000 }, (_, i) => `p${i}=1`).join('&');
      for (const search of [`query=${query}`, `${padding}&query=${query}`]) {
        const response = await fetch(`${gateway.url}?${search}`, {
          headers: { 'apollo-require-preflight': 'true' },
        });
        const body = (await response.json()) as GraphQLResponse;
        expect({ status: response.status, codes: errorCodes(body) }).toEqual({
          status: 413,
          codes: ['OPERATION_TOO_LARGE'],
        });
      }
    } finally {
      await gateway.stop();
    }
  });

  it('still serves introspection for Sandbox', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      '{ __schema { types { name fields { name type { ofType { ofType { ofType { name } } } } } } } }',
    );
    expect(response.errors).toBeUndefined();
  });
});

describe('health', () => {
  it('reports the process up and every subgraph ready', async () => {
    const base = hub.gatewayUrl.replace(/\/graphql$/, '');
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const ready = await fetch(`${base}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      subgraphs: [...SUBGRAPH_NAMES].sort().map((name) => ({ name, ready: true })),
    });
  });
});

describe('an address nothing is served at', () => {
  const notFound = {
    errors: [{ message: 'nothing is served at this address', extensions: { code: 'NOT_FOUND' } }],
  };

  it.each([
    ['GET', '/no-such-page'],
    ['POST', '/dev/token'],
    ['DELETE', '/health/more'],
  ])('is answered %s %s with 404 and a code in JSON, at the gateway', async (method, path) => {
    const response = await fetch(hub.gatewayUrl.replace(/\/graphql$/, path), { method });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(notFound);
  });

  it('is answered with 404 and a code in JSON by a subgraph', async () => {
    const response = await fetch(hub.subgraphs.members.url.replace(/\/graphql$/, '/no-such-page'));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(notFound);
  });
});

describe('pages the gateway serves', () => {
  it.each(['/console/', '/console/segments', '/console/app.js', '/graphiql/', '/collect.js'])(
    'serves %s with a policy against framing, sniffing, foreign scripts and leaking its address',
    async (path) => {
      const response = await fetch(hub.gatewayUrl.replace(/\/graphql$/, path));
      const policy = response.headers.get('content-security-policy') ?? '';
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(policy).toContain("object-src 'none'");
      expect(policy).not.toMatch(/script-src[^;]*'unsafe-(inline|eval)'/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      // frame-ancestors for current browsers, X-Frame-Options for those that predate it.
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    },
  );

  it("serves no page of Apollo's in production: no script from Apollo's CDN runs on the hub's origin", async () => {
    const gateway = await buildGateway({
      config: { ...testConfig, NODE_ENV: 'production' },
      logger: testLogger,
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    }).listen(0, '127.0.0.1');
    try {
      for (const path of ['/', '/graphql']) {
        const response = await fetch(gateway.url.replace(/\/graphql$/, path), {
          headers: { accept: 'text/html' },
        });
        expect(response.headers.get('content-type')).not.toMatch(/html/);
        expect(await response.text()).not.toMatch(/apollographql\.com|<script/);
      }
    } finally {
      await gateway.stop();
    }
  });
});
