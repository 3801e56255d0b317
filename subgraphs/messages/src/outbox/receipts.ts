// Provider receipts: POST /receipts (the gateway forwards it here, body untouched). A provider signs each request:
// `x-receipt-timestamp` (Unix seconds) and `x-receipt-signature: sha256=<hex>`, an HMAC-SHA256 with
// MESSAGES_RECEIPT_SECRET of `<timestamp>.<raw body>`. A request whose signature does not check out, or whose
// timestamp is more than five minutes off (a replay), is refused with INVALID_SIGNATURE (HTTP 401) and changes nothing.
//
// The body is `{"receipts": [{"messageId", "status", "at"?, "text"?, "error"?}]}` (at most 500): `messageId` is the
// idempotency key the message was sent with; `status` DELIVERED, FAILED (undeliverable: a 5G message falls back to
// SMS, an SMS is given up and its contact-budget touch given back — unless the message was delivered already), READ
// (a 5G read receipt: opened), CLICKED (a card button: clicked) or REPLY (a reply; an unsubscribe keyword withdraws
// marketing consent on that channel, once per message). READ, CLICKED and REPLY prove delivery too. A receipt
// repeated changes nothing more.
import express, { type Request, type Response, type Router } from 'express';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import {
  ErrorCode,
  checkTimedSignature,
  sendGraphQLError,
  timedSignature,
  type BaseContext,
  type Logger,
  type RelayedEventDoc,
} from '@bank-hub/shared';
import { messageEvent } from '../events/relay';
import type { MessagesRepositories } from '../models';
import { unsubscribeThrough } from '../consent/unsubscribe';
import { takesTouch } from './contacts';
import { recordDelivered } from './delivered';
import { withoutPersonalData } from './domain/redact';
import { fallBack } from './fallback';
import type { OutboxEntryDoc } from './model';

export const SIGNATURE_HEADER = 'x-receipt-signature';
export const TIMESTAMP_HEADER = 'x-receipt-timestamp';

/** Replies that mean "stop sending me marketing" (退订 is the carriers' word). */
const UNSUBSCRIBE_REPLY = /^\s*(TD|T|N|STOP|UNSUBSCRIBE|退订|取消|拒收)\s*$/i;

const SIGNATURE_PREFIX = 'sha256=';

export const receiptSignature = (secret: string, timestamp: string, body: string): string =>
  `${SIGNATURE_PREFIX}${timedSignature(secret, timestamp, body)}`;

/** Whether a request's signature is the provider's, over this body, made within the allowed skew. */
export function verifyReceipt(
  secret: string,
  headers: { signature: unknown; timestamp: unknown },
  body: string,
  now = Date.now(),
): boolean {
  const { signature, timestamp } = headers;
  if (typeof signature !== 'string' || !signature.startsWith(SIGNATURE_PREFIX)) return false;
  const signed = { signature: signature.slice(SIGNATURE_PREFIX.length), timestamp };
  return checkTimedSignature(secret, signed, body, now) === 'VALID';
}

const Receipt = z.object({
  messageId: z.string().min(1).max(200),
  status: z.enum(['DELIVERED', 'FAILED', 'READ', 'CLICKED', 'REPLY']),
  at: z.iso.datetime({ offset: true }).optional(),
  text: z.string().max(500).optional(),
  error: z.string().max(300).optional(),
});
const Receipts = z.object({ receipts: z.array(Receipt).max(500) });
export type Receipt = z.infer<typeof Receipt>;

export interface ReceiptOutcome {
  applied: number;
  /** Indexes of receipts naming no message this hub sent. */
  unknown: number[];
}

/**
 * When a receipt's event happened: the carrier's `at`, but never before the hub handed the message over (`sentAt`; its
 * creation while the hand-over is still being recorded) nor after the receipt came in (`now`). A carrier's clock or
 * time zone gone wrong cannot have a message reach a member before it was sent (their purchases before it would count
 * as the campaign's conversions) nor years ahead (a window no date-time can end).
 */
export function receiptTime(
  at: string | undefined,
  entry: Pick<OutboxEntryDoc, 'sentAt' | 'createdAt'>,
  now: Date,
): Date {
  if (!at) return now;
  const handedOver = (entry.sentAt ?? entry.createdAt).getTime();
  return new Date(Math.min(Math.max(Date.parse(at), handedOver), now.getTime()));
}

/** Applies receipts; each one's effect happens once, whatever the repeats. */
export async function applyReceipts(
  repos: MessagesRepositories,
  receipts: readonly Receipt[],
  now = new Date(),
): Promise<ReceiptOutcome> {
  const entries = new Map(
    (await repos.outbox.byIds([...new Set(receipts.map((receipt) => receipt.messageId))])).map((entry) => [
      entry._id,
      entry,
    ]),
  );
  const events: RelayedEventDoc[] = [];
  const unknown: number[] = [];
  let applied = 0;
  for (const [index, receipt] of receipts.entries()) {
    const entry = entries.get(receipt.messageId);
    // Any message an attempt took to a carrier's channel counts: a carrier's receipt can come before the sender records
    // the gateway's answer, or after an answer lost to a timeout read as a failure (the message waits for its retry, was
    // dead-lettered, or was skipped on a later pass) — a delivery dropped then would have it sent again, or a card fall
    // back to an SMS the member does not need, and its budget touch given back.
    if (!entry || !entry.channel || entry.channel === 'IN_APP' || entry.attempts === 0) {
      unknown.push(index);
      continue;
    }
    const at = receiptTime(receipt.at, entry, now);
    const facts = { ...entry, channel: entry.channel };
    applied += 1;
    // A read, a click or a reply is proof of delivery too (carriers do not always send the receipt for it).
    if (receipt.status !== 'FAILED' && !entry.deliveredAt) {
      const delivered = await recordDelivered(repos, facts, at);
      if (delivered) events.push(delivered);
      // Later receipts of this request see it: a FAILED after it must not fall back or give up.
      entries.set(entry._id, { ...entry, deliveredAt: at });
    }
    switch (receipt.status) {
      case 'DELIVERED':
        break;
      case 'READ':
        if (await repos.outbox.stampOnce(entry._id, 'openedAt', at))
          events.push(messageEvent(facts, 'message_open', at));
        break;
      case 'CLICKED':
        await repos.outbox.stampOnce(entry._id, 'openedAt', at);
        if (await repos.outbox.stampOnce(entry._id, 'clickedAt', at))
          events.push(messageEvent(facts, 'message_click', at));
        break;
      case 'FAILED':
        // A message that reached the member stays reached, whatever a carrier says after; and one the sender holds no
        // hand-over of (waiting for a retry, or given up) was decided on the gateway's own answer for that attempt.
        if (entry.deliveredAt || !(entry.sentAt || entry.state === 'SENDING')) break;
        if (entry.channel === 'FIVE_G') await fallBack(repos, [entry], now);
        else {
          // Only while still undelivered: a delivery receipt handled elsewhere since this one read the entry wins.
          const dead = await repos.outbox.deadLetterUndelivered(
            entry._id,
            withoutPersonalData(`carrier: ${receipt.error ?? 'undeliverable'}`, entry),
          );
          if (dead && takesTouch(entry)) {
            await repos.contacts.giveBack(entry.memberId, entry._id, entry.channel);
            // A delivery stamped after the write above revives the entry; whichever side sees the other's write
            // puts the touch back, so it is kept whatever the order of the four writes.
            const [after] = await repos.outbox.byIds([entry._id]);
            if (after?.deliveredAt)
              await repos.contacts.restore(entry.memberId, entry._id, entry.channel, entry.sentAt ?? at);
          }
        }
        break;
      case 'REPLY':
        if (receipt.text && UNSUBSCRIBE_REPLY.test(receipt.text))
          await unsubscribeThrough(repos, facts, 'UNSUBSCRIBE_REPLY', at);
        break;
    }
  }
  await repos.relay.enqueue(events);
  return { applied, unknown };
}

/** The route: signature first, then the body; the gateway's signed identity is checked like /graphql's. */
export function receiptsRoute(options: {
  repos: MessagesRepositories;
  secret: string;
  logger: Logger;
}): (router: Router, contextOf: (req: Request, res: Response) => Promise<BaseContext>) => void {
  return (router, contextOf) => {
    router.post('/receipts', express.text({ type: () => true, limit: '256kb' }), async (req, res) => {
      try {
        await contextOf(req, res);
        const body = typeof req.body === 'string' ? req.body : '';
        const signed = verifyReceipt(
          options.secret,
          { signature: req.headers[SIGNATURE_HEADER], timestamp: req.headers[TIMESTAMP_HEADER] },
          body,
        );
        if (!signed)
          return sendGraphQLError(
            res,
            401,
            ErrorCode.INVALID_SIGNATURE,
            'the receipt is not signed with the receipt secret, or its timestamp is more than five minutes off',
          );
        let parsed: z.infer<typeof Receipts> | null = null;
        try {
          const result = Receipts.safeParse(JSON.parse(body));
          if (result.success) parsed = result.data;
        } catch {
          parsed = null;
        }
        if (!parsed)
          return sendGraphQLError(
            res,
            400,
            ErrorCode.BAD_REQUEST,
            'send {"receipts": [{"messageId", "status", "at"?, "text"?, "error"?}]}, at most 500',
          );
        res.json(await applyReceipts(options.repos, parsed.receipts));
      } catch (error) {
        if (error instanceof GraphQLError && typeof error.extensions.code === 'string') {
          const http = error.extensions.http as { status?: number } | undefined;
          return sendGraphQLError(res, http?.status ?? 500, error.extensions.code, error.message);
        }
        options.logger.error({ reason: (error as Error).message }, 'receipts failed');
        sendGraphQLError(res, 500, ErrorCode.INTERNAL_SERVER_ERROR, 'Internal server error');
      }
    });
  };
}
