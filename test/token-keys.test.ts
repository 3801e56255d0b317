// Client tokens verified with the issuer's keys from JWT_JWKS_URL, when that address fails: an issuer that cannot be
// reached is not the client's fault (401 would make every app drop its member's session), and keys the gateway already
// fetched keep verifying tokens until the issuer answers again.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type KeyLike } from 'jose';
import { loadConfig, type RunningServer } from '@bank-hub/shared';
import { buildGateway } from '../gateway/src/server';
import { SUPERGRAPH_PATH } from '../scripts/hub';
import { setClock } from './support/clock';
import { testLogger } from './support/env';

let issuer: http.Server;
let jwksUrl: string;
/** Whether the issuer's JWKS address answers with its keys, or with 503. */
let issuerUp = true;
let signingKey: KeyLike;
let unknownKey: KeyLike;
let jwks: { keys: Record<string, unknown>[] };

beforeAll(async () => {
  const pair = await generateKeyPair('RS256');
  signingKey = pair.privateKey;
  unknownKey = (await generateKeyPair('RS256')).privateKey;
  jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  issuer = http.createServer((_req, res) => {
    if (!issuerUp) return void res.writeHead(503).end();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => issuer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(issuer.address() as AddressInfo).port}/.well-known/jwks.json`;
});

afterAll(async () => {
  issuer.closeAllConnections();
  await new Promise<void>((resolve) => issuer.close(() => resolve()));
});

afterEach(() => {
  jest.useRealTimers();
  issuerUp = true;
});

const config = () => loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', JWT_JWKS_URL: jwksUrl });

async function withGateway(run: (gateway: RunningServer) => Promise<void>): Promise<void> {
  const gateway = await buildGateway({
    config: config(),
    logger: testLogger,
    supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
  }).listen(0, '127.0.0.1');
  try {
    await run(gateway);
  } finally {
    await gateway.stop();
  }
}

function token(key: KeyLike = signingKey, kid = 'k1'): Promise<string> {
  return new SignJWT({ scope: 'member' })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setSubject('M0001')
    .setIssuer(config().JWT_ISSUER)
    .setAudience(config().JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}

/** `{ __typename }` needs no subgraph: the answer says only whether the caller's token was taken. */
async function ask(url: string, authorization?: string) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  const body = (await response.json()) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  return {
    status: response.status,
    data: body.data,
    codes: (body.errors ?? []).map((e) => e.extensions?.code),
  };
}

describe('an issuer whose keys cannot be fetched', () => {
  it('is SERVICE_UNAVAILABLE (503) for a token holder, not UNAUTHENTICATED, when the gateway knows no key yet', async () => {
    issuerUp = false;
    await withGateway(async (gateway) => {
      expect(await ask(gateway.url, `Bearer ${await token()}`)).toEqual({
        status: 503,
        data: undefined,
        codes: ['SERVICE_UNAVAILABLE'],
      });
      const collect = await fetch(gateway.url.replace(/\/graphql$/, '/collect'), {
        method: 'POST',
        headers: { 'content-type': 'text/plain', authorization: `Bearer ${await token()}` },
        body: JSON.stringify({ deviceId: 'device-0001', events: [] }),
      });
      expect(collect.status).toBe(503);
      // Callers without a token are not held up by it.
      expect(await ask(gateway.url)).toMatchObject({ status: 200, data: { __typename: 'Query' } });
    });
  });

  it('keeps verifying tokens with the keys it fetched last, and still refuses a token no such key signed', async () => {
    await withGateway(async (gateway) => {
      expect(await ask(gateway.url, `Bearer ${await token()}`)).toMatchObject({ status: 200 });
      issuerUp = false;
      // Past the time the fetched keys are kept before they are fetched again.
      setClock(new Date(Date.now() + 11 * 60_000), { running: true });
      expect(await ask(gateway.url, `Bearer ${await token()}`)).toMatchObject({
        status: 200,
        data: { __typename: 'Query' },
      });
      expect(await ask(gateway.url, `Bearer ${await token(unknownKey, 'k2')}`)).toMatchObject({
        status: 401,
        codes: ['UNAUTHENTICATED'],
      });
    });
  });
});
