// Flow steps the bank performs (identity check, risk assessment, account, order) through the gateway: recorded only
// with the attestation of the bank system that performed them, never on the member's app's word; an attested risk
// assessment becomes the member's risk tolerance at members, which later purchases go by.
import type { RunningHub } from '../scripts/hub';
import { attestStep } from '../subgraphs/products/src/flows/attestation';
import { callerOf, graphql, internalIdentity, type GraphQLResponse, type Send } from './support/env';
import {
  ADVANCE,
  OPEN_INPUTS,
  advanceSteps,
  attestation,
  copyOfMember,
  type MemberApp,
} from './support/flows';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Send;

beforeAll(async () => {
  hub = await startTestHub('flow_attestation');
  operator = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
});

afterAll(() => stopTestHub(hub));

let copies = 0;
/** A member of the test's own, as M0001 (R1) or M0002 (R5) is seeded. */
const memberLike = (seeded: 'M0001' | 'M0002') =>
  copyOfMember(hub.gatewayUrl, hub.connections.members, seeded, `ATT-${seeded}-${++copies}`);

async function start(app: MemberApp, key: string): Promise<string> {
  const started = await app.send(`mutation ($key: String!) { startFlowSession(flowKey: $key) { id } }`, {
    key,
  });
  expect(started.errors).toBeUndefined();
  return started.data?.startFlowSession.id as string;
}

const storedSession = (id: string) =>
  hub.connections.products
    .collection<{ _id: string; revision: number; history: unknown[] }>('flow_sessions')
    .findOne({ _id: id });

const riskOf = async (app: MemberApp) =>
  (await app.send('{ viewer { riskLevel riskAssessedAt } }')).data?.viewer as {
    riskLevel: string;
    riskAssessedAt: string | null;
  };

const RISK_ASSESSMENTS = `mutation ($memberId: ID!, $riskLevel: RiskLevel!, $score: Float!, $assessedAt: DateTime!) {
  recordRiskAssessment(memberId: $memberId, riskLevel: $riskLevel, score: $score, assessedAt: $assessedAt) {
    riskLevel riskAssessedAt
  }
}`;

it('marks in the catalogue which services the bank performs', async () => {
  const answer = await graphql(hub.gatewayUrl, '{ serviceCatalog { code performedBy } }');
  const bank = (answer.data?.serviceCatalog as { code: string; performedBy: string }[])
    .filter((service) => service.performedBy === 'BANK')
    .map((service) => service.code);
  expect(bank.sort()).toEqual(['CONFIRM_PURCHASE', 'IDENTITY_CHECK', 'OPEN_ACCOUNT', 'RISK_ASSESSMENT']);
});

describe('an account the member says was opened', () => {
  const OUTPUT = { accountId: 'AC-curl' };

  /** An open-account session at its `open` step, with an identity check and the terms done. */
  async function atOpen(app: MemberApp): Promise<string> {
    const session = await start(app, 'open-account');
    const answers = await advanceSteps(app, session, [
      ['identity', { verified: true }],
      ['terms', { signed: true, signedAt: new Date().toISOString() }],
    ]);
    expect(answers.map((answer) => answer.errors)).toEqual([undefined, undefined]);
    return session;
  }

  const open = (app: MemberApp, session: string, attestation: string | undefined, output: unknown = OUTPUT) =>
    app.send(ADVANCE, { session, step: 'open', output, key: `${session}-open`, attestation });

  it.each<[string, (memberId: string, session: string) => string | undefined, Record<string, unknown>]>([
    ['without an attestation', () => undefined, { code: 'BAD_USER_INPUT', reason: 'ATTESTATION_REQUIRED' }],
    ['with a malformed one', () => 'yes-the-bank-did-it', { code: 'INVALID_SIGNATURE' }],
    [
      'with one signed with another secret',
      (memberId, session) =>
        attestStep(
          'x'.repeat(40),
          { memberId, sessionId: session, stepId: 'open', inputs: OPEN_INPUTS, output: OUTPUT },
          new Date(),
        ),
      { code: 'INVALID_SIGNATURE' },
    ],
    [
      'with one more than five minutes old',
      (memberId, session) =>
        attestation(memberId, session, 'open', OUTPUT, {
          inputs: OPEN_INPUTS,
          at: new Date(Date.now() - 301_000),
        }),
      { code: 'INVALID_SIGNATURE', reason: 'EXPIRED' },
    ],
    [
      'with one given for another step of the session',
      (memberId, session) => attestation(memberId, session, 'identity', OUTPUT),
      { code: 'INVALID_SIGNATURE' },
    ],
    [
      'with one given for another account',
      (memberId, session) =>
        attestation(memberId, session, 'open', { accountId: 'AC-real' }, { inputs: OPEN_INPUTS }),
      { code: 'INVALID_SIGNATURE' },
    ],
    [
      "with one given for another member's session",
      (_memberId, session) => attestation('M0002', session, 'open', OUTPUT, { inputs: OPEN_INPUTS }),
      { code: 'INVALID_SIGNATURE' },
    ],
  ])('is refused %s, and nothing is recorded or rewarded', async (_how, attest, refusal) => {
    const app = await memberLike('M0001');
    const session = await atOpen(app);
    const answer = await open(app, session, attest(app.memberId, session));
    expect(answer.errors?.[0]?.extensions).toMatchObject({ field: 'attestation', ...refusal });
    expect(await storedSession(session)).toMatchObject({ revision: 2 });
    expect((await storedSession(session))?.history).toHaveLength(2);
    expect(
      await hub.connections.products
        .collection<{ _id: string }>('event_relay')
        .countDocuments({ _id: session }),
    ).toBe(0);
  });

  it('completes with the bank’s attestation, and a replay under the same key answers the same', async () => {
    const app = await memberLike('M0001');
    const session = await atOpen(app);
    const attested = attestation(app.memberId, session, 'open', OUTPUT, { inputs: OPEN_INPUTS });
    const first = await open(app, session, attested);
    expect(first.errors).toBeUndefined();
    expect(first.data?.advanceFlow).toEqual({ completed: true });
    // The app retries with what it sent, or without the attestation: the answer is the one recorded.
    expect(await open(app, session, attested)).toEqual(first);
    expect(await open(app, session, undefined)).toEqual(first);
    expect(await storedSession(session)).toMatchObject({ revision: 3 });
  });

  it('takes no attestation for a step the member performs', async () => {
    const app = await memberLike('M0001');
    const session = await start(app, 'open-account');
    await advanceSteps(app, session, [['identity', { verified: true }]]);
    const output = { signed: true, signedAt: new Date().toISOString() };
    const answer = await app.send(ADVANCE, {
      session,
      step: 'terms',
      output,
      key: `${session}-terms`,
      attestation: attestation(app.memberId, session, 'terms', output),
    });
    expect(answer.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'attestation',
      reason: 'NOT_ATTESTED_SERVICE',
    });
  });
});

describe('a risk assessment', () => {
  it('is refused on the member’s word, and their tolerance stays', async () => {
    const app = await memberLike('M0001');
    const session = await start(app, 'buy-wealth');
    const answer = await app.send(ADVANCE, {
      session,
      step: 'assess',
      output: { riskLevel: 'R5', score: 99 },
      key: `${session}-0`,
    });
    expect(answer.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'attestation',
      reason: 'ATTESTATION_REQUIRED',
    });
    expect(await riskOf(app)).toEqual({ riskLevel: 'R1', riskAssessedAt: null });
  });

  it('attested, becomes the member’s tolerance at members, and a purchase now suitable goes ahead', async () => {
    const app = await memberLike('M0001');
    const session = await start(app, 'buy-wealth');
    // P-WM-011: WEALTH, R4, on the mini-program, minimum 1,000 — above the R1 M0001 was seeded with.
    const answers = await advanceSteps(app, session, [
      ['assess', { riskLevel: 'R4', score: 82 }],
      ['select', { productId: 'P-WM-011', amount: 5_000 }],
      ['confirm', { orderId: `O-${session.slice(-8)}`, confirmed: true }],
    ]);
    expect(answers.map((answer) => answer.errors)).toEqual([undefined, undefined, undefined]);
    expect(answers.at(-1)?.data?.advanceFlow).toEqual({ completed: true });
    const risk = await riskOf(app);
    expect(risk.riskLevel).toBe('R4');
    expect(Date.now() - Date.parse(risk.riskAssessedAt!)).toBeLessThan(60_000);
    const staff = await operator(`{ member(id: "${app.memberId}") { riskLevel riskAssessedAt } }`);
    expect(staff.data?.member).toEqual(risk);
    const audit = await hub.connections.members
      .collection('audit_log')
      .find({ action: 'recordRiskAssessment', targetId: app.memberId })
      .toArray();
    expect(audit).toEqual([
      expect.objectContaining({
        actor: 'svc.products',
        before: { riskLevel: 'R1', score: null, assessedAt: null },
        after: expect.objectContaining({
          riskLevel: 'R4',
          score: 82,
          reference: expect.stringContaining(session),
        }),
      }),
    ]);
  });

  it('assessed again since, lower, decides the purchase of a session that assessed higher', async () => {
    const app = await memberLike('M0002');
    const buying = await start(app, 'buy-wealth');
    const picked = await advanceSteps(app, buying, [
      ['assess', { riskLevel: 'R4', score: 80 }],
      ['select', { productId: 'P-WM-011', amount: 5_000 }],
    ]);
    expect(picked.map((answer) => answer.errors)).toEqual([undefined, undefined]);
    // A later assessment (another session; signed two seconds on, so it is the newer) says R1.
    const again = await start(app, 'buy-wealth');
    const lower = { riskLevel: 'R1', score: 10 };
    const assessed = await app.send(ADVANCE, {
      session: again,
      step: 'assess',
      output: lower,
      key: `${again}-0`,
      attestation: attestation(app.memberId, again, 'assess', lower, { at: new Date(Date.now() + 2_000) }),
    });
    expect(assessed.errors).toBeUndefined();
    expect((await riskOf(app)).riskLevel).toBe('R1');
    const order = { orderId: 'O-stale', confirmed: true };
    const confirm = await app.send(ADVANCE, {
      session: buying,
      step: 'confirm',
      output: order,
      key: `${buying}-confirm`,
      attestation: attestation(app.memberId, buying, 'confirm', order, {
        inputs: { productId: 'P-WM-011', amount: 5_000 },
      }),
    });
    expect(confirm.errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      reason: 'UNSUITABLE',
    });
  });
});

describe('a purchase', () => {
  const relayed = (session: string) =>
    hub.connections.products
      .collection<{ _id: string; properties: Record<string, unknown> }>('event_relay')
      .findOne({ _id: session });

  /** A buy-wealth session of an R4-assessed member; the order the bank placed is attested before the selection. */
  async function buying(placed: Record<string, unknown>, selected: Record<string, unknown>) {
    const app = await memberLike('M0001');
    const session = await start(app, 'buy-wealth');
    const order = { orderId: `O-${session.slice(-8)}`, confirmed: true };
    const attested = attestation(app.memberId, session, 'confirm', order, { inputs: placed });
    const walked = await advanceSteps(app, session, [
      ['assess', { riskLevel: 'R4', score: 82 }],
      ['select', selected],
    ]);
    expect(walked.map((answer) => answer.errors)).toEqual([undefined, undefined]);
    const confirm = await app.send(ADVANCE, {
      session,
      step: 'confirm',
      output: order,
      key: `${session}-confirm`,
      attestation: attested,
    });
    return { session, confirm };
  }

  it.each([
    ['another amount', { productId: 'P-WM-011', amount: 400_000 }],
    ['another product', { productId: 'P-WM-001', amount: 5_000 }],
  ])(
    'is refused when the bank placed the order for %s than the session selected, and nothing is recorded',
    async (_how, selected) => {
      const { session, confirm } = await buying({ productId: 'P-WM-011', amount: 5_000 }, selected);
      expect(confirm.errors?.[0]?.extensions).toMatchObject({
        code: 'INVALID_SIGNATURE',
        field: 'attestation',
      });
      expect(await storedSession(session)).toMatchObject({ revision: 2 });
      expect(await relayed(session)).toBeNull();
    },
  );

  it('completes as the bank placed it, and flow_completed carries the product’s amount', async () => {
    const placed = { productId: 'P-WM-011', amount: 5_000 };
    const { session, confirm } = await buying(placed, placed);
    expect(confirm.errors).toBeUndefined();
    expect(confirm.data?.advanceFlow).toEqual({ completed: true });
    expect((await relayed(session))?.properties).toMatchObject({ flowKey: 'buy-wealth', amount: 5_000 });
  });
});

describe('recordRiskAssessment', () => {
  const record = async (subject: string, scopes: string[], variables: Record<string, unknown>) =>
    graphql(hub.subgraphs.members.url, RISK_ASSESSMENTS, variables, {
      'x-hub-identity': await internalIdentity(subject, scopes),
    });
  const auditOf = (memberId: string) =>
    hub.connections.members
      .collection('audit_log')
      .countDocuments({ action: 'recordRiskAssessment', targetId: memberId });

  it('is the hub’s service’s alone: a member cannot set their own tolerance through the gateway', async () => {
    const app = await memberLike('M0001');
    const answer: GraphQLResponse = await app.send(RISK_ASSESSMENTS, {
      memberId: app.memberId,
      riskLevel: 'R5',
      score: 99,
      assessedAt: new Date().toISOString(),
    });
    expect(answer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await riskOf(app)).riskLevel).toBe('R1');
  });

  it('keeps the newest assessment: a repeat or an older one changes nothing, one dated ahead is refused', async () => {
    const app = await memberLike('M0001');
    const at = new Date(Date.now() - 60_000);
    const assessment = { memberId: app.memberId, riskLevel: 'R3', score: 55, assessedAt: at.toISOString() };
    const first = await record('svc.products', ['service'], assessment);
    expect(first.data?.recordRiskAssessment).toEqual({ riskLevel: 'R3', riskAssessedAt: at.toISOString() });
    expect(await record('svc.products', ['service'], assessment)).toEqual(first);
    const older = await record('svc.products', ['service'], {
      ...assessment,
      riskLevel: 'R5',
      assessedAt: new Date(at.getTime() - 1_000).toISOString(),
    });
    expect(older.data?.recordRiskAssessment).toEqual(first.data?.recordRiskAssessment);
    const ahead = await record('svc.products', ['service'], {
      ...assessment,
      assessedAt: new Date(Date.now() + 3_600_000).toISOString(),
    });
    expect(ahead.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'assessedAt' });
    expect(await auditOf(app.memberId)).toBe(1);
    expect((await riskOf(app)).riskLevel).toBe('R3');
    const unknown = await record('svc.products', ['service'], { ...assessment, memberId: 'NOBODY' });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
