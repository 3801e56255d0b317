// The members collection: one document per member, with the targeting attributes every page depends on.
import { BSON } from 'mongodb';
import { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from '@bank-hub/shared';
import type { LifecycleStage } from '@bank-hub/targeting';
import type { MembershipLevelDoc } from './membership-level';

export type RiskLevel = 'R1' | 'R2' | 'R3' | 'R4' | 'R5';
export type TagValue = boolean | number | string | string[];

export interface MemberDoc {
  _id: string;
  /** Personal data: never used for targeting, masked on read unless the caller may see it. */
  personal: { name: string; phone: string; idNumber: string };
  /** Non-identifying profile attributes usable in rules as `attr.<name>`. */
  attributes: { city?: string; ageGroup?: string; gender?: string };
  /**
   * How the member can be reached (messages asks through the graph): their time zone, whether their phone number is
   * verified, whether their phone takes 5G rich messages. Absent on members stored before these existed: see
   * contactOf for the defaults.
   */
  contact?: MemberContact;
  tags: Record<string, TagValue>;
  levelCode: string;
  levelRank: number;
  points: number;
  growthPoints: number;
  riskLevel: RiskLevel;
  /**
   * The latest risk assessment the bank's suitability system made (recordRiskAssessment): its score and when it was
   * made. Absent on a member never assessed since (whose riskLevel came with their record).
   */
  riskScore?: number | null;
  riskAssessedAt?: Date | null;
  lifecycleStage: LifecycleStage;
  /** When the stage last changed (set by computed lifecycles); absent until then. */
  lifecycleChangedAt?: Date | null;
  registeredAt: Date;
  updatedAt: Date;
  /**
   * Ids of the latest ledger entries applied to the balance (at most APPLIED_ENTRIES_KEPT): the guard that applies
   * an award once even when a stalled writer and a retry both try, without a transaction.
   */
  appliedEntries: string[];
  /**
   * Ids of the latest ledger entries refused for good after a finisher took them over from a writer whose lease ran out
   * (at most APPLIED_ENTRIES_KEPT; absent until the first): a spend the balance did not cover, an award or refund with
   * no room. Applying and refusing such an entry are decided in this one document, whichever lands first, so the writer
   * that stalled can never apply an entry refused meanwhile.
   */
  refusedEntries?: string[];
  /**
   * When the bank system's record behind each synced value was taken (upsertMembers' asOf), by field name and by
   * IMPORTED tag code: a sync writes a value only over one from an older record. Absent on members stored before it
   * and on values never synced, which any record replaces: no migration is needed.
   */
  syncedAsOf?: SyncedAsOf;
}

/** Stamps of synced values: field name (phone, city, …) or tag code → the asOf of the record that gave the value. */
export interface SyncedAsOf {
  fields?: Record<string, Date>;
  tags?: Record<string, Date>;
}

/**
 * How many applied entry ids a member keeps. A stalled writer could apply twice only if this many other awards
 * to the same member completed while it stalled, which the lease (seconds) makes practically impossible.
 */
export const APPLIED_ENTRIES_KEPT = 500;

/** The largest balance (spendable or growth points) a member may hold: what the graph's 32-bit `Int` can answer. */
export const MAX_BALANCE = 2_147_483_647;

/** What one ledger entry does to a member's balances. */
export interface PointsChange {
  points: number;
  growthPoints: number;
}

/**
 * The level an award's new growth total reaches, set in the same update that adds the points: the growth totals that
 * reach it (`from` inclusive, `below` exclusive, null is no bound), and whether the member moves to it — not when they
 * stand above it already (its threshold was raised since they reached it): a level is never lowered.
 */
export interface LevelMove {
  code: string;
  rank: number;
  from: number | null;
  below: number | null;
  raise: boolean;
}

export interface MemberContact {
  /** An IANA time zone, e.g. Asia/Shanghai. */
  timeZone?: string;
  phoneVerified?: boolean;
  fiveGCapable?: boolean;
}

/** The home market's time zone, where the demo's members live. */
export const HOME_TIME_ZONE = 'Asia/Shanghai';

/**
 * How a member can be reached, with the defaults of a member stored without it: the bank's time zone, and neither a
 * verified phone nor 5G — nobody is texted on a number the bank has not verified.
 */
export function contactOf(member: Pick<MemberDoc, 'contact'>, bankTimeZone: string): Required<MemberContact> {
  return {
    timeZone: member.contact?.timeZone ?? bankTimeZone,
    phoneVerified: member.contact?.phoneVerified ?? false,
    fiveGCapable: member.contact?.fiveGCapable ?? false,
  };
}

export interface MemberTagValue {
  code: string;
  value: TagValue;
}

/**
 * Bytes of filters one counting aggregate carries at most: MongoDB refuses a command over 16 MB, so audiences are
 * counted in batches below it, with room to spare for the pipeline around the filters.
 */
export const COUNT_BATCH_BYTES = 8 * 1024 * 1024;

export const memberSchema = new Schema<MemberDoc>(
  {
    _id: { type: String, required: true },
    personal: {
      name: { type: String, required: true },
      phone: { type: String, required: true },
      idNumber: { type: String, required: true },
    },
    attributes: { city: String, ageGroup: String, gender: String },
    contact: { timeZone: String, phoneVerified: Boolean, fiveGCapable: Boolean },
    tags: { type: Schema.Types.Mixed, default: {} },
    levelCode: { type: String, required: true },
    levelRank: { type: Number, required: true },
    points: { type: Number, required: true, default: 0 },
    growthPoints: { type: Number, required: true, default: 0 },
    riskLevel: { type: String, required: true },
    riskScore: { type: Number, default: undefined },
    riskAssessedAt: { type: Date, default: undefined },
    lifecycleStage: { type: String, required: true },
    lifecycleChangedAt: { type: Date, default: null },
    registeredAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    appliedEntries: { type: [String], default: [] },
    refusedEntries: { type: [String], default: undefined },
    syncedAsOf: { type: Schema.Types.Mixed, default: undefined },
  },
  { collection: 'members', versionKey: false, minimize: false },
);
memberSchema.index({ levelCode: 1 });
memberSchema.index({ lifecycleStage: 1 });
memberSchema.index({ riskLevel: 1 });
// The recovery pass's search for members below the level their growth points reach.
memberSchema.index({ levelRank: 1, growthPoints: 1 });

/** Plain criteria for listing members; `tagCode` must already be checked against the tag code pattern. */
export interface MemberCriteria {
  /** Only these members. */
  ids?: readonly string[] | null;
  /** Only members whose lifecycle stage changed after this instant. */
  lifecycleChangedAfter?: Date | null;
  levelCode?: string | null;
  lifecycleStage?: LifecycleStage | null;
  riskLevel?: RiskLevel | null;
  tagCode?: string | null;
}

/** A MongoDB filter over member documents (built by the rule compiler, so its keys are dynamic). */
export type MemberFilterQuery = Record<string, unknown>;

/**
 * The bound on a member's tags after setting the codes `set` and removing `remove`, as query filters, so it is part of
 * the write and holds also when writes race: within it, or carrying no more tags than before (a member already past
 * it, stored before it, may still replace and remove), and the opposite.
 */
function tagLimit(set: readonly string[], remove: readonly string[], maxTags: number) {
  // Tag codes are lower snake case, so none reads as a field path ($...) in the expression.
  const codes = { $map: { input: { $objectToArray: { $ifNull: ['$tags', {}] } }, in: '$$this.k' } };
  const carried = { $size: { $setUnion: [{ $setDifference: [codes, [...remove]] }, [...set]] } };
  return {
    within: { $expr: { $or: [{ $lte: [carried, maxTags] }, { $lte: [carried, { $size: codes }] }] } },
    over: { $expr: { $and: [{ $gt: [carried, maxTags] }, { $gt: [carried, { $size: codes }] }] } },
  };
}

/** Conditions that hold when any of these paths holds another value than given (or none): a write that changes. */
function differing(values: Readonly<Record<string, unknown>>): MemberFilterQuery[] {
  return Object.entries(values).map(([path, value]) => ({ [path]: { $ne: value } }));
}

/** Tag values by their path in the member document. */
const tagPaths = (tags: Readonly<Record<string, TagValue>>) =>
  Object.fromEntries(Object.entries(tags).map(([code, value]) => [`tags.${code}`, value]));

export class MemberRepository {
  constructor(readonly model: Model<MemberDoc>) {}

  findByIds(ids: readonly string[]): Promise<MemberDoc[]> {
    return this.model
      .find({ _id: { $in: ids } })
      .lean<MemberDoc[]>()
      .exec();
  }

  /** Members matching every given criterion (and the segment filter, if any), a page ordered by id. */
  pageMatching(
    criteria: MemberCriteria,
    segmentFilter: MemberFilterQuery | null,
    first: number,
    after: string | null,
  ): Promise<MemberDoc[]> {
    const conditions: MemberFilterQuery[] = segmentFilter ? [segmentFilter] : [];
    if (criteria.ids) conditions.push({ _id: { $in: [...criteria.ids] } });
    if (criteria.lifecycleChangedAfter)
      conditions.push({ lifecycleChangedAt: { $gt: criteria.lifecycleChangedAfter } });
    if (criteria.levelCode) conditions.push({ levelCode: criteria.levelCode });
    if (criteria.lifecycleStage) conditions.push({ lifecycleStage: criteria.lifecycleStage });
    if (criteria.riskLevel) conditions.push({ riskLevel: criteria.riskLevel });
    if (criteria.tagCode) conditions.push({ [`tags.${criteria.tagCode}`]: { $exists: true } });
    return this.page(conditions.length > 0 ? { $and: conditions } : {}, first, after);
  }

  /** A page ordered by id; `after` is the last id of the previous page. */
  page(filter: MemberFilterQuery, first: number, after: string | null): Promise<MemberDoc[]> {
    const query = after ? { $and: [filter, { _id: { $gt: after } }] } : filter;
    return this.model.find(query).sort({ _id: 1 }).limit(first).lean<MemberDoc[]>().exec();
  }

  all(): Promise<MemberDoc[]> {
    return this.model.find({}).sort({ _id: 1 }).lean<MemberDoc[]>().exec();
  }

  count(filter: MemberFilterQuery): Promise<number> {
    return this.model.countDocuments(filter).exec();
  }

  /** Audience sizes of many filters, in as few aggregates as fit under COUNT_BATCH_BYTES (one, for usual libraries). */
  async countMany(filters: readonly MemberFilterQuery[]): Promise<number[]> {
    const batches: MemberFilterQuery[][] = [];
    let bytes = 0;
    for (const filter of filters) {
      const size = BSON.calculateObjectSize(filter);
      const last = batches.at(-1);
      if (last && bytes + size <= COUNT_BATCH_BYTES) {
        last.push(filter);
        bytes += size;
      } else {
        batches.push([filter]);
        bytes = size;
      }
    }
    // One after another: each aggregate reads every member, and a page of segments should not take every connection.
    const counts: number[] = [];
    for (const batch of batches) counts.push(...(await this.countBatch(batch)));
    return counts;
  }

  private async countBatch(filters: readonly MemberFilterQuery[]): Promise<number[]> {
    const facets = Object.fromEntries(
      filters.map((filter, i) => [`f${i}`, [{ $match: filter }, { $group: { _id: null, n: { $sum: 1 } } }]]),
    );
    const [result] = await this.model.aggregate<Record<string, { n: number }[]>>([{ $facet: facets }]);
    return filters.map((_, i) => result?.[`f${i}`]?.[0]?.n ?? 0);
  }

  /**
   * Sets and removes tags in one atomic update; returns the member just before and just after it, 'tooManyTags' when
   * the member would carry more than `maxTags` tags (and did not already carry as many: such a member may still
   * replace and remove), or null when there is no such member. Both come from the one update: a separate read of
   * "before" could miss a concurrent call's change that lands in between, and the audit would then show two changes
   * from the same state. The bound is in the update's filter for the same reason: concurrent calls can never together
   * pass it.
   */
  async setTags(
    memberId: string,
    set: Readonly<Record<string, TagValue>>,
    remove: readonly string[],
    maxTags: number,
  ): Promise<{ before: MemberDoc; after: MemberDoc } | 'tooManyTags' | null> {
    const updatedAt = new Date();
    const $set: Record<string, unknown> = { updatedAt };
    for (const [code, value] of Object.entries(set)) $set[`tags.${code}`] = value;
    // What an operator sets or removes is no record of the bank systems: its sync stamp goes, so that any record puts
    // an IMPORTED tag back (upsertMembers), as it does a value stored without one.
    const touched = [...Object.keys(set), ...remove];
    const $unset = Object.fromEntries([
      ...remove.map((code) => [`tags.${code}`, '']),
      ...touched.map((code) => [`syncedAsOf.tags.${code}`, '']),
    ]);
    const update = touched.length > 0 ? { $set, $unset } : { $set };
    const before = await this.model
      .findOneAndUpdate({ _id: memberId, ...tagLimit(Object.keys(set), remove, maxTags).within }, update, {
        returnDocument: 'before',
      })
      .lean<MemberDoc>()
      .exec();
    if (!before) return (await this.exists(memberId)) ? 'tooManyTags' : null;
    const removed = new Set(remove);
    const tags = Object.fromEntries(
      Object.entries({ ...before.tags, ...set }).filter(([code]) => !removed.has(code)),
    );
    return { before, after: { ...before, tags, updatedAt } };
  }

  /**
   * Applies an entry's change unless this entry was applied already, remembering it among the member's latest applied
   * entries; a change that takes points away applies only while the balance covers it, one that adds only while both
   * balances stay within MAX_BALANCE. With a level move (a change that adds growth points), the update applies only
   * while the new growth total stays in that level's range and sets the level with the points, so the level never lags
   * them, even if the writer dies right after. Returns the member after the change, or null when the entry was applied
   * or refused before, a balance does not allow it, the growth or level moved since the caller read them, or the member
   * does not exist.
   */
  applyPoints(
    memberId: string,
    entryId: string,
    change: PointsChange,
    level: LevelMove | null = null,
  ): Promise<MemberDoc | null> {
    // Guarded in the update's own filter, so concurrent awards can never together pass either bound.
    const points =
      change.points < 0
        ? { points: { $gte: -change.points } }
        : { points: { $lte: MAX_BALANCE - change.points } };
    // Only a change that adds is bounded: a member already past the bound (stored before it) may still spend. An
    // award's growth total must also land in the range of the level the caller computed for it.
    const growth: { $lte?: number; $gte?: number; $lt?: number } = {};
    if (change.growthPoints > 0) growth.$lte = MAX_BALANCE - change.growthPoints;
    if (level && level.from !== null) growth.$gte = level.from - change.growthPoints;
    if (level && level.below !== null) growth.$lt = level.below - change.growthPoints;
    const growthPoints = Object.keys(growth).length > 0 ? { growthPoints: growth } : {};
    // The Java stand-in takes no update pipeline, so the level cannot be computed inside the update: the filter pins
    // the state the caller computed it from instead (levels only rise, so a member above it stays above it).
    const levelRank = level ? { levelRank: level.raise ? { $lte: level.rank } : { $gt: level.rank } } : {};
    const raised = level?.raise ? { levelCode: level.code, levelRank: level.rank } : {};
    return this.model
      .findOneAndUpdate(
        {
          _id: memberId,
          appliedEntries: { $ne: entryId },
          refusedEntries: { $ne: entryId },
          ...points,
          ...growthPoints,
          ...levelRank,
        },
        {
          $inc: { points: change.points, growthPoints: change.growthPoints },
          $push: { appliedEntries: { $each: [entryId], $slice: -APPLIED_ENTRIES_KEPT } },
          $set: { updatedAt: new Date(), ...raised },
        },
        { returnDocument: 'after' },
      )
      .lean<MemberDoc>()
      .exec();
  }

  /**
   * Refuses an entry for good unless it was applied or refused already: applyPoints never applies it afterwards. False
   * when it was applied or refused first (the caller reads the member again to see which), or there is no such member.
   */
  async refuseEntry(memberId: string, entryId: string): Promise<boolean> {
    const refused = await this.model.updateOne(
      { _id: memberId, appliedEntries: { $ne: entryId }, refusedEntries: { $ne: entryId } },
      { $push: { refusedEntries: { $each: [entryId], $slice: -APPLIED_ENTRIES_KEPT } } },
    );
    return refused.matchedCount > 0;
  }

  /** Raises the level only; concurrent awards finishing out of order can never lower it. */
  raiseLevel(memberId: string, levelCode: string, levelRank: number): Promise<unknown> {
    return this.model.updateOne(
      { _id: memberId, levelRank: { $lt: levelRank } },
      { $set: { levelCode, levelRank, updatedAt: new Date() } },
    );
  }

  /**
   * Members whose growth points reach a level ranked above theirs, at most `limit`: stored before awards set the level
   * with the points, or left behind by a level's threshold lowered since.
   */
  belowTheirLevel(levels: readonly MembershipLevelDoc[], limit: number): Promise<MemberDoc[]> {
    if (levels.length === 0) return Promise.resolve([]);
    return this.model
      .find({
        $or: levels.map((level) => ({
          levelRank: { $lt: level.rank },
          growthPoints: { $gte: level.threshold },
        })),
      })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<MemberDoc[]>()
      .exec();
  }

  /** Members whose stored level is none of these codes (taken out or renamed since), at most `limit`. */
  withLevelOtherThan(levelCodes: readonly string[], limit: number): Promise<MemberDoc[]> {
    return this.model
      .find({ levelCode: { $nin: [...levelCodes] } })
      .sort({ _id: 1 })
      .limit(limit)
      .lean<MemberDoc[]>()
      .exec();
  }

  /** Moves a member off a level no longer defined, unless an award moved them meanwhile. */
  replaceLevel(memberId: string, fromCode: string, levelCode: string, levelRank: number): Promise<unknown> {
    return this.model.updateOne(
      { _id: memberId, levelCode: fromCode },
      { $set: { levelCode, levelRank, updatedAt: new Date() } },
    );
  }

  /**
   * Sets computed stages and tags where they differ from what is stored: each update's filter names the difference,
   * so applying the same values again (or concurrently) matches nothing. Counts what changed. A member's tags are
   * written only while they stay within `maxTags` (as setTags); the members whose tags differ but would not fit are
   * returned in `overTagLimit`.
   */
  async applyComputed(
    results: readonly { memberId: string; stage: LifecycleStage; tags: Readonly<Record<string, TagValue>> }[],
    now: Date,
    maxTags: number,
  ): Promise<{ stagesChanged: number; tagsChanged: number; touched: string[]; overTagLimit: string[] }> {
    let stagesChanged = 0;
    let tagsChanged = 0;
    const touched = new Set<string>();
    /** Members whose tags were not written: as computed already, or refused by the bound. */
    const notWritten: { memberId: string; tags: Readonly<Record<string, TagValue>> }[] = [];
    await Promise.all(
      results.map(async ({ memberId, stage, tags }) => {
        const staged = await this.model.updateOne(
          { _id: memberId, lifecycleStage: { $ne: stage } },
          { $set: { lifecycleStage: stage, lifecycleChangedAt: now, updatedAt: now } },
        );
        if (staged.modifiedCount > 0) {
          stagesChanged += 1;
          touched.add(memberId);
        }
        if (Object.keys(tags).length === 0) return;
        const tagged = await this.model.updateOne(
          {
            _id: memberId,
            $or: differing(tagPaths(tags)),
            ...tagLimit(Object.keys(tags), [], maxTags).within,
          },
          { $set: { ...tagPaths(tags), updatedAt: now } },
        );
        if (tagged.modifiedCount > 0) {
          tagsChanged += 1;
          touched.add(memberId);
        } else notWritten.push({ memberId, tags });
      }),
    );
    // One read tells the refused from those already as computed (a member as computed is always within the bound).
    const overTagLimit =
      notWritten.length === 0
        ? []
        : await this.model
            .find(
              {
                // The ids first, so the server reads only these members (the branches each name one).
                _id: { $in: notWritten.map(({ memberId }) => memberId) },
                $or: notWritten.map(({ memberId, tags }) => ({
                  _id: memberId,
                  $or: differing(tagPaths(tags)),
                  ...tagLimit(Object.keys(tags), [], maxTags).over,
                })),
              },
              { _id: 1 },
            )
            .lean<{ _id: string }[]>()
            .exec();
    return {
      stagesChanged,
      tagsChanged,
      touched: [...touched].sort(),
      overTagLimit: overTagLimit.map((member) => member._id).sort(),
    };
  }

  /**
   * Stores a member seen for the first time; false when a member of this id exists already (another sync created it
   * a moment ago): the unique _id lets only one of concurrent creations through, and the others update it instead.
   */
  async insertNew(member: MemberDoc): Promise<boolean> {
    try {
      await this.model.create(member);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  /** These members as a sync reads them to decide what it writes (without their ledger guards), by id. */
  async syncStates(ids: readonly string[]): Promise<Map<string, MemberDoc>> {
    const found = await this.model
      .find({ _id: { $in: [...ids] } }, { appliedEntries: 0, refusedEntries: 0 })
      .lean<MemberDoc[]>()
      .exec();
    return new Map(found.map((member) => [member._id, member]));
  }

  /**
   * Writes a bank system's record on a member in one atomic update — its profile fields (by path), its tags and the
   * stamps of both (by path) — so two records' writes never mix. The update applies only while every stamp it writes
   * is still older than `asOf` (or absent), the risk level only while no assessment is recorded, and the tags only while
   * the member stays within `maxTags` (or, with `overTagLimit`, while they still would not fit): the state the caller
   * planned from, as far as it matters. Returns the member just before the update, or null when that state moved (or
   * there is no such member): the caller reads again and plans anew. A compare-and-set, as the stand-in MongoDB has no
   * transactions: stamps only rise, so "still older than asOf" is the stamps the caller read as far as they decide
   * this record — an older record landing meanwhile changes nothing it should write and need not make it retry.
   */
  applySyncPlan(
    memberId: string,
    plan: {
      fields: Readonly<Record<string, unknown>>;
      tags: Readonly<Record<string, TagValue>>;
      stamps: Readonly<Record<string, Date>>;
      overTagLimit: readonly string[];
    },
    asOf: Date,
    maxTags: number,
    updatedAt: Date | null,
  ): Promise<MemberDoc | null> {
    const olderStamps = Object.keys(plan.stamps).map((path) => ({
      $or: [{ [path]: null }, { [path]: { $lt: asOf } }],
    }));
    const tagBound =
      Object.keys(plan.tags).length > 0
        ? tagLimit(Object.keys(plan.tags), [], maxTags).within
        : plan.overTagLimit.length > 0
          ? tagLimit(plan.overTagLimit, [], maxTags).over
          : {};
    return this.model
      .findOneAndUpdate(
        {
          _id: memberId,
          ...(olderStamps.length > 0 ? { $and: olderStamps } : {}),
          ...(plan.fields.riskLevel === undefined ? {} : { riskAssessedAt: null }),
          ...tagBound,
        },
        {
          $set: {
            ...plan.fields,
            ...tagPaths(plan.tags),
            ...plan.stamps,
            ...(updatedAt ? { updatedAt } : {}),
          },
        },
        { returnDocument: 'before', projection: { appliedEntries: 0, refusedEntries: 0 } },
      )
      .lean<MemberDoc>()
      .exec();
  }

  /**
   * Sets the member's risk level from an assessment made at `assessedAt`, unless one made at that instant or later is
   * stored already (a repeat, or a newer assessment that arrived first): the filter decides, so concurrent calls leave
   * the newest. Returns the member before the update, or null when it did not apply (or there is no such member).
   */
  recordRiskAssessment(
    memberId: string,
    assessment: { riskLevel: RiskLevel; score: number; assessedAt: Date },
    now: Date,
  ): Promise<MemberDoc | null> {
    return this.model
      .findOneAndUpdate(
        {
          _id: memberId,
          $or: [{ riskAssessedAt: null }, { riskAssessedAt: { $lt: assessment.assessedAt } }],
        },
        {
          $set: {
            riskLevel: assessment.riskLevel,
            riskScore: assessment.score,
            riskAssessedAt: assessment.assessedAt,
            updatedAt: now,
          },
        },
        { returnDocument: 'before' },
      )
      .lean<MemberDoc>()
      .exec();
  }

  /** How many members are at each lifecycle stage. */
  countByStage(): Promise<{ _id: LifecycleStage; n: number }[]> {
    return this.model
      .aggregate<{ _id: LifecycleStage; n: number }>([{ $group: { _id: '$lifecycleStage', n: { $sum: 1 } } }])
      .exec();
  }

  /** Of these ids, those that name a member, each with when the member registered and whether they carry a tag. */
  async registrations(
    ids: readonly string[],
    tagCode: string,
  ): Promise<{ _id: string; registeredAt: Date; carriesTag: boolean }[]> {
    const found = await this.model
      .find({ _id: { $in: [...ids] } }, { _id: 1, registeredAt: 1, [`tags.${tagCode}`]: 1 })
      .lean<{ _id: string; registeredAt: Date; tags?: Record<string, unknown> }[]>()
      .exec();
    return found.map(({ _id, registeredAt, tags }) => ({
      _id,
      registeredAt,
      carriesTag: tags !== undefined && Object.hasOwn(tags, tagCode),
    }));
  }

  exists(memberId: string): Promise<boolean> {
    return this.model.exists({ _id: memberId }).then((found) => found !== null);
  }
}
