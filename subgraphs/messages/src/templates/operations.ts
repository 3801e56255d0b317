// Operator use cases for templates: create, edit, move through the four-eyes workflow (each audited and guarded by
// version), and preview one for a member. Input is checked completely before anything is written.
import {
  ErrorCode,
  badInput,
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
import { benefitOf, benefitValues, memberForPreview } from '../members-graph';
import { currentState } from '../campaigns/stats';
import { renderMessage, type RenderedMessage } from './domain/render';
import { checkTemplateInput, type TemplateInput } from './domain/validation';
import { channelOf, type TemplateDoc } from './model';

export async function templateOrNotFound(ctx: MessagesContext, id: string): Promise<TemplateDoc> {
  const template = await ctx.loaders.templateById.load(id);
  if (!template) throw notFound('template', id);
  return template;
}

async function replace(ctx: MessagesContext, before: TemplateDoc, after: TemplateDoc): Promise<TemplateDoc> {
  const written = await ctx.repos.templates.replaceIfVersion(after, before.version);
  if (!written) throw conflict(`template ${before._id} was changed by someone else; reload and retry`);
  return written;
}

export async function createTemplate(
  ctx: MessagesContext,
  operator: Operator,
  input: TemplateInput,
): Promise<TemplateDoc> {
  const fields = checked(() => checkTemplateInput(input, ctx.linkHosts));
  const template: TemplateDoc = {
    _id: newId('TPL'),
    ...fields,
    ...newDraft(operator.id, ctx.now),
    createdAt: ctx.now,
  };
  await ctx.repos.templates.insert(template);
  await audit(ctx, operator, { type: 'TEMPLATE', id: template._id }, 'createTemplate', null, template);
  return template;
}

export async function updateTemplate(
  ctx: MessagesContext,
  operator: Operator,
  id: string,
  input: TemplateInput,
  expectedVersion: number | null = null,
): Promise<TemplateDoc> {
  const fields = checked(() => checkTemplateInput(input, ctx.linkHosts));
  const before = await templateOrNotFound(ctx, id);
  checkReviewedVersion('template', before, expectedVersion);
  // A campaign picks its templates by channel: a published template keeps the channel it was approved for.
  if (channelOf(fields.format) !== channelOf(before.format))
    throw badInput(
      `a ${before.format} template renders for ${channelOf(before.format)}; create another template for another channel`,
      'input.format',
    );
  const edited = edit(before, fields, operator.id, ctx.now);
  if (!edited.ok) throw hubError(ErrorCode.FAILED_PRECONDITION, `template ${id}: ${edited.message}`);
  const after = await replace(ctx, before, edited.doc);
  await audit(ctx, operator, { type: 'TEMPLATE', id }, 'updateTemplate', before, after);
  return after;
}

/**
 * Campaigns that may still send a template: published and not completed (a paused one may be resumed). Archiving the
 * template under them would turn their messages into NO_CHANNEL skips, so the archive is refused instead.
 */
async function campaignsStillSending(ctx: MessagesContext, templateId: string): Promise<string[]> {
  const campaigns = await ctx.repos.campaigns.publishedUsing(templateId);
  const states = await Promise.all(campaigns.map((campaign) => currentState(ctx, campaign)));
  return campaigns.filter((_campaign, i) => states[i] !== 'COMPLETED').map((campaign) => campaign._id);
}

const stillSent = (id: string, campaignIds: string[]) =>
  hubError(
    ErrorCode.FAILED_PRECONDITION,
    `template ${id} is sent by ${campaignIds.length === 1 ? 'campaign' : 'campaigns'} ${campaignIds.join(', ')}; archive ${campaignIds.length === 1 ? 'it' : 'them'} first, or wait until ${campaignIds.length === 1 ? 'it completes' : 'they complete'}`,
    { campaignIds },
  );

export async function templateWorkflowStep(
  ctx: MessagesContext,
  operator: Operator,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null = null,
): Promise<WorkflowOutcome> {
  const before = await templateOrNotFound(ctx, id);
  checkStepVersion('template', before, action, expectedVersion);
  const result = step(before, action, operator.id, ctx.now);
  if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
  if (action === 'archive') {
    const campaignIds = await campaignsStillSending(ctx, id);
    if (campaignIds.length > 0) throw stillSent(id, campaignIds);
  }
  const after = await replace(ctx, before, result.doc);
  if (action === 'archive') {
    // No transaction spans the check and the write: a campaign approved in between shows now, and the archive is
    // undone (approving re-checks its templates after writing likewise, so one of the two always sees the other).
    const campaignIds = await campaignsStillSending(ctx, id);
    if (campaignIds.length > 0) {
      await ctx.repos.templates.replaceIfVersion(
        { ...before, version: after.version + 1, updatedAt: ctx.now },
        after.version,
      );
      throw stillSent(id, campaignIds);
    }
  }
  await audit(ctx, operator, { type: 'TEMPLATE', id }, action, before, reason ? { ...after, reason } : after);
  return { type: 'TEMPLATE', id, status: result.status, live: result.live, version: after.version };
}

/** The template as a member would get it, masked as members masks personal data for the calling operator. */
export async function previewTemplate(
  ctx: MessagesContext,
  template: TemplateDoc,
  memberId: string,
  benefitId: string | null,
): Promise<RenderedMessage> {
  const [member, benefit] = await Promise.all([
    memberForPreview(ctx.graph, ctx, memberId),
    benefitId ? benefitOf(ctx.graph, ctx, benefitId) : Promise.resolve(null),
  ]);
  if (!member) throw notFound('member', memberId);
  if (benefitId && !benefit) throw notFound('benefit', benefitId);
  const values = { ...member, ...benefitValues(benefit) };
  const rendered = renderMessage(template, channelOf(template.format), values);
  if (template.format !== 'FIVE_G') return rendered;
  // A 5G card falls back to its SMS rendering: the preview shows both.
  const { smsText, smsCharacters, smsSegments, smsEncoding } = renderMessage(template, 'SMS', values);
  return { ...rendered, smsText, smsCharacters, smsSegments, smsEncoding };
}
