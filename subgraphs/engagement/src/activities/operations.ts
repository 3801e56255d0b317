// Activity use cases: operators create, edit and move activities through the four-eyes workflow (audited); members
// join running activities whose audience includes them, sign in daily, and see their progress.
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  Scope,
  checkCodeReferences,
  checkReviewedVersion,
  checkStepVersion,
  checked,
  conflict,
  deviceOfGuest,
  edit,
  hubError,
  newDraft,
  notFound,
  requireMember,
  requireScope,
  step,
  type WorkflowAction,
  isMemberThemself,
} from '@bank-hub/shared';
import { codeReferences, type Rule } from '@bank-hub/targeting';
import { inAudience, viewerAttributes, type MemberAttributes } from '../audience';
import type { EngagementContext, Operator } from '../context';
import type { EngagementWorkflowOutcome } from '../workflow';
import { rankActivities } from './domain/ranking';
import type { ActivityDoc, ParticipationDoc, ProgressDoc, TaskDoc } from './model';
import { participationId, progressId } from './model';
import { countEvents, grantPendingRewards } from './progress';
import { shownProgress } from './streaks';
import {
  checkActivityInput,
  checkRetiredTaskIds,
  checkRewardBenefits,
  checkTaskMeaningsKept,
  type ActivityInput,
} from './tasks';

const TRACKING_PLAN = `query TrackingPlanNames { trackingPlan { name } }`;

/** The tracking plan's event names, asked of analytics on the operator's behalf; null when it cannot answer. */
async function planNames(ctx: EngagementContext): Promise<ReadonlySet<string> | null> {
  const response = await ctx.graph.query<{ trackingPlan: { name: string }[] | null }>(ctx, TRACKING_PLAN);
  return response.data?.trackingPlan ? new Set(response.data.trackingPlan.map((event) => event.name)) : null;
}

async function audit(
  ctx: EngagementContext,
  operator: string,
  action: string,
  id: string,
  before: unknown,
  after: unknown,
) {
  // Every audited change of an activity may change what pages and members' lists show, in every process: they are told
  // also when the record could not be written, since the change is stored by then.
  await ctx.publishedActivities.afterWrite(() =>
    ctx.repos.audit.record({
      actor: operator,
      action,
      targetType: 'ACTIVITY',
      targetId: id,
      before,
      after,
      requestId: ctx.requestId,
    }),
  );
}

export async function activityOrNotFound(ctx: EngagementContext, id: string): Promise<ActivityDoc> {
  const activity = await ctx.loaders.activityById.load(id);
  if (!activity) throw notFound('activity', id);
  return activity;
}

/** The benefits the tasks reward that exist, by id, through the request's loader (one query). */
async function rewardBenefits(ctx: EngagementContext, tasks: readonly TaskDoc[]) {
  const ids = [...new Set(tasks.flatMap((task) => (task.reward.benefitId ? [task.reward.benefitId] : [])))];
  const found = await Promise.all(ids.map((id) => ctx.loaders.benefitById.load(id)));
  return new Map(found.flatMap((benefit) => (benefit ? [[benefit._id, benefit] as const] : [])));
}

/**
 * An audience rule's segment and level codes exist in members: a misspelt one would close the activity to everyone it
 * names, or inside a `not` open it to everyone. Members down refuses the save rather than store it unchecked.
 */
const checkRuleCodes = (ctx: EngagementContext, rule: Rule | null, path: string, code?: ErrorCode) =>
  checkCodeReferences(ctx.graph, ctx, rule ? codeReferences(rule, path) : [], code);

async function checkedActivity(ctx: EngagementContext, input: ActivityInput) {
  const fields = checked(() => checkActivityInput(input, null, ctx.bankCurrency));
  await checkRuleCodes(ctx, fields.rule, 'input.rule');
  // A reward must be one members can be granted: a task naming any other would complete and never be rewarded.
  const benefits = await rewardBenefits(ctx, fields.tasks);
  checked(() => checkRewardBenefits(fields.tasks, benefits, ctx.now, 'input.tasks'));
  // Events must be ones channels can send: a task on an unknown event could never complete.
  const plan = await planNames(ctx);
  return plan ? checked(() => checkActivityInput(input, plan, ctx.bankCurrency)) : fields;
}

export async function createActivity(ctx: EngagementContext, input: ActivityInput): Promise<ActivityDoc> {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const fields = await checkedActivity(ctx, input);
  const activity: ActivityDoc = {
    _id: `ACT-${randomUUID()}`,
    ...fields,
    ...newDraft(operator, ctx.now),
  };
  await ctx.repos.activities.insert(activity);
  await audit(ctx, operator, 'createActivity', activity._id, null, activity);
  return activity;
}

/**
 * Checks that `tasks`, replacing those of `activity`, read members' progress as it was counted: a task the published
 * activity has keeps what it counts, and one it adds takes no id members have progress on (that of a task removed
 * before). An activity never published has no progress, and changes freely.
 */
async function checkProgressKept(
  ctx: EngagementContext,
  activity: ActivityDoc,
  tasks: readonly TaskDoc[],
  at: string,
  code?: ErrorCode,
): Promise<void> {
  if (activity.status !== 'PUBLISHED') return;
  checked(() => checkTaskMeaningsKept(activity.tasks, tasks, ctx.bankCurrency, at, code));
  const published = new Set(activity.tasks.map((task) => task.id));
  const added = tasks.filter((task) => !published.has(task.id)).map((task) => task.id);
  if (added.length === 0) return;
  const retired = await ctx.repos.progress.tasksWithProgress(activity._id, added);
  checked(() => checkRetiredTaskIds(tasks, new Set(retired), at, code));
}

export async function updateActivity(
  ctx: EngagementContext,
  id: string,
  input: ActivityInput,
  expectedVersion: number | null = null,
): Promise<ActivityDoc> {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const before = await activityOrNotFound(ctx, id);
  checkReviewedVersion('activity', before, expectedVersion);
  const fields = await checkedActivity(ctx, input);
  await checkProgressKept(ctx, before, fields.tasks, 'input.tasks');
  const edited = edit(before, fields, operator, ctx.now);
  if (!edited.ok) throw hubError(ErrorCode.FAILED_PRECONDITION, `activity ${id}: ${edited.message}`);
  const after = await ctx.repos.activities.replaceIfVersion(edited.doc, before.version);
  if (!after) throw conflict(`activity ${id} was changed by someone else; reload and retry`);
  await audit(ctx, operator, 'updateActivity', id, before, after);
  return after;
}

/** One workflow step on an activity, guarded by version so two approvers cannot both act. */
export async function activityWorkflowStep(
  ctx: EngagementContext,
  operator: Operator,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null,
): Promise<EngagementWorkflowOutcome> {
  const before = await activityOrNotFound(ctx, id);
  checkStepVersion('activity', before, action, expectedVersion);
  const result = step(before, action, operator.id, ctx.now);
  if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
  if (action === 'approve' && result.status === 'PUBLISHED') {
    // Benefits are unpublished and end after the activity was saved: its rewards are checked again as they go live.
    const { tasks } = result.doc;
    const benefits = await rewardBenefits(ctx, tasks);
    checked(() => checkRewardBenefits(tasks, benefits, ctx.now, 'tasks', ErrorCode.FAILED_PRECONDITION));
    // A revision stored before its tasks were checked must not reinterpret members' progress either.
    await checkProgressKept(ctx, before, tasks, 'tasks', ErrorCode.FAILED_PRECONDITION);
    // A rule may have been stored before its codes were checked.
    await checkRuleCodes(ctx, result.doc.rule, 'rule', ErrorCode.FAILED_PRECONDITION);
  }
  const after = await ctx.repos.activities.replaceIfVersion(result.doc, before.version);
  if (!after) throw conflict(`activity ${id} was changed by someone else; reload and retry`);
  await audit(ctx, operator.id, action, id, before, reason ? { ...after, reason } : after);
  return { type: 'ACTIVITY', id, status: result.status, live: result.live, version: after.version };
}

/** A published activity running now, or a stable refusal saying why it cannot be joined. */
function runningOrRefused(activity: ActivityDoc, now: Date): ActivityDoc {
  if (activity.status !== 'PUBLISHED') throw notFound('activity', activity._id);
  if (now >= activity.endsAt) {
    throw hubError(
      ErrorCode.ACTIVITY_ENDED,
      `activity ${activity._id} ended ${activity.endsAt.toISOString()}`,
    );
  }
  if (now < activity.startsAt) {
    throw hubError(
      ErrorCode.ACTIVITY_NOT_STARTED,
      `activity ${activity._id} starts ${activity.startsAt.toISOString()}`,
    );
  }
  return activity;
}

export async function joinActivity(ctx: EngagementContext, activityId: string) {
  const memberId = requireMember(ctx.identity);
  const activity = runningOrRefused(await activityOrNotFound(ctx, activityId), ctx.now);
  if (activity.rule) {
    const member = await viewerAttributes(ctx.graph, ctx);
    if (!inAudience(activity.rule, member, ctx.now))
      throw hubError(ErrorCode.NOT_IN_AUDIENCE, `activity ${activityId} is not open to this member`);
  } else {
    // Nobody takes part for nobody: their progress would earn rewards members cannot pay.
    await ctx.knownMembers.require(memberId, ctx.deadline);
  }
  await ctx.repos.participations.join(activity._id, memberId, ctx.now);
  return progressOf(ctx, activity, memberId);
}

/**
 * Today's sign-in for an INTERACTIVE activity: an event of its own id per member and the bank's business day, so it
 * counts once a day.
 */
export async function dailySignIn(ctx: EngagementContext, activityId: string) {
  const memberId = requireMember(ctx.identity);
  const activity = runningOrRefused(await activityOrNotFound(ctx, activityId), ctx.now);
  if (activity.kind !== 'INTERACTIVE')
    throw hubError(ErrorCode.FAILED_PRECONDITION, `activity ${activityId} is not an INTERACTIVE activity`);
  const joined = await ctx.loaders.participationsByMember.load(memberId);
  if (!joined.some((participation) => participation.activityId === activityId))
    throw hubError(ErrorCode.FAILED_PRECONDITION, `join activity ${activityId} before signing in`);
  const day = ctx.calendar.dayOf(ctx.now);
  await countEvents(
    ctx.repos,
    ctx.calendar,
    ctx.bankCurrency,
    [
      {
        id: `daily-sign-in:${memberId}:${day}`,
        name: 'sign_in',
        memberId,
        occurredAt: ctx.now,
        receivedAt: ctx.now,
        properties: { method: 'daily' },
        recordedBy: 'svc.engagement',
        fromFeed: false,
      },
    ],
    ctx.now,
  );
  // This member's rewards only: everyone else's backlog is the background pass's, never this request's.
  await grantPendingRewards(
    { repos: ctx.repos, granter: ctx.granter, logger: ctx.logger },
    ctx.now,
    ctx.requestId,
    memberId,
    ctx.deadline,
  );
  ctx.loaders.progressByMember.clear(memberId);
  return progressOf(ctx, activity, memberId);
}

export interface TaskProgressView {
  task: TaskDoc;
  value: number;
  target: number;
  completed: boolean;
  completedAt: Date | null;
  rewarded: boolean;
}

export interface ActivityProgressView {
  activity: ActivityDoc;
  joined: boolean;
  joinedAt: Date | null;
  tasks: TaskProgressView[];
}

/** The member's part in the activity on `today` (the bank's business day: a run of days that broke shows 0). */
function viewOf(
  activity: ActivityDoc,
  participation: ParticipationDoc | undefined,
  progress: ReadonlyMap<string, ProgressDoc>,
  memberId: string,
  today: string,
): ActivityProgressView {
  return {
    activity,
    joined: participation !== undefined,
    joinedAt: participation?.joinedAt ?? null,
    tasks: activity.tasks.map((task) => {
      const done = progress.get(progressId(activity._id, task.id, memberId));
      return {
        task,
        value: shownProgress(task, done, today),
        target: task.target,
        completed: Boolean(done?.completedAt),
        completedAt: done?.completedAt ?? null,
        rewarded: Boolean(done?.rewardedAt),
      };
    }),
  };
}

/** The member's part in the activity: two reads through the request's loaders, however many activities it asks. */
export async function progressOf(ctx: EngagementContext, activity: ActivityDoc, memberId: string) {
  const [participations, progress] = await Promise.all([
    ctx.loaders.participationsByMember.load(memberId),
    ctx.loaders.progressByMember.load(memberId),
  ]);
  const joined = participations.find((p) => p._id === participationId(activity._id, memberId));
  return viewOf(
    activity,
    joined,
    new Map(progress.map((p) => [p._id, p])),
    memberId,
    ctx.calendar.dayOf(ctx.now),
  );
}

/** Published activities running now whose audience includes the member. */
async function runningFor(ctx: EngagementContext, member: MemberAttributes): Promise<ActivityDoc[]> {
  // The snapshot reloads only when operators change something: an activity that ended since it was loaded is in it.
  return [...(await ctx.publishedActivities.get()).values()].filter(
    (activity) =>
      activity.startsAt <= ctx.now && ctx.now < activity.endsAt && inAudience(activity.rule, member, ctx.now),
  );
}

/** A member's own activities are theirs and operators' to read. */
function requireSelfOrOperator(ctx: EngagementContext, memberId: string): void {
  if (!isMemberThemself(ctx.identity, memberId)) requireScope(ctx.identity, Scope.OPERATOR);
}

/** The activities running now that the member may join, with their progress. The member themself or an operator. */
export async function memberActivities(ctx: EngagementContext, member: MemberAttributes) {
  const running = await runningFor(ctx, member);
  // A guest sees what is open to guests, joined by nobody: joining takes a member.
  if (deviceOfGuest(member.id))
    return running.map((activity) =>
      viewOf(activity, undefined, new Map(), member.id, ctx.calendar.dayOf(ctx.now)),
    );
  requireSelfOrOperator(ctx, member.id);
  return Promise.all(running.map((activity) => progressOf(ctx, activity, member.id)));
}

/**
 * The `first` activities the member may join and has not completed that the activity ranking model ranks best, with
 * why and their progress once joined. The member themself or an operator; a guest, who joins nothing, gets none.
 */
export async function recommendedActivities(ctx: EngagementContext, member: MemberAttributes, first: number) {
  if (deviceOfGuest(member.id)) return [];
  requireSelfOrOperator(ctx, member.id);
  const running = await runningFor(ctx, member);
  const [model, rates, views] = await Promise.all([
    ctx.activityRanking.get(),
    ctx.completionRates.get(),
    Promise.all(running.map((activity) => progressOf(ctx, activity, member.id))),
  ]);
  const candidates = views.map((view) => ({
    id: view.activity._id,
    kind: view.activity.kind,
    endsAt: view.activity.endsAt,
    // Only activities whose audience includes the member run for them: one with a rule is aimed at them.
    targeted: view.activity.rule !== null,
    completionRate: rates.get(view.activity._id) ?? 0,
    joined: view.joined,
    completed: view.tasks.length > 0 && view.tasks.every((task) => task.completed),
    view,
  }));
  return rankActivities(candidates, member.lifecycleStage, model, ctx.now)
    .slice(0, first)
    .map(({ candidate: { view }, score, reasons }) => ({
      activity: view.activity,
      score,
      reasons,
      progress: view.joined ? view : null,
    }));
}
