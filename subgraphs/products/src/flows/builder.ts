// The builder API's use cases: compose a flow version step by step, validate it, submit it for a second person's
// approval, which publishes it. Drafts change under a compare-and-set on their revision; a version in review is not
// edited, and a published version is never changed again — editing starts a new draft.
import {
  ErrorCode,
  badInput,
  checkReviewedVersion,
  checkStepVersion,
  checked,
  conflict,
  hubError,
  notFound,
  requiredText,
  withEditor,
  type ContentStatus,
  type WorkflowAction,
} from '@bank-hub/shared';
import type { ProductsWorkflowOutcome } from '../bundle-operations';
import type { RiskLevel } from '../domain/suitability';
import type { ProductsRepositories } from '../models';
import type { ProductType } from '../models/product';
import { authorsOf, type ServiceFlowDoc } from '../models/service-flow';
import { outputFieldsOf, type ServiceField } from './catalog';
import {
  CONDITION_OPS,
  type ConditionOp,
  type FlowCondition,
  type FlowStep,
  type InputMapping,
} from './flow';
import { reviewStep, type FlowReviewAction } from './review';
import { FLOW_CHANNEL } from './sale';
import {
  claimedBenefitIds,
  selectedProductTypes,
  shownPageKeys,
  validateFlow,
  type FlowProblem,
} from './validation';
import { withdrawalReason } from './withdrawal';

export interface Builder {
  id: string;
  requestId: string;
}

const FLOW_KEY = /^[a-z][a-z0-9-]{2,39}$/;
const STEP_ID = /^[a-z][a-z0-9_]{0,39}$/;
const SERVICE_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
/** An input or output name, as the service catalogue spells them (`riskLevel`). */
const FIELD_NAME = /^[a-z][A-Za-z0-9]{0,39}$/;
const MAX_STEPS = 50;
// A draft is one document, read whole by every session start and audited whole (before and after) on every edit:
// without bounds, a few hundred KB per step grew a draft past what the database could hold or serve in time.
/** The most input mappings a step takes: no catalogue service has more than a few inputs. */
const MAX_STEP_INPUTS = 10;
/** The longest a mapped constant or a branch's value may be, as JSON (an `in` list of 100 product ids fits). */
const MAX_VALUE_CHARS = 2_000;
/** The most a draft's steps may hold, as JSON: the seeded flows take under 5 KB. */
const MAX_FLOW_BYTES = 256 * 1024;
/** An ISO 4217 code, as BANK_CURRENCY and product currencies are written. */
const CURRENCY = /^[A-Z]{3}$/;

export interface StepInput {
  id: string;
  service: string;
  title: string;
  inputs?:
    | readonly { input: string; fromStep?: string | null; fromOutput?: string | null; constant?: unknown }[]
    | null;
  terminal?: boolean | null;
}

export interface ConditionInput {
  step: string;
  output: string;
  op: string;
  value?: unknown;
  currency?: string | null;
}

const versionId = (key: string, version: number) => `SF-${key}-v${version}`;

/** `value` if it is a catalogue-style name, else BAD_USER_INPUT naming `field`. */
function fieldName(value: string, field: string): string {
  if (!FIELD_NAME.test(value))
    throw badInput(`${field} must be a field name: a letter, then up to 39 letters or digits`, field);
  return value;
}

/** Refuses a constant or branch value longer than MAX_VALUE_CHARS as JSON. */
function checkValueSize(value: unknown, field: string): void {
  if ((JSON.stringify(value) ?? '').length > MAX_VALUE_CHARS)
    throw badInput(`${field} must be at most ${MAX_VALUE_CHARS} characters as JSON`, field);
}

function checkStep(input: StepInput): Omit<FlowStep, 'next'> {
  if (!STEP_ID.test(input.id))
    throw badInput('step id must be lower snake case, at most 40 characters', 'step.id');
  if (!SERVICE_CODE.test(input.service))
    throw badInput('service must be an upper snake case code', 'step.service');
  // Shown to members in the mini-program: no controls or invisible characters, as every operator text.
  const title = checked(() => requiredText(input.title, 'step.title', 60));
  const mappings = input.inputs ?? [];
  if (mappings.length > MAX_STEP_INPUTS)
    throw badInput(`a step maps at most ${MAX_STEP_INPUTS} inputs`, 'step.inputs');
  const seen = new Set<string>();
  const inputs = mappings.map((mapping, i): InputMapping => {
    const field = `step.inputs[${i}]`;
    fieldName(mapping.input, `${field}.input`);
    if (seen.has(mapping.input)) throw badInput(`input ${mapping.input} is mapped twice`, `${field}.input`);
    seen.add(mapping.input);
    const fromStep = mapping.fromStep ?? null;
    const hasConstant = mapping.constant !== undefined && mapping.constant !== null;
    if ((fromStep === null) === !hasConstant || (fromStep !== null && !mapping.fromOutput)) {
      throw badInput('map an input either from a step (fromStep and fromOutput) or from a constant', field);
    }
    if (fromStep !== null) {
      if (!STEP_ID.test(fromStep)) throw badInput(`${field}.fromStep must be a step id`, `${field}.fromStep`);
      fieldName(mapping.fromOutput!, `${field}.fromOutput`);
    }
    if (hasConstant) checkValueSize(mapping.constant, `${field}.constant`);
    return {
      input: mapping.input,
      fromStep,
      fromOutput: fromStep ? mapping.fromOutput! : null,
      constant: hasConstant ? mapping.constant : null,
    };
  });
  return { id: input.id, service: input.service, title, inputs, terminal: input.terminal ?? false };
}

/**
 * A branch condition as stored. One on an amount (`tested`, when the tested step is in the draft already) names its
 * currency, the bank's unless it names another, as engagement's amount tasks do: the bank's currency may be set
 * differently later, what was written stays as meant.
 */
function checkCondition(
  input: ConditionInput,
  tested: ServiceField | null,
  bankCurrency: string,
): FlowCondition {
  if (!STEP_ID.test(input.step)) throw badInput('when.step must be a step id', 'when.step');
  fieldName(input.output, 'when.output');
  if (!(CONDITION_OPS as readonly string[]).includes(input.op)) {
    throw badInput(`when.op must be one of ${CONDITION_OPS.join(', ')}`, 'when.op');
  }
  if (input.value === undefined) throw badInput('when.value is required', 'when.value');
  // `in` tests membership of a list: against anything else it could never hold.
  if (input.op === 'in' && !Array.isArray(input.value))
    throw badInput('when.value must be a list for op in', 'when.value');
  checkValueSize(input.value, 'when.value');
  const currency = input.currency ?? null;
  if (currency !== null && !CURRENCY.test(currency))
    throw badInput('when.currency must be an ISO 4217 currency code, e.g. CNY or USD', 'when.currency');
  if (currency !== null && tested !== null && tested.currencyOf === undefined) {
    throw badInput(
      `only a branch on an amount names a currency; ${input.step}.${input.output} is no amount`,
      'when.currency',
    );
  }
  const named = currency ?? (tested?.currencyOf !== undefined ? bankCurrency : null);
  return {
    step: input.step,
    output: input.output,
    op: input.op as ConditionOp,
    value: input.value,
    ...(named !== null ? { currency: named } : {}),
  };
}

async function record(
  repos: ProductsRepositories,
  builder: Builder,
  action: string,
  before: ServiceFlowDoc | null,
  after: ServiceFlowDoc,
) {
  await repos.audit.record({
    actor: builder.id,
    action,
    targetType: 'ServiceFlow',
    targetId: after._id,
    before,
    after,
    requestId: builder.requestId,
  });
}

export async function createServiceFlow(
  repos: ProductsRepositories,
  builder: Builder,
  key: string,
  name: string,
): Promise<ServiceFlowDoc> {
  if (!FLOW_KEY.test(key))
    throw badInput('key must be 3 to 40 of a-z, 0-9 and -, starting with a letter', 'key');
  const trimmed = checked(() => requiredText(name, 'name', 100));
  const flow: ServiceFlowDoc = {
    _id: versionId(key, 1),
    key,
    name: trimmed,
    version: 1,
    status: 'DRAFT',
    startStepId: null,
    steps: [],
    revision: 0,
    updatedBy: builder.id,
    updatedAt: new Date(),
    publishedAt: null,
    lastEditedBy: builder.id,
    editors: [builder.id],
    submittedBy: null,
    approvedBy: null,
    rejection: null,
  };
  if (!(await repos.flows.tryInsert(flow))) throw conflict(`a flow ${key} exists already`, { field: 'key' });
  await record(repos, builder, 'createServiceFlow', null, flow);
  return flow;
}

export async function createFlowDraft(
  repos: ProductsRepositories,
  builder: Builder,
  key: string,
): Promise<ServiceFlowDoc> {
  const latest = await repos.flows.newest(key);
  if (!latest) throw notFound('flow', key);
  if (latest.status === 'DRAFT') return latest;
  // One version of a flow is worked on at a time: the one in review is withdrawn or rejected to be changed.
  if (latest.status === 'IN_REVIEW')
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `version ${latest.version} of ${key} is IN_REVIEW; withdraw it (withdrawFlow) to change it, or await the review`,
      { status: latest.status },
    );
  const draft: ServiceFlowDoc = {
    ...latest,
    _id: versionId(key, latest.version + 1),
    version: latest.version + 1,
    status: 'DRAFT',
    revision: 0,
    updatedBy: builder.id,
    updatedAt: new Date(),
    publishedAt: null,
    lastEditedBy: builder.id,
    editors: [builder.id],
    submittedBy: null,
    approvedBy: null,
    rejection: null,
    // The next version runs, whatever became of this one.
    sessionsEndedAt: null,
  };
  // Two builders starting a draft at once: the unique (key, version) index lets one win; both get that draft.
  if (!(await repos.flows.tryInsert(draft))) return (await repos.flows.findById(draft._id))!;
  await record(repos, builder, 'createFlowDraft', latest, draft);
  return draft;
}

async function draftOrFail(repos: ProductsRepositories, flowId: string): Promise<ServiceFlowDoc> {
  const flow = await repos.flows.findById(flowId);
  if (!flow) throw notFound('flow version', flowId);
  if (flow.status === 'IN_REVIEW')
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `version ${flow.version} of ${flow.key} is IN_REVIEW and cannot change while it is reviewed; withdraw it ` +
        '(withdrawFlow) or have it rejected to edit it again',
      { status: flow.status },
    );
  if (flow.status !== 'DRAFT') {
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `version ${flow.version} of ${flow.key} is ${flow.status} and cannot change; start a draft with createFlowDraft`,
      { status: flow.status },
    );
  }
  return flow;
}

/**
 * Applies a change to a draft's steps; the change throws BAD_USER_INPUT for input that does not fit the draft. Made
 * from the revision `expectedRevision` (when the builder names the one they saw), it is refused with CONFLICT if
 * another edit came since: replacing a step from a stale copy would undo that edit unseen.
 */
export async function editDraft(
  repos: ProductsRepositories,
  builder: Builder,
  flowId: string,
  action: string,
  change: (flow: ServiceFlowDoc) => Pick<ServiceFlowDoc, 'steps' | 'startStepId'>,
  expectedRevision: number | null = null,
): Promise<ServiceFlowDoc> {
  const before = await draftOrFail(repos, flowId);
  checkReviewedVersion('flow', { _id: before._id, version: before.revision }, expectedRevision);
  const changed = change(before);
  if (changed.steps.length > MAX_STEPS) throw badInput(`a flow has at most ${MAX_STEPS} steps`, 'step');
  if (Buffer.byteLength(JSON.stringify(changed.steps)) > MAX_FLOW_BYTES)
    throw badInput(
      `a flow's steps hold at most ${MAX_FLOW_BYTES / 1024} KB`,
      action === 'connectFlowSteps' ? 'when' : 'step',
    );
  const editors = withEditor(authorsOf(before), builder.id);
  if (!editors.ok)
    throw hubError(ErrorCode.FAILED_PRECONDITION, `flow ${flowId}: ${editors.message}`, {
      status: before.status,
    });
  const after = await repos.flows.updateIf(flowId, before, {
    ...changed,
    updatedBy: builder.id,
    lastEditedBy: builder.id,
    editors: editors.editors,
    updatedAt: new Date(),
  });
  if (!after) throw conflict(`flow ${flowId} was changed by someone else; reload and retry`);
  await record(repos, builder, action, before, after);
  return after;
}

const stepIndex = (flow: ServiceFlowDoc, id: string, field: string): number => {
  const index = flow.steps.findIndex((step) => step.id === id);
  if (index < 0) throw badInput(`the flow has no step ${id}`, field);
  return index;
};

export const addStep = (input: StepInput) => (flow: ServiceFlowDoc) => {
  const step = checkStep(input);
  if (flow.steps.some((existing) => existing.id === step.id))
    throw badInput(`step ${step.id} exists already`, 'step.id');
  return { steps: [...flow.steps, { ...step, next: [] }], startStepId: flow.startStepId ?? step.id };
};

export const updateStep = (input: StepInput) => (flow: ServiceFlowDoc) => {
  const step = checkStep(input);
  const index = stepIndex(flow, step.id, 'step.id');
  return {
    steps: flow.steps.map((existing, i) => (i === index ? { ...step, next: existing.next } : existing)),
    startStepId: flow.startStepId,
  };
};

export const removeStep = (stepId: string) => (flow: ServiceFlowDoc) => {
  stepIndex(flow, stepId, 'stepId');
  return {
    steps: flow.steps
      .filter((step) => step.id !== stepId)
      .map((step) => ({ ...step, next: step.next.filter((edge) => edge.to !== stepId) })),
    startStepId: flow.startStepId === stepId ? null : flow.startStepId,
  };
};

export const connectSteps =
  (from: string, to: string, when: ConditionInput | null, bankCurrency: string) => (flow: ServiceFlowDoc) => {
    const index = stepIndex(flow, from, 'from');
    stepIndex(flow, to, 'to');
    const source = flow.steps[index]!;
    if (source.next.some((edge) => edge.to === to)) throw badInput(`${from} already leads to ${to}`, 'to');
    const condition = when
      ? checkCondition(when, outputFieldsOf(flow.steps)(when.step, when.output), bankCurrency)
      : null;
    if (!condition && source.next.some((edge) => !edge.when)) {
      throw badInput(`${from} has a default edge already; give this one a condition`, 'when');
    }
    // Conditional edges are tried in the order added, always before the default.
    const next = condition
      ? [
          ...source.next.filter((edge) => edge.when),
          { to, when: condition },
          ...source.next.filter((edge) => !edge.when),
        ]
      : [...source.next, { to, when: null }];
    return {
      steps: flow.steps.map((step, i) => (i === index ? { ...step, next } : step)),
      startStepId: flow.startStepId,
    };
  };

export const disconnectSteps = (from: string, to: string) => (flow: ServiceFlowDoc) => {
  const index = stepIndex(flow, from, 'from');
  if (!flow.steps[index]!.next.some((edge) => edge.to === to))
    throw badInput(`${from} does not lead to ${to}`, 'to');
  return {
    steps: flow.steps.map((step, i) =>
      i === index ? { ...step, next: step.next.filter((edge) => edge.to !== to) } : step,
    ),
    startStepId: flow.startStepId,
  };
};

export const setStart = (stepId: string) => (flow: ServiceFlowDoc) => {
  stepIndex(flow, stepId, 'stepId');
  return { steps: flow.steps, startStepId: stepId };
};

/** What a flow names outside products, asked of the graph on behalf of the builder. */
export interface FlowReferences {
  /** Of these page keys, those of pages a flow may show (content). */
  pageKeys(keys: readonly string[]): Promise<ReadonlySet<string>>;
  /** Of these benefit ids, those a flow may claim (engagement). */
  claimableBenefits(ids: readonly string[]): Promise<ReadonlySet<string>>;
}

/**
 * Validates a version against the catalogue as it is now (the products it buys, the types it sells) and the pages and
 * benefits that exist.
 */
export async function validateVersion(
  repos: ProductsRepositories,
  flow: ServiceFlowDoc,
  references: FlowReferences,
): Promise<FlowProblem[]> {
  const productIds = flow.steps.flatMap((step) =>
    step.inputs
      .filter((mapping) => mapping.fromStep === null && typeof mapping.constant === 'string')
      .map((mapping) => mapping.constant as string),
  );
  const benefitIds = claimedBenefitIds(flow);
  const pageKeys = [...new Set(shownPageKeys(flow))];
  const productTypes = [...new Set(selectedProductTypes(flow))];
  // Only a flow that shows pages or claims benefits needs to ask the graph which exist.
  const [products, lowestRisks, pages, benefits] = await Promise.all([
    repos.products.findByIds(productIds),
    productTypes.length > 0
      ? repos.products.lowestRiskOnSale(productTypes, FLOW_CHANNEL)
      : new Map<ProductType, RiskLevel>(),
    pageKeys.length > 0 ? references.pageKeys(pageKeys) : new Set<string>(),
    benefitIds.length > 0 ? references.claimableBenefits(benefitIds) : new Set<string>(),
  ]);
  const byId = new Map(products.map((product) => [product._id, product]));
  return validateFlow(flow, {
    product: (id) => byId.get(id) ?? null,
    lowestRiskOnSale: (type) => lowestRisks.get(type) ?? null,
    pageExists: (key) => pages.has(key),
    benefitClaimable: (id) => benefits.has(id),
  });
}

/** Refuses with every problem a version that would not be valid against the catalogue as it is now. */
async function checkValid(
  repos: ProductsRepositories,
  flow: ServiceFlowDoc,
  references: FlowReferences,
  action: 'submit' | 'approve',
): Promise<void> {
  const problems = await validateVersion(repos, flow, references);
  const done = action === 'submit' ? 'submitted' : 'approved';
  if (problems.length > 0)
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `the flow has ${problems.length} problem(s) as the catalogue is now; fix them before it is ${done}`,
      { problems },
    );
}

/**
 * Moves a flow version one step of its review (review.ts), audited with the version before and after. Submitting and
 * approving validate it first, approving against the catalogue as it is then (a product withdrawn since the submission
 * blocks it). Approving requires the revision reviewed (`expectedRevision`: VERSION_REQUIRED without it, CONFLICT if it
 * moved); it publishes the version and retires the one it replaces, under a compare-and-set on the revision, so two
 * approvals at once publish it once.
 */
export async function flowReviewStep(
  repos: ProductsRepositories,
  actor: Builder,
  flowId: string,
  action: FlowReviewAction,
  references: FlowReferences,
  {
    reason = null,
    expectedRevision = null,
  }: { reason?: string | null; expectedRevision?: number | null } = {},
): Promise<ServiceFlowDoc> {
  const before = await repos.flows.findById(flowId);
  if (!before) throw notFound('flow version', flowId);
  if (action !== 'withdraw')
    checkStepVersion('flow version', { _id: before._id, version: before.revision }, action, expectedRevision);
  const now = new Date();
  const moved = reviewStep(before, action, actor.id, now, reason);
  if (!moved.ok) throw hubError(moved.code, moved.message, { status: before.status });
  if (action === 'submit' || action === 'approve') await checkValid(repos, before, references, action);
  const after = await repos.flows.updateIf(flowId, before, moved.set);
  if (!after) throw conflict(`flow ${flowId} was changed by someone else; reload and retry`);
  if (action !== 'approve') {
    await record(repos, actor, `${action}Flow`, before, after);
    return after;
  }
  const superseded = (await repos.flows.versions(after.key)).filter(
    (version) => version.status === 'PUBLISHED' && version._id !== after._id,
  );
  await repos.flows.retireOthers(after.key, after._id);
  await record(repos, actor, 'approveFlow', before, after);
  // The versions this one replaces are retired by the same act, and audited as such.
  await Promise.all(
    superseded.map((version) =>
      record(repos, actor, 'retireFlow (superseded)', version, { ...version, status: 'RETIRED' }),
    ),
  );
  return after;
}

/**
 * A flow version's step in the products workflow (productsWorkflow with type FLOW): SUBMIT, APPROVE and REJECT of its
 * review. A version is retired with retireFlow, not archived: ARCHIVE is BAD_USER_INPUT. `version` is the version's
 * revision, as `expectedVersion` names it.
 */
export async function flowWorkflowStep(
  repos: ProductsRepositories,
  actor: Builder,
  flowId: string,
  action: WorkflowAction,
  references: FlowReferences,
  reason: string | null,
  expectedRevision: number | null,
): Promise<ProductsWorkflowOutcome> {
  if (action === 'archive')
    throw badInput('a flow version is not archived: retire a published one with retireFlow', 'step');
  const after = await flowReviewStep(repos, actor, flowId, action, references, { reason, expectedRevision });
  const live = after.status === 'PUBLISHED' || (await repos.flows.newest(after.key, 'PUBLISHED')) !== null;
  return {
    type: 'FLOW',
    id: after._id,
    status: after.status as ContentStatus,
    live,
    version: after.revision,
  };
}

/**
 * Retires a published version: no new sessions. With `endSessions` (a version found wrong) it is withdrawn too: marked
 * first, so that no session of it advances from then on (one started meanwhile included, see advance), then its open
 * sessions end WITHDRAWN in one update, audited with how many. A version already RETIRED may be retired again with
 * `endSessions`, to end its sessions; again once withdrawn, it ends any left and changes nothing else.
 */
export async function retireFlow(
  repos: ProductsRepositories,
  builder: Builder,
  flowId: string,
  endSessions = false,
): Promise<ServiceFlowDoc> {
  const before = await repos.flows.findById(flowId);
  if (!before) throw notFound('flow version', flowId);
  if (before.status !== 'PUBLISHED' && !(endSessions && before.status === 'RETIRED'))
    throw hubError(
      ErrorCode.FAILED_PRECONDITION,
      `only a published version can be retired (a retired one to end its sessions); this one is ${before.status}`,
      { status: before.status },
    );
  const now = new Date();
  let after = before;
  if (before.status === 'PUBLISHED' || !before.sessionsEndedAt) {
    const changed = await repos.flows.updateIf(flowId, before, {
      status: 'RETIRED',
      updatedBy: builder.id,
      updatedAt: now,
      ...(endSessions ? { sessionsEndedAt: now } : {}),
    });
    if (!changed) throw conflict(`flow ${flowId} was changed by someone else; reload and retry`);
    after = changed;
    await record(repos, builder, 'retireFlow', before, after);
  }
  if (endSessions) {
    const ended = await repos.sessions.withdrawOfFlow(flowId, withdrawalReason(after), now);
    await repos.audit.record({
      actor: builder.id,
      action: 'retireFlow (sessions ended)',
      targetType: 'ServiceFlow',
      targetId: flowId,
      before: null,
      after: { sessionsEnded: ended, sessionsEndedAt: after.sessionsEndedAt },
      requestId: builder.requestId,
    });
  }
  return after;
}
