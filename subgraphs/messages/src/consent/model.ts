// Consent per member, channel and purpose, and its history. Marketing needs consent given; a service notice needs it not
// withdrawn. A change is one write by the member's id, read by the worker right before each send, so a withdrawal
// stops what is not yet handed to a channel. Every change is also appended to the consent log, which is never edited.
import { Schema, type Connection, type Model } from 'mongoose';
import { MESSAGE_CHANNELS, type MessageChannel } from '@bank-hub/shared';
import { DEFAULT_CONSENT, type ConsentsByChannel, type Purpose } from '../outbox/domain/routing';

export type ConsentSource = 'MEMBER' | 'UNSUBSCRIBE_LINK' | 'UNSUBSCRIBE_REPLY' | 'SEED';

interface ConsentMark {
  granted: boolean;
  at: Date;
  source: ConsentSource;
}

export interface ConsentDoc {
  /** The member. */
  _id: string;
  channels: Partial<Record<MessageChannel, { marketing?: ConsentMark; service?: ConsentMark }>>;
}

interface ConsentLogDoc {
  memberId: string;
  channel: MessageChannel;
  purpose: Purpose;
  granted: boolean;
  source: ConsentSource;
  at: Date;
  /** The message an unsubscribe came through, if any. */
  messageId: string | null;
}

/** One channel and purpose of a member's consent, as the graph shows it. */
export interface ConsentView {
  channel: MessageChannel;
  purpose: Purpose;
  granted: boolean;
  source: ConsentSource | 'DEFAULT';
  updatedAt: Date | null;
}

const consentSchema = new Schema<ConsentDoc>(
  { _id: { type: String, required: true }, channels: { type: Schema.Types.Mixed, default: {} } },
  { collection: 'consents', versionKey: false, minimize: false },
);

const consentLogSchema = new Schema<ConsentLogDoc>(
  {
    memberId: { type: String, required: true },
    channel: { type: String, required: true },
    purpose: { type: String, required: true },
    granted: { type: Boolean, required: true },
    source: { type: String, required: true },
    at: { type: Date, required: true },
    messageId: { type: String, default: null },
  },
  { collection: 'consent_log', versionKey: false },
);
consentLogSchema.index({ memberId: 1, at: -1 });

const key = (purpose: Purpose) => (purpose === 'MARKETING' ? 'marketing' : 'service');

/** What the worker decides with: granted or not, per channel and purpose. */
export function consentsOf(doc: ConsentDoc | null): ConsentsByChannel {
  const result: ConsentsByChannel = {};
  for (const channel of MESSAGE_CHANNELS) {
    const marks = doc?.channels[channel];
    if (!marks) continue;
    result[channel] = {
      ...(marks.marketing ? { marketing: marks.marketing.granted } : {}),
      ...(marks.service ? { service: marks.service.granted } : {}),
    };
  }
  return result;
}

/** Every channel and purpose of a member's consent, defaults included. */
export function consentViews(doc: ConsentDoc | null): ConsentView[] {
  return MESSAGE_CHANNELS.flatMap((channel) =>
    (['MARKETING', 'SERVICE'] as const).map((purpose) => {
      const mark = doc?.channels[channel]?.[key(purpose)];
      return mark
        ? { channel, purpose, granted: mark.granted, source: mark.source, updatedAt: mark.at }
        : {
            channel,
            purpose,
            granted: purpose === 'MARKETING' ? DEFAULT_CONSENT.marketing : DEFAULT_CONSENT.service,
            source: 'DEFAULT' as const,
            updatedAt: null,
          };
    }),
  );
}

export class ConsentRepository {
  constructor(
    readonly model: Model<ConsentDoc>,
    readonly log: Model<ConsentLogDoc>,
  ) {}

  static open(connection: Connection): ConsentRepository {
    return new ConsentRepository(
      connection.model<ConsentDoc>('Consent', consentSchema),
      connection.model<ConsentLogDoc>('ConsentLog', consentLogSchema),
    );
  }

  /** The consents of these members; a member with none recorded is absent. */
  byMembers(memberIds: readonly string[]): Promise<ConsentDoc[]> {
    return this.model
      .find({ _id: { $in: [...memberIds] } })
      .lean<ConsentDoc[]>()
      .exec();
  }

  /** Whether a withdrawal through this message (an unsubscribe link or reply) was written. */
  async withdrawnThrough(memberId: string, messageId: string): Promise<boolean> {
    return (await this.log.exists({ memberId, messageId, granted: false })) !== null;
  }

  /** Records a member's consent for a channel and purpose, and logs it. */
  async set(
    memberId: string,
    channel: MessageChannel,
    purpose: Purpose,
    granted: boolean,
    source: ConsentSource,
    at: Date,
    messageId: string | null = null,
  ): Promise<ConsentDoc> {
    const mark: ConsentMark = { granted, at, source };
    const doc = await this.model
      .findOneAndUpdate(
        { _id: memberId },
        { $set: { [`channels.${channel}.${key(purpose)}`]: mark } },
        { upsert: true, returnDocument: 'after' },
      )
      .lean<ConsentDoc>()
      .exec();
    await this.log.create({ memberId, channel, purpose, granted, source, at, messageId });
    return doc!;
  }
}
