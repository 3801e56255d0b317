// Operator use cases for bundles (产品组合): design, edit and move them through the four-eyes workflow, each audited
// and guarded by version. A design is checked completely before anything is written: its own fields, its products in
// the catalogue, its rule's segment and level codes at members and its benefits at engagement, through the graph.
// Every write bumps the catalogue's revision, so what is published reaches members' eligibleBundles in every process
// within SNAPSHOT_REFRESH_MS, and what is archived leaves it.
import { randomUUID } from 'node:crypto';
import {
  ErrorCode,
  checkCodeReferences,
  checkReviewedVersion,
  checkStepVersion,
  checked,
  conflict,
  edit,
  hubError,
  newDraft,
  notFound,
  rejectionReason,
  step,
  type ContentStatus,
  type WorkflowAction,
} from '@bank-hub/shared';
import { codeReferences } from '@bank-hub/targeting';
import type { ProductsContext } from './context';
import { checkBundleInput, checkBundleProducts, type BundleInput } from './domain/bundle-design';
import type { BundleDoc, BundleFields } from './models/bundle';

export interface Operator {
  id: string;
}

export type ProductsTargetType = 'BUNDLE' | 'FLOW';

export interface ProductsWorkflowOutcome {
  type: ProductsTargetType;
  id: string;
  /** The status of what the step acted on: the bundle, its pending revision, or the flow version. */
  status: ContentStatus;
  /** Whether a published version is offered to members after the step. */
  live: boolean;
  /** The bundle's version, or the flow version's revision, after the step: what the next step names. */
  version: number;
}

/**
 * What a design names outside its own fields: products on sale in one currency whose amounts reach its minimum, the
 * segment and level codes of its rule, benefits engagement has published for members to be granted. `prefix` names
 * the fields (`input.` for an operator's input); `code` is BAD_USER_INPUT for input, FAILED_PRECONDITION when what
 * was stored no longer holds on approval.
 */
async function checkReferences(
  ctx: ProductsContext,
  fields: BundleFields,
  prefix: string,
  code: ErrorCode = ErrorCode.BAD_USER_INPUT,
): Promise<void> {
  const products = await ctx.repos.products.findByIds(fields.productIds);
  checked(() =>
    checkBundleProducts(fields, new Map(products.map((product) => [product._id, product])), prefix, code),
  );
  const [, offered] = await Promise.all([
    fields.rule
      ? checkCodeReferences(ctx.graph, ctx, codeReferences(fields.rule, `${prefix}rule`), code)
      : undefined,
    fields.benefitIds.length > 0 ? ctx.benefits.claimable(ctx, fields.benefitIds) : new Set<string>(),
  ]);
  const missing = fields.benefitIds.findIndex((id) => !offered.has(id));
  if (missing >= 0) {
    const id = fields.benefitIds[missing]!;
    throw hubError(
      code,
      `benefit ${id} is not one engagement has published for members to be granted (not ended, not a points product)`,
      { field: `${prefix}benefitIds[${missing}]`, reason: 'UNKNOWN_BENEFIT' },
    );
  }
}

async function checkedDesign(ctx: ProductsContext, input: BundleInput): Promise<BundleFields> {
  const fields = checked(() => checkBundleInput(input));
  await checkReferences(ctx, fields, 'input.');
  return fields;
}

async function bundleOrNotFound(ctx: ProductsContext, id: string): Promise<BundleDoc> {
  const [bundle] = await ctx.repos.bundles.findByIds([id]);
  if (!bundle) throw notFound('bundle', id);
  return bundle;
}

/**
 * Records a change in the audit log and tells every process that bundles changed — also when the record could not be
 * written: the change is stored by then, and without the word no process would offer (or withdraw) it until the next.
 */
async function audit(
  ctx: ProductsContext,
  operator: Operator,
  action: string,
  before: BundleDoc | null,
  after: BundleDoc,
  reason: string | null = null,
) {
  await ctx.catalogue.afterWrite(() =>
    ctx.repos.audit.record({
      actor: operator.id,
      action,
      targetType: 'BUNDLE',
      targetId: after._id,
      before,
      after: reason ? { ...after, reason } : after,
      requestId: ctx.requestId,
    }),
  );
}

async function replace(ctx: ProductsContext, before: BundleDoc, after: BundleDoc): Promise<BundleDoc> {
  const written = await ctx.repos.bundles.replaceIfVersion(after, before.version);
  if (!written) throw conflict(`bundle ${before._id} was changed by someone else; reload and retry`);
  return written;
}

export async function createBundle(
  ctx: ProductsContext,
  operator: Operator,
  input: BundleInput,
): Promise<BundleDoc> {
  const fields = await checkedDesign(ctx, input);
  const bundle: BundleDoc = {
    _id: `BD-${randomUUID()}`,
    ...fields,
    ...newDraft(operator.id, new Date()),
  };
  await ctx.repos.bundles.insert(bundle);
  await audit(ctx, operator, 'createBundle', null, bundle);
  return bundle;
}

/** Edits a bundle: in place while unpublished, else as a pending revision; the published bundle keeps being offered. */
export async function updateBundle(
  ctx: ProductsContext,
  operator: Operator,
  id: string,
  input: BundleInput,
  expectedVersion: number | null,
): Promise<BundleDoc> {
  const fields = await checkedDesign(ctx, input);
  const before = await bundleOrNotFound(ctx, id);
  checkReviewedVersion('bundle', before, expectedVersion);
  const edited = edit(before, fields, operator.id, new Date());
  if (!edited.ok)
    throw hubError(ErrorCode.FAILED_PRECONDITION, `bundle ${id}: ${edited.message}`, {
      state: before.status,
    });
  const after = await replace(ctx, before, edited.doc);
  await audit(ctx, operator, 'updateBundle', before, after);
  return after;
}

/** Moves a bundle (or its pending revision) one workflow step; four eyes: none of its editors approves it. */
export async function bundleWorkflowStep(
  ctx: ProductsContext,
  operator: Operator,
  id: string,
  action: WorkflowAction,
  reason: string | null,
  expectedVersion: number | null,
): Promise<ProductsWorkflowOutcome> {
  const why = rejectionReason(action, reason);
  const before = await bundleOrNotFound(ctx, id);
  checkStepVersion('bundle', before, action, expectedVersion);
  const result = step(before, action, operator.id, new Date());
  if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
  // What goes live is checked again: a product may have gone off sale, a benefit ended, a segment gone meanwhile.
  if (result.status === 'PUBLISHED')
    await checkReferences(ctx, result.doc, '', ErrorCode.FAILED_PRECONDITION);
  const after = await replace(ctx, before, result.doc);
  await audit(ctx, operator, action, before, after, why);
  return { type: 'BUNDLE', id, status: result.status, live: result.live, version: after.version };
}
