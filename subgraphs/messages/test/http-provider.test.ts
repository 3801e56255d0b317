// The HTTP provider contract against a stand-in gateway on loopback: the idempotency key goes on with every attempt,
// and the answer decides between sent, retried and dead-lettered.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpProvider } from '../src/outbox/adapters/http';
import type { ProviderMessage } from '../src/outbox/adapters/adapter';

let server: Server;
let url: string;
const seen: { headers: IncomingHttpHeaders; body: Record<string, unknown> }[] = [];
/** What the stand-in answers next: a status and a body. */
let answer: { status: number; body: string } = { status: 200, body: '' };

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
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
      expect(request.body).toMatchObject({ idempotencyKey: message.idempotencyKey, to: '13900010001' });
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
});
