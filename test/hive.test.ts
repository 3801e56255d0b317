// Portable to another engine: Hive Gateway serving the checked-in supergraph in front of the same subgraphs answers
// the headline page exactly as the hub's own gateway does. (Hive plans @requires only from the fetch that resolved the
// entity; the supergraph must not depend on one engine's planner.) The identity header Hive forwards is signed here,
// from the client's token or, without one, the device a guest names, the way the hub's gateway signs it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { createGatewayRuntime, type GatewayRuntime } from '@graphql-hive/gateway';
import { decodeJwt } from 'jose';
import {
  ANONYMOUS,
  DEVICE_ID_HEADER,
  IDENTITY_HEADER,
  parseScopes,
  signInternalIdentity,
} from '@bank-hub/shared';
import { deviceIdentity } from '../gateway/src/auth';
import { SUPERGRAPH_PATH, type RunningHub } from '../scripts/hub';
import { bearer, clientToken, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let hive: GatewayRuntime;
let hiveServer: http.Server;
let hiveUrl: string;

/** The supergraph with each subgraph's URL replaced by where the test hub runs it. */
function supergraphFor(running: RunningHub): string {
  let sdl = readFileSync(SUPERGRAPH_PATH, 'utf8');
  for (const [name, server] of Object.entries(running.subgraphs)) {
    sdl = sdl.replace(new RegExp(`(name: "${name}", url: ")[^"]+"`), `$1${server.url}"`);
  }
  return sdl;
}

beforeAll(async () => {
  hub = await startTestHub('hive');
  hive = createGatewayRuntime({
    supergraph: supergraphFor(hub),
    logging: 'error',
    plugins: () => [
      {
        // What the hub's gateway does once it knows the caller (token, or a guest's device): sign who is calling.
        async onFetch({ options, setOptions, context }) {
          const headers = 'request' in context ? context.request.headers : null;
          const authorization = headers?.get('authorization');
          const device = headers?.get(DEVICE_ID_HEADER);
          const claims = authorization ? decodeJwt(authorization.replace(/^Bearer /, '')) : null;
          const identity = claims
            ? { subject: claims.sub ?? null, scopes: parseScopes(claims.scope) }
            : device
              ? deviceIdentity(device)
              : ANONYMOUS;
          setOptions({
            ...options,
            headers: {
              ...(options.headers as Record<string, string>),
              [IDENTITY_HEADER]: await signInternalIdentity(identity, testConfig.SUBGRAPH_SECRET),
            },
          });
        },
      },
    ],
  });
  hiveServer = http.createServer(hive);
  await new Promise<void>((resolve) => hiveServer.listen(0, '127.0.0.1', () => resolve()));
  hiveUrl = `http://127.0.0.1:${(hiveServer.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => hiveServer.close(() => resolve()));
  await hive.dispose();
  await stopTestHub(hub);
});

const HOME = `query Home {
  viewer {
    id
    level { name }
    page(channel: APP, key: "home") {
      slots {
        code
        template
        items {
          __typename
          ... on PlacedItem { creativeId variant placement { pageId slotCode creativeId } }
          ... on Banner { title imageUrl link }
          ... on EntryCard { title link badge }
          ... on ActivityCard { activity { title endsAt } }
          ... on ProductCard { product { name riskLevel annualRate } highlight }
          ... on TopicCard { topic { title heat } }
          ... on LiveCard { liveStream { title status } }
          ... on VideoCard { video { title } }
        }
      }
    }
    recommendedProducts(first: 3) { id name }
    eligibleBundles { id }
  }
}`;

const callers: Record<string, () => Promise<Record<string, string>>> = {
  M0001: async () => bearer(await clientToken('M0001', 'member')),
  M0002: async () => bearer(await clientToken('M0002', 'member')),
  'a guest': async () => ({ [DEVICE_ID_HEADER]: 'device-hive-0001' }),
};

it.each(Object.keys(callers))('serves %s the same headline page as the hub’s gateway', async (caller) => {
  const headers = await callers[caller]!();
  const [ours, theirs] = await Promise.all([
    graphql(hub.gatewayUrl, HOME, {}, headers),
    graphql(hiveUrl, HOME, {}, headers),
  ]);
  expect(ours.errors).toBeUndefined();
  const items = (ours.data?.viewer.page.slots as { items: { __typename: string }[] }[]).flatMap(
    (s) => s.items,
  );
  expect(items.filter((item) => item.__typename === 'ProductCard').length).toBeGreaterThan(0);
  expect(theirs).toEqual(ours);
});
