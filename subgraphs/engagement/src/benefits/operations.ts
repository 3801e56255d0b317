// Operator use cases for benefits: create, edit and move them through the four-eyes workflow, each audited and
// guarded by version. Input is checked completely, the segment and level codes it names against members through the
// graph, before anything is written.
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  badInput,
  checkCodeReferences,
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
import { codeReferences, type CodeReference } from '@bank-hub/targeting';
import type { EngagementContext, Operator } from '../context';
import type { EngagementWorkflowOutcome } from '../workflow';
import { checkBenefitInput, type BenefitInput } from './domain/validation';
import type { BenefitDoc, BenefitFields } from './models/benefit';

/**
 * The segment and level codes a benefit names, its rule's and its privilege levels', under `prefix`: one question to
 * members for all of them. A misspelt code would keep the benefit from everyone it names, or inside a `not` open it to
 * everyone; members down refuses the save rather than store it unchecked.
 */
const checkCodes = (ctx: EngagementContext, fields: BenefitFields, prefix: string, code?: ErrorCode) =>
  checkCodeReferences(
    ctx.graph,
    ctx,
    [
      ...(fields.rule ? codeReferences(fields.rule, `${prefix}rule`) : []),
      ...fields.levelCodes.map((level, i): CodeReference => ({
        kind: 'level',
        code: level,
        path: `${prefix}levelCodes[${i}]`,
      })),
    ],
    code,
  );

async function checkedFields(ctx: EngagementContext, input: BenefitInput): Promise<BenefitFields> {
  const fields = checked(() => checkBenefitInput(input));
  await checkCodes(ctx, fields, 'input.');
  return fields;
}

async function benefitOrNotFound(ctx: EngagementContext, id: string): Promise<BenefitDoc> {
  const [benefit] = await ctx.repos.benefits.findByIds([id]);
  if (!benefit) throw notFound('benefit', id);
  return benefit;
}

function audit(
  ctx: EngagementContext,
  operator: Operator,
  action: string,
  before: BenefitDoc | null,
  after: BenefitDoc,
  reason: string | null = null,
) {
  return ctx.repos.audit.record({
    actor: operator.id,
    action,
    targetType: 'BENEFIT',
    targetId: after._id,
    before,
    after: reason ? { ...after, reason } : after,
    requestId: ctx.requestId,
  });
}

/** Writes a change if nobody changed the benefit since it was read; the stock counter follows an increase of stock. */
async function replace(ctx: EngagementContext, before: BenefitDoc, after: BenefitDoc): Promise<BenefitDoc> {
  const written = await ctx.repos.benefits.replaceIfVersion(
    after,
    before.version,
    after.stock - before.stock,
  );
  if (!written) throw conflict(`benefit ${before._id} was changed by someone else; reload and retry`);
  return written;
}

export async function createBenefit(
  ctx: EngagementContext,
  operator: Operator,
  input: BenefitInput,
): Promise<BenefitDoc> {
  const fields = await checkedFields(ctx, input);
  const now = new Date();
  const benefit: BenefitDoc = {
    _id: `B-${randomUUID()}`,
    ...fields,
    remaining: fields.stock,
    recentClaims: [],
    ...newDraft(operator.id, now),
    createdAt: now,
  };
  await ctx.repos.benefits.insert(benefit);
  await audit(ctx, operator, 'createBenefit', null, benefit);
  return benefit;
}

export async function updateBenefit(
  ctx: EngagementContext,
  operator: Operator,
  id: string,
  input: BenefitInput,
  expectedVersion: number | null = null,
): Promise<BenefitDoc> {
  const fields = await checkedFields(ctx, input);
  const before = await benefitOrNotFound(ctx, id);
  checkReviewedVersion('benefit', before, expectedVersion);
  // Claims already hold items of the stock there is: it can only grow.
  if (fields.stock < before.stock)
    throw badInput(`stock only grows: it is ${before.stock} now`, 'input.stock');
  const edited = edit(before, fields, operator.id, new Date());
  if (!edited.ok) throw hubError(ErrorCode.FAILED_PRECONDITION, `benefit ${id}: ${edited.message}`);
  const after = await replace(ctx, before, edited.doc);
  await audit(ctx, operator, 'updateBenefit', before, after);
  return after;
}

/** Moves a benefit one workflow step; approving an edit that raises the stock adds to what remains. */
export async function benefitWorkflowStep(
  ctx: EngagementContext,
  operator: Operator,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null,
): Promise<EngagementWorkflowOutcome> {
  const before = await benefitOrNotFound(ctx, id);
  checkStepVersion('benefit', before, action, expectedVersion);
  const result = step(before, action, operator.id, new Date());
  if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
  // What goes live is checked again: a benefit may have been stored before its codes were checked.
  if (result.status === 'PUBLISHED') await checkCodes(ctx, result.doc, '', ErrorCode.FAILED_PRECONDITION);
  const after = await replace(ctx, before, result.doc);
  await audit(ctx, operator, action, before, after, reason);
  return { type: 'BENEFIT', id, status: result.status, live: result.live, version: after.version };
}
