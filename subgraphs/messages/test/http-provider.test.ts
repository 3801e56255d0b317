// The HTTP provider contract against a stand-in gateway on loopback: the idempotency key goes on with every attempt,
// and the answer decides between sent, retried and dead-lettered; a redirect is not followed, and a huge answer is not
// read to its end.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProvider } from '../src/outbox/adapters/http';
import type { ProviderMessage } from '../src/outbox/adapters/adapter';

let server: Server;
let url: string;
const seen: { path: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];
/** What the stand-in answers next at /v1/messages: a status, a body and headers. */
let answer: { status: number; body: string; headers?: Record<string, string> } = { status: 200, body: '' };
/** Bytes /endless wrote before its caller hung up. */
let endless: Promise<number> = Promise.resolve(0);

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', method: req.method ?? '', headers: req.headers, body: text });
      if (req.url === '/elsewhere')
        return res
          .writeHead(200, { 'content-type': 'application/json' })
          .end('{"providerMessageId":"elsewhere"}');
      if (req.url === '/endless') {
        // A gateway whose answer never ends: 64 KB every 10 ms until the caller hangs up.
        const chunk = Buffer.alloc(65_536, 'x');
        let written = 0;
        res.writeHead(answer.status, { 'content-type': 'text/plain' });
        const timer = setInterval(() => {
          res.write(chunk);
          written += chunk.length;
        }, 10);
        endless = new Promise((resolve) =>
          res.on('close', () => {
            clearInterval(timer);
            resolve(written);
          }),
        );
        return;
      }
      res
        .writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers })
        .end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/messages`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const message: ProviderMessage = {
  idempotencyKey: 'CMP-aaaaaaaa.202611261000:M0001',
  channel: 'SMS',
  memberId: 'M0001',
  to: '13900010001',
  sms: { text: '【海川银行】林小雨您好。回复TD退订', segments: 1, encoding: 'UCS2' },
  unsubscribeUrl: null,
};

describe('the HTTP provider', () => {
  it('passes the idempotency key on in a header and the body, with the bearer token', async () => {
    answer = { status: 202, body: '{"providerMessageId":"gw-1"}' };
    const provider = new HttpProvider(url, 'provider-token');
    expect(await provider.send(message)).toEqual({ ok: true, providerMessageId: 'gw-1' });
    expect(await provider.send(message)).toEqual({ ok: true, providerMessageId: 'gw-1' });
    const [first, second] = seen.slice(-2);
    for (const request of [first!, second!]) {
      expect(request.headers['idempotency-key']).toBe(message.idempotencyKey);
      expect(request.headers.authorization).toBe('Bearer provider-token');
      expect(JSON.parse(request.body)).toMatchObject({
        idempotencyKey: message.idempotencyKey,
        to: '13900010001',
      });
    }
  });

  it('takes 409 (already accepted under this key) as sent, a refusal as permanent, the rest as retryable', async () => {
    const provider = new HttpProvider(url);
    answer = { status: 409, body: '' };
    expect(await provider.send(message)).toEqual({ ok: true, providerMessageId: message.idempotencyKey });
    answer = { status: 422, body: '{"error":"number unknown"}' };
    expect(await provider.send(message)).toMatchObject({ ok: false, permanent: true });
    for (const status of [429, 503]) {
      answer = { status, body: '' };
      expect(await provider.send(message)).toMatchObject({ ok: false, permanent: false });
    }
    const silent = new HttpProvider('http://127.0.0.1:9/none', null, 500);
    expect(await silent.send(message)).toMatchObject({ ok: false, permanent: false });
  });

  it('does not follow a redirect: the message is neither counted sent nor sent on elsewhere', async () => {
    const provider = new HttpProvider(url, 'provider-token');
    for (const status of [301, 302, 303, 307, 308]) {
      answer = { status, body: '', headers: { location: '/elsewhere' } };
      const before = seen.length;
      expect(await provider.send(message)).toEqual({
        ok: false,
        permanent: false,
        error: `HTTP ${status}: a redirect, not followed`,
      });
      expect(seen.slice(before).map((request) => request.path)).toEqual(['/v1/messages']);
    }
  });

  it('reads no more of an answer than it needs, however much the gateway sends', async () => {
    const base = url.replace(/\/v1\/messages$/, '');
    for (const status of [200, 503]) {
      answer = { status, body: '' };
      const result = await new HttpProvider(`${base}/endless`, null, 2_000).send(message);
      expect(result).toMatchObject(
        status === 200
          ? { ok: true, providerMessageId: message.idempotencyKey }
          : { ok: false, permanent: false },
      );
      // Reading it all until the timeout would have taken some 12 MB.
      expect(await endless).toBeLessThan(1_048_576);
    }
  });
});
