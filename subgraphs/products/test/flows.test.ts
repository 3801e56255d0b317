import { bundleChannels, eligibleBundles, type BundleMember } from '../src/domain/bundles';
import { fitsType, outputTypesOf, type ServiceValueType } from '../src/flows/catalog';
import {
  nextStepId,
  withAmountCurrencies,
  type BranchFacts,
  type ConditionOp,
  type FlowGraph,
  type FlowOutputs,
  type FlowStep,
  type InputMapping,
} from '../src/flows/flow';
import { stepsOnCycles, validateFlow, type FlowProblemCode } from '../src/flows/validation';
import { flowCompletedEvent } from '../src/flows/completion-event';
import { diffFlows } from '../src/flows/diff';
import { reviewStep, type FlowReviewAction } from '../src/flows/review';
import { outputHash } from '../src/flows/output-hash';
import { sessionStatus } from '../src/flows/runner';
import { flowWithdrawn, withdrawalReason } from '../src/flows/withdrawal';
import { PURCHASE_AMOUNT_CEILING, maxPurchaseOf } from '../src/domain/purchase-limit';
import { amountRefusal, saleRefusal } from '../src/flows/sale';
import { consentRefusal } from '../src/flows/consent';
import type { RiskLevel } from '../src/domain/suitability';
import type { Channel } from '../src/models/product';
import type { FlowStatus, ServiceFlowDoc } from '../src/models/service-flow';
import { PRODUCTS } from '../src/seed';
import { BUNDLES } from '../src/seed-bundles';
import { FLOWS } from '../src/seed-flows';

/** The demo content's mini-program pages, as the content subgraph would list them. */
const PAGES = new Set(['home', 'wealth', 'welcome']);
/** The demo benefits a flow may claim, as the engagement subgraph would say. */
const CLAIMABLE = new Set(['B-WELCOME-50']);
/** The lowest risk level of a product of a type the demo catalogue sells on the mini-program (FUND: R2). */
const lowestRiskOnSale = (type: string): RiskLevel | null =>
  PRODUCTS.filter((p) => p.type === type && p.status === 'ON_SALE' && p.channels.includes('MINI_PROGRAM'))
    .map((p) => p.riskLevel)
    .sort()[0] ?? null;
const FACTS = {
  product: (id: string) => PRODUCTS.find((product) => product._id === id) ?? null,
  lowestRiskOnSale,
  pageExists: (key: string) => PAGES.has(key),
  benefitClaimable: (id: string) => CLAIMABLE.has(id),
};
const codes = (graph: FlowGraph) =>
  validateFlow(graph, FACTS).map((problem) => [problem.code, problem.stepId]);

const buyWealth = FLOWS.find((flow) => flow.key === 'buy-wealth')!;
const clone = (graph: FlowGraph): FlowGraph =>
  structuredClone({ startStepId: graph.startStepId, steps: graph.steps });
const stepOf = (graph: FlowGraph, id: string): FlowStep => graph.steps.find((step) => step.id === id)!;

describe('validateFlow', () => {
  it.each(FLOWS.map((flow) => [flow.key, flow]))('accepts the seeded flow %s', (_key, flow) => {
    expect(codes(flow)).toEqual([]);
  });

  const broken: [string, (graph: FlowGraph) => void, [FlowProblemCode, string | null][]][] = [
    ['no start step', (g) => void (g.startStepId = null), [['NO_START', null]]],
    [
      'an unknown service',
      (g) => void (stepOf(g, 'disclose').service = 'TELEPORT'),
      [['UNKNOWN_SERVICE', 'disclose']],
    ],
    [
      'a cycle',
      (g) =>
        void stepOf(g, 'disclose').next.push({
          to: 'select',
          when: { step: 'select', output: 'amount', op: 'gt', value: 1 },
        }),
      [
        ['CYCLE', 'select'],
        ['CYCLE', 'disclose'],
      ],
    ],
    [
      'an unreachable step',
      (g) =>
        void g.steps.push({
          id: 'orphan',
          service: 'SHOW_PAGE',
          title: 'x',
          inputs: [{ input: 'pageKey', fromStep: null, fromOutput: null, constant: 'home' }],
          next: [],
          terminal: true,
        }),
      [['UNREACHABLE_STEP', 'orphan']],
    ],
    ['a dead end', (g) => void (stepOf(g, 'disclose').next = []), [['DEAD_END', 'disclose']]],
    [
      'a missing input',
      (g) =>
        void (stepOf(g, 'confirm').inputs = stepOf(g, 'confirm').inputs.filter((m) => m.input !== 'amount')),
      [['MISSING_INPUT', 'confirm']],
    ],
    [
      'an input from a step that does not precede on every path',
      (g) =>
        void (stepOf(g, 'confirm').inputs[1] = {
          input: 'amount',
          fromStep: 'disclose',
          fromOutput: 'signedAt',
          constant: null,
        }),
      [['TYPE_MISMATCH', 'confirm']],
    ],
    [
      'an input from a branch only',
      (g) => {
        stepOf(g, 'disclose').service = 'SELECT_PRODUCT';
        stepOf(g, 'disclose').inputs = [];
        stepOf(g, 'confirm').inputs[1] = {
          input: 'amount',
          fromStep: 'disclose',
          fromOutput: 'amount',
          constant: null,
        };
      },
      [['MISSING_INPUT', 'confirm']],
    ],
    [
      'a mistyped constant',
      (g) => void (stepOf(g, 'disclose').inputs[0]!.constant = 42),
      [['TYPE_MISMATCH', 'disclose']],
    ],
    [
      'a branch on a mistyped value',
      (g) => void (stepOf(g, 'select').next[0]!.when!.value = 'lots'),
      [['TYPE_MISMATCH', 'select']],
    ],
    [
      // Stored before the builder refused it: it would never hold.
      'an `in` branch on a value that is not a list',
      (g) =>
        void (stepOf(g, 'select').next[0]!.when = {
          step: 'assess',
          output: 'riskLevel',
          op: 'in',
          value: 'R4',
        }),
      [['TYPE_MISMATCH', 'select']],
    ],
    [
      // A step changed since the branch was connected: only an amount has a currency.
      'a branch naming a currency on an output that is no amount',
      (g) =>
        void (stepOf(g, 'select').next[0]!.when = {
          step: 'assess',
          output: 'score',
          op: 'gte',
          value: 80,
          currency: 'CNY',
        }),
      [['TYPE_MISMATCH', 'select']],
    ],
    [
      'an unknown output',
      (g) => void (stepOf(g, 'confirm').inputs[0]!.fromOutput = 'sku'),
      [['UNKNOWN_FIELD', 'confirm']],
    ],
    [
      'an input from a removed step',
      (g) => void (stepOf(g, 'confirm').inputs[0]!.fromStep = 'gone'),
      [['UNKNOWN_STEP', 'confirm']],
    ],
    [
      'a purchase chosen at run time without a risk assessment',
      (g) => {
        g.steps = g.steps.filter((s) => s.id !== 'assess');
        g.startStepId = 'select';
        stepOf(g, 'select').inputs = [];
      },
      [['MISSING_RISK_ASSESSMENT', 'confirm']],
    ],
  ];
  it.each(broken)('reports %s', (_name, breakIt, expected) => {
    const graph = clone(buyWealth);
    breakIt(graph);
    expect(codes(graph)).toEqual(expected);
  });

  it('reports every problem at once, even with no start and a cycle', () => {
    const graph = clone(buyWealth);
    graph.startStepId = null;
    stepOf(graph, 'disclose').next.push({
      to: 'select',
      when: { step: 'select', output: 'amount', op: 'gt', value: 1 },
    });
    stepOf(graph, 'confirm').inputs[1]!.fromOutput = 'nope';
    stepOf(graph, 'disclose').inputs[0]!.constant = 7;
    stepOf(graph, 'assess').service = 'TELEPORT';
    expect(codes(graph)).toEqual([
      ['NO_START', null],
      ['UNKNOWN_SERVICE', 'assess'],
      ['CYCLE', 'select'],
      ['CYCLE', 'disclose'],
      // select maps an output of assess, whose service is unknown
      ['UNKNOWN_FIELD', 'select'],
      ['TYPE_MISMATCH', 'disclose'],
      ['UNKNOWN_FIELD', 'confirm'],
    ]);
  });

  const purchaseOf = (productId: string, assessed: boolean, amount: unknown = 1000): FlowGraph => ({
    startStepId: assessed ? 'assess' : 'confirm',
    steps: [
      ...(assessed
        ? [
            {
              id: 'assess',
              service: 'RISK_ASSESSMENT',
              title: 'a',
              inputs: [],
              next: [{ to: 'confirm', when: null }],
              terminal: false,
            },
          ]
        : []),
      {
        id: 'confirm',
        service: 'CONFIRM_PURCHASE',
        title: 'c',
        inputs: [
          { input: 'productId', fromStep: null, fromOutput: null, constant: productId },
          { input: 'amount', fromStep: null, fromOutput: null, constant: amount },
        ],
        next: [],
        terminal: true,
      },
    ],
  });

  const welcome = FLOWS.find((flow) => flow.key === 'welcome-benefit')!;
  const showing = (pageKey: InputMapping): FlowGraph => {
    const graph = clone(welcome);
    stepOf(graph, 'intro').inputs = [pageKey];
    return graph;
  };
  it.each<[string, InputMapping, [FlowProblemCode, string][]]>([
    ['a page that exists', { input: 'pageKey', fromStep: null, fromOutput: null, constant: 'welcome' }, []],
    [
      'a page that does not exist',
      { input: 'pageKey', fromStep: null, fromOutput: null, constant: 'nowhere' },
      [['UNKNOWN_PAGE', 'intro']],
    ],
    [
      'a page named like a property every object has',
      { input: 'pageKey', fromStep: null, fromOutput: null, constant: 'constructor' },
      [['UNKNOWN_PAGE', 'intro']],
    ],
  ])('a flow showing %s', (_name, pageKey, expected) => {
    expect(codes(showing(pageKey))).toEqual(expected);
  });

  const openAccount = FLOWS.find((flow) => flow.key === 'open-account')!;
  const opening = (verified: InputMapping): FlowGraph => {
    const graph = clone(openAccount);
    stepOf(graph, 'open').inputs = [verified];
    return graph;
  };
  it.each<[string, InputMapping, [FlowProblemCode, string][]]>([
    [
      "the identity check's verified",
      { input: 'verified', fromStep: 'identity', fromOutput: 'verified', constant: null },
      [],
    ],
    [
      'a constant',
      { input: 'verified', fromStep: null, fromOutput: null, constant: true },
      [['MISSING_IDENTITY_CHECK', 'open']],
    ],
    [
      'the signature on the terms',
      { input: 'verified', fromStep: 'terms', fromOutput: 'signed', constant: null },
      [['MISSING_IDENTITY_CHECK', 'open']],
    ],
  ])('an account opened on %s', (_name, verified, expected) => {
    expect(codes(opening(verified))).toEqual(expected);
  });

  it('asks nothing about a flow that shows no page', () => {
    const pageExists = jest.fn(() => false);
    expect(validateFlow(clone(buyWealth), { ...FACTS, pageExists })).toEqual([]);
    expect(pageExists).not.toHaveBeenCalled();
  });

  const claiming = (benefitId: InputMapping): FlowGraph => {
    const graph = clone(welcome);
    stepOf(graph, 'claim').inputs = [benefitId];
    return graph;
  };
  it.each<[string, InputMapping, [FlowProblemCode, string][]]>([
    [
      'a claimable benefit',
      { input: 'benefitId', fromStep: null, fromOutput: null, constant: 'B-WELCOME-50' },
      [],
    ],
    [
      'a benefit that is not claimable',
      { input: 'benefitId', fromStep: null, fromOutput: null, constant: 'B-NOPE' },
      [['UNKNOWN_BENEFIT', 'claim']],
    ],
    [
      'a benefit mapped from a step (known at run time only)',
      { input: 'benefitId', fromStep: 'intro', fromOutput: 'shown', constant: null },
      [['UNKNOWN_FIELD', 'claim']],
    ],
  ])('a flow claiming %s', (_name, benefitId, expected) => {
    expect(codes(claiming(benefitId))).toEqual(expected);
  });

  it.each([
    ['P-FD-009', false, [['MISSING_RISK_ASSESSMENT', 'confirm']]],
    ['P-FD-009', true, []],
    ['P-WM-004', false, []],
    ['P-DP-001', false, []],
    // Sold on APP only: no mini-program session could ever buy it.
    ['P-WM-003', false, [['UNSELLABLE_PURCHASE', 'confirm']]],
    [
      'P-XX-999',
      false,
      [
        ['UNSELLABLE_PURCHASE', 'confirm'],
        ['MISSING_RISK_ASSESSMENT', 'confirm'],
      ],
    ],
  ])('a purchase of %s with assessment %s reports %j', (productId, assessed, expected) => {
    expect(codes(purchaseOf(productId, assessed))).toEqual(expected);
  });

  // P-DP-001: minimum 0; P-WM-004: minimum 1,000.
  it.each<[string, string, unknown, [FlowProblemCode, string][]]>([
    ['nothing', 'P-DP-001', 0, [['UNSELLABLE_PURCHASE', 'confirm']]],
    ['a fraction of a cent', 'P-DP-001', 0.001, [['UNSELLABLE_PURCHASE', 'confirm']]],
    ['less than the minimum', 'P-WM-004', 999.99, [['UNSELLABLE_PURCHASE', 'confirm']]],
    ['more than the maximum', 'P-WM-004', 1e300, [['UNSELLABLE_PURCHASE', 'confirm']]],
    ['the minimum', 'P-WM-004', 1000, []],
  ])('a purchase of %s as a constant (%s) reports %j', (_what, productId, amount, expected) => {
    expect(codes(purchaseOf(productId, false, amount))).toEqual(expected);
  });
});

describe('the product type a selection sells', () => {
  const selling = (productType: unknown, maxRiskLevel?: InputMapping): FlowGraph => {
    const graph = clone(buyWealth);
    const select = stepOf(graph, 'select');
    select.inputs[0] = { input: 'productType', fromStep: null, fromOutput: null, constant: productType };
    if (maxRiskLevel) select.inputs[1] = maxRiskLevel;
    return graph;
  };
  const fixedRisk = (constant: unknown): InputMapping => ({
    input: 'maxRiskLevel',
    fromStep: null,
    fromOutput: null,
    constant,
  });

  it.each<[string, unknown, [FlowProblemCode, string][]]>([
    ['a type sold on the mini-program', 'FUND', []],
    ['a misspelt type', 'FUNDS', [['UNSELLABLE_PRODUCT_TYPE', 'select']]],
    ['a type in lower case', 'wealth', [['UNSELLABLE_PRODUCT_TYPE', 'select']]],
  ])('a selection of %s (%j) reports %j', (_what, productType, expected) => {
    expect(codes(selling(productType))).toEqual(expected);
  });

  it('reports a type the mini-program sells no product of now', () => {
    const noLoans = {
      ...FACTS,
      lowestRiskOnSale: (type: string) => (type === 'LOAN' ? null : lowestRiskOnSale(type)),
    };
    const problems = validateFlow(selling('LOAN'), noLoans);
    expect(problems).toEqual([
      { code: 'UNSELLABLE_PRODUCT_TYPE', stepId: 'select', message: expect.stringContaining('MINI_PROGRAM') },
    ]);
  });

  // The mini-program's funds are R2 at the lowest.
  it.each<[string, unknown, [FlowProblemCode, string][]]>([
    ['below every fund on sale', 'R1', [['UNSELLABLE_PRODUCT_TYPE', 'select']]],
    ['the lowest fund on sale', 'R2', []],
    ['above it', 'R5', []],
    ['no risk level', 'R0', [['TYPE_MISMATCH', 'select']]],
  ])('a selection of funds bounded by a fixed risk level %s (%j) reports %j', (_what, risk, expected) => {
    expect(codes(selling('FUND', fixedRisk(risk)))).toEqual(expected);
  });

  it('names the risk level that rules out every product of the type', () => {
    expect(validateFlow(selling('FUND', fixedRisk('R1')), FACTS)).toEqual([
      {
        code: 'UNSELLABLE_PRODUCT_TYPE',
        stepId: 'select',
        message: expect.stringMatching(/R1.*MINI_PROGRAM.*R2/),
      },
    ]);
  });
});

describe('a step marked terminal that keeps edges', () => {
  const graph = (beyond: FlowStep): FlowGraph => {
    const ended = clone(buyWealth);
    // A builder marks select terminal, keeping its edges: a session ends there, whatever they say.
    stepOf(ended, 'select').terminal = true;
    ended.steps.push(beyond);
    stepOf(ended, 'select').next.push({ to: beyond.id, when: null });
    return ended;
  };

  it('leaves what lies only beyond it unreachable, as a session never gets there', () => {
    const after = { ...stepOf(buyWealth, 'disclose'), id: 'after', next: [], terminal: true };
    expect(codes(graph(after))).toEqual([
      ['UNREACHABLE_STEP', 'disclose'],
      ['UNREACHABLE_STEP', 'confirm'],
      ['UNREACHABLE_STEP', 'after'],
    ]);
  });
});

describe('fitsType', () => {
  it.each<[ServiceValueType, unknown, boolean]>([
    ['DATE_TIME', '2026-11-25T08:00:00Z', true],
    ['DATE_TIME', '2026-11-25T16:00:00+08:00', true],
    ['DATE_TIME', '2026-11-25T08:00:00', false],
    ['DATE_TIME', '1', false],
    ['DATE_TIME', 1_796_083_200_000, false],
    ['RISK_LEVEL', 'R3', true],
    ['RISK_LEVEL', 'R6', false],
    ['NUMBER', Number.NaN, false],
    ['STRING', '', false],
  ])('%s: %j fits is %s', (type, value, fits) => {
    expect(fitsType(value, type)).toBe(fits);
  });
});

describe('cycles', () => {
  const step = (id: string, ...to: string[]): FlowStep => ({
    id,
    service: 'SIGN_AGREEMENT',
    title: id,
    inputs: [{ input: 'agreementCode', fromStep: null, fromOutput: null, constant: 'X' }],
    next: to.map((target, i) => ({
      to: target,
      when: i === to.length - 1 ? null : { step: id, output: 'signed', op: 'eq', value: i % 2 === 0 },
    })),
    terminal: to.length === 0,
  });
  const cycles = (steps: FlowStep[]) =>
    validateFlow({ startStepId: 'a', steps }, FACTS)
      .filter((problem) => problem.code === 'CYCLE')
      .map((problem) => problem.stepId);

  it('marks a step with an edge to itself, and not the step before it', () => {
    expect(cycles([step('a', 'b'), step('b', 'b', 'c'), step('c')])).toEqual(['b']);
  });

  it('marks every step of a cycle, also one whose cycle the search enters by a cross edge', () => {
    // a→b→c→a, and a→d→c: d is on the cycle a→d→c→a, though the search reaches c through b first.
    expect(cycles([step('a', 'd', 'b'), step('b', 'c'), step('c', 'a'), step('d', 'c')])).toEqual([
      'a',
      'b',
      'c',
      'd',
    ]);
  });

  it('marks none of the steps of an acyclic flow that joins branches', () => {
    expect(cycles([step('a', 'b', 'c'), step('b', 'd'), step('c', 'd'), step('d')])).toEqual([]);
  });

  it('finds a cycle through 20 000 steps without running out of stack', () => {
    const ring = Array.from({ length: 20_000 }, (_, i) => step(`s${i}`, `s${(i + 1) % 20_000}`));
    const found = stepsOnCycles(new Map(ring.map((s) => [s.id, s])));
    expect(found.size).toBe(20_000);
  });
});

describe('running a flow', () => {
  /** What a branch knows, with every amount in CNY. */
  const factsOf = (steps: FlowStep[], currency: string | null = 'CNY'): BranchFacts => ({
    typeOf: outputTypesOf(steps),
    currencyOf: (stepId, output) => (stepId === 'select' && output === 'amount' ? currency : null),
  });
  const typesOf = factsOf(buyWealth.steps);

  it('takes the branch whose condition holds, else the default', () => {
    const select = stepOf(buyWealth, 'select');
    expect(nextStepId(select, { select: { productId: 'P-WM-001', amount: 600_000 } }, typesOf)).toBe(
      'disclose',
    );
    expect(nextStepId(select, { select: { productId: 'P-WM-001', amount: 1_000 } }, typesOf)).toBe('confirm');
  });

  const onAmount = (op: ConditionOp, value: unknown, currency?: string): FlowStep => ({
    ...stepOf(buyWealth, 'select'),
    next: [
      {
        to: 'disclose',
        when: { step: 'select', output: 'amount', op, value, ...(currency ? { currency } : {}) },
      },
      { to: 'confirm', when: null },
    ],
  });
  it.each<[ConditionOp, unknown, string | null, string]>([
    ['gte', 500_000, 'CNY', 'disclose'],
    ['gte', 500_000, 'USD', 'confirm'],
    ['neq', 1, 'USD', 'confirm'],
    ['in', [600_000], 'USD', 'confirm'],
    ['eq', 600_000, null, 'confirm'],
  ])('a branch on %s %j in CNY, for 600,000 in %s, leads to %s', (op, value, currency, expected) => {
    const step = onAmount(op, value, 'CNY');
    expect(
      nextStepId(step, { select: { productId: 'P', amount: 600_000 } }, factsOf(buyWealth.steps, currency)),
    ).toBe(expected);
  });

  it('reads a branch on an amount stored with no currency in the bank’s, and leaves other branches be', () => {
    const steps = [onAmount('gte', 500_000), stepOf(buyWealth, 'assess')];
    steps[1] = {
      ...steps[1]!,
      next: [{ to: 'select', when: { step: 'assess', output: 'score', op: 'gte', value: 1 } }],
    };
    const named = withAmountCurrencies(steps, 'USD');
    expect(named.map((step) => step.next[0]!.when?.currency)).toEqual(['USD', undefined]);
    expect(named[0]!.next[0]!.when).toEqual({ ...steps[0]!.next[0]!.when, currency: 'USD' });
    const outputs = { select: { productId: 'P', amount: 600_000 } };
    expect(nextStepId(named[0]!, outputs, factsOf(steps, 'CNY'))).toBe('confirm');
    expect(nextStepId(named[0]!, outputs, factsOf(steps, 'USD'))).toBe('disclose');
  });

  // 2025-12-31T17:00:00Z is 2026-01-01T01:00:00+08:00: after the threshold, though it sorts before it as text.
  const signed: FlowStep = {
    id: 'sign',
    service: 'SIGN_AGREEMENT',
    title: 'Sign',
    inputs: [{ input: 'agreementCode', fromStep: null, fromOutput: null, constant: 'X' }],
    next: [],
    terminal: false,
  };
  const branchOn = (op: ConditionOp, value: unknown, signedAt: string) =>
    nextStepId(
      {
        ...signed,
        next: [
          { to: 'holds', when: { step: 'sign', output: 'signedAt', op, value } },
          { to: 'otherwise', when: null },
        ],
      },
      { sign: { signed: true, signedAt } },
      factsOf([signed]),
    );
  it.each<[ConditionOp, unknown, string, string]>([
    ['gte', '2026-01-01T00:00:00+08:00', '2025-12-31T17:00:00Z', 'holds'],
    ['gt', '2026-01-01T00:00:00+08:00', '2025-12-31T17:00:00Z', 'holds'],
    ['lt', '2026-01-01T00:00:00+08:00', '2025-12-31T17:00:00Z', 'otherwise'],
    ['lte', '2026-01-01T00:00:00+08:00', '2025-12-31T16:00:00Z', 'holds'],
    ['eq', '2026-01-01T00:00:00+08:00', '2025-12-31T16:00:00.000Z', 'holds'],
    ['neq', '2026-01-01T00:00:00+08:00', '2025-12-31T16:00:00Z', 'otherwise'],
    ['in', ['2026-01-01T00:00:00+08:00'], '2025-12-31T16:00:00Z', 'holds'],
  ])('compares a DATE_TIME output %s %j as instants (signedAt %s): %s', (op, value, signedAt, expected) => {
    expect(branchOn(op, value, signedAt)).toBe(expected);
  });

  it('never takes an `in` branch on a value that is not a list', () => {
    const assess = { ...stepOf(buyWealth, 'assess') };
    assess.next = [
      { to: 'select', when: { step: 'assess', output: 'riskLevel', op: 'in', value: 'R4' } },
      { to: 'confirm', when: null },
    ];
    expect(nextStepId(assess, { assess: { riskLevel: 'R4', score: 1 } }, typesOf)).toBe('confirm');
  });
});

describe('sessionStatus', () => {
  const now = new Date('2026-11-25T08:00:00Z');
  it.each<['ACTIVE' | 'COMPLETED' | 'EXPIRED' | 'WITHDRAWN', string, string]>([
    ['ACTIVE', '2026-11-25T08:00:01Z', 'ACTIVE'],
    ['ACTIVE', '2026-11-25T08:00:00Z', 'EXPIRED'],
    ['ACTIVE', '2026-11-25T07:00:00Z', 'EXPIRED'],
    ['COMPLETED', '2026-11-25T07:00:00Z', 'COMPLETED'],
    ['EXPIRED', '2026-11-25T09:00:00Z', 'EXPIRED'],
    ['WITHDRAWN', '2026-11-25T07:00:00Z', 'WITHDRAWN'],
    ['WITHDRAWN', '2026-11-25T09:00:00Z', 'WITHDRAWN'],
  ])('a stored %s session expiring at %s is %s', (status, expiresAt, expected) => {
    expect(sessionStatus({ status, expiresAt: new Date(expiresAt) }, now)).toBe(expected);
  });
});

describe('withdrawing a flow version', () => {
  it('tells the member which service the bank withdrew', () => {
    expect(withdrawalReason({ name: 'Buy wealth' })).toContain('“Buy wealth”');
  });

  it('refuses an advance with FLOW_WITHDRAWN and the reason the session was given, else the flow’s', () => {
    const flow = { name: 'Buy wealth' };
    expect(flowWithdrawn({ endReason: 'Stopped: wrong rate' }, flow)).toMatchObject({
      message: 'Stopped: wrong rate',
      extensions: { code: 'FAILED_PRECONDITION', reason: 'FLOW_WITHDRAWN' },
    });
    expect(flowWithdrawn({}, flow).message).toBe(withdrawalReason(flow));
  });
});

describe('saleRefusal', () => {
  const product = (id: string) => PRODUCTS.find((candidate) => candidate._id === id);
  const reason = (id: string, limits = {}) => saleRefusal(id, product(id), limits)?.reason ?? null;

  it.each<[string, string, Record<string, unknown>, string | null]>([
    [
      'a WEALTH R3 product sold on the mini-program',
      'P-WM-008',
      { productType: 'WEALTH', maxRiskLevel: 'R3' },
      null,
    ],
    ['an unknown product', 'P-NOPE', {}, 'NOT_ON_SALE'],
    ['a suspended product', 'P-WM-013', {}, 'NOT_ON_SALE'],
    ['a product sold on APP and WEB only', 'P-WM-009', {}, 'NOT_ON_CHANNEL'],
    ['a loan where WEALTH is sold', 'P-LN-001', { productType: 'WEALTH' }, 'WRONG_PRODUCT_TYPE'],
    ['an R5 fund above the R1 just assessed', 'P-FD-010', { maxRiskLevel: 'R1' }, 'ABOVE_MAX_RISK'],
    [
      'a product when the mapped risk level is missing',
      'P-WM-002',
      { maxRiskLevel: undefined },
      'ABOVE_MAX_RISK',
    ],
    ['an R5 fund when no limits are mapped', 'P-FD-010', {}, null],
  ])('%s: %s %j → %s', (_name, id, limits, expected) => {
    expect(reason(id, limits)).toBe(expected);
  });
});

describe('amountRefusal', () => {
  const product = (id: string) => PRODUCTS.find((candidate) => candidate._id === id)!;
  // P-WM-004: minimum 1,000 CNY; P-DP-001: a current deposit, minimum 0.
  it.each<[string, unknown, string | null]>([
    ['P-WM-004', 1_000, null],
    ['P-WM-004', 1_000.07, null],
    ['P-WM-004', 999.99, 'BELOW_MINIMUM'],
    ['P-WM-004', 1_000.001, 'INVALID_AMOUNT'],
    ['P-WM-004', -1_000, 'INVALID_AMOUNT'],
    ['P-WM-004', 1e308, 'ABOVE_MAXIMUM'],
    ['P-WM-004', (2 ** 53 + 1) / 100, 'ABOVE_MAXIMUM'],
    ['P-WM-004', 1_000_000_000_000, null],
    ['P-WM-004', 999_999_999_999.99, null],
    ['P-WM-004', 1_000_000_000_000.01, 'ABOVE_MAXIMUM'],
    ['P-WM-004', Number.NaN, 'INVALID_AMOUNT'],
    ['P-WM-004', '5000', 'INVALID_AMOUNT'],
    ['P-WM-004', undefined, 'INVALID_AMOUNT'],
    ['P-DP-001', 0.01, null],
    ['P-DP-001', 0, 'INVALID_AMOUNT'],
    ['P-DP-001', -0.01, 'INVALID_AMOUNT'],
    ['P-DP-001', 0.001, 'INVALID_AMOUNT'],
  ])('%s for %j → %s', (id, amount, expected) => {
    expect(amountRefusal(amount, product(id))?.reason ?? null).toBe(expected);
  });

  it.each<[number | null | undefined, unknown, string | null]>([
    [5_000, 5_000, null],
    [5_000, 5_000.01, 'ABOVE_MAXIMUM'],
    // Set above the hub-wide ceiling, a maximum is the ceiling.
    [1e15, 1_000_000_000_000.01, 'ABOVE_MAXIMUM'],
    [null, 1_000_000_000_000, null],
    [undefined, 1_000_000_000_000.01, 'ABOVE_MAXIMUM'],
    // Stored as no number at all: nothing is let through.
    [Number.NaN, 1_000, 'ABOVE_MAXIMUM'],
  ])('a maximum of %j per purchase for %j → %s', (maxAmount, amount, expected) => {
    expect(amountRefusal(amount, { ...product('P-WM-004'), maxAmount })?.reason ?? null).toBe(expected);
  });

  it('bounds every product at the hub-wide ceiling, or lower as operators set it', () => {
    expect(maxPurchaseOf({ maxAmount: null })).toBe(PURCHASE_AMOUNT_CEILING);
    expect(maxPurchaseOf({ maxAmount: 50_000 })).toBe(50_000);
    expect(maxPurchaseOf({ maxAmount: 1e300 })).toBe(PURCHASE_AMOUNT_CEILING);
    // Every amount up to it in whole cents is still exact in cents.
    expect(Number.isSafeInteger(PURCHASE_AMOUNT_CEILING * 100)).toBe(true);
  });
});

describe('consentRefusal', () => {
  const steps = [
    { id: 'identity', service: 'IDENTITY_CHECK' },
    { id: 'terms', service: 'SIGN_AGREEMENT' },
  ];
  const reason = (service: string, inputs: Record<string, unknown>, outputs: FlowOutputs) =>
    consentRefusal({ service }, inputs, steps, outputs)?.reason ?? null;
  const verified = { identity: { verified: true } };
  const signed = { terms: { signed: true, signedAt: '2026-11-25T08:00:00Z' } };

  it.each<[string, string, Record<string, unknown>, FlowOutputs, string | null]>([
    [
      'an account for a verified member who signed',
      'OPEN_ACCOUNT',
      { verified: true },
      { ...verified, ...signed },
      null,
    ],
    [
      'an account for an unverified member',
      'OPEN_ACCOUNT',
      { verified: false },
      { identity: { verified: false } },
      'UNVERIFIED',
    ],
    ['an account when verified is not mapped', 'OPEN_ACCOUNT', {}, {}, 'UNVERIFIED'],
    [
      'an account whose verified is true though no identity check passed',
      'OPEN_ACCOUNT',
      { verified: true },
      signed,
      'UNVERIFIED',
    ],
    [
      'an account after declined terms',
      'OPEN_ACCOUNT',
      { verified: true },
      { ...verified, terms: { signed: false } },
      'AGREEMENT_NOT_SIGNED',
    ],
    ['a purchase with no identity check or agreement on the way', 'CONFIRM_PURCHASE', {}, {}, null],
    [
      'a purchase after a failed identity check',
      'CONFIRM_PURCHASE',
      {},
      { identity: { verified: false } },
      'UNVERIFIED',
    ],
    [
      'a purchase after a declined disclosure',
      'CONFIRM_PURCHASE',
      {},
      { terms: { signed: false } },
      'AGREEMENT_NOT_SIGNED',
    ],
    ['a page after a declined agreement', 'SHOW_PAGE', {}, { terms: { signed: false } }, null],
  ])('%s (%s)', (_name, service, inputs, outputs, expected) => {
    expect(reason(service, inputs, outputs)).toBe(expected);
  });
});

describe('outputHash', () => {
  it('is the same for the same output whatever the order of its keys, and differs for another', () => {
    expect(outputHash({ signed: true, signedAt: '2026-11-25T08:00:00Z' })).toBe(
      outputHash({ signedAt: '2026-11-25T08:00:00Z', signed: true }),
    );
    expect(outputHash({ verified: true })).not.toBe(outputHash({ verified: false }));
    expect(outputHash({ amount: 1 })).not.toBe(outputHash({ amount: '1' }));
  });
});

describe('diffFlows', () => {
  it('lists added, removed and changed steps', () => {
    const newer = clone(buyWealth);
    newer.steps = newer.steps.filter((s) => s.id !== 'disclose');
    stepOf(newer, 'select').next = [{ to: 'confirm', when: null }];
    newer.steps.push({
      id: 'thanks',
      service: 'SHOW_PAGE',
      title: 't',
      inputs: [],
      next: [],
      terminal: true,
    });
    expect(diffFlows(buyWealth, newer)).toEqual({
      addedSteps: ['thanks'],
      removedSteps: ['disclose'],
      changedSteps: ['select'],
      startChanged: false,
    });
  });
});

describe('reviewStep', () => {
  const NOW = new Date('2026-03-01T00:00:00Z');
  const draft: ServiceFlowDoc = {
    ...buyWealth,
    status: 'DRAFT',
    lastEditedBy: 'builder.bea',
    updatedBy: 'builder.bea',
  };
  const submitted: ServiceFlowDoc = { ...draft, status: 'IN_REVIEW', submittedBy: 'ops.sam' };

  it('submits a draft, recording its submitter and last editor and clearing a past rejection', () => {
    const rejected = { ...draft, rejection: { reason: 'no', rejectedBy: 'ops.bob', rejectedAt: NOW } };
    expect(reviewStep(rejected, 'submit', 'ops.sam', NOW, null)).toEqual({
      ok: true,
      set: {
        status: 'IN_REVIEW',
        submittedBy: 'ops.sam',
        lastEditedBy: 'builder.bea',
        editors: ['builder.bea'],
        rejection: null,
        updatedBy: 'ops.sam',
        updatedAt: NOW,
      },
    });
  });

  it('takes the last editor of a version stored before it recorded one from whoever changed it last', () => {
    const { lastEditedBy: _dropped, ...stored } = draft;
    const step = reviewStep({ ...stored, updatedBy: 'builder.old' }, 'submit', 'ops.sam', NOW, null);
    expect(step).toMatchObject({ ok: true, set: { lastEditedBy: 'builder.old', editors: ['builder.old'] } });
  });

  it('never lets anyone who edited the version approve it, not only its last editor; a rejection keeps them', () => {
    const edited: ServiceFlowDoc = {
      ...submitted,
      lastEditedBy: 'ops.bea',
      editors: ['ops.ann', 'ops.bea'],
    };
    for (const own of ['ops.ann', 'ops.bea', 'ops.sam'])
      expect(reviewStep(edited, 'approve', own, NOW, null)).toMatchObject({ ok: false, code: 'FORBIDDEN' });
    expect(reviewStep(edited, 'approve', 'ops.ann', NOW, null)).toMatchObject({
      message: 'four eyes: you edited this change; another operator must approve it',
    });
    expect(reviewStep(edited, 'approve', 'ops.cy', NOW, null)).toMatchObject({ ok: true });
    for (const step of ['reject', 'withdraw'] as const) {
      const back = reviewStep(edited, step, 'ops.cy', NOW, 'no');
      if (!back.ok) throw new Error(`${step} refused`);
      expect(back.set).not.toHaveProperty('editors');
    }
  });

  it('lets only a third person approve: never the submitter, never the last editor', () => {
    for (const own of ['ops.sam', 'builder.bea'])
      expect(reviewStep(submitted, 'approve', own, NOW, null)).toMatchObject({
        ok: false,
        code: 'FORBIDDEN',
      });
    expect(reviewStep(submitted, 'approve', 'ops.bob', NOW, null)).toEqual({
      ok: true,
      set: {
        status: 'PUBLISHED',
        approvedBy: 'ops.bob',
        publishedAt: NOW,
        updatedBy: 'ops.bob',
        updatedAt: NOW,
      },
    });
  });

  it('rejects with the reason, trimmed, back to draft; without one BAD_USER_INPUT', () => {
    expect(reviewStep(submitted, 'reject', 'ops.bob', NOW, '  the amount branch is wrong ')).toEqual({
      ok: true,
      set: {
        status: 'DRAFT',
        submittedBy: null,
        rejection: { reason: 'the amount branch is wrong', rejectedBy: 'ops.bob', rejectedAt: NOW },
        updatedBy: 'ops.bob',
        updatedAt: NOW,
      },
    });
    for (const reason of [null, '  ', 'x'.repeat(501)])
      expect(() => reviewStep(submitted, 'reject', 'ops.bob', NOW, reason)).toThrow(
        expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
      );
  });

  it('withdraws a version in review back to draft', () => {
    expect(reviewStep(submitted, 'withdraw', 'builder.bea', NOW, null)).toMatchObject({
      ok: true,
      set: { status: 'DRAFT', submittedBy: null },
    });
  });

  it.each<[FlowReviewAction, string]>([
    ['submit', 'IN_REVIEW'],
    ['submit', 'PUBLISHED'],
    ['approve', 'DRAFT'],
    ['approve', 'PUBLISHED'],
    ['approve', 'RETIRED'],
    ['reject', 'DRAFT'],
    ['withdraw', 'PUBLISHED'],
  ])('refuses to %s a version that is %s', (action, status) => {
    const flow = { ...submitted, status: status as FlowStatus };
    expect(reviewStep(flow, action, 'ops.carol', NOW, 'why')).toMatchObject({
      ok: false,
      code: 'FAILED_PRECONDITION',
      message: expect.stringContaining(status),
    });
  });
});

describe('the seeded bundles', () => {
  const minimumOf = (id: string) => PRODUCTS.find((product) => product._id === id)!.minAmount;

  it.each(BUNDLES.map((bundle) => [bundle._id, bundle] as const))(
    '%s asks at least what buying each of its products at its minimum costs',
    (_id, bundle) => {
      const sum = bundle.productIds.reduce((total, id) => total + minimumOf(id), 0);
      expect(bundle.minTotalAmount).toBeGreaterThanOrEqual(sum);
    },
  );

  it.each(BUNDLES.map((bundle) => [bundle._id, bundle] as const))(
    '%s asks no more than its products may be bought for together',
    (_id, bundle) => {
      const most = bundle.productIds.reduce(
        (total, id) => total + maxPurchaseOf(PRODUCTS.find((product) => product._id === id)!),
        0,
      );
      expect(bundle.minTotalAmount).toBeLessThanOrEqual(most);
    },
  );

  it.each(BUNDLES.map((bundle) => [bundle._id, bundle] as const))(
    '%s can be bought on some channel',
    (_id, bundle) => {
      const products = new Map(PRODUCTS.map((product) => [product._id, product]));
      expect(bundleChannels(bundle, products).length).toBeGreaterThan(0);
    },
  );
});

describe('eligibleBundles', () => {
  const products = new Map(PRODUCTS.map((product) => [product._id, product]));
  const now = new Date('2026-11-25T00:00:00Z');
  const member = (overrides: Partial<BundleMember>): BundleMember => ({
    riskLevel: 'R1',
    affinityKeys: [],
    segmentCodes: [],
    level: { code: 'STANDARD', rank: 1 },
    lifecycleStage: 'RETENTION',
    ...overrides,
  });
  const ids = (m: BundleMember) => eligibleBundles(BUNDLES, products, m, now).map((bundle) => bundle._id);

  it('offers a new young R1 member the starter set only (the steady mix has R2 products)', () => {
    expect(ids(member({ lifecycleStage: 'ACQUISITION', segmentCodes: ['NEW_YOUNG'] }))).toEqual([
      'BD-STARTER',
    ]);
  });

  it('withholds a whole bundle when any product is above the member risk, even if the rule matches', () => {
    expect(ids(member({ riskLevel: 'R3', segmentCodes: ['WEALTH_CLIENTS'] }))).toEqual(['BD-STEADY']);
    expect(ids(member({ riskLevel: 'R4', segmentCodes: ['WEALTH_CLIENTS'] }))).toEqual([
      'BD-STEADY',
      'BD-GROWTH',
    ]);
  });

  it('offers a bundle on a channel only when that channel sells every product of it', () => {
    const newcomer = member({ lifecycleStage: 'ACQUISITION', segmentCodes: ['NEW_YOUNG'] });
    const on = (channel: Channel | null) =>
      eligibleBundles(BUNDLES, products, newcomer, now, channel).map((bundle) => bundle._id);
    // The starter set's wealth product is sold in the mini-program only.
    expect(on('MINI_PROGRAM')).toEqual(['BD-STARTER']);
    expect(on('APP')).toEqual([]);
    expect(on(null)).toEqual(['BD-STARTER']);
  });

  it('never offers a bundle that no one channel sells whole', () => {
    const split = new Map(products);
    split.set('P-DP-007', { ...products.get('P-DP-007')!, channels: ['APP'] });
    const newcomer = member({ lifecycleStage: 'ACQUISITION', segmentCodes: ['NEW_YOUNG'] });
    expect(eligibleBundles(BUNDLES, split, newcomer, now)).toEqual([]);
    expect(bundleChannels({ productIds: ['P-WM-002', 'P-DP-007'] }, split)).toEqual([]);
    expect(bundleChannels({ productIds: ['P-WM-002', 'P-DP-007'] }, products)).toEqual(['MINI_PROGRAM']);
    expect(bundleChannels({ productIds: ['P-WM-002', 'P-NO-000'] }, products)).toEqual([]);
    expect(bundleChannels({ productIds: [] }, products)).toEqual([]);
  });

  it('never offers a bundle whose minimum total is more than its products may be bought for together', () => {
    const newcomer = member({ lifecycleStage: 'ACQUISITION', segmentCodes: ['NEW_YOUNG'] });
    const starter = BUNDLES.find((bundle) => bundle._id === 'BD-STARTER')!;
    const asking = (minTotalAmount: number) =>
      eligibleBundles([{ ...starter, minTotalAmount }], products, newcomer, now).map((bundle) => bundle._id);
    expect(asking(2 * PURCHASE_AMOUNT_CEILING)).toEqual(['BD-STARTER']);
    expect(asking(2 * PURCHASE_AMOUNT_CEILING + 0.01)).toEqual([]);
    expect(asking(1e300)).toEqual([]);
    expect(asking(Number.NaN)).toEqual([]);
    const capped = new Map(products);
    for (const id of starter.productIds) capped.set(id, { ...products.get(id)!, maxAmount: 1_000 });
    expect(eligibleBundles([{ ...starter, minTotalAmount: 2_000 }], capped, newcomer, now)).toHaveLength(1);
    expect(eligibleBundles([{ ...starter, minTotalAmount: 2_000.01 }], capped, newcomer, now)).toEqual([]);
  });

  it('never offers an ended bundle or anything to a member of unknown risk', () => {
    expect(ids(member({ riskLevel: 'R5' }))).not.toContain('BD-NATIONAL-DAY');
    expect(ids(member({ riskLevel: null, lifecycleStage: 'ACQUISITION' }))).toEqual([]);
  });
});

describe('flowCompletedEvent', () => {
  const at = new Date('2026-11-26T08:00:00.000Z');
  const flow = (key: string) => FLOWS.find((candidate) => candidate.key === key)!;
  const currencyOf = (id: string) => PRODUCTS.find((product) => product._id === id)?.currency ?? null;

  it('is the session’s flow_completed under the session’s id, with the product and amount its purchase placed', () => {
    const session = {
      _id: 'FS-1',
      memberId: 'M0001',
      outputs: {
        assess: { riskLevel: 'R3' },
        select: { productId: 'P-WM-001', amount: 20_000 },
        confirm: { orderId: 'O-1', confirmed: true },
      },
    };
    expect(flowCompletedEvent(session, flow('buy-wealth'), at, currencyOf)).toEqual({
      _id: 'FS-1',
      name: 'flow_completed',
      memberId: 'M0001',
      occurredAt: at,
      properties: { flowKey: 'buy-wealth', productId: 'P-WM-001', amount: 20_000, currency: 'CNY' },
    });
  });

  it('carries the amount in the bought product’s currency, and no amount whose currency is not known', () => {
    const session = {
      _id: 'FS-4',
      memberId: 'M0002',
      outputs: {
        assess: { riskLevel: 'R3' },
        select: { productId: 'P-WM-009', amount: 2_000 },
        confirm: { orderId: 'O-4', confirmed: true },
      },
    };
    expect(flowCompletedEvent(session, flow('buy-wealth'), at, currencyOf).properties).toEqual({
      flowKey: 'buy-wealth',
      productId: 'P-WM-009',
      amount: 2_000,
      currency: 'USD',
    });
    expect(flowCompletedEvent(session, flow('buy-wealth'), at, () => null).properties).toEqual({
      flowKey: 'buy-wealth',
      productId: 'P-WM-009',
    });
  });

  it('carries no product nor amount for a purchase that was not confirmed', () => {
    const session = {
      _id: 'FS-3',
      memberId: 'M0001',
      outputs: {
        assess: { riskLevel: 'R3' },
        select: { productId: 'P-WM-001', amount: 20_000 },
        confirm: { orderId: 'O-3', confirmed: false },
      },
    };
    expect(flowCompletedEvent(session, flow('buy-wealth'), at, currencyOf).properties).toEqual({
      flowKey: 'buy-wealth',
    });
  });

  it('carries no amount for a flow that bought nothing', () => {
    const session = { _id: 'FS-2', memberId: 'M0001', outputs: { open: { accountId: 'AC-1' } } };
    expect(flowCompletedEvent(session, flow('open-account'), at, currencyOf).properties).toEqual({
      flowKey: 'open-account',
    });
  });
});
