// The run API: a member starts a session of the latest published version of a flow and completes its steps one
// by one. Every advance is checked (owner, current step, output types, the attestation of a step the bank performs,
// suitability of a purchase, a version the bank withdrew) and recorded
// with its idempotency key under a compare-and-set, so a repeated or concurrent call advances once. A session that
// completes queues its flow_completed event for analytics in products' own database (relayed later, see
// completion-event.ts), so completing never waits on analytics.
import { randomUUID } from 'node:crypto';
import { ErrorCode, badInput, conflict, hubError, notFound, type GraphCaller } from '@bank-hub/shared';
import { isSuitable, type RiskLevel } from '../domain/suitability';
import type { ProductsRepositories } from '../models';
import type { FlowSessionDoc, FlowSessionStatus } from '../models/flow-session';
import type { ServiceFlowDoc } from '../models/service-flow';
import { ATTESTATION_WINDOW, checkAttestation, type AttestedStep } from './attestation';
import { fitsType, outputFieldsOf, outputTypesOf, serviceByCode, type ServiceDefinition } from './catalog';
import { flowCompletedEvents } from './completion-event';
import { consentRefusal } from './consent';
import { nextStepId, resolveInputs, withAmountCurrencies, type FlowOutputs, type FlowStep } from './flow';
import type { MemberRiskSource } from './member-risk';
import { outputHash } from './output-hash';
import { amountRefusal, saleRefusal } from './sale';
import { flowWithdrawn, withdrawalReason } from './withdrawal';

const IDEMPOTENCY_KEY = /^[\w.:-]{8,128}$/;
const MAX_ATTEMPTS = 5;
/** Open sessions a member may hold of one flow: a mini-program that restarts keeps going, storage stays bounded. */
export const MAX_OPEN_SESSIONS = 5;
/** How long an abandoned (expired) session is kept, to answer a late replay or read, before cleanup. */
export const ABANDONED_SESSION_RETENTION_MS = 24 * 3_600_000;

export interface RunContext {
  repos: ProductsRepositories;
  memberRisk: MemberRiskSource;
  ttlMinutes: number;
  now: Date;
  /** The bank's currency (BANK_CURRENCY): of a branch on an amount stored before branches named one. */
  bankCurrency: string;
  /** FLOW_ATTESTATION_SECRET: what the bank's systems sign the steps they perform with. */
  attestationSecret: string;
}

export interface AdvanceOutcome {
  session: FlowSessionDoc;
  nextStep: FlowStep | null;
  completed: boolean;
}

/** The latest published version of a flow; a retired or unknown flow is NOT_FOUND. */
export async function publishedFlow(repos: ProductsRepositories, key: string): Promise<ServiceFlowDoc> {
  const flow = await repos.flows.newest(key, 'PUBLISHED');
  if (!flow) throw notFound('published flow', key);
  return flow;
}

export async function startSession(
  run: RunContext,
  memberId: string,
  flowKey: string,
): Promise<FlowSessionDoc> {
  const flow = await publishedFlow(run.repos, flowKey);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const session: FlowSessionDoc = {
      _id: `FS-${randomUUID()}`,
      memberId,
      flowId: flow._id,
      flowKey,
      openSlot: await freeSlot(run, memberId, flowKey),
      status: 'ACTIVE',
      currentStepId: flow.startStepId,
      outputs: {},
      history: [],
      revision: 0,
      startedAt: run.now,
      expiresAt: new Date(run.now.getTime() + run.ttlMinutes * 60_000),
    };
    // A concurrent start took the slot: look again.
    if (await run.repos.sessions.insertInSlot(session)) return session;
  }
  throw conflict('flow sessions are being started at once; retry');
}

/**
 * A slot for a new session of the member's: sessions past expiresAt give theirs up, and when MAX_OPEN_SESSIONS are
 * open the ones that would expire first are ended (EXPIRED) to make room — a member starting again is never stuck,
 * and never holds more. The unique slot makes the bound hold for concurrent starts too.
 */
async function freeSlot(run: RunContext, memberId: string, flowKey: string): Promise<string> {
  const holding = await run.repos.sessions.holdingSlots(memberId, flowKey);
  const open: FlowSessionDoc[] = [];
  for (const session of holding) {
    if (sessionStatus(session, run.now) === 'EXPIRED')
      await run.repos.sessions.markExpired(session._id, session.revision);
    else open.push(session);
  }
  const evicted = Math.max(0, open.length - (MAX_OPEN_SESSIONS - 1));
  for (const session of open.slice(0, evicted))
    await run.repos.sessions.markExpired(session._id, session.revision, run.now);
  const taken = new Set(open.slice(evicted).map((session) => session.openSlot));
  const slots = Array.from({ length: MAX_OPEN_SESSIONS }, (_v, n) => `${memberId}|${flowKey}|${n}`);
  return slots.find((slot) => !taken.has(slot))!;
}

/** Deletes sessions abandoned more than ABANDONED_SESSION_RETENTION_MS before `now`; completed ones are kept. */
export const purgeAbandonedSessions = (repos: ProductsRepositories, now: Date): Promise<number> =>
  repos.sessions.deleteAbandonedBefore(new Date(now.getTime() - ABANDONED_SESSION_RETENTION_MS));

/**
 * A session's status as of `now`: an ACTIVE session past expiresAt is EXPIRED even before an advance marks it so,
 * so reads and advances agree.
 */
export function sessionStatus(
  session: Pick<FlowSessionDoc, 'status' | 'expiresAt'>,
  now: Date,
): FlowSessionStatus {
  return session.status === 'ACTIVE' && session.expiresAt <= now ? 'EXPIRED' : session.status;
}

/**
 * A session of the caller's, or NOT_FOUND — also for another member's, as for their inbox messages: an id someone
 * else holds must not tell that it exists.
 */
export async function ownSession(
  repos: ProductsRepositories,
  memberId: string,
  sessionId: string,
): Promise<FlowSessionDoc> {
  const session = await repos.sessions.ofMember(memberId, sessionId);
  if (!session) throw notFound('flow session', sessionId);
  return session;
}

function serviceOf(step: FlowStep): ServiceDefinition {
  const service = serviceByCode(step.service);
  if (!service) throw new Error(`published step ${step.id} uses unknown service ${step.service}`);
  return service;
}

function checkOutput(service: ServiceDefinition, output: unknown): Record<string, unknown> {
  if (typeof output !== 'object' || output === null || Array.isArray(output)) {
    throw badInput('output must be an object of the step’s outputs', 'output');
  }
  const values = output as Record<string, unknown>;
  const unknown = Object.keys(values).find((name) => !service.outputs.some((field) => field.name === name));
  if (unknown) throw badInput(`${service.code} has no output ${unknown}`, `output.${unknown}`);
  for (const field of service.outputs) {
    const value = values[field.name];
    if (value === undefined || value === null) {
      if (field.required) throw badInput(`output ${field.name} is required`, `output.${field.name}`);
    } else if (!fitsType(value, field.type)) {
      throw badInput(`output ${field.name} must be a ${field.type}`, `output.${field.name}`);
    }
  }
  return values;
}

/**
 * When the bank system that performs the step attested this output, and the inputs it performed it with, for this
 * member's step of this session (null for a step the member performs, which takes none). Refused, changing nothing: without one, BAD_USER_INPUT
 * (`reason: ATTESTATION_REQUIRED`); one that is not the bank's for this very step and output, or is older (or newer)
 * than five minutes, INVALID_SIGNATURE (`reason: EXPIRED` when only its age is wrong) — both on `field: attestation`.
 */
function attestedAt(
  run: RunContext,
  service: ServiceDefinition,
  attestation: string | null | undefined,
  step: AttestedStep,
): Date | null {
  if (service.performedBy === 'MEMBER') {
    if (attestation === null || attestation === undefined) return null;
    throw hubError(
      ErrorCode.BAD_USER_INPUT,
      `${service.code} is the member's to perform: it takes no attestation`,
      {
        field: 'attestation',
        reason: 'NOT_ATTESTED_SERVICE',
      },
    );
  }
  const check = checkAttestation(run.attestationSecret, attestation, step, run.now);
  if (check.ok) return check.attestedAt;
  if (check.reason === 'MISSING') {
    throw hubError(
      ErrorCode.BAD_USER_INPUT,
      `${service.code} is performed by the bank: send the attestation its system gave for this step`,
      { field: 'attestation', reason: 'ATTESTATION_REQUIRED' },
    );
  }
  throw hubError(
    ErrorCode.INVALID_SIGNATURE,
    `the attestation is not the bank's for this step, its inputs and output, or was given more than ${ATTESTATION_WINDOW} from now`,
    { field: 'attestation', ...(check.reason === 'EXPIRED' ? { reason: 'EXPIRED' } : {}) },
  );
}

/**
 * Service rules that hold whatever the flow says: products exist, are on sale on the mini-program and fit what the
 * select step allows; amounts are whole cents, at least the product's minimum; purchases are suitable for the
 * member's stored risk profile; nothing is committed after a failed identity check or a declined agreement.
 */
async function enforceService(
  run: RunContext,
  caller: GraphCaller,
  flow: ServiceFlowDoc,
  step: FlowStep,
  session: FlowSessionDoc,
  output: Record<string, unknown>,
) {
  if (step.service === 'SELECT_PRODUCT') {
    const productId = String(output.productId);
    const [product] = await run.repos.products.findByIds([productId]);
    // The step's productType and maxRiskLevel (e.g. the risk just assessed) bound what may be picked.
    const refusal = saleRefusal(productId, product, resolveInputs(step, session.outputs));
    if (refusal || !product) {
      throw hubError(ErrorCode.BAD_USER_INPUT, refusal?.message ?? `product ${productId} is not on sale`, {
        field: 'output.productId',
        reason: refusal?.reason ?? 'NOT_ON_SALE',
      });
    }
    // Refused now rather than only at confirmation: the amount may choose a branch (a large-purchase disclosure).
    const amountProblem = amountRefusal(output.amount, product);
    if (amountProblem) {
      throw hubError(ErrorCode.BAD_USER_INPUT, amountProblem.message, {
        field: 'output.amount',
        reason: amountProblem.reason,
      });
    }
  }
  const inputs = resolveInputs(step, session.outputs);
  const withheld = consentRefusal(step, inputs, flow.steps, session.outputs);
  if (withheld) throw hubError(ErrorCode.FAILED_PRECONDITION, withheld.message, { reason: withheld.reason });
  if (step.service === 'CONFIRM_PURCHASE') {
    const productId = String(inputs.productId);
    const [product] = await run.repos.products.findByIds([productId]);
    // Checked again: the product may have changed since it was selected, or be a constant of the flow.
    const refusal =
      saleRefusal(productId, product) ?? (product ? amountRefusal(inputs.amount, product) : null);
    if (refusal || !product) {
      throw hubError(
        ErrorCode.FAILED_PRECONDITION,
        refusal?.message ?? `product ${productId} is not on sale`,
        {
          reason: refusal?.reason ?? 'NOT_ON_SALE',
        },
      );
    }
    const memberRisk = await run.memberRisk.riskOf(caller);
    if (!isSuitable(product.riskLevel, memberRisk)) {
      throw hubError(
        ErrorCode.FAILED_PRECONDITION,
        `product ${product._id} (${product.riskLevel}) is above the member's risk tolerance (${memberRisk ?? 'unknown'})`,
        { reason: 'UNSUITABLE', productId: product._id },
      );
    }
  }
}

/**
 * Where a completed step leads. A branch on an amount compares it in the branch's currency only, so the products the
 * tested steps picked are read for theirs — and only when the step has such a branch.
 */
async function nextStepOf(
  run: RunContext,
  flow: ServiceFlowDoc,
  stepId: string,
  outputs: FlowOutputs,
): Promise<string | null> {
  const steps = withAmountCurrencies(flow.steps, run.bankCurrency);
  const step = steps.find((candidate) => candidate.id === stepId)!;
  const fieldOf = outputFieldsOf(steps);
  const productOf = (testedStep: string, output: string): string | null => {
    const source = fieldOf(testedStep, output)?.currencyOf;
    const productId = source === undefined ? undefined : outputs[testedStep]?.[source];
    return typeof productId === 'string' ? productId : null;
  };
  const productIds = step.next.flatMap((edge) =>
    edge.when?.currency === undefined ? [] : (productOf(edge.when.step, edge.when.output) ?? []),
  );
  const products = productIds.length > 0 ? await run.repos.products.findByIds([...new Set(productIds)]) : [];
  const currencies = new Map(products.map((product) => [product._id, product.currency]));
  return nextStepId(step, outputs, {
    typeOf: outputTypesOf(steps),
    currencyOf: (testedStep, output) => currencies.get(productOf(testedStep, output) ?? '') ?? null,
  });
}

/**
 * The answer an advance record gives. A completing one queues the session's flow_completed event — again on a replay,
 * as the first call may have died between completing and queuing; the event's id makes it one at analytics.
 */
async function replay(
  run: RunContext,
  session: FlowSessionDoc,
  flow: ServiceFlowDoc,
  record: FlowSessionDoc['history'][number],
): Promise<AdvanceOutcome> {
  if (record.completed) {
    await run.repos.relay.enqueue(await flowCompletedEvents(run.repos, [{ session, flow, at: record.at }]));
    if (session.eventPending) await run.repos.sessions.eventsQueued([session._id]);
  }
  return {
    session,
    nextStep:
      withAmountCurrencies(flow.steps, run.bankCurrency).find((step) => step.id === record.nextStepId) ??
      null,
    completed: record.completed,
  };
}

export async function advance(
  run: RunContext,
  caller: GraphCaller,
  memberId: string,
  input: {
    sessionId: string;
    stepId: string;
    output: unknown;
    idempotencyKey: string;
    /** The bank system's attestation, for a step it performs. */
    attestation?: string | null;
  },
): Promise<AdvanceOutcome> {
  if (!IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
    throw badInput(
      'idempotencyKey must be 8 to 128 characters of letters, digits, _ . : -',
      'idempotencyKey',
    );
  }
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const session = await ownSession(run.repos, memberId, input.sessionId);
    const flow = (await run.repos.flows.findById(session.flowId))!;
    const previous = session.history.find((entry) => entry.idempotencyKey === input.idempotencyKey);
    if (previous) {
      if (previous.stepId !== input.stepId)
        throw conflict('idempotencyKey was used for another step', { field: 'idempotencyKey' });
      // Records stored before outputs were fingerprinted have none: they replay as before.
      if (previous.outputHash !== undefined && previous.outputHash !== outputHash(input.output))
        throw conflict('idempotencyKey was used with another output', { field: 'idempotencyKey' });
      return replay(run, session, flow, previous);
    }
    const status = sessionStatus(session, run.now);
    if (status === 'WITHDRAWN' || (status === 'ACTIVE' && flow.sessionsEndedAt)) {
      // Read before the retirement ended it, or started after: it ends now, as the version's other sessions did.
      if (status === 'ACTIVE')
        await run.repos.sessions.withdrawOfFlow(flow._id, withdrawalReason(flow), run.now, session._id);
      throw flowWithdrawn(session, flow);
    }
    if (status === 'COMPLETED')
      throw hubError(ErrorCode.FAILED_PRECONDITION, 'the flow session is completed');
    if (status === 'EXPIRED') {
      await run.repos.sessions.markExpired(session._id, session.revision);
      throw hubError(ErrorCode.FAILED_PRECONDITION, 'the flow session has expired; start a new one', {
        reason: 'EXPIRED',
      });
    }
    if (input.stepId !== session.currentStepId) {
      throw hubError(ErrorCode.FAILED_PRECONDITION, `step ${input.stepId} is not the current step`, {
        expectedStepId: session.currentStepId,
      });
    }
    const step = flow.steps.find((candidate) => candidate.id === input.stepId)!;
    const service = serviceOf(step);
    const output = checkOutput(service, input.output);
    const attested = attestedAt(run, service, input.attestation, {
      sessionId: session._id,
      stepId: step.id,
      memberId,
      inputs: resolveInputs(step, session.outputs),
      output: input.output,
    });
    const outputs = { ...session.outputs, [step.id]: output };
    await enforceService(run, caller, flow, step, session, output);
    const next = step.terminal ? null : await nextStepOf(run, flow, step.id, outputs);
    // Recorded at members before the step, so that the steps after it (a purchase's suitability) and the member's
    // pages go by the new tolerance; idempotent there, so a retry or a lost race records it once.
    if (attested && step.service === 'RISK_ASSESSMENT') {
      await run.memberRisk.record(caller, {
        memberId,
        riskLevel: output.riskLevel as RiskLevel,
        score: output.score as number,
        // Not after products heard of it, whatever the bank system's clock said.
        assessedAt: attested < run.now ? attested : run.now,
        reference: `flow session ${session._id} step ${step.id}`,
      });
    }
    const completed = next === null;
    const updated = await run.repos.sessions.advanceIf(
      session._id,
      session.revision,
      {
        outputs,
        currentStepId: next,
        status: completed ? 'COMPLETED' : 'ACTIVE',
        // Until the event is queued: should this process die first, the relay job queues it (queueCompletedFlows).
        ...(completed ? { eventPending: true } : {}),
        expiresAt: new Date(run.now.getTime() + run.ttlMinutes * 60_000),
      },
      {
        idempotencyKey: input.idempotencyKey,
        stepId: step.id,
        nextStepId: next,
        outputHash: outputHash(input.output),
        completed,
        at: run.now,
      },
    );
    // Lost a race: someone advanced first (perhaps this very key); read again and answer from what is stored.
    if (updated) return replay(run, updated, flow, updated.history.at(-1)!);
  }
  throw conflict('the flow session is busy; retry');
}
