// Persisted documents through a gateway that runs only them (PERSISTED_DOCUMENTS_ONLY): the channels' operations by
// id (POST documentId, GET documentId, a persisted query's hash without text) or by their exact text; anything else
// refused before it is parsed, with a stable code.
import { loadPersistedDocuments, persistedDocuments } from '../gateway/src/persisted-documents';
import { ON_BEHALF_OF_HEADER, signOnBehalfOf } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { startTestHub } from './support/hub';
import { bearer, clientToken } from './support/env';

let hub: RunningHub;
let member: Record<string, string>;
const manifest = loadPersistedDocuments();
const home = manifest.operations.find((operation) => operation.name === 'Home')!;

beforeAll(async () => {
  hub = await startTestHub('persisted', { config: { PERSISTED_DOCUMENTS_ONLY: true } });
  member = bearer(await clientToken('M0002', 'member'));
});

afterAll(() => hub.stop());

async function post(body: unknown, headers: Record<string, string> = member) {
  const response = await fetch(hub.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as { data?: any; errors?: any[] }) };
}

describe('a channel sends the id of a document from the manifest', () => {
  it('gets the same page as the text would give, whichever way it names the document', async () => {
    const byText = await post({ query: home.body });
    expect(byText.errors).toBeUndefined();
    expect(byText.data.viewer.id).toBe('M0002');
    expect(byText.data.viewer.page.slots.length).toBeGreaterThan(3);

    for (const documentId of [`sha256:${home.id}`, home.id]) {
      const byId = await post({ documentId });
      expect(byId.status).toBe(200);
      expect(byId.data).toEqual(byText.data);
    }
    const apq = await post({ extensions: { persistedQuery: { version: 1, sha256Hash: home.id } } });
    expect(apq.data).toEqual(byText.data);

    const get = await fetch(`${hub.gatewayUrl}?documentId=sha256:${home.id}`, {
      headers: { ...member, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(200);
    expect(((await get.json()) as { data: unknown }).data).toEqual(byText.data);
  });

  it('passes variables and the operation name with the id', async () => {
    const viewerId = manifest.operations.find((operation) => operation.name === 'ViewerId')!;
    const response = await post({
      documentId: `sha256:${viewerId.id}`,
      operationName: 'ViewerId',
      variables: {},
    });
    expect(response.data).toEqual({ viewer: { id: 'M0002' } });
  });
});

describe('anything else is refused before it is parsed', () => {
  it('refuses operation text that is not a manifest document, even one the schema would accept', async () => {
    const response = await post({ query: '{ viewer { id } }' });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
    expect(response.data).toBeUndefined();
    // The manifest's text with one character more is another document.
    const edited = await post({ query: `${home.body} ` });
    expect(edited.errors?.[0]?.extensions?.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
  });

  it('refuses a hostile document without parsing it: quickly, and not with the parser or the depth guard', async () => {
    const deep = `{ viewer { ${'page(channel: APP, key: "home") { slots { items { ... on Banner { title '.repeat(40)}${'} } } }'.repeat(40)} } }`;
    const unparsable = '{'.repeat(5_000);
    for (const query of [deep, unparsable]) {
      const started = performance.now();
      const response = await post({ query });
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(response.errors?.map((error) => error.extensions?.code)).toEqual([
        'PERSISTED_DOCUMENT_REQUIRED',
      ]);
    }
    const get = await fetch(`${hub.gatewayUrl}?query=${encodeURIComponent('{ viewer { id } }')}`, {
      headers: { ...member, 'apollo-require-preflight': 'true' },
    });
    expect(get.status).toBe(400);
    expect(((await get.json()) as { errors: any[] }).errors[0].extensions.code).toBe(
      'PERSISTED_DOCUMENT_REQUIRED',
    );
  });

  it('answers an id it does not know with PERSISTED_DOCUMENT_NOT_FOUND, whatever its shape', async () => {
    for (const body of [
      { documentId: 'sha256:' + '0'.repeat(64) },
      { documentId: 'x'.repeat(10_000) },
      { documentId: { $gt: '' } },
      { documentId: 42 },
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } } },
    ]) {
      const response = await post(body);
      expect(response.status).toBe(400);
      expect(response.errors?.[0]?.extensions?.code).toBe('PERSISTED_DOCUMENT_NOT_FOUND');
    }
  });

  it('refuses an id and a text together, rather than guessing which was meant', async () => {
    const response = await post({ documentId: home.id, query: '{ viewer { id } }' });
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('still answers a guest page by id (no token)', async () => {
    const response = await post({ documentId: home.id }, { 'x-device-id': 'device-persisted' });
    expect(response.data.viewer.id).toBe('guest:device-persisted');
  });

  it('refuses text signed as if from the hub with the wrong secret', async () => {
    const forged = await signOnBehalfOf(
      { subject: 'M0002', scopes: new Set(['member']), deviceId: null },
      'not-the-secret',
    );
    const response = await post({ query: '{ viewer { id } }' }, { [ON_BEHALF_OF_HEADER]: forged });
    expect(response.errors?.[0]?.extensions?.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
  });

  it('refuses text by anyone, operators included: the console belongs on a gateway without the rule', async () => {
    const operator = bearer(await clientToken('ops.alice', 'operator'));
    const response = await post({ query: '{ segments { code } }' }, operator);
    expect(response.errors?.[0]?.extensions?.code).toBe('PERSISTED_DOCUMENT_REQUIRED');
  });
});

it('lets a gateway without the rule take text and ids alike', async () => {
  // The unit under test is the middleware; another hub is not needed to show its default.
  let forwarded: unknown;
  const req = { method: 'POST', body: { documentId: `sha256:${home.id}`, variables: { a: 1 } } };
  await persistedDocuments(manifest, { only: false, secret: 'unused' })(
    req as never,
    {} as never,
    () => (forwarded = req.body),
  );
  expect(forwarded).toEqual({ query: home.body, variables: { a: 1 } });
  const text = { method: 'POST', body: { query: '{ viewer { id } }' } };
  await persistedDocuments(manifest, { only: false, secret: 'unused' })(
    text as never,
    {} as never,
    () => (forwarded = text.body),
  );
  expect(forwarded).toEqual({ query: '{ viewer { id } }' });
});
