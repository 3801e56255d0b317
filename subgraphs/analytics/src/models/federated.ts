// Federated rounds of the product-propensity model, the participants operators registered, and the hub's own round keys.
// A round is one document: each post is one conditional single-document update (a participant's key or masked update
// pushed only while the round is in that phase and holds none of theirs), so two posts racing never both land and
// nothing needs a transaction. While open, a round holds its model's one open slot (`openSlot`, unique): the insert
// that opens a round fails while another holds it, and the write that closes a round frees it, so at most one round of
// a model is open, with no window in which a crash leaves the slot held by a closed round.
// The hub stores only masked updates: no participant's plain update ever reaches it.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';
import type { TrainingSettings } from '../domain/federated';

export interface FederatedParticipantDoc {
  /** The participant's id: the subject of its `federation` token. */
  _id: string;
  name: string;
  registeredAt: Date;
  registeredBy: string;
  updatedAt: Date;
  updatedBy: string;
  /**
   * The most samples it may announce with a round key, as its contract with the bank says; absent on a participant
   * registered before there was one, which reads as the default (see maxSamplesOf).
   */
  maxSamples?: number;
  /** When an operator retired it (absent before), after which no new round lists it; and who. */
  retiredAt?: Date | null;
  retiredBy?: string | null;
}

export type RoundStatus = 'COLLECTING_KEYS' | 'COLLECTING_UPDATES' | 'AGGREGATED' | 'ABANDONED';

export interface RoundKeyEntry {
  participant: string;
  /** X25519, base64 of the 32 raw bytes. */
  publicKey: string;
  /** The participant's examples, as it announced them. */
  samples: number;
  /**
   * Its weight in the average, set once every key is in: its samples, capped so that it holds at most its share of the
   * round's total weight. What it multiplies its clipped update by. Absent before, and on rounds begun before weights
   * were capped (their weight is their samples).
   */
  weight?: number;
  postedAt: Date;
}

export interface RoundUpdateEntry {
  participant: string;
  /** The participant's weighted, encoded update plus its masks: elements of Z/2^32. */
  masked: number[];
  postedAt: Date;
}

export interface FederatedRoundDoc {
  /** `FR-<number>`. */
  _id: string;
  number: number;
  model: string;
  status: RoundStatus;
  participants: string[];
  /**
   * The most samples each participant may announce, in the order of `participants`, as their contracts said when the
   * round opened; absent on rounds opened before there were any (up to MAX_SAMPLES each).
   */
  sampleLimits?: number[];
  /** The registry version the round trains from; 0 for the first round (zero weights). */
  baseVersion: number;
  weights: number[];
  settings: TrainingSettings;
  deadline: Date;
  openedAt: Date;
  openedBy: string;
  keys: RoundKeyEntry[];
  keyCount: number;
  /** Fixed once every key is in, from the weights: see scaleFor. */
  scale: number | null;
  totalSamples: number | null;
  /** The participants' weights together, fixed once every key is in; absent on rounds begun before weights were capped. */
  totalWeight?: number | null;
  updates: RoundUpdateEntry[];
  updateCount: number;
  /** Who aggregates the complete round, until when: one process publishes its version. */
  aggregation: { by: string; until: Date } | null;
  /**
   * The model version number the aggregation reserved, recorded before the version is stored: every retry or racing
   * process stores that one number, so a round publishes one version.
   */
  reservedVersion?: number | null;
  publishedVersion: number | null;
  closedAt: Date | null;
  closedBy: string | null;
  /** Why a round was abandoned. */
  reason: string | null;
  /** The model's name while the round is open, absent once it is closed: unique, so one round of a model is open. */
  openSlot?: string;
}

/**
 * The hub's private key of a round (it participates as `hub`), kept until its masked update is posted, or until a pass
 * of the hub's job finds the round closed.
 */
export interface HubRoundKeyDoc {
  /** The round's id. */
  _id: string;
  publicKey: string;
  /** PKCS#8 DER, base64. */
  privateKey: string;
  createdAt: Date;
}

export const federatedParticipantSchema = new Schema<FederatedParticipantDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    registeredAt: { type: Date, required: true },
    registeredBy: { type: String, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
    maxSamples: { type: Number },
    retiredAt: { type: Date, default: null },
    retiredBy: { type: String, default: null },
  },
  { collection: 'federated_participants', versionKey: false },
);

export const federatedRoundSchema = new Schema<FederatedRoundDoc>(
  {
    _id: { type: String, required: true },
    number: { type: Number, required: true },
    model: { type: String, required: true },
    status: { type: String, required: true },
    participants: { type: [String], required: true },
    sampleLimits: { type: [Number], default: undefined },
    baseVersion: { type: Number, required: true },
    weights: { type: [Number], required: true },
    settings: { type: Schema.Types.Mixed, required: true },
    deadline: { type: Date, required: true },
    openedAt: { type: Date, required: true },
    openedBy: { type: String, required: true },
    keys: { type: Schema.Types.Mixed, default: [] },
    keyCount: { type: Number, required: true },
    scale: { type: Number, default: null },
    totalSamples: { type: Number, default: null },
    totalWeight: { type: Number, default: null },
    updates: { type: Schema.Types.Mixed, default: [] },
    updateCount: { type: Number, required: true },
    aggregation: { type: Schema.Types.Mixed, default: null },
    reservedVersion: { type: Number, default: null },
    publishedVersion: { type: Number, default: null },
    closedAt: { type: Date, default: null },
    closedBy: { type: String, default: null },
    reason: { type: String, default: null },
    openSlot: { type: String },
  },
  { collection: 'federated_rounds', versionKey: false, minimize: false },
);
federatedRoundSchema.index({ status: 1, number: -1 });
federatedRoundSchema.index({ openSlot: 1 }, { unique: true, sparse: true });

export const hubRoundKeySchema = new Schema<HubRoundKeyDoc>(
  {
    _id: { type: String, required: true },
    publicKey: { type: String, required: true },
    privateKey: { type: String, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'federated_hub_keys', versionKey: false },
);

export interface CounterDoc {
  _id: string;
  seq: number;
}
export const federatedCounterSchema = new Schema<CounterDoc>(
  { _id: { type: String, required: true }, seq: { type: Number, required: true } },
  { collection: 'federated_counters', versionKey: false },
);

const OPEN: RoundStatus[] = ['COLLECTING_KEYS', 'COLLECTING_UPDATES'];
export const isOpen = (status: RoundStatus): boolean => OPEN.includes(status);
/** What every write that closes a round sets, and frees its model's open slot with. */
const closing = (status: RoundStatus, by: string, now: Date, also: Partial<FederatedRoundDoc>) => ({
  $set: { status, closedAt: now, closedBy: by, ...also },
  $unset: { openSlot: 1 as const },
});

export class FederatedRepository {
  constructor(
    readonly participants: Model<FederatedParticipantDoc>,
    readonly rounds: Model<FederatedRoundDoc>,
    readonly hubKeys: Model<HubRoundKeyDoc>,
    readonly counters: Model<CounterDoc>,
  ) {}

  participant(id: string): Promise<FederatedParticipantDoc | null> {
    return this.participants.findById(id).lean<FederatedParticipantDoc>().exec();
  }

  allParticipants(): Promise<FederatedParticipantDoc[]> {
    return this.participants.find().sort({ _id: 1 }).lean<FederatedParticipantDoc[]>().exec();
  }

  /** Which of these ids are registered, as stored. */
  async registered(ids: readonly string[]): Promise<Map<string, FederatedParticipantDoc>> {
    const found = await this.participants
      .find({ _id: { $in: [...ids] } })
      .lean<FederatedParticipantDoc[]>()
      .exec();
    return new Map(found.map((participant) => [participant._id, participant]));
  }

  /** Retires a registered participant not yet retired; the document before, or null when there is no such one. */
  retire(id: string, by: string, now: Date): Promise<FederatedParticipantDoc | null> {
    return this.participants
      .findOneAndUpdate(
        { _id: id, retiredAt: null },
        { $set: { retiredAt: now, retiredBy: by, updatedAt: now, updatedBy: by } },
        { returnDocument: 'before' },
      )
      .lean<FederatedParticipantDoc>()
      .exec();
  }

  /**
   * Registers a participant or renames one not retired, with its maximum samples: `maxSamples` when given, else
   * `newMaxSamples` for a new one and its own for one registered. The document before, null when new, or `retired`
   * (nothing changed) when it is retired.
   */
  async saveParticipant(
    id: string,
    change: { name: string; maxSamples: number | null; newMaxSamples: number },
    by: string,
    now: Date,
  ): Promise<FederatedParticipantDoc | null | 'retired'> {
    const { name, maxSamples, newMaxSamples } = change;
    try {
      return await this.participants
        .findOneAndUpdate(
          { _id: id, retiredAt: null },
          {
            $set: { name, updatedAt: now, updatedBy: by, ...(maxSamples === null ? {} : { maxSamples }) },
            $setOnInsert: {
              registeredAt: now,
              registeredBy: by,
              ...(maxSamples === null ? { maxSamples: newMaxSamples } : {}),
            },
          },
          { upsert: true, returnDocument: 'before' },
        )
        .lean<FederatedParticipantDoc>()
        .exec();
    } catch (error) {
      // The upsert's insert collided with the retired document of this id, which the filter left out.
      if (isDuplicateKey(error)) return 'retired';
      throw error;
    }
  }

  async nextRoundNumber(): Promise<number> {
    const counter = await this.counters
      .findOneAndUpdate({ _id: 'round' }, { $inc: { seq: 1 } }, { upsert: true, returnDocument: 'after' })
      .lean<CounterDoc>()
      .exec();
    return counter!.seq;
  }

  /** Stores a new open round in its model's open slot; false, storing nothing, while another round holds it. */
  async createRound(round: FederatedRoundDoc & { openSlot: string }): Promise<boolean> {
    try {
      await this.rounds.create(round);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /**
   * Puts a round of the model opened before there were open slots, still open, in the model's slot when it is free:
   * it is as open as one opened since, and the insert of a new round would not see it otherwise.
   */
  async slotUnslottedRound(model: string): Promise<void> {
    const unslotted = { model, status: { $in: OPEN }, openSlot: { $exists: false } };
    const stale = await this.rounds
      .findOne(unslotted, { _id: 1 })
      .lean<Pick<FederatedRoundDoc, '_id'>>()
      .exec();
    if (!stale) return;
    try {
      await this.rounds.updateOne({ _id: stale._id, ...unslotted }, { $set: { openSlot: model } }).exec();
    } catch (error) {
      // Another round holds the slot already: that one answers for the model.
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** The round holding a model's open slot, if any. */
  holderOfOpenSlot(model: string): Promise<FederatedRoundDoc | null> {
    return this.rounds.findOne({ openSlot: model }).lean<FederatedRoundDoc>().exec();
  }

  /** Frees the open slot a closed round still holds (a close written by other means than these methods). */
  async freeOpenSlot(id: string): Promise<void> {
    await this.rounds
      .updateOne(
        { _id: id, status: { $nin: OPEN }, openSlot: { $exists: true } },
        { $unset: { openSlot: 1 } },
      )
      .exec();
  }

  round(id: string): Promise<FederatedRoundDoc | null> {
    return this.rounds.findById(id).lean<FederatedRoundDoc>().exec();
  }

  /** The newest rounds first; only open ones, or only those listing a participant, when asked. */
  listRounds(
    filter: { open: boolean; participant: string | null },
    first: number,
  ): Promise<FederatedRoundDoc[]> {
    return this.rounds
      .find({
        ...(filter.open ? { status: { $in: OPEN } } : {}),
        ...(filter.participant ? { participants: filter.participant } : {}),
      })
      .sort({ number: -1 })
      .limit(first)
      .lean<FederatedRoundDoc[]>()
      .exec();
  }

  /** Adds a participant's key while the round collects keys, before its deadline, and holds none of theirs. */
  async addKey(id: string, entry: RoundKeyEntry, now: Date): Promise<boolean> {
    const { modifiedCount } = await this.rounds
      .updateOne(
        {
          _id: id,
          status: 'COLLECTING_KEYS',
          deadline: { $gt: now },
          participants: entry.participant,
          'keys.participant': { $ne: entry.participant },
        },
        { $push: { keys: entry }, $inc: { keyCount: 1 } },
      )
      .exec();
    return modifiedCount === 1;
  }

  /**
   * Moves a round whose keys are all in on to collecting updates, with each key's weight and the scale their total
   * allows. Every key is in, so none can land between the read that weighed them and this write.
   */
  async beginUpdates(
    id: string,
    weighed: { keys: RoundKeyEntry[]; scale: number; totalSamples: number; totalWeight: number },
  ): Promise<void> {
    await this.rounds
      .updateOne(
        { _id: id, status: 'COLLECTING_KEYS', keyCount: weighed.keys.length },
        { $set: { status: 'COLLECTING_UPDATES', ...weighed } },
      )
      .exec();
  }

  /** Adds a participant's masked update while the round collects updates, before its deadline, and holds none. */
  async addUpdate(id: string, entry: RoundUpdateEntry, now: Date): Promise<boolean> {
    const { modifiedCount } = await this.rounds
      .updateOne(
        {
          _id: id,
          status: 'COLLECTING_UPDATES',
          deadline: { $gt: now },
          participants: entry.participant,
          'updates.participant': { $ne: entry.participant },
        },
        { $push: { updates: entry }, $inc: { updateCount: 1 } },
      )
      .exec();
    return modifiedCount === 1;
  }

  /** Takes the aggregation of a round every update is in, unless another holds it and its hold has not lapsed. */
  async claimAggregation(
    id: string,
    participants: number,
    by: string,
    now: Date,
    until: Date,
  ): Promise<boolean> {
    const { modifiedCount } = await this.rounds
      .updateOne(
        {
          _id: id,
          status: 'COLLECTING_UPDATES',
          updateCount: participants,
          $or: [{ aggregation: null }, { 'aggregation.until': { $lte: now } }],
        },
        { $set: { aggregation: { by, until } } },
      )
      .exec();
    return modifiedCount === 1;
  }

  /**
   * Records the version number an aggregation reserved, unless one is recorded already; the round after, whose
   * `reservedVersion` is the one to store.
   */
  async reserveVersion(id: string, version: number): Promise<FederatedRoundDoc | null> {
    await this.rounds
      .updateOne(
        { _id: id, status: 'COLLECTING_UPDATES', reservedVersion: null },
        { $set: { reservedVersion: version } },
      )
      .exec();
    return this.round(id);
  }

  /** Closes a complete round as AGGREGATED with its version: true for the one caller that closed it. */
  async finishAggregation(id: string, by: string, version: number, now: Date): Promise<boolean> {
    const { modifiedCount } = await this.rounds
      .updateOne(
        { _id: id, status: 'COLLECTING_UPDATES', reservedVersion: version },
        closing('AGGREGATED', by, now, { publishedVersion: version }),
      )
      .exec();
    return modifiedCount === 1;
  }

  /** Closes a complete round as ABANDONED without a version (its sum cannot be honest): true for the one that did. */
  async refuseAggregation(id: string, reason: string, by: string, now: Date): Promise<boolean> {
    const { modifiedCount } = await this.rounds
      .updateOne(
        { _id: id, status: 'COLLECTING_UPDATES', reservedVersion: null },
        closing('ABANDONED', by, now, { reason }),
      )
      .exec();
    return modifiedCount === 1;
  }

  /**
   * Abandons an open round that is still missing an update (a complete one aggregates instead): any such round when an
   * operator asks, only one past its deadline otherwise.
   */
  async abandon(
    id: string,
    participants: number,
    reason: string,
    by: string,
    now: Date,
    onlyIfExpired: boolean,
  ): Promise<boolean> {
    const { modifiedCount } = await this.rounds
      .updateOne(
        {
          _id: id,
          status: { $in: OPEN },
          updateCount: { $lt: participants },
          ...(onlyIfExpired ? { deadline: { $lte: now } } : {}),
        },
        closing('ABANDONED', by, now, { reason }),
      )
      .exec();
    return modifiedCount === 1;
  }

  /** The hub's key of a round: the one stored first, whichever process made it. */
  async hubKey(candidate: HubRoundKeyDoc): Promise<HubRoundKeyDoc> {
    try {
      await this.hubKeys.create(candidate);
      return candidate;
    } catch (error) {
      const stored = await this.hubKeys.findById(candidate._id).lean<HubRoundKeyDoc>().exec();
      if (!stored) throw error;
      return stored;
    }
  }

  storedHubKey(roundId: string): Promise<HubRoundKeyDoc | null> {
    return this.hubKeys.findById(roundId).lean<HubRoundKeyDoc>().exec();
  }

  async forgetHubKey(roundId: string): Promise<void> {
    await this.hubKeys.deleteOne({ _id: roundId }).exec();
  }

  /**
   * Forgets the hub's keys of rounds that are no longer open (or no longer exist): no update will be masked with them
   * any more. Keys are few (one per open round the hub takes part in), so reading them all costs nothing.
   */
  async forgetKeysOfClosedRounds(): Promise<number> {
    const kept = await this.hubKeys.find({}, { _id: 1 }).lean<{ _id: string }[]>().exec();
    if (kept.length === 0) return 0;
    const ids = kept.map(({ _id }) => _id);
    const open = await this.rounds
      .find({ _id: { $in: ids }, status: { $in: OPEN } }, { _id: 1 })
      .lean<{ _id: string }[]>()
      .exec();
    const stillUsed = new Set(open.map(({ _id }) => _id));
    const unused = ids.filter((id) => !stillUsed.has(id));
    if (unused.length === 0) return 0;
    const { deletedCount } = await this.hubKeys.deleteMany({ _id: { $in: unused } }).exec();
    return deletedCount;
  }
}
