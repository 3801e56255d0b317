// The model registry: every trained version of every model (its parameters and the metrics it was trained on), and per
// model a head saying which version serves (ACTIVE), which one runs alongside for comparison (SHADOW), and whether an
// operator pinned the active one. Each change is one single-document write, so nothing needs a transaction.
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';

export type ModelStatus = 'ACTIVE' | 'SHADOW' | 'RETIRED';

export interface ModelVersionDoc {
  /** `<name>@<version>`. */
  _id: string;
  name: string;
  version: number;
  /** What the model's parameters are, for operators. */
  description: string;
  parameters: unknown;
  /** Figures about the training, e.g. impressions and clicks it learned from. */
  metrics: Record<string, number>;
  trainedAt: Date;
  trainedBy: string;
}

export interface ModelHeadDoc {
  /** The model's name. */
  _id: string;
  /** The version that serves; 0 until the first one is published. */
  active: number;
  /** A newer version trained while the active one was pinned; null when none. */
  shadow: number | null;
  /** While pinned, training publishes new versions as SHADOW instead of activating them. */
  pinned: boolean;
  /** The last version number handed out. */
  latest: number;
  updatedAt: Date;
  updatedBy: string;
}

export const modelVersionSchema = new Schema<ModelVersionDoc>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    version: { type: Number, required: true },
    description: { type: String, required: true },
    parameters: { type: Schema.Types.Mixed, required: true },
    metrics: { type: Schema.Types.Mixed, default: {} },
    trainedAt: { type: Date, required: true },
    trainedBy: { type: String, required: true },
  },
  { collection: 'model_versions', versionKey: false, minimize: false },
);
modelVersionSchema.index({ name: 1, version: -1 });

export const modelHeadSchema = new Schema<ModelHeadDoc>(
  {
    _id: { type: String, required: true },
    active: { type: Number, required: true },
    shadow: { type: Number, default: null },
    pinned: { type: Boolean, required: true },
    latest: { type: Number, required: true },
    updatedAt: { type: Date, required: true },
    updatedBy: { type: String, required: true },
  },
  { collection: 'model_heads', versionKey: false },
);

export const versionId = (name: string, version: number) => `${name}@${version}`;

export function statusOf(head: ModelHeadDoc | null, version: number): ModelStatus {
  if (head?.active === version) return 'ACTIVE';
  if (head?.shadow === version) return 'SHADOW';
  return 'RETIRED';
}

export type NewVersion = Omit<ModelVersionDoc, '_id' | 'version'>;

/** How many of a model's newest versions pruning keeps (and always the active and the shadow one). */
export const KEPT_VERSIONS = 20;

export class ModelRegistry {
  constructor(
    readonly versions: Model<ModelVersionDoc>,
    readonly heads: Model<ModelHeadDoc>,
  ) {}

  head(name: string): Promise<ModelHeadDoc | null> {
    return this.heads.findById(name).lean<ModelHeadDoc>().exec();
  }

  /** The heads of the named models, in one read (absent: no such model). */
  headsOf(names: readonly string[]): Promise<ModelHeadDoc[]> {
    return this.heads
      .find({ _id: { $in: [...names] } })
      .lean<ModelHeadDoc[]>()
      .exec();
  }

  allHeads(): Promise<ModelHeadDoc[]> {
    return this.heads.find().sort({ _id: 1 }).lean<ModelHeadDoc[]>().exec();
  }

  version(name: string, version: number): Promise<ModelVersionDoc | null> {
    return this.versions.findById(versionId(name, version)).lean<ModelVersionDoc>().exec();
  }

  /** The newest versions of a model first. */
  list(name: string, first: number): Promise<ModelVersionDoc[]> {
    return this.versions.find({ name }).sort({ version: -1 }).limit(first).lean<ModelVersionDoc[]>().exec();
  }

  /** The version that serves, or null before the first one is published. */
  async active(name: string): Promise<ModelVersionDoc | null> {
    const head = await this.head(name);
    return head && head.active > 0 ? this.version(name, head.active) : null;
  }

  /** Publishes a newly trained version under the next number: `store` of what `reserve` hands out. */
  async publish(model: NewVersion, now: Date): Promise<{ version: ModelVersionDoc; head: ModelHeadDoc }> {
    return this.store(model, await this.reserve(model.name, model.trainedBy, now), now);
  }

  /**
   * Hands out the model's next version number (creating its head before the first), for `store`: a training that
   * stores what serves with a version (a send-time version's members' counts), or a round that must publish one
   * version however often its aggregation is retried, takes its number first. A number whose taker died is unused.
   */
  async reserve(name: string, by: string, now: Date): Promise<number> {
    const reserved = await this.heads
      .findOneAndUpdate(
        { _id: name },
        {
          $inc: { latest: 1 },
          $setOnInsert: { active: 0, shadow: null, pinned: false, updatedAt: now, updatedBy: by },
        },
        { upsert: true, returnDocument: 'after' },
      )
      .lean<ModelHeadDoc>()
      .exec();
    return reserved!.latest;
  }

  /**
   * Stores a version under a number `reserve` handed out, and makes it serve (or SHADOW while pinned) unless a newer
   * one does. A version trained from another (`trainedFrom`) serves only while that one still does: once an operator
   * switched away from it, the new version is SHADOW, for them to compare and activate. Storing the same number again
   * stores nothing new: a retry after a crash, or a second process racing the first, publishes the one version.
   */
  async store(
    model: NewVersion,
    number: number,
    now: Date,
    trainedFrom?: number,
  ): Promise<{ version: ModelVersionDoc; head: ModelHeadDoc }> {
    const version: ModelVersionDoc = { _id: versionId(model.name, number), version: number, ...model };
    try {
      await this.versions.create(version);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    await this.heads
      .updateOne(
        { _id: model.name, pinned: false, active: trainedFrom ?? { $lt: number } },
        { $set: { active: number, shadow: null, updatedAt: now, updatedBy: model.trainedBy } },
      )
      .exec();
    await this.heads
      .updateOne(
        {
          _id: model.name,
          ...(trainedFrom === undefined && { pinned: true }),
          active: { $ne: number },
          $or: [{ shadow: null }, { shadow: { $lt: number } }],
        },
        { $set: { shadow: number, updatedAt: now, updatedBy: model.trainedBy } },
      )
      .exec();
    const stored = await this.version(model.name, number);
    return { version: stored ?? version, head: (await this.head(model.name))! };
  }

  /**
   * Makes a version the one that serves; `pinned` keeps it serving while training goes on. Null when the model or
   * the version is gone: a prune (in another process) may delete the version after the caller checked it exists and
   * before the head names it, and prune's own put-back only covers activations it sees — so the version is checked
   * again after the head names it, and the head put back as it was.
   */
  async activate(
    name: string,
    version: number,
    pinned: boolean,
    by: string,
    now: Date,
  ): Promise<ModelHeadDoc | null> {
    const before = await this.heads
      .findOneAndUpdate(
        { _id: name },
        { $set: { active: version, pinned, updatedAt: now, updatedBy: by } },
        { returnDocument: 'before' },
      )
      .lean<ModelHeadDoc>()
      .exec();
    if (!before) return null;
    if (!(await this.version(name, version))) {
      // Only while the head still names the deleted version: a newer training may have activated another since.
      await this.heads
        .updateOne(
          { _id: name, active: version },
          {
            $set: {
              active: before.active,
              pinned: before.pinned,
              updatedAt: before.updatedAt,
              updatedBy: before.updatedBy,
            },
          },
        )
        .exec();
      return null;
    }
    const head: ModelHeadDoc = { ...before, active: version, pinned, updatedAt: now, updatedBy: by };
    if (head.shadow === version) {
      await this.heads.updateOne({ _id: name, shadow: version }, { $set: { shadow: null } }).exec();
      return { ...head, shadow: null };
    }
    return head;
  }

  /** The numbers of a model's versions stored. */
  async numbers(name: string): Promise<number[]> {
    const versions = await this.versions
      .find({ name }, { _id: 0, version: 1 })
      .lean<Pick<ModelVersionDoc, 'version'>[]>()
      .exec();
    return versions.map(({ version }) => version);
  }

  /**
   * Deletes old versions beyond the newest `keep`, never the active or shadow one. An operator may activate an old
   * version (in another process) after the head was read here: one the head names once they are deleted is put back.
   */
  async prune(name: string, keep = KEPT_VERSIONS): Promise<void> {
    const head = await this.head(name);
    if (!head) return;
    const pruned = await this.versions
      .find({ name, version: { $lte: head.latest - keep, $nin: [head.active, head.shadow ?? -1] } })
      .lean<ModelVersionDoc[]>()
      .exec();
    if (pruned.length === 0) return;
    await this.versions.deleteMany({ _id: { $in: pruned.map((version) => version._id) } }).exec();
    const after = await this.head(name);
    const named = pruned.filter(({ version }) => version === after?.active || version === after?.shadow);
    if (named.length === 0) return;
    await this.versions.bulkWrite(
      named.map((version) => ({
        replaceOne: { filter: { _id: version._id }, replacement: version, upsert: true },
      })),
    );
  }
}
