// The contact budget and the channels' daily caps, per member, kept without transactions. Each member has one document
// holding their recent marketing touches (across channels) and, per channel, the touches of the last 24 hours. A
// touch is taken by one conditional update that carries the message's key: it lands only while the key is not there
// yet and both arrays have room (their N-th element does not exist), so concurrent workers can never take the member
// over budget, and a retry of the same message finds its touch already taken. Touches that aged out of a window are
// pulled before the arrays' length is trusted.
import { isDuplicateKey } from '@bank-hub/shared';
import { Schema, type Connection, type Model } from 'mongoose';
import type { MessageChannel } from '@bank-hub/shared';
import type { OutboxEntryDoc } from './model';

interface Touch {
  key: string;
  at: Date;
  channel: MessageChannel;
}

export interface ContactDoc {
  /** The member. */
  _id: string;
  /** Marketing touches in the budget's window, oldest first. */
  marketing: Touch[];
  /** Per channel, marketing touches of the last 24 hours. */
  channels: Partial<Record<MessageChannel, Touch[]>>;
}

export interface ContactRules {
  /** Marketing touches allowed per member in the window. */
  budget: number;
  budgetWindowMs: number;
  /** Touches allowed per member, per channel, per 24 hours. */
  caps: Record<MessageChannel, number>;
}

const CAP_WINDOW_MS = 86_400_000;

/**
 * Whether a message takes a touch of the member's contact budget: marketing on its first rung (a fallback is the same
 * touch as the message it falls back from).
 */
export const takesTouch = (entry: Pick<OutboxEntryDoc, 'purpose' | 'rung'>): boolean =>
  entry.purpose === 'MARKETING' && entry.rung === 1;

export type TouchOutcome =
  { ok: true; channel: MessageChannel } | { ok: false; reason: 'OVER_BUDGET' | 'FREQUENCY_CAPPED' };

const contactSchema = new Schema<ContactDoc>(
  {
    _id: { type: String, required: true },
    marketing: { type: Schema.Types.Mixed, default: [] },
    channels: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'contacts', versionKey: false, minimize: false },
);

/** What the member's document allows, as read: the touch of this key, or the first rung with room, or why not. */
export function decideTouch(
  doc: ContactDoc | null,
  key: string,
  rungs: readonly MessageChannel[],
  rules: ContactRules,
  now: Date,
): TouchOutcome {
  const taken = doc?.marketing.find((touch) => touch.key === key);
  if (taken && rungs.includes(taken.channel)) return { ok: true, channel: taken.channel };
  const budgetFrom = now.getTime() - rules.budgetWindowMs;
  const recent = (doc?.marketing ?? []).filter((touch) => new Date(touch.at).getTime() > budgetFrom);
  if (recent.length >= rules.budget) return { ok: false, reason: 'OVER_BUDGET' };
  const capFrom = now.getTime() - CAP_WINDOW_MS;
  const channel = rungs.find(
    (rung) =>
      (doc?.channels[rung] ?? []).filter((touch) => new Date(touch.at).getTime() > capFrom).length <
      rules.caps[rung],
  );
  return channel ? { ok: true, channel } : { ok: false, reason: 'FREQUENCY_CAPPED' };
}

export class ContactRepository {
  constructor(readonly model: Model<ContactDoc>) {}

  static open(connection: Connection): ContactRepository {
    return new ContactRepository(connection.model<ContactDoc>('Contact', contactSchema));
  }

  byMembers(memberIds: readonly string[]): Promise<ContactDoc[]> {
    return this.model
      .find({ _id: { $in: [...memberIds] } })
      .lean<ContactDoc[]>()
      .exec();
  }

  /**
   * Takes a marketing touch for the message `key` on the first of `rungs` whose cap has room, within the budget.
   * `known` is the member's document as read for the batch (null: none yet); a race with another worker re-reads.
   */
  async take(
    memberId: string,
    key: string,
    rungs: readonly MessageChannel[],
    rules: ContactRules,
    now: Date,
    known: ContactDoc | null,
  ): Promise<TouchOutcome> {
    let doc = known;
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = doc?.marketing.find((touch) => touch.key === key);
      if (held && !rungs.includes(held.channel)) {
        // An earlier attempt took the touch on a channel the member has withdrawn consent from since: the message
        // goes on another rung, so its touch moves there (or is refused, like any other).
        await this.giveBack(memberId, key, held.channel);
        doc = await this.model.findById(memberId).lean<ContactDoc>().exec();
        continue;
      }
      const decided = decideTouch(doc, key, rungs, rules, now);
      if (!decided.ok || held) return decided;
      if (doc && this.hasAged(doc, rules, now)) await this.prune(memberId, rules, now);
      const touch: Touch = { key, at: now, channel: decided.channel };
      if (!doc) {
        // The member's first touch: an insert, which the unique id alone decides (no other worker created the
        // document meanwhile), instead of a conditional upsert that would have to look for it.
        try {
          await this.model.create({
            _id: memberId,
            marketing: [touch],
            channels: { [decided.channel]: [touch] },
          });
          return decided;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
          doc = await this.model.findById(memberId).lean<ContactDoc>().exec();
          continue;
        }
      }
      try {
        await this.model
          .findOneAndUpdate(
            {
              _id: memberId,
              'marketing.key': { $ne: key },
              [`marketing.${rules.budget - 1}`]: { $exists: false },
              [`channels.${decided.channel}.${rules.caps[decided.channel] - 1}`]: { $exists: false },
            },
            { $push: { marketing: touch, [`channels.${decided.channel}`]: touch } },
            { upsert: true, projection: { _id: 1 } },
          )
          .lean()
          .exec();
        // The upsert either updated the member's document or created it: the touch is taken.
        return decided;
      } catch (error) {
        // The document exists and refused the touch (no room, or the key is there): read it and decide again.
        if (!isDuplicateKey(error)) throw error;
      }
      doc = await this.model.findById(memberId).lean<ContactDoc>().exec();
    }
    // Others kept taking this member's touches under our feet: the message is retried later, as after any failure.
    throw new Error(`the contact budget of ${memberId} is contended; retrying later`);
  }

  /** Gives back a touch whose message was never delivered (dead-lettered, or not sent after all). */
  async giveBack(memberId: string, key: string, channel: MessageChannel): Promise<void> {
    await this.model
      .updateOne({ _id: memberId }, { $pull: { marketing: { key }, [`channels.${channel}`]: { key } } })
      .exec();
  }

  /**
   * Puts back the touch of a message found delivered after its touch was given back (a carrier's failure raced its
   * delivery receipt). The member got it, so it counts whatever room is left; a touch already there stays one.
   */
  async restore(memberId: string, key: string, channel: MessageChannel, at: Date): Promise<void> {
    const touch: Touch = { key, at, channel };
    await this.model
      .updateOne(
        { _id: memberId, 'marketing.key': { $ne: key } },
        {
          $push: {
            marketing: { $each: [touch], $sort: { at: 1 } },
            [`channels.${channel}`]: { $each: [touch], $sort: { at: 1 } },
          },
        },
      )
      .exec();
  }

  private hasAged(doc: ContactDoc, rules: ContactRules, now: Date): boolean {
    const budgetFrom = now.getTime() - rules.budgetWindowMs;
    const capFrom = now.getTime() - CAP_WINDOW_MS;
    return (
      doc.marketing.some((touch) => new Date(touch.at).getTime() <= budgetFrom) ||
      Object.values(doc.channels).some((touches) =>
        (touches ?? []).some((touch) => new Date(touch.at).getTime() <= capFrom),
      )
    );
  }

  /** Pulls the touches that aged out of their windows. */
  private async prune(memberId: string, rules: ContactRules, now: Date): Promise<void> {
    const budgetFrom = new Date(now.getTime() - rules.budgetWindowMs);
    const capFrom = new Date(now.getTime() - CAP_WINDOW_MS);
    await this.model
      .updateOne(
        { _id: memberId },
        {
          $pull: {
            marketing: { at: { $lte: budgetFrom } },
            'channels.FIVE_G': { at: { $lte: capFrom } },
            'channels.SMS': { at: { $lte: capFrom } },
            'channels.IN_APP': { at: { $lte: capFrom } },
          },
        },
      )
      .exec();
  }
}
