// Activities (活动) with their tasks, who joined them, and each member's progress on each task. Progress documents
// remember which events they counted (where in the event feed they got to, and on which days or runs of days), so an
// event delivered twice counts once.
import { Schema, type Connection, type Model } from 'mongoose';
import {
  ErrorCode,
  WritesInFlight,
  centsReaching,
  escapeRegExp,
  hubError,
  workflowCriteria,
  type FeedPosition,
  type Revisable,
  type WorkflowFilter,
} from '@bank-hub/shared';
import type { ActivityKind, Rule } from '@bank-hub/targeting';
import type { CompletedTaskCount } from './domain/ranking';
import { withRunDay } from './streaks';
import { centsCounted, sumsMoney, type CountedEvent } from './tasks';

export type { ActivityKind };
export type TaskMeasure = 'COUNT' | 'DISTINCT_DAYS' | 'CONSECUTIVE_DAYS' | 'SUM';
export type ComparisonOp = 'eq' | 'neq' | 'gt' | 'gte' | 'lt' | 'lte';

export interface PropertyConditionDoc {
  property: string;
  op: ComparisonOp;
  value: string | number | boolean;
}

export interface RewardDoc {
  points: number;
  benefitId: string | null;
}

export interface TaskDoc {
  id: string;
  title: string;
  event: string;
  where: PropertyConditionDoc[];
  measure: TaskMeasure;
  property: string | null;
  /**
   * The currency (ISO 4217) of the amounts a task reads (see readsAmount); absent on tasks stored before amounts had
   * one, which read the bank's (BANK_CURRENCY).
   */
  currency?: string | null;
  target: number;
  reward: RewardDoc;
}

/** What an operator edits on an activity. */
export interface ActivityFields {
  title: string;
  summary: string;
  imageUrl: string;
  kind: ActivityKind;
  startsAt: Date;
  endsAt: Date;
  rule: Rule | null;
  tasks: TaskDoc[];
}

export interface ActivityDoc extends ActivityFields, Revisable<ActivityFields> {
  _id: string;
}

export interface ParticipationDoc {
  /** `<activityId>|<memberId>`. */
  _id: string;
  activityId: string;
  memberId: string;
  joinedAt: Date;
}

export interface ProgressDoc {
  /** `<activityId>|<taskId>|<memberId>`. */
  _id: string;
  activityId: string;
  taskId: string;
  memberId: string;
  /**
   * What was counted; CONSECUTIVE_DAYS: the longest run of days counted yet (what completes the task). A task that sums
   * money (see sumsMoney) counts in `cents`: here is only what it counted before sums of money were kept in cents.
   */
  value: number;
  /**
   * A task that sums money: the sum counted, in whole cents (added exactly, as floats never are). Absent on progress
   * counted before, whose float `value` is rounded to cents once, when its next event counts (see centsCounted).
   */
  cents?: number;
  /** DISTINCT_DAYS: the days counted, the bank's business days (YYYY-MM-DD). */
  days: string[];
  /**
   * CONSECUTIVE_DAYS: the recent runs of consecutive days counted, oldest first, each an ISO 8601 interval of business
   * days (`2026-11-24/2026-11-26`); bounded, see withRunDay. Absent until a day counted.
   */
  runs?: string[];
  /**
   * COUNT and SUM: the feed position (receivedAt, id) of the last event counted from analytics' feed. The feed hands a
   * member's events out in that order, so one at or before it was counted already (or passed over): one position, not a
   * list of ids, however many events of the member a page read again holds.
   */
  feedPosition?: FeedPosition | null;
  /**
   * COUNT and SUM: the ids of the latest events counted that engagement made itself (a daily sign-in, one a day;
   * bounded), and of feed events counted before progress kept its feed position.
   */
  events: string[];
  completedAt: Date | null;
  /**
   * What the task promised when the member completed it: what they are granted, whatever the task was edited to since.
   * Absent on progress completed before it was recorded, which is granted the task's reward as it is now.
   */
  reward?: RewardDoc | null;
  rewardedAt: Date | null;
  /** Why the reward was refused for good (the benefit's limit, stock, availability…): it is not tried again. */
  rewardRefusal?: { code: string; message: string; at: Date } | null;
  /** Failed grants of the reward so far (a subgraph down), and when the next may be tried. */
  rewardAttempts?: number;
  rewardRetryAt?: Date | null;
}

export const activitySchema = new Schema<ActivityDoc>(
  {
    _id: { type: String, required: true },
    title: { type: String, required: true },
    summary: { type: String, required: true },
    imageUrl: { type: String, required: true },
    kind: { type: String, required: true },
    startsAt: { type: Date, required: true },
    endsAt: { type: Date, required: true },
    rule: { type: Schema.Types.Mixed, default: null },
    tasks: { type: Schema.Types.Mixed, required: true },
    status: { type: String, required: true },
    version: { type: Number, required: true },
    lastEditedBy: { type: String, required: true },
    // Absent on documents stored before editors were recorded (editorsOf reads them as their last editor).
    editors: { type: [String], default: undefined },
    approvedBy: { type: String, default: null },
    updatedAt: { type: Date, required: true },
    pending: { type: Schema.Types.Mixed, default: null },
  },
  { collection: 'activities', versionKey: false, minimize: false },
);
activitySchema.index({ status: 1, endsAt: 1 });

const participationSchema = new Schema<ParticipationDoc>(
  {
    _id: { type: String, required: true },
    activityId: { type: String, required: true },
    memberId: { type: String, required: true },
    joinedAt: { type: Date, required: true },
  },
  { collection: 'participations', versionKey: false },
);
participationSchema.index({ memberId: 1 });
participationSchema.index({ activityId: 1 });

const progressSchema = new Schema<ProgressDoc>(
  {
    _id: { type: String, required: true },
    activityId: { type: String, required: true },
    taskId: { type: String, required: true },
    memberId: { type: String, required: true },
    value: { type: Number, required: true },
    cents: { type: Number, default: undefined },
    days: { type: [String], default: [] },
    runs: { type: [String], default: undefined },
    feedPosition: { type: Schema.Types.Mixed, default: null },
    events: { type: [String], default: [] },
    completedAt: { type: Date, default: null },
    reward: { type: Schema.Types.Mixed, default: null },
    rewardedAt: { type: Date, default: null },
    rewardRefusal: { type: Schema.Types.Mixed, default: null },
    rewardAttempts: { type: Number, default: 0 },
    rewardRetryAt: { type: Date, default: null },
  },
  { collection: 'task_progress', versionKey: false },
);
progressSchema.index({ memberId: 1 });
// Rewards still to grant (awaitingReward), oldest completion first.
progressSchema.index({ rewardedAt: 1, completedAt: 1, _id: 1 });
// The completions feed (completedTasksSince) reads in this order.
progressSchema.index({ completedAt: 1, _id: 1 });

/**
 * How many ids of events engagement made itself a progress document keeps: one a day, so a repeat (the same day's
 * sign-in) comes well within the last 200.
 */
const REMEMBERED_EVENTS = 200;

/**
 * How often a write is tried against a member's progress that other events of theirs changed meanwhile (a day against
 * their runs, a sum turned into cents). Each lost try means another of those writes landed, so with n of them at once
 * the last lands by its n-th try: with 5, one of 7 sign-ins counted at once gave up with CONFLICT (CI, engagement-days).
 * Only one member's own events at one moment race, so 20 covers what a member's devices and the feed send together.
 */
const PROGRESS_WRITE_ATTEMPTS = 20;

export const participationId = (activityId: string, memberId: string) => `${activityId}|${memberId}`;
export const progressId = (activityId: string, taskId: string, memberId: string) =>
  `${activityId}|${taskId}|${memberId}`;

export class ActivityRepository {
  constructor(readonly model: Model<ActivityDoc>) {}

  findByIds(ids: readonly string[]): Promise<ActivityDoc[]> {
    return this.model
      .find({ _id: { $in: [...ids] } })
      .lean<ActivityDoc[]>()
      .exec();
  }

  list(filter: WorkflowFilter, first: number): Promise<ActivityDoc[]> {
    return this.model
      .find(workflowCriteria(filter))
      .sort({ updatedAt: -1, _id: 1 })
      .limit(first)
      .lean<ActivityDoc[]>()
      .exec();
  }

  /** Published activities that have not ended (members' lists and the feed consumer read these). */
  published(now: Date): Promise<ActivityDoc[]> {
    return this.model
      .find({ status: 'PUBLISHED', endsAt: { $gt: now } })
      .sort({ startsAt: 1, _id: 1 })
      .lean<ActivityDoc[]>()
      .exec();
  }

  insert(activity: ActivityDoc): Promise<unknown> {
    return this.model.create(activity);
  }

  replaceIfVersion(activity: ActivityDoc, expectedVersion: number): Promise<ActivityDoc | null> {
    const { _id, ...rest } = activity;
    return this.model
      .findOneAndUpdate({ _id, version: expectedVersion }, { $set: rest }, { returnDocument: 'after' })
      .lean<ActivityDoc>()
      .exec();
  }
}

export class ParticipationRepository {
  constructor(readonly model: Model<ParticipationDoc>) {}

  /** Joins once: joining again keeps the first time. */
  async join(activityId: string, memberId: string, now: Date): Promise<ParticipationDoc> {
    const _id = participationId(activityId, memberId);
    await this.model
      .updateOne({ _id }, { $setOnInsert: { activityId, memberId, joinedAt: now } }, { upsert: true })
      .exec();
    return (await this.model.findById(_id).lean<ParticipationDoc>().exec())!;
  }

  ofMembers(memberIds: readonly string[]): Promise<ParticipationDoc[]> {
    return this.model
      .find({ memberId: { $in: [...memberIds] } })
      .lean<ParticipationDoc[]>()
      .exec();
  }

  count(activityIds: readonly string[]): Promise<{ _id: string; n: number }[]> {
    return this.model
      .aggregate<{ _id: string; n: number }>([
        { $match: { activityId: { $in: [...activityIds] } } },
        { $group: { _id: '$activityId', n: { $sum: 1 } } },
      ])
      .exec();
  }

  /** Of each of the activities, how many members joined it since `since`. */
  async joinedSince(activityIds: readonly string[], since: Date): Promise<Map<string, number>> {
    const counts = await this.model
      .aggregate<{ _id: string; n: number }>([
        { $match: { activityId: { $in: [...activityIds] }, joinedAt: { $gte: since } } },
        { $group: { _id: '$activityId', n: { $sum: 1 } } },
      ])
      .exec();
    return new Map(counts.map(({ _id, n }) => [_id, n]));
  }
}

export class ProgressRepository {
  constructor(readonly model: Model<ProgressDoc>) {}

  ofMembers(memberIds: readonly string[]): Promise<ProgressDoc[]> {
    return this.model
      .find({ memberId: { $in: [...memberIds] } })
      .lean<ProgressDoc[]>()
      .exec();
  }

  /**
   * Of each of the activities, how many members completed how many of its current tasks since `since`: a row per
   * activity and number of tasks, however many members completed them (grouped twice in the database). A task an
   * edit took out counts for nothing: with it, a member could count as completing an activity they have not.
   */
  async completedTaskCounts(
    activities: readonly { id: string; taskIds: readonly string[] }[],
    since: Date,
  ): Promise<CompletedTaskCount[]> {
    if (activities.length === 0) return [];
    const current = activities.map(({ id, taskIds }) => ({ activityId: id, taskId: { $in: [...taskIds] } }));
    const rows = await this.model
      .aggregate<{ _id: { activityId: string; tasks: number }; members: number }>([
        { $match: { completedAt: { $gte: since }, $or: current } },
        { $group: { _id: { activityId: '$activityId', memberId: '$memberId' }, tasks: { $sum: 1 } } },
        { $group: { _id: { activityId: '$_id.activityId', tasks: '$tasks' }, members: { $sum: 1 } } },
      ])
      .exec();
    return rows.map(({ _id, members }) => ({
      activityId: _id.activityId,
      tasksCompleted: _id.tasks,
      members,
    }));
  }

  /**
   * Which of `taskIds` some member has progress on in the activity. Each is one look along the `_id` index (ids start
   * with `<activityId>|<taskId>|`) that stops at the first, however many members there are.
   */
  async tasksWithProgress(activityId: string, taskIds: readonly string[]): Promise<string[]> {
    const found = await Promise.all(
      taskIds.map((taskId) =>
        this.model.exists({ _id: { $regex: `^${escapeRegExp(progressId(activityId, taskId, ''))}` } }).exec(),
      ),
    );
    return taskIds.filter((_taskId, i) => found[i] !== null);
  }

  /** The task's progress document, inserted with `counters` at 0 when the member has none yet. */
  private async ensure(
    activityId: string,
    taskId: string,
    memberId: string,
    counters: { cents?: 0 } = {},
  ): Promise<string> {
    const _id = progressId(activityId, taskId, memberId);
    await this.model
      .updateOne(
        { _id },
        {
          $setOnInsert: {
            activityId,
            taskId,
            memberId,
            value: 0,
            ...counters,
            days: [],
            events: [],
            completedAt: null,
            rewardedAt: null,
          },
        },
        { upsert: true },
      )
      .exec();
    return _id;
  }

  /**
   * Adds `increment` to the progress for an event, once; false when it was counted before or the task is complete, and
   * cents only to progress that has them. One from the feed counts only past the feed position counted last, and moves
   * it on: events are counted in feed order (see countEvents), so however often a page is read again, and by however
   * many passes at once, each counts once. One engagement made itself is remembered by its id.
   */
  private async countOnce(
    _id: string,
    event: Pick<CountedEvent, 'id' | 'receivedAt' | 'fromFeed'>,
    increment: { value: number } | { cents: number },
  ): Promise<boolean> {
    const { id, receivedAt: at } = event;
    // The id check also covers feed events counted before positions were kept. $inc on progress without cents would
    // start them at 0, losing the sum its `value` holds.
    const uncounted = {
      _id,
      completedAt: null,
      events: { $ne: id },
      ...('cents' in increment ? { cents: { $exists: true } } : {}),
    };
    const counted = await (
      event.fromFeed
        ? this.model.updateOne(
            {
              ...uncounted,
              $or: [
                { feedPosition: null },
                { 'feedPosition.at': { $lt: at } },
                { 'feedPosition.at': at, 'feedPosition.id': { $lt: id } },
              ],
            },
            { $inc: increment, $set: { feedPosition: { at, id } } },
          )
        : this.model.updateOne(uncounted, {
            $inc: increment,
            $push: { events: { $each: [id], $slice: -REMEMBERED_EVENTS } },
          })
    ).exec();
    return counted.modifiedCount > 0;
  }

  /**
   * Counts an event once (COUNT: 1, SUM: `amount`); false when it was counted before or the task is complete (see
   * countOnce).
   */
  async countEvent(
    key: { activityId: string; taskId: string; memberId: string },
    event: Pick<CountedEvent, 'id' | 'receivedAt' | 'fromFeed'>,
    amount: number,
  ): Promise<boolean> {
    const _id = await this.ensure(key.activityId, key.taskId, key.memberId);
    return this.countOnce(_id, event, { value: amount });
  }

  /**
   * Counts an event's amount of money once, in whole cents, towards a task that sums money; false when it was counted
   * before or the task is complete (see countOnce). Progress counted before sums of money were kept in cents has none:
   * its float sum is rounded to cents first (once, see keepInCents), and the event then counted in them.
   */
  async countCents(
    key: { activityId: string; taskId: string; memberId: string },
    event: Pick<CountedEvent, 'id' | 'receivedAt' | 'fromFeed'>,
    cents: number,
  ): Promise<boolean> {
    const _id = await this.ensure(key.activityId, key.taskId, key.memberId, { cents: 0 });
    if (await this.countOnce(_id, event, { cents })) return true;
    await this.keepInCents(_id);
    return this.countOnce(_id, event, { cents });
  }

  /**
   * Gives progress counted before sums of money were kept in cents its `cents`: its float `value` rounded to cents (see
   * centsCounted). Written only if neither changed since they were read, so it happens once however many passes meet
   * it, and never from a value that moved on meanwhile.
   */
  private async keepInCents(_id: string): Promise<void> {
    for (let attempt = 0; attempt < PROGRESS_WRITE_ATTEMPTS; attempt++) {
      const progress = await this.model
        .findById(_id, { value: 1, cents: 1 })
        .lean<Pick<ProgressDoc, 'value' | 'cents'>>()
        .exec();
      if (!progress || progress.cents !== undefined) return;
      const written = await this.model
        .updateOne(
          { _id, cents: { $exists: false }, value: progress.value },
          { $set: { cents: centsCounted(progress) } },
        )
        .exec();
      if (written.matchedCount > 0) return;
    }
    throw hubError(
      ErrorCode.CONFLICT,
      `progress ${_id} changed under every attempt to count it in cents; try again`,
    );
  }

  /** Counts a day once (DISTINCT_DAYS); false when the day was counted before or the task is complete. */
  async countDay(
    key: { activityId: string; taskId: string; memberId: string },
    day: string,
  ): Promise<boolean> {
    const _id = await this.ensure(key.activityId, key.taskId, key.memberId);
    const counted = await this.model
      .updateOne({ _id, completedAt: null, days: { $ne: day } }, { $inc: { value: 1 }, $push: { days: day } })
      .exec();
    return counted.modifiedCount > 0;
  }

  /**
   * Counts a day towards the member's runs of consecutive days (CONSECUTIVE_DAYS), raising `value` to the run the day
   * lands in when that is the longest yet; false when the day was counted before, is too late for any run kept, or the
   * task is complete. The runs are written back only if nothing changed them since they were read (and read again
   * otherwise), so two events of one member at once neither count a day twice nor lose one.
   */
  async countRunDay(
    key: { activityId: string; taskId: string; memberId: string },
    day: string,
  ): Promise<boolean> {
    const _id = await this.ensure(key.activityId, key.taskId, key.memberId);
    for (let attempt = 0; attempt < PROGRESS_WRITE_ATTEMPTS; attempt++) {
      const progress = await this.model
        .findById(_id, { runs: 1, completedAt: 1 })
        .lean<Pick<ProgressDoc, 'runs' | 'completedAt'>>()
        .exec();
      if (!progress || progress.completedAt) return false;
      const next = withRunDay(progress.runs ?? [], day);
      if (!next) return false;
      // Progress without runs counted nothing as days in a row yet: a value it has is what the task counted before an
      // operator changed its measure (distinct days, say), no run.
      const written = await this.model
        .updateOne(
          { _id, completedAt: null, runs: progress.runs ?? { $exists: false } },
          progress.runs
            ? { $set: { runs: next.runs }, $max: { value: next.length } }
            : { $set: { runs: next.runs, value: next.length } },
        )
        .exec();
      if (written.matchedCount > 0) return true;
    }
    throw hubError(
      ErrorCode.CONFLICT,
      `progress ${_id} changed under every attempt to count ${day}; try again`,
    );
  }

  /**
   * Marks the task complete (once) when its progress reached the target, recording the reward the task promises now:
   * the one the member is granted, also when an operator edits the task before the grant goes through. A task that sums
   * money compares cents: its counted cents with those that reach its target.
   */
  async completeIfReached(
    key: { activityId: string; taskId: string; memberId: string },
    task: Pick<TaskDoc, 'measure' | 'property' | 'target' | 'reward'>,
    now: Date,
  ): Promise<void> {
    await this.model
      .updateOne(
        {
          _id: progressId(key.activityId, key.taskId, key.memberId),
          completedAt: null,
          ...(sumsMoney(task)
            ? { cents: { $gte: centsReaching(task.target) } }
            : { value: { $gte: task.target } }),
        },
        { $set: { completedAt: now, reward: task.reward } },
      )
      .exec();
  }

  /**
   * Completed tasks whose reward is still to be granted (a grant that failed or a process that died halfway), oldest
   * completion first: neither refused for good nor waiting out a failure's backoff, so failures never fill the batch.
   * Optionally one member's only.
   */
  awaitingReward(now: Date, limit: number, memberId: string | null = null): Promise<ProgressDoc[]> {
    return this.model
      .find({
        rewardedAt: null,
        completedAt: { $ne: null },
        rewardRefusal: null,
        $or: [{ rewardRetryAt: null }, { rewardRetryAt: { $lte: now } }],
        ...(memberId ? { memberId } : {}),
      })
      .sort({ completedAt: 1, _id: 1 })
      .limit(limit)
      .lean<ProgressDoc[]>()
      .exec();
  }

  /**
   * Tasks completed after `from` (by completion time, then id) and at or before `until`, oldest first; optionally of
   * one activity, or one task of it.
   */
  completedAfter(
    from: { at: Date; id: string },
    until: Date,
    only: { activityId: string | null; taskId: string | null },
    limit: number,
  ): Promise<ProgressDoc[]> {
    return this.model
      .find({
        $and: [
          { completedAt: { $ne: null, $lte: until } },
          { $or: [{ completedAt: { $gt: from.at } }, { completedAt: from.at, _id: { $gt: from.id } }] },
        ],
        ...(only.activityId ? { activityId: only.activityId } : {}),
        ...(only.taskId ? { taskId: only.taskId } : {}),
      })
      .sort({ completedAt: 1, _id: 1 })
      .limit(limit)
      .lean<ProgressDoc[]>()
      .exec();
  }

  async markRewarded(id: string, now: Date): Promise<void> {
    await this.model
      .updateOne({ _id: id, rewardedAt: null }, { $set: { rewardedAt: now, rewardRetryAt: null } })
      .exec();
  }

  /** Records why the reward was refused for good (the first refusal, when two passes met it); it is not tried again. */
  async markRewardRefused(id: string, refusal: { code: string; message: string }, now: Date): Promise<void> {
    await this.model
      .updateOne(
        { _id: id, rewardedAt: null, rewardRefusal: null },
        { $set: { rewardRefusal: { ...refusal, at: now }, rewardRetryAt: null } },
      )
      .exec();
  }

  /** Counts a failed grant and puts the next attempt off until `retryAt`. */
  async deferReward(id: string, retryAt: Date): Promise<void> {
    await this.model
      .updateOne(
        { _id: id, rewardedAt: null },
        { $inc: { rewardAttempts: 1 }, $set: { rewardRetryAt: retryAt } },
      )
      .exec();
  }
}

export interface ActivityRepositories {
  activities: ActivityRepository;
  participations: ParticipationRepository;
  progress: ProgressRepository;
  /** Batches that may be completing tasks, so the completions feed never moves past one (completions.ts). */
  completionsInFlight: WritesInFlight;
}

export function openActivityRepositories(connection: Connection): ActivityRepositories {
  return {
    activities: new ActivityRepository(connection.model<ActivityDoc>('Activity', activitySchema)),
    participations: new ParticipationRepository(
      connection.model<ParticipationDoc>('Participation', participationSchema),
    ),
    progress: new ProgressRepository(connection.model<ProgressDoc>('TaskProgress', progressSchema)),
    completionsInFlight: WritesInFlight.open(connection, 'completion_writes_in_flight'),
  };
}
