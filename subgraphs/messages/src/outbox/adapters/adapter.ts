// The contract between the outbox and an SMS / 5G gateway. The outbox hands over one message at a time with its
// idempotency key; a provider that is given the same key again must not deliver again (the local adapter records by
// key, the HTTP adapter passes the key on as `Idempotency-Key`). In-app messages need no provider: the inbox is
// messages' own.
import type { SmsEncoding } from '../../templates/domain/sms';
import type { CardFields } from '../../templates/model';

export interface ProviderMessage {
  /** The outbox entry's id: the same message always carries the same key, whichever worker sends it. */
  idempotencyKey: string;
  channel: 'FIVE_G' | 'SMS';
  memberId: string;
  /** The member's phone number. */
  to: string;
  /** SMS: the whole text, signature and opt-out line included. */
  sms?: { text: string; segments: number; encoding: SmsEncoding };
  /** FIVE_G: the rendered card. */
  card?: CardFields;
  /** A marketing message's unsubscribe link (for a 5G card's menu); null for a service message. */
  unsubscribeUrl: string | null;
}

export type SendResult =
  | { ok: true; providerMessageId: string }
  /** `permanent`: sending again cannot help (a bad number, a refused message): the message is dead-lettered. */
  | { ok: false; permanent: boolean; error: string };

export interface ProviderAdapter {
  readonly name: string;
  send(message: ProviderMessage): Promise<SendResult>;
  /** Finishes what is in flight (graceful shutdown). */
  close(): Promise<void>;
}
