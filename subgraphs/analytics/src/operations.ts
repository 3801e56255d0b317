// What operators change in analytics, each checked, done, and recorded in the audit log with who and which request:
// the tracking plan, runs of the lifecycle job, training (the creative bandit, the send-time model), publishing and
// activating models.
import { ErrorCode, Scope, badInput, checked, hubError, notFound, requireScope } from '@bank-hub/shared';
import { publishAuthored } from './authored-models';
import { BANDIT_MODEL_NAME, trainCreativeBandit } from './bandit-job';
import type { AnalyticsContext } from './context';
import type { ModelHeadDoc, ModelVersionDoc } from './models/registry';
import { checkTrackedEvent } from './domain/plan';
import type { TrackedEventInput } from './generated/resolvers';
import { trainSendTime } from './send-time-job';

/** How far before today `runLifecycleJob(asOf)` may compute. */
const AS_OF_LIMIT_MS = 90 * 86_400_000;

export async function defineTrackedEvent(ctx: AnalyticsContext, input: TrackedEventInput) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const { name, ...definition } = checked(() => checkTrackedEvent(input));
  const before = await ctx.repos.plan.findByName(name);
  const saved = await ctx.repos.plan.save({
    _id: name,
    ...definition,
    updatedAt: ctx.now,
    updatedBy: operator,
  });
  ctx.plan.invalidate();
  await ctx.repos.audit.record({
    actor: operator,
    action: 'defineTrackedEvent',
    targetType: 'TRACKED_EVENT',
    targetId: name,
    before,
    after: saved,
    requestId: ctx.requestId,
  });
  return saved;
}

export async function runLifecycle(ctx: AnalyticsContext, asOf: Date | null | undefined) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const when = asOf ?? ctx.now;
  // Days to come have no events yet: their stages would be a guess that today's active members have all gone.
  if (when > ctx.now && ctx.calendar.dayOf(when) !== ctx.today)
    throw badInput('asOf may not be a day after today', 'asOf');
  if (ctx.now.getTime() - when.getTime() > AS_OF_LIMIT_MS)
    throw badInput('asOf must be within the last 90 days', 'asOf');
  const run = await ctx.runLifecycle(when, ctx.requestId);
  if (run.ran) {
    await ctx.repos.audit.record({
      actor: operator,
      action: 'runLifecycleJob',
      targetType: 'JOB',
      targetId: 'lifecycle',
      before: null,
      after: {
        ...run,
        stages: Object.fromEntries(run.stages.map(({ stage, members }) => [stage, members])),
        ratings: Object.fromEntries(run.ratings.map(({ rating, members }) => [rating, members])),
      },
      requestId: ctx.requestId,
    });
  }
  return run;
}

export async function retrainCreativeBandit(ctx: AnalyticsContext) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const trained = await trainCreativeBandit(ctx.repos, ctx.calendar, operator, ctx.now);
  ctx.bandit.invalidate();
  return auditedRetraining(ctx, operator, 'retrainCreativeBandit', trained);
}

/** Trains the send-time model now (as its job does); CONFLICT while another training of it is under way. */
export async function retrainSendTime(ctx: AnalyticsContext) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const trained = await trainSendTime(ctx.repos, ctx.calendar, operator, ctx.now);
  return auditedRetraining(ctx, operator, 'retrainSendTime', trained);
}

/** Records an operator's retraining of a model in the audit log: the version it published and where the head is. */
async function auditedRetraining(
  ctx: AnalyticsContext,
  operator: string,
  action: string,
  { version, head }: { version: ModelVersionDoc; head: ModelHeadDoc },
): Promise<ModelVersionDoc> {
  await ctx.repos.audit.record({
    actor: operator,
    action,
    targetType: 'MODEL',
    targetId: version._id,
    before: null,
    after: { version: version.version, metrics: version.metrics, active: head.active, shadow: head.shadow },
    requestId: ctx.requestId,
  });
  return version;
}

/** A new version of a model operators write (the stage or rating model), checked; it serves unless one is pinned. */
export async function publishModelVersion(ctx: AnalyticsContext, name: string, parameters: unknown) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  const { version, head } = await publishAuthored(ctx.repos.models, name, parameters, operator, ctx.now);
  await ctx.repos.audit.record({
    actor: operator,
    action: 'publishModelVersion',
    targetType: 'MODEL',
    targetId: version._id,
    before: null,
    after: {
      version: version.version,
      parameters: version.parameters,
      active: head.active,
      shadow: head.shadow,
    },
    requestId: ctx.requestId,
  });
  return version;
}

export async function activateModelVersion(
  ctx: AnalyticsContext,
  name: string,
  version: number,
  pin: boolean,
) {
  const operator = requireScope(ctx.identity, Scope.OPERATOR);
  if (!Number.isInteger(version) || version < 1)
    throw badInput('version must be a positive integer', 'version');
  const [before, target] = await Promise.all([
    ctx.repos.models.head(name),
    ctx.repos.models.version(name, version),
  ]);
  if (!before) throw notFound('model', name);
  if (!target) throw notFound('model version', `${name.slice(0, 64)}@${version}`);
  const head = await ctx.repos.models.activate(name, version, pin, operator, ctx.now);
  // Pruned after the check above: the head was put back as it was.
  if (!head) throw notFound('model version', `${name.slice(0, 64)}@${version}`);
  if (name === BANDIT_MODEL_NAME) ctx.bandit.invalidate();
  await ctx.repos.audit.record({
    actor: operator,
    action: 'activateModelVersion',
    targetType: 'MODEL',
    targetId: name,
    before,
    after: head,
    requestId: ctx.requestId,
  });
  return head;
}

/** A version of a model, or its active one; NOT_FOUND when there is none. */
export async function modelVersion(ctx: AnalyticsContext, name: string, version: number | null | undefined) {
  requireScope(ctx.identity, Scope.OPERATOR);
  const active = version === null || version === undefined;
  const found = active ? await ctx.repos.models.active(name) : await ctx.repos.models.version(name, version);
  if (!found) {
    throw hubError(
      ErrorCode.NOT_FOUND,
      `model ${name.slice(0, 64)} has no ${active ? 'active version' : `version ${version}`}`,
      { name: name.slice(0, 64), version: version ?? null },
    );
  }
  return found;
}
