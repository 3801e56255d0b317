// The unified tag library.
import { randomUUID } from 'node:crypto';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';

export type TagValueType = 'BOOLEAN' | 'NUMBER' | 'STRING' | 'STRING_LIST';
export type TagSource = 'MANUAL' | 'COMPUTED' | 'IMPORTED';

export interface TagDefinitionDoc {
  _id: string;
  name: string;
  category: string;
  valueType: TagValueType;
  source: TagSource;
  description: string | null;
  updatedAt: Date;
  /**
   * The place among the library's definitions this one took when defined (0 to the bound less one), unique: what
   * keeps concurrent defineTags calls within the bound without a transaction. Absent on definitions stored without
   * the hub (the seed's, those from before places), which count against the bound all the same.
   */
  slot?: number;
  /**
   * Set while the call that defines this new tag has not stored all its new tags: the id of that call and when it
   * began. Such a definition holds its place and its code but is in nobody's library yet.
   */
  pendingCall?: string;
  pendingSince?: Date;
}

export const tagDefinitionSchema = new Schema<TagDefinitionDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    category: { type: String, required: true },
    valueType: { type: String, required: true },
    source: { type: String, required: true },
    description: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    slot: { type: Number },
    pendingCall: { type: String },
    pendingSince: { type: Date },
  },
  { collection: 'tag_definitions', versionKey: false },
);
// Sparse: definitions without a place (stored without the hub) are not in the index at all.
tagDefinitionSchema.index({ slot: 1 }, { unique: true, sparse: true });

/** What the library is made of for its readers: stored definitions, without the bookkeeping of calls. */
const LIBRARY = { pendingCall: { $exists: false } };
const WITHOUT_BOOKKEEPING = { slot: 0, pendingCall: 0, pendingSince: 0 };

/**
 * A new definition whose call began this long ago and still has not stored it was left by a process that stopped
 * mid-call: its place and code are free again. A call lasts seconds (the gateway gives up after SUBGRAPH_TIMEOUT_MS,
 * a call waits at most 10 s for another), so a minute never cuts one short that still runs.
 */
const ABANDONED_MS = 60_000;
/** How often a call waiting for another call's new definitions of the same codes looks again. */
const POLL_MS = 25;

/** Why `define` stored nothing of a call. */
export type DefineRefusal =
  /** A definition has another value type than the one stored under its code; `index` is its position. */
  | { otherValueType: { index: number; stored: TagValueType } }
  /** The call's new definitions do not fit in the places left. */
  | 'limitReached'
  /** Another call was still defining one of the codes, or racing this one for the last places, when the wait ended. */
  | 'inProgress';

export class TagDefinitionRepository {
  constructor(readonly model: Model<TagDefinitionDoc>) {}

  all(): Promise<TagDefinitionDoc[]> {
    return this.model
      .find(LIBRARY, WITHOUT_BOOKKEEPING)
      .sort({ category: 1, _id: 1 })
      .lean<TagDefinitionDoc[]>()
      .exec();
  }

  /**
   * Creates or updates the definitions of one call, all of them or none, keeping the library within
   * `maxDefinitions` and never changing a stored value type. Without transactions, in three steps:
   * 1. each new definition is inserted with a free place among the library's (a unique index refuses a place another
   *    call took meanwhile) and marked pending, which keeps it out of the library: a code another call is defining
   *    at this moment is waited for until `waitUntil` (epoch ms), as its call may yet store it or give it up;
   * 2. only once every new definition has its place and every other code is stored with the same value type (a
   *    stored value type never changes, so this cannot turn false) are the existing definitions updated;
   * 3. the new definitions are unmarked, entering the library together.
   * A refusal deletes the call's pending definitions, which nobody has read, so a refused call has stored nothing.
   * Returns, for each definition, what it replaced (null for a new one).
   */
  async define(
    definitions: readonly TagDefinitionDoc[],
    maxDefinitions: number,
    waitUntil: number,
  ): Promise<{ before: (TagDefinitionDoc | null)[] } | DefineRefusal> {
    const call = { pendingCall: randomUUID(), pendingSince: new Date() };
    const giveUp = () => this.model.deleteMany({ pendingCall: call.pendingCall }).exec();
    let reserved: Set<string> | DefineRefusal;
    try {
      reserved = await this.reserve(definitions, call, maxDefinitions, waitUntil);
    } catch (error) {
      await giveUp();
      throw error;
    }
    if (!(reserved instanceof Set)) {
      await giveUp();
      return reserved;
    }
    const ours = reserved;
    const before = await Promise.all(
      definitions.map((definition) => {
        // The call's own new definitions are stored already, as given.
        if (ours.has(definition._id)) return null;
        const { _id, valueType, ...rest } = definition;
        return this.model
          .findOneAndUpdate(
            { _id, valueType },
            { $set: rest },
            { returnDocument: 'before', projection: WITHOUT_BOOKKEEPING },
          )
          .lean<TagDefinitionDoc>()
          .exec();
      }),
    );
    const published = await this.model
      .updateMany({ pendingCall: call.pendingCall }, { $unset: { pendingCall: 1, pendingSince: 1 } })
      .exec();
    // Only a call stuck for over ABANDONED_MS between its steps gets here: some of its new definitions were freed.
    if (published.modifiedCount !== ours.size)
      throw new Error('defineTags outlived its places: define the tags again');
    return { before };
  }

  /**
   * Step 1 of `define`: a place for each new definition, pending, and every other code stored with the same value
   * type. Returns the codes this call defines anew, else why it is refused (the caller then gives up its places).
   */
  private async reserve(
    definitions: readonly TagDefinitionDoc[],
    call: { pendingCall: string; pendingSince: Date },
    maxDefinitions: number,
    waitUntil: number,
  ): Promise<Set<string> | DefineRefusal> {
    const ours = new Set<string>();
    for (;;) {
      await this.model.deleteMany({ pendingSince: { $lt: new Date(Date.now() - ABANDONED_MS) } }).exec();
      const others = definitions.filter((definition) => !ours.has(definition._id));
      const stored = new Map(
        (
          await this.model
            .find(
              { _id: { $in: others.map((definition) => definition._id) } },
              { valueType: 1, pendingCall: 1 },
            )
            .lean<Pick<TagDefinitionDoc, '_id' | 'valueType' | 'pendingCall'>[]>()
            .exec()
        ).map((definition) => [definition._id, definition]),
      );
      const index = definitions.findIndex((definition) => {
        const existing = stored.get(definition._id);
        return existing && existing.pendingCall === undefined && existing.valueType !== definition.valueType;
      });
      if (index >= 0)
        return { otherValueType: { index, stored: stored.get(definitions[index]!._id)!.valueType } };
      const absent = others.filter((definition) => !stored.has(definition._id));
      // Another call's new definition of one of the codes: that call may yet store it or give it up.
      const waiting = others.some((definition) => stored.get(definition._id)?.pendingCall !== undefined);
      if (absent.length === 0 && !waiting) return ours;
      if (absent.length > 0) {
        const places = await this.freeSlots(absent.length, maxDefinitions);
        if (places === null && ours.size === 0) return 'limitReached';
        if (places === null) {
          // Lost a race for the last places: give up those held, so that two calls do not each keep half of what
          // either needs, and try again after the other.
          await this.model.deleteMany({ pendingCall: call.pendingCall }).exec();
          ours.clear();
        } else {
          const inserted = await Promise.all(
            absent.map((definition, i) =>
              this.model.create({ ...definition, slot: places[i]!, ...call }).then(
                () => ours.add(definition._id),
                (error: unknown) => {
                  // A place or a code another call took meanwhile: the next turn sees which.
                  if (!isDuplicateKey(error)) throw error;
                  return null;
                },
              ),
            ),
          );
          if (inserted.includes(null) || !waiting) continue;
        }
      }
      if (Date.now() > waitUntil) return 'inProgress';
      await new Promise((resolve) => setTimeout(resolve, POLL_MS * (1 + Math.random())));
    }
  }

  /**
   * `count` distinct free places for new definitions, or null when fewer are free. Definitions without a place
   * take the highest ones; among the free ones it picks at random, so that concurrent calls rarely pick the same.
   */
  private async freeSlots(count: number, maxDefinitions: number): Promise<number[] | null> {
    const stored = await this.model.find({}, { _id: 0, slot: 1 }).lean<{ slot?: number | null }[]>().exec();
    if (stored.length + count > maxDefinitions) return null;
    const taken = new Set(
      stored.flatMap((definition) => (typeof definition.slot === 'number' ? [definition.slot] : [])),
    );
    const places = maxDefinitions - (stored.length - taken.size);
    const free = Array.from({ length: places }, (_, slot) => slot).filter((slot) => !taken.has(slot));
    for (let i = free.length - 1; i > 0; i -= 1) {
      const j = Math.floor(Math.random() * (i + 1));
      [free[i], free[j]] = [free[j]!, free[i]!];
    }
    return free.slice(0, count);
  }
}
