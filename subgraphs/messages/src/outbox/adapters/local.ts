// The local provider for development and tests: it records what it was asked to send in messages' own database
// (collection local_provider), one document per idempotency key. The first call with a key is the delivery; a repeat
// only counts the call, as a real gateway honouring idempotency keys would — so a test can count, per member, what a
// provider would have delivered. Sends arriving together are written in one insert.
import { duplicateIndexes } from '@bank-hub/shared';
import { Schema, type Connection, type Model, type mongo } from 'mongoose';
import type { ProviderAdapter, ProviderMessage, SendResult } from './adapter';

export interface LocalDeliveryDoc {
  /** The idempotency key. */
  _id: string;
  channel: 'FIVE_G' | 'SMS';
  memberId: string;
  to: string;
  text: string | null;
  card: unknown;
  firstAt: Date;
  /** Calls with this key; more than 1 means a sender repeated it (and it was delivered once). */
  calls: number;
}

const localSchema = new Schema<LocalDeliveryDoc>(
  {
    _id: { type: String, required: true },
    channel: { type: String, required: true },
    memberId: { type: String, required: true },
    to: { type: String, required: true },
    text: { type: String, default: null },
    card: { type: Schema.Types.Mixed, default: null },
    firstAt: { type: Date, required: true },
    calls: { type: Number, required: true },
  },
  { collection: 'local_provider', versionKey: false },
);

export const openLocalDeliveries = (connection: Connection): Model<LocalDeliveryDoc> =>
  connection.model<LocalDeliveryDoc>('LocalDelivery', localSchema);

interface Waiting {
  doc: LocalDeliveryDoc;
  resolve: (result: SendResult) => void;
  reject: (error: unknown) => void;
}

export class LocalProvider implements ProviderAdapter {
  readonly name = 'local';
  private readonly collection: mongo.Collection<LocalDeliveryDoc>;
  private waiting: Waiting[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    deliveries: Model<LocalDeliveryDoc>,
    /** Slows each send down (tests that stop a worker halfway through a campaign). */
    private readonly delayMs = 0,
  ) {
    this.collection = deliveries.collection as unknown as mongo.Collection<LocalDeliveryDoc>;
  }

  async send(message: ProviderMessage): Promise<SendResult> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const doc: LocalDeliveryDoc = {
      _id: message.idempotencyKey,
      channel: message.channel,
      memberId: message.memberId,
      to: message.to,
      text: message.sms?.text ?? null,
      card: message.card ?? null,
      firstAt: new Date(),
      calls: 1,
    };
    return new Promise<SendResult>((resolve, reject) => {
      this.waiting.push({ doc, resolve, reject });
      if (!this.flushing) this.flushing = new Promise((done) => setImmediate(done)).then(() => this.flush());
    });
  }

  async close(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    const group = this.waiting;
    this.waiting = [];
    try {
      let repeated = new Set<number>();
      try {
        await this.collection.insertMany(
          group.map(({ doc }) => doc),
          { ordered: false },
        );
      } catch (error) {
        const duplicates = duplicateIndexes(error);
        if (!duplicates) throw error;
        repeated = duplicates;
      }
      if (repeated.size > 0)
        await this.collection.bulkWrite(
          [...repeated].map((index) => ({
            updateOne: { filter: { _id: group[index]!.doc._id }, update: { $inc: { calls: 1 } } },
          })),
          { ordered: false },
        );
      for (const { doc, resolve } of group) resolve({ ok: true, providerMessageId: `local-${doc._id}` });
    } catch (error) {
      for (const { reject } of group) reject(error);
    } finally {
      this.flushing = null;
      if (this.waiting.length > 0)
        this.flushing = new Promise((done) => setImmediate(done)).then(() => this.flush());
    }
  }
}
