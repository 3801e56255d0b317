// Operator use cases for campaigns: create and edit (the audience must select someone now, asked of members on the
// operator's behalf; a named benefit, and a task trigger's activity and task, must exist, asked of engagement), move
// through the four-eyes workflow (approving needs every template published), pause and resume. Each is audited;
// nothing is stored when a check fails.
import {
  ErrorCode,
  checkReviewedVersion,
  checkStepVersion,
  checked,
  conflict,
  edit,
  hubError,
  newDraft,
  notFound,
  step,
  type WorkflowAction,
} from '@bank-hub/shared';
import type { MessagesContext } from '../context';
import { audit, newId, type Operator, type WorkflowOutcome } from '../operator';
import { activityTaskIds, audienceSize, benefitOf } from '../members-graph';
import type { TemplateDoc } from '../templates/model';
import { checkCampaignInput, type CampaignInput } from './domain/validation';
import { freshEventRun, type CampaignDoc, type CampaignFields, type CampaignRun } from './model';

export async function campaignOrNotFound(ctx: MessagesContext, id: string): Promise<CampaignDoc> {
  const campaign = await ctx.loaders.campaignById.load(id);
  if (!campaign) throw notFound('campaign', id);
  return campaign;
}

async function checkedFields(ctx: MessagesContext, input: CampaignInput): Promise<CampaignFields> {
  const ids = [...new Set(input.variants.flatMap((variant) => variant.templateIds))].slice(0, 20);
  const templates = new Map(
    (await ctx.loaders.templateById.loadMany(ids))
      .filter((template): template is TemplateDoc => template !== null && !(template instanceof Error))
      .map((template) => [template._id, template]),
  );
  const fields = checked(() => checkCampaignInput(input, templates, ctx.now));
  const size = await audienceSize(ctx.graph, ctx, fields.audience, 'input.audience');
  if (!size.ok) throw hubError(ErrorCode.BAD_USER_INPUT, size.message, { field: size.field });
  if (size.size === 0)
    throw hubError(ErrorCode.EMPTY_AUDIENCE, 'the audience selects nobody now', { field: 'input.audience' });
  if (fields.benefitId && !(await benefitOf(ctx.graph, ctx, fields.benefitId)))
    throw hubError(ErrorCode.BAD_USER_INPUT, `there is no benefit ${fields.benefitId}`, {
      field: 'input.benefitId',
    });
  const { trigger } = fields;
  if (trigger.kind === 'EVENT' && trigger.event === 'TASK_COMPLETED' && trigger.activityId) {
    const tasks = await activityTaskIds(ctx.graph, ctx, trigger.activityId);
    if (!tasks)
      throw hubError(ErrorCode.BAD_USER_INPUT, `there is no activity ${trigger.activityId}`, {
        field: 'input.trigger.activityId',
      });
    if (trigger.taskId && !tasks.includes(trigger.taskId))
      throw hubError(
        ErrorCode.BAD_USER_INPUT,
        `activity ${trigger.activityId} has no task ${trigger.taskId}`,
        { field: 'input.trigger.taskId' },
      );
  }
  return fields;
}

async function replace(
  ctx: MessagesContext,
  before: CampaignDoc,
  after: CampaignDoc,
  run: Partial<CampaignRun> = {},
): Promise<CampaignDoc> {
  const written = await ctx.repos.campaigns.replaceIfVersion(after, before.version, run);
  if (!written) throw conflict(`campaign ${before._id} was changed by someone else; reload and retry`);
  return written;
}

export async function createCampaign(
  ctx: MessagesContext,
  operator: Operator,
  input: CampaignInput,
): Promise<CampaignDoc> {
  const fields = await checkedFields(ctx, input);
  const campaign: CampaignDoc = {
    _id: newId('CMP'),
    ...fields,
    ...newDraft(operator.id, ctx.now),
    createdAt: ctx.now,
    paused: false,
    plannedThrough: null,
    eventsThrough: null,
    eventsCursor: null,
    eventsFrom: null,
    pausedAt: null,
  };
  await ctx.repos.campaigns.insert(campaign);
  await audit(ctx, operator, { type: 'CAMPAIGN', id: campaign._id }, 'createCampaign', null, campaign);
  return campaign;
}

export async function updateCampaign(
  ctx: MessagesContext,
  operator: Operator,
  id: string,
  input: CampaignInput,
  expectedVersion: number | null = null,
): Promise<CampaignDoc> {
  const before = await campaignOrNotFound(ctx, id);
  checkReviewedVersion('campaign', before, expectedVersion);
  const fields = await checkedFields(ctx, input);
  const edited = edit(before, fields, operator.id, ctx.now);
  if (!edited.ok) throw hubError(ErrorCode.FAILED_PRECONDITION, `campaign ${id}: ${edited.message}`);
  const after = await replace(ctx, before, edited.doc);
  await audit(ctx, operator, { type: 'CAMPAIGN', id }, 'updateCampaign', before, after);
  return after;
}

/**
 * The templates a version of a campaign sends that are not published (approving such a version is refused), read
 * from the database rather than the request's loader: asked again after the write, it must see an archive made since.
 */
async function unpublishedTemplates(ctx: MessagesContext, fields: CampaignFields): Promise<string[]> {
  const ids = fields.variants.flatMap((variant) => variant.templateIds);
  const published = new Set(
    (await ctx.repos.templates.findByIds(ids))
      .filter((template) => template.status === 'PUBLISHED')
      .map((template) => template._id),
  );
  return ids.filter((id) => !published.has(id));
}

const notPublished = (unpublished: string[]) =>
  hubError(
    ErrorCode.FAILED_PRECONDITION,
    `approve its templates first: ${unpublished.join(', ')} ${unpublished.length === 1 ? 'is' : 'are'} not published`,
    { templateIds: unpublished },
  );

export async function campaignWorkflowStep(
  ctx: MessagesContext,
  operator: Operator,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null = null,
): Promise<WorkflowOutcome> {
  const before = await campaignOrNotFound(ctx, id);
  checkStepVersion('campaign', before, action, expectedVersion);
  const result = step(before, action, operator.id, ctx.now);
  if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
  if (action === 'approve') {
    const unpublished = await unpublishedTemplates(ctx, before.pending?.fields ?? before);
    if (unpublished.length > 0) throw notPublished(unpublished);
  }
  // An event trigger that goes live (first published, or changed by the approved edit) counts events from now: none
  // from before, nor from the stretch another trigger was live, are sent for.
  const live = result.doc;
  const restarts =
    action === 'approve' &&
    live.trigger.kind === 'EVENT' &&
    (before.status !== 'PUBLISHED' || JSON.stringify(live.trigger) !== JSON.stringify(before.trigger));
  const after = await replace(ctx, before, live, restarts ? freshEventRun(ctx.now) : {});
  if (action === 'approve') {
    // A template archived between the check and the write shows now: the approval is undone (archiving re-checks
    // the campaigns after writing likewise, so one of the two always sees the other).
    const unpublished = await unpublishedTemplates(ctx, after);
    if (unpublished.length > 0) {
      const { eventsFrom, eventsThrough, eventsCursor, pausedAt } = before;
      await ctx.repos.campaigns.replaceIfVersion(
        { ...before, version: after.version + 1, updatedAt: ctx.now },
        after.version,
        restarts
          ? {
              eventsFrom: eventsFrom ?? null,
              eventsThrough,
              eventsCursor: eventsCursor ?? null,
              pausedAt: pausedAt ?? null,
            }
          : {},
      );
      throw notPublished(unpublished);
    }
  }
  await audit(ctx, operator, { type: 'CAMPAIGN', id }, action, before, reason ? { ...after, reason } : after);
  return { type: 'CAMPAIGN', id, status: result.status, live: result.live, version: after.version };
}

/**
 * Pauses or resumes a published campaign; doing what is done already changes nothing. An event campaign resumed counts
 * events from now on: those of the pause are never sent, those from before it that were not picked up yet still are
 * (a pause whose events are not yet behind the polls stretches back to the one before: see CampaignRun.pausedAt).
 */
export async function setPaused(
  ctx: MessagesContext,
  operator: Operator,
  id: string,
  paused: boolean,
): Promise<CampaignDoc> {
  const before = await campaignOrNotFound(ctx, id);
  if (before.status !== 'PUBLISHED')
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `only a published campaign can be ${paused ? 'paused' : 'resumed'}; it is ${before.status}`,
      { status: before.status },
    );
  if (before.paused === paused) return before;
  const run: Partial<CampaignRun> = paused
    ? { paused, pausedAt: before.pausedAt ?? ctx.now }
    : { paused, eventsFrom: ctx.now };
  const after = await ctx.repos.campaigns.setRun(id, { ...run, updatedAt: ctx.now }, { paused: !paused });
  if (!after) throw conflict(`campaign ${id} was changed by someone else; reload and retry`);
  if (!paused) await ctx.repos.outbox.wakeCampaign(id, ctx.now);
  await audit(
    ctx,
    operator,
    { type: 'CAMPAIGN', id },
    paused ? 'pauseCampaign' : 'resumeCampaign',
    before,
    after,
  );
  return after;
}
