// Flow sessions over HTTP against the seeded flows: what a step refuses whatever the flow's edges say, and what a
// session start or a flow read costs however many versions a flow has had.
import type { CommandSucceededEvent } from 'mongodb';
import type { ServiceFlowDoc } from '../src/models/service-flow';
import { FLOWS } from '../src/seed-flows';
import { changedBehindTheHubsBack } from '../../../test/support/env';
import { ADVANCE, advanceSteps } from '../../../test/support/flows';
import { startProducts, type ProductsUnderTest, type Send } from './support';

let products: ProductsUnderTest;
let member: Send;

/** buy-wealth without its risk assessment: alone, products has no members to record an assessment at. */
const SELECT_WEALTH: ServiceFlowDoc = (() => {
  const seeded = FLOWS.find((flow) => flow.key === 'buy-wealth')!;
  return {
    ...seeded,
    _id: 'SF-select-wealth-v1',
    key: 'select-wealth',
    startStepId: 'select',
    steps: seeded.steps
      .filter((step) => step.id !== 'assess')
      .map((step) =>
        step.id === 'select'
          ? {
              ...step,
              inputs: step.inputs.map((input) =>
                input.input === 'maxRiskLevel'
                  ? { input: 'maxRiskLevel', fromStep: null, fromOutput: null, constant: 'R3' }
                  : input,
              ),
            }
          : step,
      ),
  };
})();

beforeAll(async () => {
  products = await startProducts('sessions');
  member = products.as('M0001', ['member']);
  await products.repos.flows.model.insertMany([SELECT_WEALTH]);
});

afterAll(() => products.stop());

const START = `mutation ($key: String!) { startFlowSession(flowKey: $key) { id } }`;
/**
 * Starts a session of `key` and completes `steps` in order (those the bank performs with its attestation); returns the
 * session and the first refusal's extensions.
 */
async function walk(key: string, steps: [string, unknown][]) {
  const started = await member(START, { key });
  expect(started.errors).toBeUndefined();
  const session = started.data?.startFlowSession.id as string;
  const answers = await advanceSteps({ memberId: 'M0001', send: member }, session, steps, ADVANCE);
  return { session, refused: answers.find((answer) => answer.errors)?.errors?.[0]?.extensions };
}

const stored = async (id: string) => (await products.repos.sessions.ofMember('M0001', id))!;

describe('amounts a member selects', () => {
  // P-WM-008: WEALTH, R3, sold on the mini-program, minimum 10,000 CNY; at most 5,000,000 per purchase, as set here.
  beforeAll(async () => {
    await products.repos.products.model.updateOne({ _id: 'P-WM-008' }, { maxAmount: 5_000_000 });
    await changedBehindTheHubsBack(products.repos.products.model.db);
  });

  it.each<[string, unknown, string]>([
    ['nothing', 0, 'INVALID_AMOUNT'],
    ['a negative amount', -10_000, 'INVALID_AMOUNT'],
    ['a fraction of a cent', 10_000.001, 'INVALID_AMOUNT'],
    ['an amount too large for cents to be exact', 1e308, 'ABOVE_MAXIMUM'],
    ['2^53 + 1 cents', (2 ** 53 + 1) / 100, 'ABOVE_MAXIMUM'],
    ['a cent more than the maximum', 5_000_000.01, 'ABOVE_MAXIMUM'],
    ['less than the minimum', 9_999.99, 'BELOW_MINIMUM'],
  ])('refuses %s as BAD_USER_INPUT on output.amount, storing nothing', async (_what, amount, reason) => {
    const { session, refused } = await walk('select-wealth', [['select', { productId: 'P-WM-008', amount }]]);
    expect(refused).toMatchObject({ code: 'BAD_USER_INPUT', field: 'output.amount', reason });
    expect(await stored(session)).toMatchObject({ currentStepId: 'select', revision: 0 });
  });

  // A large purchase goes on to its disclosure first.
  it.each([
    [10_000.5, 'confirm'],
    [5_000_000, 'disclose'],
  ])(
    'takes %j: at least the minimum, at most the maximum, in whole cents (on to %s)',
    async (amount, next) => {
      const { session, refused } = await walk('select-wealth', [
        ['select', { productId: 'P-WM-008', amount }],
      ]);
      expect(refused).toBeUndefined();
      expect(await stored(session)).toMatchObject({ currentStepId: next, revision: 1 });
    },
  );

  it('shows each product’s maximum per purchase: its own, or the hub-wide ceiling', async () => {
    const read = await member(
      `{ own: product(id: "P-WM-008") { maxAmount } none: product(id: "P-DP-001") { maxAmount } }`,
    );
    expect(read.errors).toBeUndefined();
    expect(read.data).toEqual({ own: { maxAmount: 5_000_000 }, none: { maxAmount: 1_000_000_000_000 } });
  });
});

describe('opening an account', () => {
  const identity = (verified: boolean): [string, unknown] => ['identity', { verified }];
  const terms = (signed: boolean): [string, unknown] => [
    'terms',
    { signed, signedAt: '2026-11-25T08:00:00+08:00' },
  ];
  const open: [string, unknown] = ['open', { accountId: 'A-0001' }];

  it.each<[string, [string, unknown][], string]>([
    ['a member whose identity check failed', [identity(false), terms(true), open], 'UNVERIFIED'],
    ['a member who declined the account terms', [identity(true), terms(false), open], 'AGREEMENT_NOT_SIGNED'],
  ])('is refused for %s, leaving the session at the step', async (_who, steps, reason) => {
    const { session, refused } = await walk('open-account', steps);
    expect(refused).toMatchObject({ code: 'FAILED_PRECONDITION', reason });
    expect(await stored(session)).toMatchObject({ status: 'ACTIVE', currentStepId: 'open', revision: 2 });
  });

  it('completes for a verified member who signed', async () => {
    const { session, refused } = await walk('open-account', [identity(true), terms(true), open]);
    expect(refused).toBeUndefined();
    expect(await stored(session)).toMatchObject({ status: 'COMPLETED', currentStepId: null });
  });
});

describe('a flow with many versions', () => {
  const VERSIONS = 30;

  beforeAll(async () => {
    // buy-wealth as it would be after 30 publications: the first 29 retired, the last one published.
    const seeded = FLOWS.find((flow) => flow.key === 'buy-wealth')!;
    const versions: ServiceFlowDoc[] = Array.from({ length: VERSIONS }, (_v, i) => ({
      ...seeded,
      _id: `SF-many-versions-v${i + 1}`,
      key: 'many-versions',
      version: i + 1,
      status: i + 1 === VERSIONS ? 'PUBLISHED' : 'RETIRED',
    }));
    await products.repos.flows.model.insertMany(versions);
  });

  /** Flow versions the database sends back while running `action`. */
  async function flowVersionsRead(action: () => Promise<unknown>): Promise<number> {
    let read = 0;
    const count = (event: CommandSucceededEvent) => {
      const reply = event.reply as { cursor?: { firstBatch?: unknown[]; ns?: string } };
      if (event.commandName === 'find' && reply.cursor?.ns?.endsWith('.service_flows'))
        read += reply.cursor.firstBatch?.length ?? 0;
    };
    const client = products.connection.getClient();
    client.on('commandSucceeded', count);
    try {
      await action();
    } finally {
      client.off('commandSucceeded', count);
    }
    return read;
  }

  it('reads only the published version to serve it or start a session on it', async () => {
    const read = await flowVersionsRead(async () => {
      const flow = await member('{ serviceFlow(key: "many-versions") { version status } }');
      expect(flow.data?.serviceFlow).toEqual({ version: VERSIONS, status: 'PUBLISHED' });
      const started = await member(START, { key: 'many-versions' });
      expect(started.errors).toBeUndefined();
    });
    expect(read).toBe(2);
  });

  it('reads only the version asked for', async () => {
    const read = await flowVersionsRead(async () => {
      const flow = await member('{ serviceFlow(key: "many-versions", version: 3) { version status } }');
      expect(flow.data?.serviceFlow).toEqual({ version: 3, status: 'RETIRED' });
    });
    expect(read).toBe(1);
  });
});
