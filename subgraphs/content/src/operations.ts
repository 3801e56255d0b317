// Operator use cases: create and edit pages, creatives and topics, move them through the approval workflow, and audit
// every change; and the heat the topic heat job measures. Input is checked completely before anything is written.
import { randomUUID } from 'node:crypto';
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
  rejectionReason,
  step,
  type WorkflowAction,
} from '@bank-hub/shared';
import { codeReferences } from '@bank-hub/targeting';
import type { ContentContext } from './context';
import {
  checkCreativeInput,
  checkFallbackStays,
  checkPageInput,
  checkSlotTemplates,
  type CheckedCreative,
  type CreativeInput,
  type PageInput,
} from './domain/validation';
import { experimentEndAfterStep, experimentStartAfterStep } from './domain/experiment';
import { unsafeMedia } from './domain/media';
import { checkTopicHeats, checkTopicInput, type TopicInput } from './domain/topic';
import type { CreativeDoc, CreativeKind } from './models/creative';
import type { TopicDoc, TopicHeat } from './models/media';
import type { Channel, PageDoc } from './models/page';

export interface Operator {
  id: string;
}

export type WorkflowTargetType = 'PAGE' | 'CREATIVE' | 'TOPIC';

const isDuplicateKey = (error: unknown) => (error as { code?: number }).code === 11000;

/**
 * Records a change in the audit log, and tells every process that what pages show may have changed — also when the
 * record could not be written: the change is stored by then, and without the word no process would ever reload it (an
 * archived creative would stay on members' pages until someone's next edit).
 */
async function audit(
  ctx: ContentContext,
  operator: Operator,
  action: string,
  targetType: string,
  targetId: string,
  before: unknown,
  after: unknown,
) {
  await ctx.published.afterWrite(() =>
    ctx.repos.audit.record({
      actor: operator.id,
      action,
      targetType,
      targetId,
      before,
      after,
      requestId: ctx.requestId,
    }),
  );
}

async function pageOrNotFound(ctx: ContentContext, id: string): Promise<PageDoc> {
  const [page] = await ctx.repos.pages.findByIds([id]);
  if (!page) throw notFound('page', id);
  return page;
}

async function creativeOrNotFound(ctx: ContentContext, id: string): Promise<CreativeDoc> {
  const [creative] = await ctx.repos.creatives.findByIds([id]);
  if (!creative) throw notFound('creative', id);
  return creative;
}

/** The topic, given its workflow state first if it was imported without one (see TopicRepository.adoptImported). */
async function topicOrNotFound(ctx: ContentContext, id: string): Promise<TopicDoc> {
  const [found] = await ctx.repos.topics.findByIds([id]);
  if (!found) throw notFound('topic', id);
  if (found.status) return found;
  await ctx.repos.topics.adoptImported([id]);
  const [adopted] = await ctx.repos.topics.findByIds([id]);
  if (!adopted) throw notFound('topic', id);
  return adopted;
}

/** Creatives are created, edited and published only on a page that is not archived: members never see them. */
function checkPageNotArchived(page: PageDoc, action: string): void {
  if (page.status !== 'ARCHIVED') return;
  const message = `page ${page._id} is archived: its creatives cannot be ${action}`;
  throw hubError(ErrorCode.FAILED_PRECONDITION, message, { state: page.status });
}

/** A slot's fallback must be a creative of that page and slot, and stay there once its pending revision is approved. */
function checkFallbacks(slots: PageDoc['slots'], creatives: readonly CreativeDoc[]): void {
  for (const [index, slot] of slots.entries()) {
    if (!slot.fallbackCreativeId) continue;
    const ok = creatives.some(
      (creative) =>
        creative._id === slot.fallbackCreativeId &&
        creative.slotCode === slot.code &&
        (creative.pending?.fields.slotCode ?? slot.code) === slot.code,
    );
    if (!ok) {
      throw badInput(
        `fallback ${slot.fallbackCreativeId} is not a creative of slot ${slot.code} on this page`,
        `input.slots[${index}].fallbackCreativeId`,
      );
    }
  }
}

export async function createPage(
  ctx: ContentContext,
  operator: Operator,
  input: PageInput & { channel: Channel },
): Promise<PageDoc> {
  const { key, title, slots } = checked(() => checkPageInput(input));
  // A new page has no creatives yet, so it cannot name a fallback.
  checkFallbacks(slots, []);
  const page: PageDoc = {
    _id: `PG-${randomUUID()}`,
    channel: input.channel,
    key,
    title,
    slots,
    ...newDraft(operator.id, new Date()),
  };
  try {
    await ctx.repos.pages.insert(page);
  } catch (error) {
    if (isDuplicateKey(error))
      throw conflict(`a page ${key} already exists on ${input.channel}`, { field: 'input.key' });
    throw error;
  }
  await audit(ctx, operator, 'createPage', 'PAGE', page._id, null, page);
  return page;
}

export async function updatePage(
  ctx: ContentContext,
  operator: Operator,
  id: string,
  input: PageInput & { channel: Channel },
  expectedVersion: number | null = null,
): Promise<PageDoc> {
  const { key, title, slots } = checked(() => checkPageInput(input));
  const before = await pageOrNotFound(ctx, id);
  checkReviewedVersion('page', before, expectedVersion);
  const creatives = await ctx.repos.creatives.forPages([id]);
  checkFallbacks(slots, creatives);
  checked(() => checkSlotTemplates(slots, creatives, 'input.slots'));
  const edited = edit(before, { channel: input.channel, key, title, slots }, operator.id, new Date());
  if (!edited.ok)
    throw hubError(ErrorCode.FAILED_PRECONDITION, `page ${id}: ${edited.message}`, { state: before.status });
  const after = await replacePage(ctx, edited.doc, before.version, 'input.key');
  await audit(ctx, operator, 'updatePage', 'PAGE', id, before, after);
  return after;
}

/**
 * Writes a page if nobody changed it since `version`; its channel and key stay unique among pages not archived. A
 * taken address names `keyField` when the operator typed the key; a workflow step (approving a revision that moves
 * the page to an address taken since) has no such field.
 */
async function replacePage(
  ctx: ContentContext,
  page: PageDoc,
  version: number,
  keyField: string | null = null,
): Promise<PageDoc> {
  let after: PageDoc | null;
  try {
    after = await ctx.repos.pages.replaceIfVersion(page, version);
  } catch (error) {
    if (isDuplicateKey(error)) {
      const message = `a page ${page.key} already exists on ${page.channel}`;
      throw conflict(message, keyField ? { field: keyField } : {});
    }
    throw error;
  }
  if (!after) throw conflict(`page ${page._id} was changed by someone else; reload and retry`);
  return after;
}

const UNPLACEABLE = 'does not exist or cannot be placed';

/** Why the media a card would show cannot be placed: it does not exist, or members may not be shown it. */
async function mediaProblem(ctx: ContentContext, kind: CreativeKind, refId: string): Promise<string | null> {
  const problems =
    kind === 'TOPIC'
      ? (await ctx.repos.topics.findByIds([refId]))
          .filter((topic) => topic.status !== 'ARCHIVED')
          .map((topic) => unsafeMedia('TOPIC', topic))
      : kind === 'LIVE'
        ? (await ctx.repos.liveStreams.findByIds([refId])).map((stream) => unsafeMedia('LIVE', stream))
        : (await ctx.repos.videos.findByIds([refId])).map((video) => unsafeMedia('VIDEO', video));
  if (problems.length === 0) return UNPLACEABLE;
  return problems[0] ? `cannot be shown to members: ${problems[0]}` : null;
}

async function checkReference(ctx: ContentContext, creative: CheckedCreative) {
  if (!creative.refId) return;
  const problem =
    creative.kind === 'PRODUCT'
      ? (await ctx.graphInputs.isPlaceable(ctx, creative.refId))
        ? null
        : UNPLACEABLE
      : creative.kind === 'ACTIVITY'
        ? (await ctx.graphInputs.activityExists(ctx, creative.refId))
          ? null
          : UNPLACEABLE
        : await mediaProblem(ctx, creative.kind, creative.refId);
  if (problem) throw badInput(`${creative.kind.toLowerCase()} ${creative.refId} ${problem}`, 'input.refId');
}

/**
 * A rule's segment and level codes exist in members: a misspelt one would hide the creative from everyone it names, or
 * inside a `not` show it to everyone. Members down refuses the save rather than store the rule unchecked.
 */
async function checkRuleCodes(
  ctx: ContentContext,
  rule: CheckedCreative['rule'],
  path: string,
  code: ErrorCode = ErrorCode.BAD_USER_INPUT,
): Promise<void> {
  if (rule) await ctx.graphInputs.checkCodes(ctx, codeReferences(rule, path), code);
}

export async function createCreative(
  ctx: ContentContext,
  operator: Operator,
  input: CreativeInput & { pageId: string },
): Promise<CreativeDoc> {
  const page = await ctx.repos.pages.findByIds([input.pageId]).then(([found]) => found);
  if (!page) throw badInput(`page ${input.pageId} does not exist`, 'input.pageId');
  checkPageNotArchived(page, 'created');
  const checkedInput = checked(() => checkCreativeInput(input, page.slots, ctx.creativeLinkHosts));
  await checkReference(ctx, checkedInput);
  await checkRuleCodes(ctx, checkedInput.rule, 'input.rule');
  const creative: CreativeDoc = {
    _id: `CR-${randomUUID()}`,
    pageId: page._id,
    ...checkedInput,
    ...newDraft(operator.id, new Date()),
  };
  await ctx.repos.creatives.insert(creative);
  await audit(ctx, operator, 'createCreative', 'CREATIVE', creative._id, null, creative);
  return creative;
}

export async function updateCreative(
  ctx: ContentContext,
  operator: Operator,
  id: string,
  input: CreativeInput & { pageId: string },
  expectedVersion: number | null = null,
): Promise<CreativeDoc> {
  const before = await creativeOrNotFound(ctx, id);
  checkReviewedVersion('creative', before, expectedVersion);
  if (input.pageId !== before.pageId)
    throw badInput('a creative cannot move to another page', 'input.pageId');
  const page = await pageOrNotFound(ctx, before.pageId);
  checkPageNotArchived(page, 'edited');
  const checkedInput = checked(() => checkCreativeInput(input, page.slots, ctx.creativeLinkHosts));
  checked(() =>
    checkFallbackStays([page.slots, page.pending?.fields.slots ?? []], id, checkedInput.slotCode),
  );
  await checkReference(ctx, checkedInput);
  await checkRuleCodes(ctx, checkedInput.rule, 'input.rule');
  const edited = edit(before, checkedInput, operator.id, new Date());
  if (!edited.ok)
    throw hubError(ErrorCode.FAILED_PRECONDITION, `creative ${id}: ${edited.message}`, {
      state: before.status,
    });
  const after = await ctx.repos.creatives.replaceIfVersion(edited.doc, before.version);
  if (!after) throw conflict(`creative ${id} was changed by someone else; reload and retry`);
  await audit(ctx, operator, 'updateCreative', 'CREATIVE', id, before, after);
  return after;
}

export async function createTopic(
  ctx: ContentContext,
  operator: Operator,
  input: TopicInput,
): Promise<TopicDoc> {
  const fields = checked(() => checkTopicInput(input));
  const topic: TopicDoc = {
    _id: `TP-${randomUUID()}`,
    ...fields,
    // Measured from members' events by analytics' topic heat job; a new topic starts cold.
    heat: 0,
    ...newDraft(operator.id, new Date()),
  };
  await ctx.repos.topics.insert(topic);
  await audit(ctx, operator, 'createTopic', 'TOPIC', topic._id, null, topic);
  return topic;
}

export async function updateTopic(
  ctx: ContentContext,
  operator: Operator,
  id: string,
  input: TopicInput,
  expectedVersion: number | null = null,
): Promise<TopicDoc> {
  const fields = checked(() => checkTopicInput(input));
  const before = await topicOrNotFound(ctx, id);
  checkReviewedVersion('topic', before, expectedVersion);
  const edited = edit(before, fields, operator.id, new Date());
  if (!edited.ok)
    throw hubError(ErrorCode.FAILED_PRECONDITION, `topic ${id}: ${edited.message}`, { state: before.status });
  const after = await ctx.repos.topics.replaceIfVersion(edited.doc, before.version);
  if (!after) throw conflict(`topic ${id} was changed by someone else; reload and retry`);
  await audit(ctx, operator, 'updateTopic', 'TOPIC', id, before, after);
  return after;
}

/**
 * Stores the heats analytics measured (service scope): only those that differ are written, so a replay changes nothing,
 * and pages are told only when one did. Ids no topic has are reported, not stored.
 */
export async function setTopicHeat(
  ctx: ContentContext,
  scores: readonly TopicHeat[],
): Promise<{ changed: number; unchanged: number; unknownTopicIds: string[] }> {
  const heats = checked(() => checkTopicHeats(scores));
  const { changed, unknownIds } = await ctx.repos.topics.setHeat(heats);
  if (changed > 0) await ctx.published.changed();
  return { changed, unchanged: heats.length - unknownIds.length - changed, unknownTopicIds: unknownIds };
}

export interface WorkflowOutcome {
  type: WorkflowTargetType;
  id: string;
  /** The status of what the step acted on: the content, or its pending revision. */
  status: PageDoc['status'];
  /** Whether a published version serves members now. */
  live: boolean;
  version: number;
}

/**
 * The topic after a workflow step: what goes live is held to the media library's rules again (it may have been stored
 * before they were checked), and it is written only if nobody changed it since.
 */
async function stepTopic(
  ctx: ContentContext,
  operator: Operator,
  target: { id: string; expectedVersion?: number | null },
  action: WorkflowAction,
  now: Date,
) {
  const topic = await topicOrNotFound(ctx, target.id);
  checkStepVersion('topic', topic, action, target.expectedVersion, 'target.expectedVersion');
  const result = step(topic, action, operator.id, now);
  if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
  const unsafe = result.status === 'PUBLISHED' ? unsafeMedia('TOPIC', result.doc) : null;
  if (unsafe)
    throw hubError(ErrorCode.FAILED_PRECONDITION, `topic ${target.id} cannot be shown to members: ${unsafe}`);
  const after = await ctx.repos.topics.replaceIfVersion(result.doc, topic.version);
  if (!after) throw conflict(`topic ${target.id} was changed by someone else; reload and retry`);
  return { before: topic, stepped: { ...result, after } };
}

/** Moves a page, creative or topic one workflow step; guarded by version so two approvers cannot both act. */
export async function runWorkflow(
  ctx: ContentContext,
  operator: Operator,
  target: { type: WorkflowTargetType; id: string; expectedVersion?: number | null },
  action: WorkflowAction,
  reason: string | null = null,
): Promise<WorkflowOutcome> {
  const why = rejectionReason(action, reason);
  const now = new Date();
  // The version changes with every edit and step: with the version the operator reviewed, a stale approval of an
  // edited draft is refused.
  let before: PageDoc | CreativeDoc | TopicDoc;
  let stepped: { after: PageDoc | CreativeDoc | TopicDoc; status: PageDoc['status']; live: boolean };
  if (target.type === 'TOPIC') {
    ({ before, stepped } = await stepTopic(ctx, operator, target, action, now));
  } else if (target.type === 'PAGE') {
    const page = await pageOrNotFound(ctx, target.id);
    checkStepVersion('page', page, action, target.expectedVersion, 'target.expectedVersion');
    const result = step(page, action, operator.id, now);
    if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
    if (action === 'approve') {
      // Creatives were created or edited against the published slots while the page (or its revision) waited.
      const creatives = await ctx.repos.creatives.forPages([page._id]);
      checked(() => checkSlotTemplates(result.doc.slots, creatives, 'slots', ErrorCode.FAILED_PRECONDITION));
    }
    before = page;
    stepped = { ...result, after: await replacePage(ctx, result.doc, page.version) };
  } else {
    const creative = await creativeOrNotFound(ctx, target.id);
    checkStepVersion('creative', creative, action, target.expectedVersion, 'target.expectedVersion');
    const result = step(creative, action, operator.id, now);
    if (!result.ok) throw hubError(result.code, result.message, { status: result.status });
    // Withdrawing a creative of an archived page is fine; putting it forward for members is not.
    if (action === 'submit' || action === 'approve')
      checkPageNotArchived(await pageOrNotFound(ctx, creative.pageId), 'published');
    // What goes live is checked again: a rule may have been stored before its codes were checked.
    if (result.status === 'PUBLISHED')
      await checkRuleCodes(ctx, result.doc.rule, 'rule', ErrorCode.FAILED_PRECONDITION);
    const experimentStartedAt = experimentStartAfterStep(creative, result.doc, now);
    const experimentEndedAt = experimentEndAfterStep(result.doc, now);
    const after = await ctx.repos.creatives.replaceIfVersion(
      { ...result.doc, experimentStartedAt, experimentEndedAt },
      creative.version,
    );
    if (!after) throw conflict(`creative ${target.id} was changed by someone else; reload and retry`);
    before = creative;
    stepped = { ...result, after };
  }
  const { after, status, live } = stepped;
  await audit(ctx, operator, action, target.type, target.id, before, why ? { ...after, reason: why } : after);
  return { type: target.type, id: after._id, status, live, version: after.version };
}
