// The HTTP contract for a real SMS or 5G gateway: one POST per message to MESSAGES_PROVIDER_URL, JSON, with the
// message's idempotency key in the `Idempotency-Key` header (and the body), so a gateway that sees a key again
// answers for the first delivery instead of delivering twice. 2xx (or 409: "already accepted under this key") is
// accepted; 400, 401, 403, 404, 410, 413 and 422 are permanent refusals (the message is dead-lettered); anything else —
// 408, 429, 5xx, a redirect, a timeout, no answer — is retried with backoff.
//
// A redirect is never followed: fetch would send a 301/302/303 on as a GET (whose 2xx would count as sent for a
// message nobody sent) and a 307/308 with the member's phone and message to wherever the answer points. Only the
// first ANSWER_BYTES of an answer are read: all it is needed for is a provider message id or an error excerpt.
import type { ProviderAdapter, ProviderMessage, SendResult } from './adapter';

const PERMANENT = new Set([400, 401, 403, 404, 410, 413, 422]);
const TIMEOUT_MS = 10_000;
const ANSWER_BYTES = 16_384;

/** The start of an answer's body, at most ANSWER_BYTES; what was read before a failure mid-body. */
async function startOf(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ANSWER_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut off (the timeout, the connection) leaves what came so far.
  } finally {
    // The rest is not waited for: a gateway streaming a huge or endless answer holds nothing of the worker's.
    void reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, ANSWER_BYTES).toString('utf8');
}

export class HttpProvider implements ProviderAdapter {
  readonly name = 'http';

  constructor(
    private readonly url: string,
    private readonly token: string | null = null,
    private readonly timeoutMs = TIMEOUT_MS,
  ) {}

  async send(message: ProviderMessage): Promise<SendResult> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'idempotency-key': message.idempotencyKey,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify(message),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return { ok: false, permanent: false, error: `no answer: ${(error as Error).message}`.slice(0, 200) };
    }
    const text = await startOf(response);
    if (response.ok || response.status === 409) {
      let providerMessageId = message.idempotencyKey;
      try {
        const body = JSON.parse(text) as { providerMessageId?: unknown };
        if (typeof body.providerMessageId === 'string' && body.providerMessageId.length <= 200)
          providerMessageId = body.providerMessageId;
      } catch {
        // An answer without a body is an acceptance all the same.
      }
      return { ok: true, providerMessageId };
    }
    if (response.status >= 300 && response.status < 400)
      return { ok: false, permanent: false, error: `HTTP ${response.status}: a redirect, not followed` };
    // Whole: the outbox masks personal data in it before cutting it short, so no number is left cut in half.
    return {
      ok: false,
      permanent: PERMANENT.has(response.status),
      error: `HTTP ${response.status}: ${text}`,
    };
  }

  async close(): Promise<void> {}
}
