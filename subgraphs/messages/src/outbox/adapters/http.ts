// The HTTP contract for a real SMS or 5G gateway: one POST per message to MESSAGES_PROVIDER_URL, JSON, with the
// message's idempotency key in the `Idempotency-Key` header (and the body), so a gateway that sees a key again
// answers for the first delivery instead of delivering twice. 2xx (or 409: "already accepted under this key") is
// accepted; 400, 401, 403, 404, 410, 413 and 422 are permanent refusals (the message is dead-lettered); anything else —
// 408, 429, 5xx, a timeout, no answer — is retried with backoff.
import type { ProviderAdapter, ProviderMessage, SendResult } from './adapter';

const PERMANENT = new Set([400, 401, 403, 404, 410, 413, 422]);
const TIMEOUT_MS = 10_000;

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
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      return { ok: false, permanent: false, error: `no answer: ${(error as Error).message}`.slice(0, 200) };
    }
    const text = await response.text().catch(() => '');
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
    return {
      ok: false,
      permanent: PERMANENT.has(response.status),
      error: `HTTP ${response.status}: ${text.slice(0, 160)}`,
    };
  }

  async close(): Promise<void> {}
}
