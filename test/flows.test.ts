// Mini-program service flows through the gateway: a builder composes, validates and submits a flow by mutations, and
// a second person, an operator, approves it into publication; members walk sessions through it; suitability and
// idempotency hold; bundles are suitable only.
import type { RunningHub } from '../scripts/hub';
import { purgeAbandonedSessions } from '../subgraphs/products/src/flows/runner';
import { openRepositories as openProducts } from '../subgraphs/products/src/models';
import { BUNDLES as SEEDED_BUNDLES } from '../subgraphs/products/src/seed-bundles';
import type { ProductDoc } from '../subgraphs/products/src/models/product';
import type { ServiceFlowDoc } from '../subgraphs/products/src/models/service-flow';
import { PRODUCTS } from '../subgraphs/products/src/seed';
import { FLOWS } from '../subgraphs/products/src/seed-flows';
import {
  callerOf,
  changedBehindTheHubsBack,
  errorCodes,
  graphql,
  type GraphQLResponse,
  type Send,
} from './support/env';
import { advanceSteps, attestation, copyOfMember, memberApp, type MemberApp } from './support/flows';
import { startTestHub, stopTestHub } from './support/hub';
import { storedState } from './support/stored';

let hub: RunningHub;
let builder: Send;
/** The second person a flow version needs: an operator, who approves what builders submit. */
let reviewer: Send;
let young: Send;
let wealthy: Send;
/** M0001's mini-program, for walks that assess nobody (an assessment would change the member's risk tolerance). */
let youngApp: MemberApp;

beforeAll(async () => {
  hub = await startTestHub('flows');
  builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  reviewer = await callerOf(hub.gatewayUrl, 'ops.olga', 'operator');
  young = await callerOf(hub.gatewayUrl, 'M0001', 'member');
  wealthy = await callerOf(hub.gatewayUrl, 'M0002', 'member');
  youngApp = await memberApp(hub.gatewayUrl, 'M0001');
});

let copies = 0;
/** A copy of M0002 (R5) of the test's own: its attested risk assessments change no other test's member. */
const wealthyCopy = () => copyOfMember(hub.gatewayUrl, hub.connections.members, 'M0002', `M0002-${++copies}`);

afterAll(() => stopTestHub(hub));

const FLOW = 'id version status startStepId steps { id service next { to when { step output op value } } }';
// Each edit names the draft's revision the builder saw when the test gives one (expectedVersion), as the console does.
const ADD = `mutation ($flowId: ID!, $step: FlowStepInput!, $expectedVersion: Int) {
  addFlowStep(flowId: $flowId, step: $step, expectedVersion: $expectedVersion) { ${FLOW} }
}`;
const UPDATE = `mutation ($flowId: ID!, $step: FlowStepInput!, $expectedVersion: Int) {
  updateFlowStep(flowId: $flowId, step: $step, expectedVersion: $expectedVersion) { id }
}`;
const REMOVE = `mutation ($flowId: ID!, $stepId: String!, $expectedVersion: Int) {
  removeFlowStep(flowId: $flowId, stepId: $stepId, expectedVersion: $expectedVersion) { id }
}`;
const CONNECT = `mutation ($flowId: ID!, $from: String!, $to: String!, $when: FlowConditionInput, $expectedVersion: Int) {
  connectFlowSteps(flowId: $flowId, from: $from, to: $to, when: $when, expectedVersion: $expectedVersion) { id }
}`;
const DISCONNECT = `mutation ($flowId: ID!, $from: String!, $to: String!, $expectedVersion: Int) {
  disconnectFlowSteps(flowId: $flowId, from: $from, to: $to, expectedVersion: $expectedVersion) { id }
}`;
const SET_START = `mutation ($flowId: ID!, $stepId: String!, $expectedVersion: Int) {
  setFlowStart(flowId: $flowId, stepId: $stepId, expectedVersion: $expectedVersion) { id }
}`;
const VALIDATE = `query ($flowId: ID!) { validateFlow(flowId: $flowId) { valid problems { code stepId message } } }`;
const SUBMIT = `mutation ($flowId: ID!, $expectedVersion: Int) {
  productsWorkflow(type: FLOW, id: $flowId, step: SUBMIT, expectedVersion: $expectedVersion) { type id status live version }
}`;
const APPROVE = `mutation ($flowId: ID!, $expectedVersion: Int) {
  productsWorkflow(type: FLOW, id: $flowId, step: APPROVE, expectedVersion: $expectedVersion) { type id status live version }
}`;
const REJECT = `mutation ($flowId: ID!, $reason: String, $expectedVersion: Int) {
  productsWorkflow(type: FLOW, id: $flowId, step: REJECT, reason: $reason, expectedVersion: $expectedVersion) { status version }
}`;
const WITHDRAW = `mutation ($flowId: ID!) { withdrawFlow(flowId: $flowId) { status revision } }`;
const START = `mutation ($key: String!) { startFlowSession(flowKey: $key) { id status currentStep { id service } } }`;
const ADVANCE = `mutation ($session: ID!, $step: String!, $output: JSON!, $key: String!, $attestation: String) {
  advanceFlow(sessionId: $session, stepId: $step, output: $output, idempotencyKey: $key, attestation: $attestation) {
    completed nextStep { id } session { status currentStep { id } outputs }
  }
}`;

const mapped = (input: string, fromStep: string, fromOutput: string) => ({ input, fromStep, fromOutput });
const constant = (input: string, value: unknown) => ({ input, constant: value });

async function ok(response: Promise<GraphQLResponse>) {
  const result = await response;
  expect(result.errors).toBeUndefined();
  return result.data!;
}

async function problems(flowId: string) {
  const data = await ok(builder(VALIDATE, { flowId }));
  return (data.validateFlow.problems as { code: string; stepId: string }[]).map(
    (p) => `${p.code}@${p.stepId}`,
  );
}

/**
 * Starts a session and completes the given steps in order, those the bank performs with its attestation; returns the
 * last answer, or the first refusal.
 */
async function walk(member: MemberApp, key: string, steps: [string, unknown][]): Promise<GraphQLResponse> {
  return (await walkSession(member, key, steps)).last;
}

/** As walk, with the session's id, to read what was stored. */
async function walkSession(
  member: MemberApp,
  key: string,
  steps: [string, unknown][],
): Promise<{ session: string; last: GraphQLResponse }> {
  const session = (await ok(member.send(START, { key }))).startFlowSession.id;
  const answers = await advanceSteps(member, session, steps, ADVANCE);
  return { session, last: answers.at(-1) ?? { status: 200 } };
}

interface StoredSession {
  _id: string;
  status: string;
  currentStepId: string | null;
  outputs: Record<string, Record<string, unknown>>;
  history: { idempotencyKey: string; stepId: string; outputHash?: string }[];
  revision: number;
}
const storedSession = async (id: string) =>
  (await hub.connections.products.collection<StoredSession>('flow_sessions').findOne({ _id: id }))!;

/** Submits a draft as the builder, and has the reviewer approve it at the revision submitted: what publishing takes. */
async function publish(flowId: string) {
  const submitted = (await ok(builder(SUBMIT, { flowId }))).productsWorkflow;
  expect(submitted).toMatchObject({ type: 'FLOW', id: flowId, status: 'IN_REVIEW' });
  return (await ok(reviewer(APPROVE, { flowId, expectedVersion: submitted.version }))).productsWorkflow;
}

/** Creates and publishes a flow of `steps`, connected by `edges` (the first step is the start). */
async function publishedFlow(
  key: string,
  steps: { id: string; service: string; inputs?: unknown[]; terminal?: boolean }[],
  edges: { from: string; to: string; when?: unknown }[],
): Promise<void> {
  const flowId = (await ok(builder(`mutation { createServiceFlow(key: "${key}", name: "${key}") { id } }`)))
    .createServiceFlow.id;
  for (const step of steps) await ok(builder(ADD, { flowId, step: { title: step.id, ...step } }));
  for (const edge of edges) await ok(builder(CONNECT, { flowId, ...edge }));
  expect(await problems(flowId)).toEqual([]);
  await publish(flowId);
}

/**
 * Composes a flow of one step buying a fixed product and amount, which submitting refuses as UNSELLABLE_PURCHASE, then
 * marks it published in the database, as a version published before validation looked at what a flow buys: the run
 * API must refuse the purchase all the same.
 */
async function unsellablePurchase(key: string, productId: string, amount: number): Promise<void> {
  const flowId = (await ok(builder(`mutation { createServiceFlow(key: "${key}", name: "${key}") { id } }`)))
    .createServiceFlow.id;
  const inputs = [constant('productId', productId), constant('amount', amount)];
  await ok(
    builder(ADD, {
      flowId,
      step: { id: 'buy', service: 'CONFIRM_PURCHASE', title: 'Buy', terminal: true, inputs },
    }),
  );
  const refused = await builder(SUBMIT, { flowId });
  expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
  expect(refused.errors?.[0]?.extensions?.problems).toEqual([
    expect.objectContaining({ code: 'UNSELLABLE_PURCHASE', stepId: 'buy' }),
  ]);
  await hub.connections.products
    .collection<ServiceFlowDoc>('service_flows')
    .updateOne({ _id: flowId }, { $set: { status: 'PUBLISHED', publishedAt: new Date() } });
}

const signing = (id: string, terminal = false) => ({
  id,
  service: 'SIGN_AGREEMENT',
  inputs: [constant('agreementCode', 'TERMS')],
  terminal,
});

describe('composing a flow', () => {
  let flowId: string;

  it('builds a five-step flow with a branch, reporting each problem on the way, and publishes it', async () => {
    flowId = (await ok(builder(`mutation { createServiceFlow(key: "buy-fund", name: "Buy a fund") { id } }`)))
      .createServiceFlow.id;
    await ok(builder(ADD, { flowId, step: { id: 'identity', service: 'IDENTITY_CHECK', title: 'Verify' } }));
    await ok(builder(ADD, { flowId, step: { id: 'assess', service: 'RISK_ASSESSMENT', title: 'Assess' } }));
    await ok(
      builder(ADD, {
        flowId,
        step: {
          id: 'select',
          service: 'SELECT_PRODUCT',
          title: 'Pick',
          inputs: [constant('productType', 'FUND'), mapped('maxRiskLevel', 'assess', 'riskLevel')],
        },
      }),
    );
    await ok(
      builder(ADD, {
        flowId,
        step: {
          id: 'disclose',
          service: 'SIGN_AGREEMENT',
          title: 'Disclosure',
          inputs: [constant('agreementCode', 'FUND-RISK')],
        },
      }),
    );
    await ok(
      builder(ADD, {
        flowId,
        step: {
          id: 'confirm',
          service: 'CONFIRM_PURCHASE',
          title: 'Buy',
          terminal: true,
          inputs: [mapped('productId', 'select', 'productId'), mapped('amount', 'identity', 'verified')],
        },
      }),
    );
    await ok(
      builder(ADD, {
        flowId,
        step: { id: 'teleport', service: 'TELEPORT', title: 'Beam me up', terminal: true },
      }),
    );
    // Nothing is connected yet: dead ends and unreachable steps, an unknown service, a mistyped mapping.
    expect(await problems(flowId)).toEqual(
      expect.arrayContaining([
        'DEAD_END@identity',
        'UNKNOWN_SERVICE@teleport',
        'UNREACHABLE_STEP@assess',
        'UNREACHABLE_STEP@confirm',
      ]),
    );
    for (const [from, to] of [
      ['identity', 'assess'],
      ['assess', 'select'],
      ['disclose', 'confirm'],
    ]) {
      await ok(builder(CONNECT, { flowId, from, to }));
    }
    await ok(
      builder(CONNECT, {
        flowId,
        from: 'select',
        to: 'disclose',
        when: { step: 'select', output: 'amount', op: 'gte', value: 100000 },
      }),
    );
    await ok(builder(CONNECT, { flowId, from: 'select', to: 'confirm' }));
    await ok(builder(REMOVE, { flowId, stepId: 'teleport' }));
    expect(await problems(flowId)).toEqual(['TYPE_MISMATCH@confirm']);

    await ok(
      builder(CONNECT, {
        flowId,
        from: 'disclose',
        to: 'select',
        when: { step: 'select', output: 'amount', op: 'lt', value: 0 },
      }),
    );
    // Every problem at once: the cycle, and the mistyped amount still waiting to be fixed.
    expect(await problems(flowId)).toEqual(['CYCLE@select', 'CYCLE@disclose', 'TYPE_MISMATCH@confirm']);
    await ok(builder(DISCONNECT, { flowId, from: 'disclose', to: 'select' }));

    const confirmWithout = (inputs: unknown[]) =>
      builder(UPDATE, {
        flowId,
        step: { id: 'confirm', service: 'CONFIRM_PURCHASE', title: 'Buy', terminal: true, inputs },
      });
    await ok(confirmWithout([mapped('productId', 'select', 'productId')]));
    expect(await problems(flowId)).toEqual(['MISSING_INPUT@confirm']);
    await ok(
      confirmWithout([mapped('productId', 'select', 'productId'), mapped('amount', 'disclose', 'signedAt')]),
    );
    expect(await problems(flowId)).toEqual(['TYPE_MISMATCH@confirm']);

    const refused = await builder(SUBMIT, { flowId });
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({ code: 'TYPE_MISMATCH', stepId: 'confirm' }),
    ]);

    await ok(
      confirmWithout([mapped('productId', 'select', 'productId'), mapped('amount', 'select', 'amount')]),
    );
    expect(await problems(flowId)).toEqual([]);
    expect(await publish(flowId)).toMatchObject({ status: 'PUBLISHED', live: true });
  });

  it('keeps a published version immutable; edits go to a new draft version, and versions can be diffed', async () => {
    const edit = await builder(ADD, {
      flowId,
      step: { id: 'thanks', service: 'SHOW_PAGE', title: 'Thanks', inputs: [constant('pageKey', 'thanks')] },
    });
    expect(errorCodes(edit)).toEqual(['FAILED_PRECONDITION']);
    const draft = (await ok(builder(`mutation { createFlowDraft(key: "buy-fund") { id version status } }`)))
      .createFlowDraft;
    expect(draft).toMatchObject({ version: 2, status: 'DRAFT' });
    await ok(
      builder(UPDATE, {
        flowId: draft.id,
        step: {
          id: 'disclose',
          service: 'SIGN_AGREEMENT',
          title: 'Read this',
          inputs: [constant('agreementCode', 'FUND-RISK-2')],
        },
      }),
    );
    const diff = await ok(
      builder(
        `{ diffServiceFlows(key: "buy-fund", fromVersion: 1, toVersion: 2) { addedSteps removedSteps changedSteps startChanged } }`,
      ),
    );
    expect(diff.diffServiceFlows).toEqual({
      addedSteps: [],
      removedSteps: [],
      changedSteps: ['disclose'],
      startChanged: false,
    });
    const versions = await ok(builder(`{ serviceFlowVersions(key: "buy-fund") { version status } }`));
    expect(versions.serviceFlowVersions).toEqual([
      { version: 2, status: 'DRAFT' },
      { version: 1, status: 'PUBLISHED' },
    ]);
    const newest = await ok(builder(`{ serviceFlows { key version status } }`));
    expect(newest.serviceFlows).toContainEqual({ key: 'buy-fund', version: 2, status: 'DRAFT' });
    expect(newest.serviceFlows.filter((flow: { key: string }) => flow.key === 'buy-fund')).toHaveLength(1);
    expect(errorCodes(await young(`{ serviceFlows { key } }`))).toEqual(['FORBIDDEN']);
  });

  it('refuses to publish an R4 purchase without a prior risk assessment', async () => {
    const id = (
      await ok(builder(`mutation { createServiceFlow(key: "quick-index", name: "Quick index fund") { id } }`))
    ).createServiceFlow.id;
    await ok(
      builder(ADD, {
        flowId: id,
        step: {
          id: 'buy',
          service: 'CONFIRM_PURCHASE',
          title: 'Buy',
          terminal: true,
          inputs: [constant('productId', 'P-FD-009'), constant('amount', 5000)],
        },
      }),
    );
    const refused = await builder(SUBMIT, { flowId: id });
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({ code: 'MISSING_RISK_ASSESSMENT', stepId: 'buy' }),
    ]);
  });

  it.each([
    ['a constant', 'open-on-constant', constant('verified', true)],
    ['a signed agreement', 'open-on-signature', mapped('verified', 'terms', 'signed')],
  ])('refuses to publish an account opened on a verified taken from %s', async (_from, key, verified) => {
    const id = (await ok(builder(`mutation { createServiceFlow(key: "${key}", name: "${key}") { id } }`)))
      .createServiceFlow.id;
    await ok(builder(ADD, { flowId: id, step: { title: 'terms', ...signing('terms') } }));
    await ok(
      builder(ADD, {
        flowId: id,
        step: { id: 'open', service: 'OPEN_ACCOUNT', title: 'Open', terminal: true, inputs: [verified] },
      }),
    );
    await ok(builder(CONNECT, { flowId: id, from: 'terms', to: 'open' }));
    expect(await problems(id)).toEqual(['MISSING_IDENTITY_CHECK@open']);
    expect(errorCodes(await builder(SUBMIT, { flowId: id }))).toEqual(['FAILED_PRECONDITION']);
  });

  /** A draft flow by the builder: assess, then `select`, then buy what was selected. Its id. */
  async function assessSelectBuy(key: string, select: object): Promise<string> {
    const flowId = (await ok(builder(`mutation { createServiceFlow(key: "${key}", name: "${key}") { id } }`)))
      .createServiceFlow.id;
    await ok(builder(ADD, { flowId, step: { id: 'assess', service: 'RISK_ASSESSMENT', title: 'Assess' } }));
    await ok(builder(ADD, { flowId, step: select }));
    const confirm = [mapped('productId', 'select', 'productId'), mapped('amount', 'select', 'amount')];
    await ok(
      builder(ADD, {
        flowId,
        step: { id: 'confirm', service: 'CONFIRM_PURCHASE', title: 'Buy', terminal: true, inputs: confirm },
      }),
    );
    await ok(builder(CONNECT, { flowId, from: 'assess', to: 'select' }));
    await ok(builder(CONNECT, { flowId, from: 'select', to: 'confirm' }));
    return flowId;
  }

  it('refuses to publish a selection of a product type that does not exist, also reported once published', async () => {
    const select = (productType: string) => ({
      id: 'select',
      service: 'SELECT_PRODUCT',
      title: 'Pick',
      inputs: [constant('productType', productType), mapped('maxRiskLevel', 'assess', 'riskLevel')],
    });
    const flowId = await assessSelectBuy('buy-funds', select('FUNDS'));
    expect(await problems(flowId)).toEqual(['UNSELLABLE_PRODUCT_TYPE@select']);
    const refused = await builder(SUBMIT, { flowId });
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({ code: 'UNSELLABLE_PRODUCT_TYPE', stepId: 'select' }),
    ]);
    // A version published before the check: validation names the step its sessions cannot get past, and the next
    // version, which starts as its copy, is published only once the type is fixed.
    await hub.connections.products
      .collection<ServiceFlowDoc>('service_flows')
      .updateOne({ _id: flowId }, { $set: { status: 'PUBLISHED', publishedAt: new Date() } });
    expect(await problems(flowId)).toEqual(['UNSELLABLE_PRODUCT_TYPE@select']);
    const draft = (await ok(builder(`mutation { createFlowDraft(key: "buy-funds") { id } }`))).createFlowDraft
      .id;
    expect(errorCodes(await builder(SUBMIT, { flowId: draft }))).toEqual(['FAILED_PRECONDITION']);
    await ok(builder(UPDATE, { flowId: draft, step: select('FUND') }));
    expect(await problems(draft)).toEqual([]);
    await publish(draft);
  });

  it('refuses to publish a selection whose fixed risk level rules out every product of its type on sale', async () => {
    // The mini-program sells no R1 fund: every fund a member picks here would be ABOVE_MAX_RISK.
    const select = (maxRiskLevel: string) => ({
      id: 'select',
      service: 'SELECT_PRODUCT',
      title: 'Pick',
      inputs: [constant('productType', 'FUND'), constant('maxRiskLevel', maxRiskLevel)],
    });
    const flowId = await assessSelectBuy('safe-funds', select('R1'));
    expect(await problems(flowId)).toEqual(['UNSELLABLE_PRODUCT_TYPE@select']);
    const refused = await builder(SUBMIT, { flowId });
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({
        code: 'UNSELLABLE_PRODUCT_TYPE',
        stepId: 'select',
        message: expect.stringContaining('R1'),
      }),
    ]);
    await ok(builder(UPDATE, { flowId, step: select('R2') }));
    expect(await problems(flowId)).toEqual([]);
    await publish(flowId);
  });

  it('rejects bad builder input with the field at fault, and member tokens', async () => {
    const bad = await builder(ADD, {
      flowId: 'SF-buy-fund-v2',
      step: { id: 'Bad Id', service: 'SHOW_PAGE', title: 'x' },
    });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'step.id' });
    // Members read step titles in the mini-program: a right-to-left override would reverse what follows.
    const reversed = await builder(ADD, {
      flowId: 'SF-buy-fund-v2',
      step: { id: 'reversed', service: 'SHOW_PAGE', title: '确认 \u202E1000 元' },
    });
    expect(reversed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'step.title' });
    const both = await builder(CONNECT, { flowId: 'SF-buy-fund-v2', from: 'identity', to: 'nowhere' });
    expect(both.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    const member = await young(`mutation { createServiceFlow(key: "sneaky", name: "x") { id } }`);
    expect(errorCodes(member)).toEqual(['FORBIDDEN']);
  });
});

describe('four eyes on publishing a flow', () => {
  const OPEN_READ = `query ($key: String!) { serviceFlow(key: $key) { version status } }`;
  const VERSION = `query ($key: String!, $version: Int!) {
    serviceFlow(key: $key, version: $version) {
      status revision lastEditedBy submittedBy approvedBy rejection { reason rejectedBy }
    }
  }`;
  const START_VERSION = `mutation ($key: String!) { startFlowSession(flowKey: $key) { flow { version } } }`;
  let carl: Send;
  let dan: Send;
  let eve: Send;
  let ben: Send;

  beforeAll(async () => {
    carl = await callerOf(hub.gatewayUrl, 'ops.carl', 'operator');
    dan = await callerOf(hub.gatewayUrl, 'ops.dan', 'operator');
    eve = await callerOf(hub.gatewayUrl, 'ops.eve', 'operator');
    ben = await callerOf(hub.gatewayUrl, 'builder.ben', 'builder');
    // A current deposit of the test's own (R1, on the mini-program, minimum 0), to take off sale.
    await hub.connections.products.collection<ProductDoc>('products').insertOne({
      ...PRODUCTS.find((product) => product._id === 'P-DP-001')!,
      _id: 'P-DP-901',
      channels: ['MINI_PROGRAM'],
    });
  });

  /** A valid version 1 of a flow by `who`, one terminal step of signing: its id. */
  async function signingDraft(key: string, who: Send = builder): Promise<string> {
    const flowId = (await ok(who(`mutation { createServiceFlow(key: "${key}", name: "${key}") { id } }`)))
      .createServiceFlow.id;
    await ok(who(ADD, { flowId, step: { title: 'Sign', ...signing('terms', true) } }));
    return flowId;
  }

  const stored = (flowId: string) =>
    hub.connections.products.collection<ServiceFlowDoc>('service_flows').findOne({ _id: flowId });
  const audited = (flowId: string) =>
    hub.connections.products
      .collection<{
        targetId: string;
        action: string;
        actor: string;
        before: ServiceFlowDoc;
        after: ServiceFlowDoc;
      }>('audit_log')
      .find({ targetId: flowId })
      .sort({ at: 1, _id: 1 })
      .toArray();

  it('publishes a submitted version once another operator approves it, retiring the one it replaces', async () => {
    await publish(await signingDraft('review-happy'));
    const draft = (await ok(builder(`mutation { createFlowDraft(key: "review-happy") { id } }`)))
      .createFlowDraft.id as string;
    await ok(builder(ADD, { flowId: draft, step: { title: 'Again', ...signing('again', true) } }));
    await ok(builder(CONNECT, { flowId: draft, from: 'terms', to: 'again' }));
    await ok(builder(UPDATE, { flowId: draft, step: { title: 'Sign', ...signing('terms') } }));
    const submitted = (await ok(builder(SUBMIT, { flowId: draft }))).productsWorkflow;
    expect(submitted).toMatchObject({ status: 'IN_REVIEW', live: true });

    // In review, members still run version 1, and cannot read version 2.
    expect((await ok(young(START_VERSION, { key: 'review-happy' }))).startFlowSession.flow.version).toBe(1);
    expect(errorCodes(await young(VERSION, { key: 'review-happy', version: 2 }))).toEqual(['NOT_FOUND']);
    const queue = await ok(reviewer(`{ serviceFlows(awaitingReview: true) { id status } }`));
    expect(queue.serviceFlows).toContainEqual({ id: draft, status: 'IN_REVIEW' });

    const approved = (await ok(reviewer(APPROVE, { flowId: draft, expectedVersion: submitted.version })))
      .productsWorkflow;
    expect(approved).toEqual({
      type: 'FLOW',
      id: draft,
      status: 'PUBLISHED',
      live: true,
      version: submitted.version + 1,
    });
    expect((await ok(young(START_VERSION, { key: 'review-happy' }))).startFlowSession.flow.version).toBe(2);
    const versions = await ok(builder(`{ serviceFlowVersions(key: "review-happy") { version status } }`));
    expect(versions.serviceFlowVersions).toEqual([
      { version: 2, status: 'PUBLISHED' },
      { version: 1, status: 'RETIRED' },
    ]);
    expect((await ok(builder(VERSION, { key: 'review-happy', version: 2 }))).serviceFlow).toMatchObject({
      lastEditedBy: 'builder.bea',
      submittedBy: 'builder.bea',
      approvedBy: 'ops.olga',
    });
    // Who submitted and who approved, with the version before and after.
    const trail = await audited(draft);
    const approval = trail.filter((entry) => entry.action === 'approveFlow');
    expect(approval).toEqual([
      expect.objectContaining({
        actor: 'ops.olga',
        before: expect.objectContaining({ status: 'IN_REVIEW', submittedBy: 'builder.bea' }),
        after: expect.objectContaining({
          status: 'PUBLISHED',
          submittedBy: 'builder.bea',
          approvedBy: 'ops.olga',
        }),
      }),
    ]);
    expect(trail.find((entry) => entry.action === 'submitFlow')).toMatchObject({ actor: 'builder.bea' });
    expect((await audited('SF-review-happy-v1')).map((entry) => entry.action)).toContain(
      'retireFlow (superseded)',
    );
  });

  it('never lets the submitter or the last editor approve, nor a builder: FORBIDDEN, nothing changed', async () => {
    // ops.carl edits it, ops.olga submits it: neither approves it.
    const flowId = await signingDraft('review-own', carl);
    const submitted = (await ok(reviewer(SUBMIT, { flowId }))).productsWorkflow;
    const before = await stored(flowId);
    for (const who of [reviewer, carl, ben, builder]) {
      const refused = await who(APPROVE, { flowId, expectedVersion: submitted.version });
      expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    }
    expect(errorCodes(await ben(REJECT, { flowId, reason: 'not mine to judge' }))).toEqual(['FORBIDDEN']);
    expect(await stored(flowId)).toEqual(before);
    expect((await audited(flowId)).map((entry) => entry.action)).not.toContain('approveFlow');
    expect(errorCodes(await young(OPEN_READ, { key: 'review-own' }))).toEqual(['NOT_FOUND']);

    await ok(dan(APPROVE, { flowId, expectedVersion: submitted.version }));
    expect((await ok(young(OPEN_READ, { key: 'review-own' }))).serviceFlow).toEqual({
      version: 1,
      status: 'PUBLISHED',
    });
  });

  it('approves only the revision reviewed: VERSION_REQUIRED without it, CONFLICT when it is not the one stored', async () => {
    const flowId = await signingDraft('review-revision');
    const submitted = (await ok(builder(SUBMIT, { flowId }))).productsWorkflow;
    const before = await stored(flowId);
    const missing = await reviewer(APPROVE, { flowId });
    expect(errorCodes(missing)).toEqual(['BAD_USER_INPUT']);
    expect(missing.errors?.[0]?.extensions).toMatchObject({
      reason: 'VERSION_REQUIRED',
      field: 'expectedVersion',
    });
    // The revision of the draft as last read before it was submitted.
    const stale = await reviewer(APPROVE, { flowId, expectedVersion: submitted.version - 1 });
    expect(errorCodes(stale)).toEqual(['CONFLICT']);
    expect(await stored(flowId)).toEqual(before);
    expect(
      errorCodes(
        await reviewer(`mutation { productsWorkflow(type: FLOW, id: "${flowId}", step: ARCHIVE) { id } }`),
      ),
    ).toEqual(['BAD_USER_INPUT']);
    const revision = (await ok(builder(VERSION, { key: 'review-revision', version: 1 }))).serviceFlow
      .revision;
    expect(revision).toBe(submitted.version);
    expect((await ok(reviewer(APPROVE, { flowId, expectedVersion: revision }))).productsWorkflow.status).toBe(
      'PUBLISHED',
    );
  });

  it('refuses edits of a version in review; a rejection with its reason, or a withdrawal, makes it editable again', async () => {
    const flowId = await signingDraft('review-reject');
    await ok(builder(SUBMIT, { flowId }));
    const before = await stored(flowId);
    const edit = await builder(ADD, { flowId, step: { title: 'More', ...signing('more', true) } });
    expect(errorCodes(edit)).toEqual(['FAILED_PRECONDITION']);
    expect(edit.errors?.[0]?.message).toMatch(/IN_REVIEW.*withdraw/);
    expect(errorCodes(await builder(`mutation { createFlowDraft(key: "review-reject") { id } }`))).toEqual([
      'FAILED_PRECONDITION',
    ]);
    expect(errorCodes(await builder(SUBMIT, { flowId }))).toEqual(['FAILED_PRECONDITION']);
    expect(errorCodes(await reviewer(REJECT, { flowId }))).toEqual(['BAD_USER_INPUT']);
    expect(await stored(flowId)).toEqual(before);

    expect(
      (await ok(reviewer(REJECT, { flowId, reason: ' Terms are last year’s ' }))).productsWorkflow,
    ).toMatchObject({ status: 'DRAFT' });
    expect((await ok(builder(VERSION, { key: 'review-reject', version: 1 }))).serviceFlow).toMatchObject({
      status: 'DRAFT',
      submittedBy: null,
      rejection: { reason: 'Terms are last year’s', rejectedBy: 'ops.olga' },
    });
    await ok(builder(UPDATE, { flowId, step: { title: 'Sign the 2027 terms', ...signing('terms', true) } }));

    // Submitted again, the rejection is answered; the builder withdraws it to change it once more.
    await ok(builder(SUBMIT, { flowId }));
    expect(
      (await ok(builder(VERSION, { key: 'review-reject', version: 1 }))).serviceFlow.rejection,
    ).toBeNull();
    expect((await ok(builder(WITHDRAW, { flowId }))).withdrawFlow.status).toBe('DRAFT');
    expect(errorCodes(await builder(WITHDRAW, { flowId }))).toEqual(['FAILED_PRECONDITION']);
    await ok(builder(UPDATE, { flowId, step: { title: 'Sign', ...signing('terms', true) } }));
    expect(
      (await audited(flowId)).map((entry) => entry.action).filter((action) => !action.startsWith('add')),
    ).toEqual([
      'createServiceFlow',
      'submitFlow',
      'rejectFlow',
      'updateFlowStep',
      'submitFlow',
      'withdrawFlow',
      'updateFlowStep',
    ]);
  });

  it('will not approve a version whose product went off sale after it was submitted', async () => {
    const flowId = (
      await ok(builder(`mutation { createServiceFlow(key: "review-off-sale", name: "Deposit") { id } }`))
    ).createServiceFlow.id;
    const inputs = [constant('productId', 'P-DP-901'), constant('amount', 100)];
    await ok(
      builder(ADD, {
        flowId,
        step: { id: 'buy', service: 'CONFIRM_PURCHASE', title: 'Buy', terminal: true, inputs },
      }),
    );
    const submitted = (await ok(builder(SUBMIT, { flowId }))).productsWorkflow;
    await hub.connections.products
      .collection<ProductDoc>('products')
      .updateOne({ _id: 'P-DP-901' }, { $set: { status: 'SUSPENDED' } });
    const before = await stored(flowId);
    const refused = await reviewer(APPROVE, { flowId, expectedVersion: submitted.version });
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({ code: 'UNSELLABLE_PURCHASE', stepId: 'buy' }),
    ]);
    expect(await stored(flowId)).toEqual(before);
    expect(errorCodes(await young(OPEN_READ, { key: 'review-off-sale' }))).toEqual(['NOT_FOUND']);
  });

  it('publishes once for two approvals at once: the other is refused, and one publication is audited', async () => {
    const flowId = await signingDraft('review-race');
    const submitted = (await ok(builder(SUBMIT, { flowId }))).productsWorkflow;
    const answers = await Promise.all(
      [reviewer, dan, eve].map((who) => who(APPROVE, { flowId, expectedVersion: submitted.version })),
    );
    const published = answers.filter((answer) => !answer.errors);
    expect(published).toHaveLength(1);
    expect(published[0]!.data!.productsWorkflow).toMatchObject({
      status: 'PUBLISHED',
      version: submitted.version + 1,
    });
    for (const answer of answers.filter((candidate) => candidate.errors))
      expect(['CONFLICT', 'FAILED_PRECONDITION']).toContain(errorCodes(answer)[0]);
    expect((await audited(flowId)).filter((entry) => entry.action === 'approveFlow')).toHaveLength(1);
    expect((await stored(flowId))!.revision).toBe(submitted.version + 1);
  });
});

describe('validating what a builder connects', () => {
  it('refuses an edit made from a revision another edit changed since: CONFLICT, nothing stored', async () => {
    const stored = (flowId: string) =>
      hub.connections.products.collection<ServiceFlowDoc>('service_flows').findOne({ _id: flowId });
    const flowId = (
      await ok(builder(`mutation { createServiceFlow(key: "stale-edit", name: "Stale") { id } }`))
    ).createServiceFlow.id;
    await ok(builder(ADD, { flowId, step: { title: 'first', ...signing('first') } }));
    const seen = (await stored(flowId))!.revision;
    // Another builder edits the draft after the first one read it.
    await ok(
      builder(ADD, { flowId, step: { title: 'done', ...signing('done', true) }, expectedVersion: seen }),
    );
    const before = await stored(flowId);
    const edits: [string, Record<string, unknown>][] = [
      [ADD, { step: { title: 'late', ...signing('late') } }],
      [UPDATE, { step: { title: 'renamed', ...signing('first') } }],
      [REMOVE, { stepId: 'done' }],
      [CONNECT, { from: 'first', to: 'done' }],
      [DISCONNECT, { from: 'first', to: 'done' }],
      [SET_START, { stepId: 'done' }],
    ];
    for (const [mutation, variables] of edits) {
      const refused = await builder(mutation, { flowId, ...variables, expectedVersion: seen });
      expect(errorCodes(refused)).toEqual(['CONFLICT']);
    }
    expect(await stored(flowId)).toEqual(before);
    await ok(builder(CONNECT, { flowId, from: 'first', to: 'done', expectedVersion: before!.revision }));
  });

  it('reports CYCLE on a step that loops to itself only, not on the step before it', async () => {
    const flowId = (
      await ok(builder(`mutation { createServiceFlow(key: "self-loop", name: "Loop") { id } }`))
    ).createServiceFlow.id;
    for (const step of [signing('first'), signing('again'), signing('done', true)])
      await ok(builder(ADD, { flowId, step: { title: step.id, ...step } }));
    await ok(builder(CONNECT, { flowId, from: 'first', to: 'again' }));
    await ok(builder(CONNECT, { flowId, from: 'again', to: 'done' }));
    await ok(
      builder(CONNECT, {
        flowId,
        from: 'again',
        to: 'again',
        when: { step: 'again', output: 'signed', op: 'eq', value: false },
      }),
    );
    expect(await problems(flowId)).toEqual(['CYCLE@again']);
  });

  it('refuses an `in` condition whose value is not a list, storing no edge', async () => {
    const flowId = (await ok(builder(`mutation { createServiceFlow(key: "in-scalar", name: "In") { id } }`)))
      .createServiceFlow.id;
    await ok(builder(ADD, { flowId, step: { id: 'assess', service: 'RISK_ASSESSMENT', title: 'Assess' } }));
    await ok(builder(ADD, { flowId, step: { title: 'high', ...signing('high', true) } }));
    const when = { step: 'assess', output: 'riskLevel', op: 'in', value: 'R4' };
    const refused = await builder(CONNECT, { flowId, from: 'assess', to: 'high', when });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'when.value' });
    const stored = await hub.connections.products
      .collection<{ _id: string; steps: { id: string; next: unknown[] }[] }>('service_flows')
      .findOne({ _id: flowId });
    expect(stored!.steps.find((step) => step.id === 'assess')!.next).toEqual([]);
    await ok(
      builder(CONNECT, { flowId, from: 'assess', to: 'high', when: { ...when, value: ['R4', 'R5'] } }),
    );
  });

  it('refuses a branch currency that is no ISO code or on an output that is no amount, storing no edge', async () => {
    const flowId = (
      await ok(builder(`mutation { createServiceFlow(key: "currency-where", name: "C") { id } }`))
    ).createServiceFlow.id;
    await ok(builder(ADD, { flowId, step: { id: 'assess', service: 'RISK_ASSESSMENT', title: 'Assess' } }));
    await ok(builder(ADD, { flowId, step: { title: 'high', ...signing('high', true) } }));
    for (const when of [
      { step: 'assess', output: 'score', op: 'gte', value: 80, currency: 'CNY' },
      { step: 'assess', output: 'score', op: 'gte', value: 80, currency: 'yuan' },
    ]) {
      const refused = await builder(CONNECT, { flowId, from: 'assess', to: 'high', when });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'when.currency',
      });
    }
    const stored = await hub.connections.products
      .collection<{ _id: string; steps: { id: string; next: unknown[] }[] }>('service_flows')
      .findOne({ _id: flowId });
    expect(stored!.steps.find((step) => step.id === 'assess')!.next).toEqual([]);
  });

  it('refuses oversized steps and branches with the field at fault, and bounds a draft, storing nothing', async () => {
    const flowId = (await ok(builder(`mutation { createServiceFlow(key: "oversized", name: "Big") { id } }`)))
      .createServiceFlow.id;
    await ok(builder(ADD, { flowId, step: { id: 'assess', service: 'RISK_ASSESSMENT', title: 'Assess' } }));
    await ok(builder(ADD, { flowId, step: { title: 'high', ...signing('high', true) } }));
    const before = await storedState({ products: hub.connections.products });
    const long = 'x'.repeat(3_000);
    const refusals: [string, Record<string, unknown>][] = [
      [
        'step.inputs',
        {
          step: { ...signing('many'), inputs: Array.from({ length: 11 }, (_, i) => constant(`in${i}`, 'x')) },
        },
      ],
      ['step.inputs[0].input', { step: { ...signing('named'), inputs: [constant(long, 'TERMS')] } }],
      [
        'step.inputs[0].constant',
        { step: { ...signing('const'), inputs: [constant('agreementCode', long)] } },
      ],
      [
        'step.inputs[0].fromOutput',
        { step: { ...signing('from'), inputs: [mapped('agreementCode', 'assess', long)] } },
      ],
      [
        'when.output',
        { from: 'assess', to: 'high', when: { step: 'assess', output: long, op: 'eq', value: 'R4' } },
      ],
      [
        'when.value',
        {
          from: 'assess',
          to: 'high',
          when: { step: 'assess', output: 'riskLevel', op: 'in', value: Array(300).fill('R4-R5-R4') },
        },
      ],
    ];
    for (const [field, args] of refusals) {
      const refused = await builder(
        'step' in args ? ADD : CONNECT,
        'step' in args ? { flowId, step: { title: 'x', ...(args.step as object) } } : { flowId, ...args },
      );
      expect([field, refused.errors?.[0]?.extensions]).toEqual([
        field,
        expect.objectContaining({ code: 'BAD_USER_INPUT', field }),
      ]);
    }
    expect(await storedState({ products: hub.connections.products })).toEqual(before);

    // Steps each within bounds still cannot grow a draft without end: every edit reads and audits it whole.
    const heavy = (id: string) => ({
      id,
      service: 'SIGN_AGREEMENT',
      title: id,
      inputs: Array.from({ length: 10 }, (_, i) =>
        constant(i === 0 ? 'agreementCode' : `extra${i}`, 'y'.repeat(1_900)),
      ),
    });
    let added = 0;
    let refused: GraphQLResponse | null = null;
    while (!refused && added < 20) {
      const response = await builder(ADD, { flowId, step: heavy(`heavy_${added}`) });
      if (response.errors) refused = response;
      else added += 1;
    }
    expect(refused?.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'step' });
    expect(added).toBeGreaterThan(5);
    const stored = await hub.connections.products
      .collection<{ _id: string; steps: unknown[] }>('service_flows')
      .findOne({ _id: flowId });
    expect(stored!.steps).toHaveLength(2 + added);
    expect(Buffer.byteLength(JSON.stringify(stored!.steps))).toBeLessThanOrEqual(256 * 1024);
  });
});

describe('the pages a flow shows', () => {
  it.each(FLOWS.map((flow) => [flow.key, flow._id]))(
    'validates the seeded flow %s end to end, its pages asked of content through the graph',
    async (_key, flowId) => {
      expect(await ok(builder(VALIDATE, { flowId }))).toEqual({
        validateFlow: { valid: true, problems: [] },
      });
    },
  );

  it('refuses to publish a flow that shows a page that does not exist, quickly, storing nothing', async () => {
    const flowId = (
      await ok(builder(`mutation { createServiceFlow(key: "show-nowhere", name: "Show nowhere") { id } }`))
    ).createServiceFlow.id;
    await ok(
      builder(ADD, {
        flowId,
        step: {
          id: 'intro',
          service: 'SHOW_PAGE',
          title: 'Intro',
          terminal: true,
          inputs: [constant('pageKey', 'nowhere')],
        },
      }),
    );
    expect(await problems(flowId)).toEqual(['UNKNOWN_PAGE@intro']);
    const before = await storedState(hub.connections);
    const started = performance.now();
    const refused = await builder(SUBMIT, { flowId });
    expect(performance.now() - started).toBeLessThan(800);
    expect(refused.status).toBe(200);
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_PAGE', stepId: 'intro' }),
    ]);
    expect(await storedState(hub.connections)).toEqual(before);
  });
});

describe('the benefits a flow claims', () => {
  /** A one-step draft that claims `benefitId`. */
  async function claimingFlow(key: string, benefitId: string): Promise<string> {
    const flowId = (await ok(builder(`mutation { createServiceFlow(key: "${key}", name: "Claim") { id } }`)))
      .createServiceFlow.id;
    await ok(
      builder(ADD, {
        flowId,
        step: {
          id: 'claim',
          service: 'CLAIM_BENEFIT',
          title: 'Claim',
          terminal: true,
          inputs: [constant('benefitId', benefitId)],
        },
      }),
    );
    return flowId;
  }

  it('reports a CLAIM_BENEFIT step whose benefit is not a published, claimable one, asked of engagement', async () => {
    expect(await problems(await claimingFlow('claim-welcome', 'B-WELCOME-50'))).toEqual([]);
    expect(await problems(await claimingFlow('claim-nothing', 'B-NOPE'))).toEqual(['UNKNOWN_BENEFIT@claim']);
    // A draft, an ended benefit and a points product (bought, not claimed) are no more claimable.
    expect(await problems(await claimingFlow('claim-draft', 'B-SPRING-DRAFT'))).toEqual([
      'UNKNOWN_BENEFIT@claim',
    ]);
    expect(await problems(await claimingFlow('claim-ended', 'B-NATIONAL-DAY'))).toEqual([
      'UNKNOWN_BENEFIT@claim',
    ]);
    expect(await problems(await claimingFlow('claim-bought', 'B-PTS-COFFEE'))).toEqual([
      'UNKNOWN_BENEFIT@claim',
    ]);
    const refused = await builder(SUBMIT, { flowId: 'SF-claim-nothing-v1' });
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.objectContaining({ code: 'UNKNOWN_BENEFIT', stepId: 'claim' }),
    ]);
  });

  it('cannot be validated while engagement is down: SERVICE_UNAVAILABLE, never "valid"', async () => {
    const flowId = await claimingFlow('claim-offline', 'B-WELCOME-50');
    await hub.stopSubgraph('engagement');
    try {
      const response = await builder(VALIDATE, { flowId });
      expect(errorCodes(response)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(response.errors?.[0]?.extensions?.serviceName).toBe('engagement');
    } finally {
      await hub.restartSubgraph('engagement');
    }
  });
});

describe('walking a flow', () => {
  const identity: [string, unknown] = ['identity', { verified: true }];
  const assess = (riskLevel: string): [string, unknown] => ['assess', { riskLevel, score: 70 }];

  it('takes a member through the branch to completion', async () => {
    const done = await walk(await wealthyCopy(), 'buy-fund', [
      identity,
      assess('R4'),
      ['select', { productId: 'P-FD-009', amount: 200_000 }],
      ['disclose', { signed: true, signedAt: '2026-11-25T08:00:00Z' }],
      ['confirm', { orderId: 'O-1', confirmed: true }],
    ]);
    expect(done.errors).toBeUndefined();
    expect(done.data?.advanceFlow).toMatchObject({
      completed: true,
      nextStep: null,
      session: { status: 'COMPLETED', currentStep: null },
    });
    expect(Object.keys(done.data?.advanceFlow.session.outputs)).toEqual([
      'identity',
      'assess',
      'select',
      'disclose',
      'confirm',
    ]);
  });

  // An assessment the member's app reports itself (R5 for M0001, R1) is refused: only the bank's suitability system
  // sets a tolerance, so nothing above R1 can be bought on the app's word (flow-attestation.test.ts walks attested ones).
  it.each([
    ['buy-wealth', []],
    ['buy-fund', [identity]],
  ] as [string, [string, unknown][]][])(
    'never lets M0001 (R1) assess themselves in %s',
    async (key, before) => {
      const { session } = await walkSession(youngApp, key, before);
      const refused = await young(ADVANCE, {
        session,
        step: 'assess',
        output: { riskLevel: 'R5', score: 99 },
        key: `${session}-self`,
      });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'attestation',
        reason: 'ATTESTATION_REQUIRED',
      });
      expect(await storedSession(session)).toMatchObject({
        currentStepId: 'assess',
        revision: before.length,
      });
      expect((await ok(young('{ viewer { riskLevel } }'))).viewer.riskLevel).toBe('R1');
    },
  );

  it('sells in a mini-program flow only what is sold on MINI_PROGRAM, when selected and when bought', async () => {
    // P-WM-009: WEALTH, R3, on sale on APP and WEB only.
    const picked = await walkSession(await wealthyCopy(), 'buy-wealth', [
      assess('R5'),
      ['select', { productId: 'P-WM-009', amount: 10_000 }],
    ]);
    expect(picked.last.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'output.productId',
      reason: 'NOT_ON_CHANNEL',
    });
    expect(await storedSession(picked.session)).toMatchObject({
      status: 'ACTIVE',
      currentStepId: 'select',
      outputs: { assess: { riskLevel: 'R5', score: 70 } },
      revision: 1,
    });
    // A flow that buys a product of its own (P-WM-003: WEALTH, R1, APP only) is not published, and is refused at
    // confirmation if it was.
    await unsellablePurchase('buy-app-only', 'P-WM-003', 100);
    const bought = await walkSession(youngApp, 'buy-app-only', [
      ['buy', { orderId: 'O-3', confirmed: true }],
    ]);
    expect(bought.last.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'NOT_ON_CHANNEL',
    });
    expect(await storedSession(bought.session)).toMatchObject({
      status: 'ACTIVE',
      currentStepId: 'buy',
      outputs: {},
      history: [],
    });
  });

  it.each([
    // buy-wealth sells WEALTH: P-LN-005 is a loan sold on the mini-program.
    ['a loan in buy-wealth', 'R5', 'P-LN-005', 'WRONG_PRODUCT_TYPE'],
    // M0002's stored profile is R5, but the flow's own assessment said R1: P-WM-011 is R4.
    ['a product above the risk just assessed', 'R1', 'P-WM-011', 'ABOVE_MAX_RISK'],
  ])(
    'refuses to select %s (the select step’s productType and maxRiskLevel)',
    async (_name, risk, productId, reason) => {
      const { session, last } = await walkSession(await wealthyCopy(), 'buy-wealth', [
        assess(risk),
        ['select', { productId, amount: 10_000 }],
      ]);
      expect(last.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'output.productId',
        reason,
      });
      const stored = await storedSession(session);
      expect(stored).toMatchObject({ status: 'ACTIVE', currentStepId: 'select', revision: 1 });
      expect(Object.keys(stored.outputs)).toEqual(['assess']);
    },
  );

  it('never confirms a large purchase whose risk disclosure the member declined', async () => {
    const { session, last } = await walkSession(await wealthyCopy(), 'buy-wealth', [
      assess('R4'),
      ['select', { productId: 'P-WM-008', amount: 600_000 }],
      ['disclose', { signed: false, signedAt: '2026-11-25T08:00:00Z' }],
      ['confirm', { orderId: 'O-4', confirmed: true }],
    ]);
    expect(last.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'AGREEMENT_NOT_SIGNED',
    });
    expect(await storedSession(session)).toMatchObject({ status: 'ACTIVE', currentStepId: 'confirm' });
  });

  it.each([
    ['nothing', 0],
    ['a fraction of a cent', 0.001],
  ])(
    'never buys %s of a product whose minimum is 0, even as a constant of the flow',
    async (_what, amount) => {
      // P-DP-001: a current deposit, R1, sold on the mini-program, minimum 0.
      const key = `buy-nothing-${String(amount).replace('.', '-')}`;
      await unsellablePurchase(key, 'P-DP-001', amount);
      const { session, last } = await walkSession(youngApp, key, [
        ['buy', { orderId: 'O-5', confirmed: true }],
      ]);
      expect(last.errors?.[0]?.extensions).toMatchObject({
        code: 'FAILED_PRECONDITION',
        reason: 'INVALID_AMOUNT',
      });
      expect(await storedSession(session)).toMatchObject({
        status: 'ACTIVE',
        currentStepId: 'buy',
        history: [],
      });
    },
  );

  it('never buys more in one purchase than the hub-wide maximum, even as a constant of the flow', async () => {
    // P-DP-001 has no maximum of its own: a cent above 10^12 is where amounts would stop being exact.
    await unsellablePurchase('buy-too-much', 'P-DP-001', 1_000_000_000_000.01);
    const { session, last } = await walkSession(youngApp, 'buy-too-much', [
      ['buy', { orderId: 'O-6', confirmed: true }],
    ]);
    expect(last.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'ABOVE_MAXIMUM',
    });
    expect(last.errors?.[0]?.message).toBe(
      "the amount is above the product's maximum of 1000000000000 CNY per purchase",
    );
    expect(await storedSession(session)).toMatchObject({
      status: 'ACTIVE',
      currentStepId: 'buy',
      history: [],
    });
  });

  it('lets a member select a product within the risk just assessed', async () => {
    const picked = await walk(await wealthyCopy(), 'buy-wealth', [
      assess('R4'),
      ['select', { productId: 'P-WM-011', amount: 10_000 }],
    ]);
    expect(picked.errors).toBeUndefined();
    expect(picked.data?.advanceFlow.nextStep).toEqual({ id: 'confirm' });
  });

  it('branches on a DATE_TIME output by instant, not by its text', async () => {
    await publishedFlow(
      'signed-late',
      [signing('sign'), signing('late', true), signing('early', true)],
      [
        {
          from: 'sign',
          to: 'late',
          when: { step: 'sign', output: 'signedAt', op: 'gte', value: '2026-01-01T00:00:00+08:00' },
        },
        { from: 'sign', to: 'early' },
      ],
    );
    // 2025-12-31T17:00:00Z is 2026-01-01T01:00:00+08:00: after the threshold, though it sorts before it as text.
    const { session, last } = await walkSession(youngApp, 'signed-late', [
      ['sign', { signed: true, signedAt: '2025-12-31T17:00:00Z' }],
    ]);
    expect(last.data?.advanceFlow.nextStep).toEqual({ id: 'late' });
    expect((await storedSession(session)).currentStepId).toBe('late');
  });

  it('opens no account without a passed identity check, in a flow published before validation said so', async () => {
    // An account flow whose verified is the member's signature on the terms, stored as published.
    const flow = FLOWS.find((candidate) => candidate.key === 'open-account')!;
    await hub.connections.products.collection<ServiceFlowDoc>('service_flows').insertOne({
      ...flow,
      _id: 'SF-open-signed-v1',
      key: 'open-signed',
      startStepId: 'terms',
      steps: flow.steps
        .filter((step) => step.service !== 'IDENTITY_CHECK')
        .map((step) =>
          step.service === 'OPEN_ACCOUNT'
            ? {
                ...step,
                inputs: [{ input: 'verified', fromStep: 'terms', fromOutput: 'signed', constant: null }],
              }
            : step,
        ),
    });
    const { session, last } = await walkSession(youngApp, 'open-signed', [
      ['terms', { signed: true, signedAt: '2026-11-25T08:00:00Z' }],
      ['open', { accountId: 'AC-unchecked' }],
    ]);
    expect(last.errors?.[0]?.extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'UNVERIFIED' });
    expect(await storedSession(session)).toMatchObject({
      status: 'ACTIVE',
      currentStepId: 'open',
      revision: 1,
    });
  });

  it('refuses an idempotency key sent again with another output, and replays it with the same one', async () => {
    const session = (await ok(young(START, { key: 'open-account' }))).startFlowSession.id;
    const advance = (output: unknown) =>
      young(ADVANCE, {
        session,
        step: 'identity',
        output,
        key: 'reused-key-0001',
        attestation: attestation('M0001', session, 'identity', output),
      });
    const first = await ok(advance({ verified: false }));
    const other = await advance({ verified: true });
    expect(other.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect(await ok(advance({ verified: false }))).toEqual(first);
    const stored = await storedSession(session);
    expect(stored).toMatchObject({
      currentStepId: 'terms',
      outputs: { identity: { verified: false } },
      revision: 1,
    });
    expect(stored.history).toEqual([
      expect.objectContaining({ idempotencyKey: 'reused-key-0001', outputHash: expect.any(String) }),
    ]);
  });

  it('replays a record stored before outputs were fingerprinted, whatever the output', async () => {
    const session = (await ok(young(START, { key: 'open-account' }))).startFlowSession.id;
    const advance = (output: unknown) =>
      young(ADVANCE, {
        session,
        step: 'identity',
        output,
        key: 'legacy-key-0001',
        attestation: attestation('M0001', session, 'identity', output),
      });
    const first = await ok(advance({ verified: true }));
    await hub.connections.products
      .collection<{ _id: string }>('flow_sessions')
      .updateOne({ _id: session }, { $unset: { 'history.0.outputHash': '' } });
    expect(await ok(advance({ verified: false }))).toEqual(first);
    expect(await storedSession(session)).toMatchObject({
      outputs: { identity: { verified: true } },
      revision: 1,
    });
  });

  it('advances once for concurrent calls with one idempotency key', async () => {
    const session = (await ok(wealthy(START, { key: 'open-account' }))).startFlowSession.id;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        wealthy(ADVANCE, {
          session,
          step: 'identity',
          output: { verified: true },
          key: 'same-key-0001',
          attestation: attestation('M0002', session, 'identity', { verified: true }),
        }),
      ),
    );
    expect(answers.flatMap((answer) => answer.errors ?? [])).toEqual([]);
    expect(new Set(answers.map((answer) => JSON.stringify(answer.data)))).toHaveProperty('size', 1);
    const after = await ok(wealthy(`{ flowSession(id: "${session}") { currentStep { id } outputs } }`));
    expect(after.flowSession).toEqual({
      currentStep: { id: 'terms' },
      outputs: { identity: { verified: true } },
    });
  });

  it('refuses steps out of order, bad outputs, other members and unknown or retired flows', async () => {
    const session = (await ok(young(START, { key: 'open-account' }))).startFlowSession.id;
    const outOfOrder = await young(ADVANCE, {
      session,
      step: 'open',
      output: { accountId: 'A1' },
      key: 'skip-ahead-1',
    });
    expect(outOfOrder.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      expectedStepId: 'identity',
    });
    const badOutput = await young(ADVANCE, {
      session,
      step: 'identity',
      output: { verified: 'yes' },
      key: 'bad-output-1',
    });
    expect(badOutput.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'output.verified',
    });
    const someoneElse = await wealthy(ADVANCE, {
      session,
      step: 'identity',
      output: { verified: true },
      key: 'hijack-0001',
    });
    // Another member's session is NOT_FOUND, exactly as one that does not exist (as their inbox messages are):
    // FORBIDDEN would tell a guessed or leaked id is real.
    const noSuchSession = 'FS-00000000-0000-4000-8000-000000000000';
    const notFound = (response: GraphQLResponse, id: string) =>
      JSON.parse(JSON.stringify({ data: response.data, errors: response.errors }).replaceAll(id, '<id>'));
    const unknownAdvance = await wealthy(ADVANCE, {
      session: noSuchSession,
      step: 'identity',
      output: { verified: true },
      key: 'hijack-0001',
    });
    expect(errorCodes(someoneElse)).toEqual(['NOT_FOUND']);
    expect(notFound(someoneElse, session)).toEqual(notFound(unknownAdvance, noSuchSession));
    const READ = `query ($id: ID!) { flowSession(id: $id) { status currentStep { id } } }`;
    const peek = await wealthy(READ, { id: session });
    expect(errorCodes(peek)).toEqual(['NOT_FOUND']);
    expect(notFound(peek, session)).toEqual(
      notFound(await wealthy(READ, { id: noSuchSession }), noSuchSession),
    );
    const state = await ok(young(`{ flowSession(id: "${session}") { currentStep { id } outputs } }`));
    expect(state.flowSession).toEqual({ currentStep: { id: 'identity' }, outputs: {} });
    expect(errorCodes(await young(START, { key: 'no-such-flow' }))).toEqual(['NOT_FOUND']);
    await ok(builder(`mutation { retireFlow(flowId: "SF-welcome-benefit-v1") { status } }`));
    expect(errorCodes(await young(START, { key: 'welcome-benefit' }))).toEqual(['NOT_FOUND']);
  });
});

describe('branching on an amount', () => {
  const amountAtLeast = (value: number, currency?: string) => ({
    step: 'select',
    output: 'amount',
    op: 'gte',
    value,
    ...(currency ? { currency } : {}),
  });

  /** Publishes a wealth purchase whose select step branches, in order, to a disclosure named for each condition. */
  async function largePurchases(key: string, branches: Record<string, ReturnType<typeof amountAtLeast>>) {
    const disclosures = Object.keys(branches).map((id) => ({
      id,
      service: 'SIGN_AGREEMENT',
      inputs: [constant('agreementCode', id)],
    }));
    await publishedFlow(
      key,
      [
        { id: 'assess', service: 'RISK_ASSESSMENT' },
        {
          id: 'select',
          service: 'SELECT_PRODUCT',
          inputs: [constant('productType', 'WEALTH'), mapped('maxRiskLevel', 'assess', 'riskLevel')],
        },
        ...disclosures,
        {
          id: 'confirm',
          service: 'CONFIRM_PURCHASE',
          terminal: true,
          inputs: [mapped('productId', 'select', 'productId'), mapped('amount', 'select', 'amount')],
        },
      ],
      [
        { from: 'assess', to: 'select' },
        ...Object.entries(branches).map(([to, when]) => ({ from: 'select', to, when })),
        { from: 'select', to: 'confirm' },
        ...disclosures.map(({ id }) => ({ from: id, to: 'confirm' })),
      ],
    );
  }

  const nextAfter = async (key: string, productId: string, amount: number) => {
    const answer = await walk(await wealthyCopy(), key, [
      ['assess', { riskLevel: 'R4', score: 70 }],
      ['select', { productId, amount }],
    ]);
    expect(answer.errors).toBeUndefined();
    return answer.data?.advanceFlow.nextStep.id;
  };

  beforeAll(async () => {
    // A USD wealth product the mini-program sells, beside P-WM-008 (the same, in CNY).
    await hub.connections.products.collection<ProductDoc>('products').insertOne({
      ...PRODUCTS.find((product) => product._id === 'P-WM-008')!,
      _id: 'P-WM-902',
      name: 'USD Steady Wealth (mini-program)',
      minAmount: 1_000,
      currency: 'USD',
      channels: ['MINI_PROGRAM'],
    });
  });

  it('compares an amount in the bank’s currency when the branch names none: 600,000 USD is not 500,000 CNY', async () => {
    await largePurchases('buy-large-cny', { large: amountAtLeast(500_000) });
    expect(await nextAfter('buy-large-cny', 'P-WM-902', 600_000)).toBe('confirm');
    expect(await nextAfter('buy-large-cny', 'P-WM-008', 600_000)).toBe('large');
    expect(await nextAfter('buy-large-cny', 'P-WM-008', 100_000)).toBe('confirm');
  });

  it('takes a branch naming a currency only for an amount in it, and shows each branch’s currency', async () => {
    await largePurchases('buy-large-either', {
      large: amountAtLeast(500_000),
      large_usd: amountAtLeast(70_000, 'USD'),
    });
    const read = await ok(
      young(
        `{ serviceFlow(key: "buy-large-either", version: 1) { steps { id next { when { currency } } } } }`,
      ),
    );
    const select = (
      read.serviceFlow.steps as { id: string; next: { when: { currency: string } | null }[] }[]
    ).find((step) => step.id === 'select')!;
    expect(select.next.map((edge) => edge.when?.currency ?? null)).toEqual(['CNY', 'USD', null]);
    // 600,000 USD is at least 70,000 USD, not at least 500,000 CNY; 100,000 CNY is neither.
    expect(await nextAfter('buy-large-either', 'P-WM-902', 600_000)).toBe('large_usd');
    expect(await nextAfter('buy-large-either', 'P-WM-902', 10_000)).toBe('confirm');
    expect(await nextAfter('buy-large-either', 'P-WM-008', 100_000)).toBe('confirm');
    expect(await nextAfter('buy-large-either', 'P-WM-008', 600_000)).toBe('large');
  });
});

describe('session expiry', () => {
  it('refuses to advance an expired session, and marks it expired', async () => {
    const session = (await ok(young(START, { key: 'open-account' }))).startFlowSession.id;
    await hub.connections.products
      .collection<{ _id: string }>('flow_sessions')
      .updateOne({ _id: session }, { $set: { expiresAt: new Date(Date.now() - 1_000) } });
    const late = await young(ADVANCE, {
      session,
      step: 'identity',
      output: { verified: true },
      key: 'too-late-0001',
    });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'EXPIRED' });
    expect((await ok(young(`{ flowSession(id: "${session}") { status } }`))).flowSession.status).toBe(
      'EXPIRED',
    );
  });

  it('reads a session past expiresAt as EXPIRED before anyone advances it', async () => {
    const started = (await ok(young(START, { key: 'open-account' }))).startFlowSession;
    expect(started.status).toBe('ACTIVE');
    await hub.connections.products
      .collection<{ _id: string }>('flow_sessions')
      .updateOne({ _id: started.id }, { $set: { expiresAt: new Date(Date.now() - 1_000) } });
    const read = await ok(young(`{ flowSession(id: "${started.id}") { status currentStep { id } } }`));
    // Nothing is left to complete: an expired session has no current step.
    expect(read.flowSession).toEqual({ status: 'EXPIRED', currentStep: null });
    // Reading changes nothing stored; the next advance refuses it as expired, as the read said.
    expect((await storedSession(started.id)).status).toBe('ACTIVE');
    const late = await young(ADVANCE, {
      session: started.id,
      step: 'identity',
      output: { verified: true },
      key: 'read-late-0001',
    });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'EXPIRED' });
  });
});

describe('withdrawing a version found wrong', () => {
  const RETIRE = `mutation ($flowId: ID!, $endSessions: Boolean) {
    retireFlow(flowId: $flowId, endSessions: $endSessions) { status sessionsEndedAt }
  }`;
  const READ = `query ($id: ID!) { flowSession(id: $id) { status endReason currentStep { id } } }`;
  const SIGNED = { signed: true, signedAt: '2026-11-25T08:00:00Z' };
  const threeSignatures = (key: string) =>
    publishedFlow(
      key,
      [signing('first'), signing('second'), signing('third', true)],
      [
        { from: 'first', to: 'second' },
        { from: 'second', to: 'third' },
      ],
    );
  const start = async (member: Send, key: string): Promise<string> =>
    (await ok(member(START, { key }))).startFlowSession.id;
  const sign = (member: Send, session: string, step: string, key: string) =>
    member(ADVANCE, { session, step, output: SIGNED, key });
  const sessionsEnded = async (flowId: string) =>
    (
      await hub.connections.products
        .collection<{ targetId: string; action: string; after: { sessionsEnded: number } }>('audit_log')
        .find({ targetId: flowId, action: 'retireFlow (sessions ended)' })
        .sort({ at: 1 })
        .toArray()
    ).map((entry) => entry.after.sessionsEnded);

  it('ends every open session WITHDRAWN with a reason; none advances again, and earlier keys replay', async () => {
    await threeSignatures('withdrawn-terms');
    const flowId = 'SF-withdrawn-terms-v1';
    const walked = await start(young, 'withdrawn-terms');
    const first = await ok(sign(young, walked, 'first', 'withdrawn-first-1'));
    const others = [await start(wealthy, 'withdrawn-terms'), await start(young, 'withdrawn-terms')];
    const done = await start(wealthy, 'withdrawn-terms');
    for (const step of ['first', 'second', 'third'])
      await ok(sign(wealthy, done, step, `withdrawn-done-${step}`));

    const retired = (await ok(builder(RETIRE, { flowId, endSessions: true }))).retireFlow;
    expect(retired).toEqual({ status: 'RETIRED', sessionsEndedAt: expect.any(String) });
    for (const [member, id] of [
      [young, walked],
      [wealthy, others[0]!],
      [young, others[1]!],
    ] as const) {
      expect((await ok(member(READ, { id }))).flowSession).toEqual({
        status: 'WITHDRAWN',
        endReason: expect.stringContaining('withdrawn-terms'),
        currentStep: null,
      });
    }
    // A session that completed before stays completed.
    expect((await ok(wealthy(READ, { id: done }))).flowSession).toMatchObject({ status: 'COMPLETED' });
    expect(await sessionsEnded(flowId)).toEqual([3]);

    const before = await storedSession(walked);
    const refused = await sign(young, walked, 'second', 'withdrawn-second-1');
    expect(errorCodes(refused)).toEqual(['FAILED_PRECONDITION']);
    expect(refused.errors?.[0]?.extensions?.reason).toBe('FLOW_WITHDRAWN');
    expect(refused.errors?.[0]?.message).toContain('withdrawn-terms');
    expect(await storedSession(walked)).toEqual(before);
    expect(before).toMatchObject({ status: 'WITHDRAWN', currentStepId: 'second', revision: 2 });
    expect(before.history.map((entry) => entry.idempotencyKey)).toEqual(['withdrawn-first-1']);
    // The step recorded before answers as recorded: it completed nothing and led to `second`.
    const replayed = await ok(sign(young, walked, 'first', 'withdrawn-first-1'));
    expect(replayed.advanceFlow).toMatchObject({
      completed: first.advanceFlow.completed,
      nextStep: first.advanceFlow.nextStep,
    });
    expect(await storedSession(walked)).toEqual(before);
    expect(errorCodes(await young(START, { key: 'withdrawn-terms' }))).toEqual(['NOT_FOUND']);

    // Again: nothing more to end, the version unchanged; without endSessions a retired version is refused, as before.
    expect((await ok(builder(RETIRE, { flowId, endSessions: true }))).retireFlow).toEqual(retired);
    expect(await sessionsEnded(flowId)).toEqual([3, 0]);
    expect(errorCodes(await builder(RETIRE, { flowId }))).toEqual(['FAILED_PRECONDITION']);
    expect(errorCodes(await young(RETIRE, { flowId, endSessions: true }))).toEqual(['FORBIDDEN']);

    // Its replacement runs: the next version is no withdrawn one.
    const next = (await ok(builder(`mutation { createFlowDraft(key: "withdrawn-terms") { id } }`)))
      .createFlowDraft.id as string;
    await publish(next);
    const fresh = await start(young, 'withdrawn-terms');
    expect((await ok(sign(young, fresh, 'first', 'withdrawn-next-1'))).advanceFlow.nextStep).toEqual({
      id: 'second',
    });
  });

  it('ends a session started as its version was withdrawn at its first advance, recording nothing', async () => {
    await threeSignatures('withdrawn-late');
    const late = await start(young, 'withdrawn-late');
    await ok(builder(RETIRE, { flowId: 'SF-withdrawn-late-v1', endSessions: true }));
    // As a start that read the version published and stored its session after the open ones were ended.
    await hub.connections.products
      .collection<{ _id: string }>('flow_sessions')
      .updateOne(
        { _id: late },
        { $set: { status: 'ACTIVE', expiresAt: new Date(Date.now() + 600_000) }, $unset: { endReason: '' } },
      );
    const refused = await sign(young, late, 'first', 'withdrawn-late-1');
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'FLOW_WITHDRAWN',
    });
    expect(await storedSession(late)).toMatchObject({
      status: 'WITHDRAWN',
      currentStepId: 'first',
      history: [],
    });
  });

  it('leaves started sessions running when a version is retired without endSessions, as a replacement does', async () => {
    await threeSignatures('retired-terms');
    const session = await start(young, 'retired-terms');
    expect((await ok(builder(RETIRE, { flowId: 'SF-retired-terms-v1' }))).retireFlow).toEqual({
      status: 'RETIRED',
      sessionsEndedAt: null,
    });
    const advanced = await ok(sign(young, session, 'first', 'retired-first-1'));
    expect(advanced.advanceFlow.session).toMatchObject({ status: 'ACTIVE', currentStep: { id: 'second' } });
    expect(await sessionsEnded('SF-retired-terms-v1')).toEqual([]);
  });

  it('never records a step after the retirement ended the session, however advances race it', async () => {
    await threeSignatures('raced-terms');
    const members = [young, wealthy];
    const sessions: { member: Send; id: string }[] = [];
    for (const member of members)
      for (let i = 0; i < 5; i++) sessions.push({ member, id: await start(member, 'raced-terms') });
    const advance = ({ member, id }: { member: Send; id: string }) =>
      sign(member, id, 'first', `raced-${id}`);
    const answers = await Promise.all([
      ...sessions.slice(0, 5).map(advance),
      builder(RETIRE, { flowId: 'SF-raced-terms-v1', endSessions: true }).then(() => null),
      ...sessions.slice(5).map(advance),
    ]);
    const advanced = answers.filter((answer): answer is GraphQLResponse => answer !== null);
    for (const [i, answer] of advanced.entries()) {
      const stored = await storedSession(sessions[i]!.id);
      // Ended after its step or before it: either way the step's answer is what is stored, and nothing after.
      expect(stored.status).toBe('WITHDRAWN');
      if (answer.errors) {
        expect(answer.errors[0]?.extensions?.reason).toBe('FLOW_WITHDRAWN');
        expect(stored).toMatchObject({ currentStepId: 'first', history: [], revision: 1 });
      } else {
        expect(stored).toMatchObject({ currentStepId: 'second', revision: 2 });
        expect(stored.history).toHaveLength(1);
      }
    }
    // What the retirement ended itself: an advance that saw the version withdrawn first ends its own session.
    expect(await sessionsEnded('SF-raced-terms-v1')).toEqual([expect.any(Number)]);
  });
});

describe('open sessions per member', () => {
  const openOf = (memberId: string) =>
    hub.connections.products
      .collection('flow_sessions')
      .countDocuments({ memberId, status: 'ACTIVE', expiresAt: { $gt: new Date() } });

  it('keeps at most five open sessions of a flow per member, ending the one that would expire first', async () => {
    const member = await callerOf(hub.gatewayUrl, 'M0011', 'member');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++)
      ids.push((await ok(member(START, { key: 'open-account' }))).startFlowSession.id);
    expect(await openOf('M0011')).toBe(5);
    const read = async (id: string) =>
      (await ok(member(`{ flowSession(id: "${id}") { status } }`))).flowSession;
    expect(await read(ids[0]!)).toEqual({ status: 'EXPIRED' });
    const evicted = await ok(member(`{ flowSession(id: "${ids[0]}") { currentStep { id } } }`));
    expect(evicted.flowSession).toEqual({ currentStep: null });
    for (const id of ids.slice(1)) expect(await read(id)).toEqual({ status: 'ACTIVE' });
    const late = await member(ADVANCE, {
      session: ids[0],
      step: 'identity',
      output: { verified: true },
      key: 'evicted-0001',
    });
    expect(late.errors?.[0]?.extensions).toMatchObject({ code: 'FAILED_PRECONDITION', reason: 'EXPIRED' });
    // A completed session frees its slot: the next start ends nobody.
    const done = ids[1]!;
    const outputs: [string, unknown][] = [
      ['identity', { verified: true }],
      ['terms', { signed: true, signedAt: new Date().toISOString() }],
      ['open', { accountId: 'AC-0001' }],
    ];
    for (const answer of await advanceSteps({ memberId: 'M0011', send: member }, done, outputs, ADVANCE))
      expect(answer.errors).toBeUndefined();
    expect(await read(done)).toEqual({ status: 'COMPLETED' });
    ids.push((await ok(member(START, { key: 'open-account' }))).startFlowSession.id);
    for (const id of ids.slice(2)) expect(await read(id)).toEqual({ status: 'ACTIVE' });
    expect(await openOf('M0011')).toBe(5);
    // Another flow has slots of its own.
    await ok(member(START, { key: 'buy-wealth' }));
    expect(await openOf('M0011')).toBe(6);
  });

  it('holds the bound for starts sent at once', async () => {
    const member = await callerOf(hub.gatewayUrl, 'M0012', 'member');
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => member(START, { key: 'open-account' })),
    );
    for (const answer of answers) if (answer.errors) expect(errorCodes(answer)).toEqual(['CONFLICT']);
    expect(answers.some((answer) => !answer.errors)).toBe(true);
    expect(await openOf('M0012')).toBeLessThanOrEqual(5);
  });

  it('purges sessions abandoned more than a day ago, keeping the rest and every completed one', async () => {
    const member = await callerOf(hub.gatewayUrl, 'M0013', 'member');
    const old = (await ok(member(START, { key: 'open-account' }))).startFlowSession.id;
    const completed = (await ok(member(START, { key: 'open-account' }))).startFlowSession.id;
    const fresh = (await ok(member(START, { key: 'open-account' }))).startFlowSession.id;
    const sessions = hub.connections.products.collection<{ _id: string }>('flow_sessions');
    const dayAndMoreAgo = new Date(Date.now() - 25 * 3_600_000);
    await sessions.updateOne({ _id: old }, { $set: { expiresAt: dayAndMoreAgo } });
    await sessions.updateOne(
      { _id: completed },
      { $set: { expiresAt: dayAndMoreAgo, status: 'COMPLETED' }, $unset: { openSlot: 1 } },
    );
    expect(await purgeAbandonedSessions(await openProducts(hub.connections.products), new Date())).toBe(1);
    expect(errorCodes(await member(`{ flowSession(id: "${old}") { status } }`))).toEqual(['NOT_FOUND']);
    expect((await ok(member(`{ flowSession(id: "${completed}") { status } }`))).flowSession.status).toBe(
      'COMPLETED',
    );
    expect((await ok(member(`{ flowSession(id: "${fresh}") { status } }`))).flowSession.status).toBe(
      'ACTIVE',
    );
  });
});

describe('what the channels read of a flow', () => {
  const READ = '{ serviceFlow(key: "open-account") { key updatedBy } }';

  it('shows members and guests the published flow but not which builder changed it last', async () => {
    // The field alone is withheld: the rest of the flow still comes.
    const asMember = await young(READ);
    expect(errorCodes(asMember)).toEqual(['FORBIDDEN']);
    expect(asMember.data?.serviceFlow).toEqual({ key: 'open-account', updatedBy: null });
    const asNobody = await graphql(hub.gatewayUrl, READ);
    expect(errorCodes(asNobody)).toEqual(['UNAUTHENTICATED']);
    expect(asNobody.data?.serviceFlow).toEqual({ key: 'open-account', updatedBy: null });
    expect(await ok(young('{ serviceFlow(key: "open-account") { key status } }'))).toEqual({
      serviceFlow: { key: 'open-account', status: 'PUBLISHED' },
    });
    expect(await ok(builder(READ))).toEqual({
      serviceFlow: { key: 'open-account', updatedBy: 'builder.seed' },
    });
  });
});

describe('bundles', () => {
  const BUNDLES = '{ viewer { riskLevel eligibleBundles { id products { id riskLevel status } } } }';
  const rank = (level: string) => Number(level.slice(1));

  it.each([
    ['M0001', () => young, ['BD-STARTER']],
    ['M0002', () => wealthy, ['BD-GROWTH', 'BD-STEADY']],
  ] as [string, () => Send, string[]][])(
    'offers %s only bundles whose every product suits them',
    async (_id, member, expected) => {
      const viewer = (await ok(member()(BUNDLES))).viewer;
      expect(viewer.eligibleBundles.map((bundle: { id: string }) => bundle.id)).toEqual(expected);
      for (const bundle of viewer.eligibleBundles) {
        for (const product of bundle.products)
          expect(rank(product.riskLevel)).toBeLessThanOrEqual(rank(viewer.riskLevel));
      }
    },
  );
  it("keeps a bundle's targeting rule from the members it is offered to, as every other audience rule", async () => {
    const answer = await wealthy('{ viewer { eligibleBundles { id rule } } }');
    expect(errorCodes(answer)).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    expect(answer.data?.viewer.eligibleBundles).toEqual([
      { id: 'BD-GROWTH', rule: null },
      { id: 'BD-STEADY', rule: null },
    ]);
  });

  it('names only real benefits in the seed: each is a published benefit of engagement', async () => {
    const ids = [...new Set(SEEDED_BUNDLES.flatMap((bundle) => bundle.benefitIds))];
    expect(ids.length).toBeGreaterThan(0);
    const { benefitsByIds } = await ok(
      builder(`query ($ids: [ID!]!) { benefitsByIds(ids: $ids) { id status } }`, { ids }),
    );
    expect(benefitsByIds).toEqual(ids.map((id) => ({ id, status: 'PUBLISHED' })));
  });

  it('shows with a bundle the benefits it grants, resolved by engagement; an id that is no offered benefit is left out', async () => {
    const BENEFITS = '{ viewer { eligibleBundles { id benefitIds benefits { id title kind } } } }';
    expect((await ok(young(BENEFITS))).viewer.eligibleBundles).toEqual([
      {
        id: 'BD-STARTER',
        benefitIds: ['B-WELCOME-50'],
        benefits: [{ id: 'B-WELCOME-50', title: expect.any(String), kind: 'COUPON' }],
      },
    ]);
    const products = await openProducts(hub.connections.products);
    await products.bundles.model.updateOne(
      { _id: 'BD-STEADY' },
      { $set: { benefitIds: ['B-NOPE', 'B-SPRING-DRAFT', 'B-LV-RATE'] } },
    );
    await changedBehindTheHubsBack(hub.connections.products);
    const steady = (await ok(wealthy(BENEFITS))).viewer.eligibleBundles.find(
      (bundle: { id: string }) => bundle.id === 'BD-STEADY',
    );
    expect(steady.benefits.map((benefit: { id: string }) => benefit.id)).toEqual(['B-LV-RATE']);
  });
});
