// Flow validation: every problem at once, each with the step at fault and a stable code. Pure: what it needs to
// know of the world (the products it buys, which pages and benefits exist) is passed in, so the compliance rule (no
// purchase above R2 without a prior risk assessment on every path), what a flow buys, the pages it shows and the
// benefits it claims are checked without this module touching MongoDB or the graph.
import { isSuitable, isRiskLevel, type RiskLevel } from '../domain/suitability';
import { PRODUCT_TYPES, type ProductDoc, type ProductType } from '../models/product';
import { fitsType, outputFieldsOf, outputTypesOf, serviceByCode } from './catalog';
import type { FlowGraph, FlowStep } from './flow';
import { FLOW_CHANNEL, amountRefusal, saleRefusal } from './sale';

export type FlowProblemCode =
  | 'NO_START'
  | 'UNKNOWN_SERVICE'
  | 'UNKNOWN_STEP'
  | 'UNKNOWN_FIELD'
  | 'CYCLE'
  | 'UNREACHABLE_STEP'
  | 'DEAD_END'
  | 'MISSING_INPUT'
  | 'TYPE_MISMATCH'
  | 'MISSING_RISK_ASSESSMENT'
  | 'MISSING_IDENTITY_CHECK'
  | 'UNSELLABLE_PURCHASE'
  | 'UNSELLABLE_PRODUCT_TYPE'
  | 'UNKNOWN_PAGE'
  | 'UNKNOWN_BENEFIT';

export interface FlowProblem {
  code: FlowProblemCode;
  stepId: string | null;
  message: string;
}

/** What validation must know of a product a flow buys by a fixed id. */
export type FlowProduct = Pick<
  ProductDoc,
  'type' | 'riskLevel' | 'status' | 'channels' | 'minAmount' | 'maxAmount' | 'currency'
>;

/** What validation must know beyond the flow itself. */
export interface FlowFacts {
  /** The catalogue's product of an id, or null when there is none. */
  product: (productId: string) => FlowProduct | null;
  /** The lowest risk level of a product of this type on sale on the mini-program, or null when none is. */
  lowestRiskOnSale: (productType: ProductType) => RiskLevel | null;
  /** Whether a page a flow may show (by key) exists. */
  pageExists: (pageKey: string) => boolean;
  /** Whether a benefit (by id) is published, has not ended and may be claimed (a points product is bought). */
  benefitClaimable: (benefitId: string) => boolean;
}

/** The page a step shows by a fixed key; a key chosen at run time cannot be checked before then. */
function pageKeyShownBy(step: FlowStep): string | null {
  if (step.service !== 'SHOW_PAGE') return null;
  const mapping = step.inputs.find((candidate) => candidate.input === 'pageKey');
  return mapping?.fromStep === null && typeof mapping.constant === 'string' ? mapping.constant : null;
}

/** The benefit a step claims by a fixed id; one chosen at run time cannot be checked before then. */
function benefitClaimedBy(step: FlowStep): string | null {
  if (step.service !== 'CLAIM_BENEFIT') return null;
  const mapping = step.inputs.find((candidate) => candidate.input === 'benefitId');
  return mapping?.fromStep === null && typeof mapping.constant === 'string' ? mapping.constant : null;
}

/** The product type a SELECT_PRODUCT step sells by a fixed type; a type chosen at run time cannot be checked before. */
function productTypeSelectedBy(step: FlowStep): string | null {
  if (step.service !== 'SELECT_PRODUCT') return null;
  const mapping = step.inputs.find((candidate) => candidate.input === 'productType');
  return mapping?.fromStep === null && typeof mapping.constant === 'string' ? mapping.constant : null;
}

/** The risk level a SELECT_PRODUCT step bounds its products by, when fixed; one mapped from a step is known later. */
function fixedRiskLevelOf(step: FlowStep): RiskLevel | null {
  if (step.service !== 'SELECT_PRODUCT') return null;
  const mapping = step.inputs.find((candidate) => candidate.input === 'maxRiskLevel');
  // A constant that is no risk level is a TYPE_MISMATCH already.
  return mapping?.fromStep === null && isRiskLevel(mapping.constant) ? mapping.constant : null;
}

export const isProductType = (value: string): value is ProductType =>
  (PRODUCT_TYPES as readonly string[]).includes(value);

/** Every product type a flow's selections name by a fixed type, that is a product type. */
export const selectedProductTypes = (graph: FlowGraph): ProductType[] =>
  graph.steps
    .map(productTypeSelectedBy)
    .filter((type): type is ProductType => type !== null && isProductType(type));

/** Every page a flow shows by a fixed key. */
export const shownPageKeys = (graph: FlowGraph): string[] =>
  graph.steps.map(pageKeyShownBy).filter((key): key is string => key !== null);

/** Every benefit a flow claims by a fixed id. */
export const claimedBenefitIds = (graph: FlowGraph): string[] =>
  graph.steps.map(benefitClaimedBy).filter((id): id is string => id !== null);

const HIGHEST_RISK_WITHOUT_ASSESSMENT = 'R2';

/**
 * Steps on a cycle: those in a strongly connected component of more than one step, or with an edge to themselves
 * (Tarjan's algorithm over edges to existing steps). Iterative, so a hostile flow cannot exhaust the stack.
 */
export function stepsOnCycles(steps: ReadonlyMap<string, FlowStep>): Set<string> {
  const successors = (id: string) =>
    [...new Set(steps.get(id)!.next.map((edge) => edge.to))].filter((to) => steps.has(to));
  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const onCycle = new Set<string>();
  for (const root of steps.keys()) {
    if (index.has(root)) continue;
    // Each frame is a step and how many of its successors have been looked at.
    const frames: { id: string; successors: string[]; next: number }[] = [];
    const open = (id: string) => {
      index.set(id, index.size);
      lowLink.set(id, index.get(id)!);
      stack.push(id);
      onStack.add(id);
      frames.push({ id, successors: successors(id), next: 0 });
    };
    open(root);
    while (frames.length > 0) {
      const frame = frames.at(-1)!;
      if (frame.next < frame.successors.length) {
        const to = frame.successors[frame.next++]!;
        if (!index.has(to)) open(to);
        else if (onStack.has(to)) lowLink.set(frame.id, Math.min(lowLink.get(frame.id)!, index.get(to)!));
        continue;
      }
      frames.pop();
      const parent = frames.at(-1);
      if (parent) lowLink.set(parent.id, Math.min(lowLink.get(parent.id)!, lowLink.get(frame.id)!));
      if (lowLink.get(frame.id) !== index.get(frame.id)) continue;
      // frame.id roots a component: everything above it on the stack.
      const component = stack.splice(stack.lastIndexOf(frame.id));
      component.forEach((id) => onStack.delete(id));
      if (component.length > 1 || frame.successors.includes(frame.id))
        component.forEach((id) => onCycle.add(id));
    }
  }
  return onCycle;
}

/**
 * The edges a session can take from a step. A terminal step ends the flow whatever edges it keeps (a builder may mark
 * a connected step terminal), so what lies only beyond it is never run, and must not count as reached or preceded.
 */
const takenEdges = (step: FlowStep) => (step.terminal ? [] : step.next);

function reachableFrom(steps: Map<string, FlowStep>, start: string): Set<string> {
  const reached = new Set([start]);
  const queue = [start];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const edge of takenEdges(steps.get(id)!)) {
      if (steps.has(edge.to) && !reached.has(edge.to)) {
        reached.add(edge.to);
        queue.push(edge.to);
      }
    }
  }
  return reached;
}

/**
 * For an acyclic flow, the steps every path from the start to each step passes through (the step excluded):
 * what a step may rely on having happened before it.
 */
function strictDominators(steps: Map<string, FlowStep>, start: string): Map<string, Set<string>> {
  const predecessors = new Map<string, string[]>([...steps.keys()].map((id) => [id, []]));
  for (const step of steps.values()) {
    for (const edge of takenEdges(step)) if (steps.has(edge.to)) predecessors.get(edge.to)!.push(step.id);
  }
  // Topological order of the steps reachable from the start.
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const edge of takenEdges(steps.get(id)!)) if (steps.has(edge.to)) visit(edge.to);
    order.unshift(id);
  };
  visit(start);
  const dominators = new Map<string, Set<string>>();
  for (const id of order) {
    if (id === start) {
      dominators.set(id, new Set());
      continue;
    }
    const reachedFrom = predecessors.get(id)!.filter((p) => dominators.has(p));
    const sets = reachedFrom.map((p) => new Set([...dominators.get(p)!, p]));
    dominators.set(
      id,
      sets.reduce((acc, set) => new Set([...acc].filter((x) => set.has(x)))),
    );
  }
  return dominators;
}

export function validateFlow(graph: FlowGraph, facts: FlowFacts): FlowProblem[] {
  const problems: FlowProblem[] = [];
  const report = (code: FlowProblemCode, stepId: string | null, message: string) =>
    problems.push({ code, stepId, message });
  const steps = new Map(graph.steps.map((step) => [step.id, step]));

  const startValid = graph.startStepId !== null && steps.has(graph.startStepId);
  if (!startValid) {
    report(
      'NO_START',
      graph.startStepId,
      graph.startStepId ? `start step ${graph.startStepId} does not exist` : 'the flow has no start step',
    );
  }
  for (const step of graph.steps) {
    if (!serviceByCode(step.service))
      report('UNKNOWN_SERVICE', step.id, `service ${step.service} is not in the catalogue`);
    for (const edge of step.next) {
      if (!steps.has(edge.to)) report('UNKNOWN_STEP', step.id, `edge to unknown step ${edge.to}`);
    }
    if (!step.terminal && !step.next.some((edge) => !edge.when && steps.has(edge.to))) {
      report('DEAD_END', step.id, `step ${step.id} is not terminal and has no default way on`);
    }
  }
  const cyclic = stepsOnCycles(steps);
  for (const step of graph.steps)
    if (cyclic.has(step.id)) report('CYCLE', step.id, `step ${step.id} is on a cycle`);
  if (startValid) {
    const reachable = reachableFrom(steps, graph.startStepId!);
    for (const step of graph.steps) {
      if (!reachable.has(step.id))
        report('UNREACHABLE_STEP', step.id, `no path from the start reaches step ${step.id}`);
    }
  }
  // What precedes what is known only on an acyclic graph with a start; without it those checks wait, the others run.
  const dominators = startValid && cyclic.size === 0 ? strictDominators(steps, graph.startStepId!) : null;

  const outputType = outputTypesOf(graph.steps);
  const outputField = outputFieldsOf(graph.steps);

  for (const step of graph.steps) {
    const service = serviceByCode(step.service);
    if (!service) continue;
    const before = dominators?.get(step.id) ?? null;
    for (const mapping of step.inputs) {
      const input = service.inputs.find((field) => field.name === mapping.input);
      if (!input) {
        report('UNKNOWN_FIELD', step.id, `${step.service} has no input ${mapping.input}`);
        continue;
      }
      if (mapping.fromStep === null) {
        if (!fitsType(mapping.constant, input.type)) {
          report('TYPE_MISMATCH', step.id, `constant for ${mapping.input} is not a ${input.type}`);
        }
        continue;
      }
      if (!steps.has(mapping.fromStep)) {
        report('UNKNOWN_STEP', step.id, `input ${mapping.input} maps from unknown step ${mapping.fromStep}`);
        continue;
      }
      const type = outputType(mapping.fromStep, mapping.fromOutput ?? '');
      if (!type) {
        report('UNKNOWN_FIELD', step.id, `step ${mapping.fromStep} has no output ${mapping.fromOutput}`);
      } else if (type !== input.type) {
        report(
          'TYPE_MISMATCH',
          step.id,
          `${mapping.input} is ${input.type} but ${mapping.fromStep}.${mapping.fromOutput} is ${type}`,
        );
      } else if (before && !before.has(mapping.fromStep)) {
        report(
          'MISSING_INPUT',
          step.id,
          `${mapping.input} comes from ${mapping.fromStep}, which does not precede ${step.id} on every path`,
        );
      }
    }
    for (const input of service.inputs) {
      if (input.required && !step.inputs.some((mapping) => mapping.input === input.name)) {
        report('MISSING_INPUT', step.id, `required input ${input.name} of ${step.service} is not mapped`);
      }
    }
    for (const edge of step.next) {
      const when = edge.when;
      if (!when) continue;
      if (!steps.has(when.step)) {
        report('UNKNOWN_STEP', step.id, `branch to ${edge.to} tests unknown step ${when.step}`);
        continue;
      }
      const type = outputType(when.step, when.output);
      const values = when.op === 'in' && Array.isArray(when.value) ? when.value : [when.value];
      if (!type) report('UNKNOWN_FIELD', step.id, `step ${when.step} has no output ${when.output}`);
      // Only money has a currency (a step changed since the branch was connected): such a branch would never hold.
      else if (when.currency !== undefined && outputField(when.step, when.output)?.currencyOf === undefined) {
        report(
          'TYPE_MISMATCH',
          step.id,
          `branch to ${edge.to} compares ${when.step}.${when.output} (${type}) in ${when.currency}, but it is no amount`,
        );
      }
      // `in` tests membership of a list: against anything else it could never hold.
      else if (when.op === 'in' && !Array.isArray(when.value)) {
        report(
          'TYPE_MISMATCH',
          step.id,
          `branch to ${edge.to} tests ${when.step}.${when.output} in ${JSON.stringify(when.value)}, which is not a list`,
        );
      } else if (!values.every((value) => fitsType(value, type))) {
        report(
          'TYPE_MISMATCH',
          step.id,
          `branch to ${edge.to} compares ${when.step}.${when.output} (${type}) with ${JSON.stringify(when.value)}`,
        );
      } else if (before && when.step !== step.id && !before.has(when.step)) {
        report(
          'MISSING_INPUT',
          step.id,
          `branch to ${edge.to} tests ${when.step}, which does not precede ${step.id} on every path`,
        );
      }
    }
    const verified = step.service === 'OPEN_ACCOUNT' ? step.inputs.find((m) => m.input === 'verified') : null;
    // Only an identity check's own `verified` may open an account: a constant, or another step's BOOLEAN (a signed
    // agreement), fits the type yet verifies nobody. An unmapped one is MISSING_INPUT already.
    if (
      verified &&
      !(
        steps.get(verified.fromStep ?? '')?.service === 'IDENTITY_CHECK' && verified.fromOutput === 'verified'
      )
    ) {
      report(
        'MISSING_IDENTITY_CHECK',
        step.id,
        `${step.id} opens an account on a verified that is not an IDENTITY_CHECK step's verified`,
      );
    }
    const fixed = (input: string) =>
      step.inputs.find((m) => m.input === input && m.fromStep === null)?.constant;
    const productId = step.service === 'CONFIRM_PURCHASE' ? fixed('productId') : undefined;
    const product = typeof productId === 'string' ? facts.product(productId) : null;
    if (typeof productId === 'string') {
      // A fixed product the mini-program does not sell, or a fixed amount it never takes, stops every session here:
      // the purchase checks the same rules (saleRefusal, amountRefusal) as it runs.
      const amount = fixed('amount');
      const refusal =
        saleRefusal(productId, product) ??
        (product && amount !== undefined ? amountRefusal(amount, product) : null);
      if (refusal) report('UNSELLABLE_PURCHASE', step.id, `${step.id} can never buy: ${refusal.message}`);
    }
    if (step.service === 'CONFIRM_PURCHASE' && before) {
      const risk = product?.riskLevel ?? null;
      // A product chosen at run time (or unknown) may be of any risk: assume the worst.
      const needsAssessment = risk === null || risk > HIGHEST_RISK_WITHOUT_ASSESSMENT;
      const assessed = [...before].some((id) => steps.get(id)?.service === 'RISK_ASSESSMENT');
      if (needsAssessment && !assessed) {
        report(
          'MISSING_RISK_ASSESSMENT',
          step.id,
          `purchase of ${risk ? `a ${risk} product` : 'a product chosen at run time'} is not preceded on every path by RISK_ASSESSMENT`,
        );
      }
    }
  }
  for (const step of graph.steps) {
    // Every product such a step offers is refused (WRONG_PRODUCT_TYPE, NOT_ON_CHANNEL, ABOVE_MAX_RISK): no session gets
    // past it.
    const productType = productTypeSelectedBy(step);
    if (productType !== null && !isProductType(productType)) {
      report(
        'UNSELLABLE_PRODUCT_TYPE',
        step.id,
        `step ${step.id} selects a ${productType} product, which is not a product type (${PRODUCT_TYPES.join(', ')})`,
      );
    } else if (productType !== null) {
      const lowestRisk = facts.lowestRiskOnSale(productType);
      const maxRiskLevel = fixedRiskLevelOf(step);
      if (lowestRisk === null) {
        report(
          'UNSELLABLE_PRODUCT_TYPE',
          step.id,
          `step ${step.id} selects a ${productType} product; no ${productType} product is on sale on ${FLOW_CHANNEL}`,
        );
      } else if (maxRiskLevel !== null && !isSuitable(lowestRisk, maxRiskLevel)) {
        report(
          'UNSELLABLE_PRODUCT_TYPE',
          step.id,
          `step ${step.id} selects a ${productType} product of risk level ${maxRiskLevel} at most; the lowest of a ${productType} product on sale on ${FLOW_CHANNEL} is ${lowestRisk}`,
        );
      }
    }
    const pageKey = pageKeyShownBy(step);
    if (pageKey !== null && !facts.pageExists(pageKey))
      report('UNKNOWN_PAGE', step.id, `step ${step.id} shows page ${pageKey}, which does not exist`);
    const benefitId = benefitClaimedBy(step);
    if (benefitId !== null && !facts.benefitClaimable(benefitId)) {
      report(
        'UNKNOWN_BENEFIT',
        step.id,
        `step ${step.id} claims benefit ${benefitId}, which is not a published benefit members may claim`,
      );
    }
  }
  return problems;
}
