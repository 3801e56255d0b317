// The operations console while two operators work on the same thing: a save or a workflow step the hub refuses says
// why, the screen reads what the hub holds now, and the operator goes on from there without losing what they typed.
import type { Browser, Page } from 'playwright-core';
import type { RunningHub } from '../scripts/hub';
import { launchBrowser, logInToConsole } from './support/browser';
import { callerOf, clientToken } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let browser: Browser;
let base: string;
let page: Page;

beforeAll(async () => {
  // The development issuer (/dev/token) exists in development only.
  hub = await startTestHub('console-conflicts', { config: { NODE_ENV: 'development' } });
  base = hub.gatewayUrl.replace(/\/graphql$/, '');
  browser = await launchBrowser();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(10_000);
});

afterEach(() => page.close());

afterAll(async () => {
  await browser?.close();
  await stopTestHub(hub);
});

const logIn = (operator: string) => logInToConsole(page, base, operator);
const operator = (id: string) => callerOf(hub.gatewayUrl, id, 'operator');

describe('segments', () => {
  const UPSERT = `mutation ($input: SegmentInput!, $expectedVersion: Int) {
    upsertSegment(input: $input, expectedVersion: $expectedVersion) { version }
  }`;
  const rule = { field: 'riskLevel', op: 'eq', value: 'R2' };
  const stored = async (code: string) =>
    (
      (await (await operator('ops.carol'))('{ segments { code name version } }')).data!.segments as {
        code: string;
      }[]
    ).find((segment) => segment.code === code);
  const name = () => page.getByLabel('Name', { exact: true });

  it('after an edit refused as changed since, shows the stored version beside the draft and saves the draft over it', async () => {
    const carol = await operator('ops.carol');
    await carol(UPSERT, { input: { code: 'RACE_EDIT', name: 'by carol', rule } });
    await logIn('ops.alice');
    await page.getByRole('button', { name: /^RACE_EDIT v1/ }).click();
    await name().fill('by alice');
    // Carol saves first, from the same version 1.
    const first = await carol(UPSERT, {
      input: { code: 'RACE_EDIT', name: 'by carol, first', rule },
      expectedVersion: 1,
    });
    expect(first.data?.upsertSegment).toEqual({ version: 2 });

    await page.getByRole('button', { name: 'Save segment' }).click();
    await page
      .getByRole('alert')
      .getByText(/changed since/)
      .waitFor();
    // The hub's stable code beside its sentence, as the README's table of errors names it.
    await page.getByRole('alert').getByText('CONFLICT', { exact: true }).waitFor();
    const conflict = page.getByRole('region', { name: 'RACE_EDIT as stored now' });
    await conflict.getByText('by carol, first').waitFor();
    await page.getByRole('button', { name: /^RACE_EDIT v2/ }).waitFor();
    await expect(name().inputValue()).resolves.toBe('by alice');

    await conflict.getByRole('button', { name: 'Keep my draft, over version 2' }).click();
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Save segment' }).click();
    await page.getByText(/^Saved RACE_EDIT/).waitFor();
    await expect(stored('RACE_EDIT')).resolves.toEqual({ code: 'RACE_EDIT', name: 'by alice', version: 3 });
    await page.getByRole('button', { name: /^RACE_EDIT v3/ }).waitFor();
  });

  it('after a create refused because the code exists, loads the stored segment when asked', async () => {
    await logIn('ops.alice');
    await page.getByRole('button', { name: 'New segment' }).click();
    await page.getByLabel('Code').fill('RACE_CREATE');
    await name().fill('by alice');
    // Carol creates the same code while Alice types.
    await (
      await operator('ops.carol')
    )(UPSERT, { input: { code: 'RACE_CREATE', name: 'by carol', rule } });

    await page.getByRole('button', { name: 'Save segment' }).click();
    await page
      .getByRole('alert')
      .getByText(/exists already/)
      .waitFor();
    const conflict = page.getByRole('region', { name: 'RACE_CREATE as stored now' });
    await conflict.getByRole('button', { name: 'Load version 1' }).click();
    await expect(name().inputValue()).resolves.toBe('by carol');
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    await expect(stored('RACE_CREATE')).resolves.toEqual({
      code: 'RACE_CREATE',
      name: 'by carol',
      version: 1,
    });
  });
});

describe('review queue', () => {
  const banner = (name: string) => ({
    pageId: 'PG-APP-home',
    slotCode: 'hero',
    name,
    kind: 'BANNER',
    title: `${name}, reviewed`,
    imageUrl: 'https://cdn.example/race.jpg',
    link: '/x',
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '2027-01-01T00:00:00Z',
  });
  const CREATE = `mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`;
  const SUBMIT = `mutation ($id: ID!) { submitForReview(target: { type: CREATIVE, id: $id }) { status } }`;

  /** A creative Alice created and submitted: at version 2. */
  async function inReview(input: ReturnType<typeof banner>): Promise<string> {
    const alice = await operator('ops.alice');
    const id = (await alice(CREATE, { input })).data!.createCreative.id as string;
    await alice(SUBMIT, { id });
    return id;
  }

  it('after an approval refused as changed since, shows the change as it is now, and approves that', async () => {
    const input = banner('race approve');
    const id = await inReview(input);
    await logIn('ops.bob');
    await page.getByRole('link', { name: 'Review queue' }).click();
    const item = page.locator(`article[data-target="${id}"]`);
    await item.getByText('/x', { exact: true }).waitFor();
    // While Bob reads it, Alice changes where the banner leads and submits it again.
    const alice = await operator('ops.alice');
    await alice(
      `mutation ($id: ID!, $input: CreativeInput!) { updateCreative(id: $id, input: $input) { id } }`,
      { id, input: { ...input, link: '/transfer/confirm' } },
    );
    await alice(SUBMIT, { id });

    await item.getByRole('button', { name: 'Approve' }).click();
    await item
      .getByRole('alert')
      .getByText(/changed/)
      .waitFor();
    await item.getByText('/transfer/confirm', { exact: true }).waitFor();
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Creative ${id} is now PUBLISHED and live.`).waitFor();
  });

  it('says why a step was refused when another operator took one first and the item left the queue', async () => {
    const id = await inReview(banner('race reject'));
    await logIn('ops.bob');
    await page.getByRole('link', { name: 'Review queue' }).click();
    const item = page.locator(`article[data-target="${id}"]`);
    await item.getByLabel('reason to reject').fill('wrong image');
    // Carol approves it while Bob writes his reason.
    const approved = await (
      await operator('ops.carol')
    )(`mutation ($id: ID!) { approve(target: { type: CREATIVE, id: $id, expectedVersion: 2 }) { status } }`, {
      id,
    });
    expect(approved.data?.approve).toEqual({ status: 'PUBLISHED' });

    await item.getByRole('button', { name: 'Reject' }).click();
    await item.waitFor({ state: 'detached' });
    await page
      .getByRole('alert')
      .getByText(new RegExp(`^Creative ${id} was not rejected, and is no longer in review: .*changed`))
      .waitFor();
    await page.getByRole('alert').getByText('CONFLICT', { exact: true }).waitFor();
  });

  it("says, where an approver decides, that approving a new split ends the creative's running experiment", async () => {
    const split = (weightOfA: number) => [
      { key: 'A', weight: weightOfA, title: 'Save for travel' },
      { key: 'B', weight: 1, title: 'Travel, saved' },
    ];
    const input = { ...banner('race experiment'), experimentKey: 'race.banner', variants: split(1) };
    const id = await inReview(input);
    const alice = await operator('ops.alice');
    const approved = await (
      await operator('ops.carol')
    )(`mutation ($id: ID!) { approve(target: { type: CREATIVE, id: $id, expectedVersion: 2 }) { status } }`, {
      id,
    });
    expect(approved.data?.approve).toEqual({ status: 'PUBLISHED' });
    const listed = await alice(
      `{ creatives(pageId: "PG-APP-home", slotCode: "hero", first: 100) { edges { node { id experimentStartedAt } } } }`,
    );
    const started = (
      listed.data!.creatives.edges as { node: { id: string; experimentStartedAt: string } }[]
    ).find((edge) => edge.node.id === id)!.node.experimentStartedAt;
    expect(started).toEqual(expect.any(String));
    await alice(
      `mutation ($id: ID!, $input: CreativeInput!) { updateCreative(id: $id, input: $input) { id } }`,
      { id, input: { ...input, variants: split(3) } },
    );
    await alice(SUBMIT, { id });

    await logIn('ops.bob');
    await page.getByRole('link', { name: 'Review queue' }).click();
    const item = page.locator(`article[data-target="${id}"]`);
    await item
      .getByText(
        `Approving ends experiment race.banner, running since ${started.slice(0, 16).replace('T', ' ')} UTC, and starts another`,
      )
      .waitFor();
  });

  it('takes one step at a time on an item: Reject is off while an approval is on its way', async () => {
    const id = await inReview(banner('race both'));
    await logIn('ops.bob');
    await page.getByRole('link', { name: 'Review queue' }).click();
    const item = page.locator(`article[data-target="${id}"]`);
    await item.getByLabel('reason to reject').fill('wrong image');
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/graphql', async (route) => {
      if (route.request().postDataJSON()?.operationName === 'ConsoleApprove') await held;
      await route.continue();
    });
    await item.getByRole('button', { name: 'Approve' }).click();
    await expect(item.getByRole('button', { name: 'Reject' }).isDisabled()).resolves.toBe(true);
    release();
    await page.getByText(`Creative ${id} is now PUBLISHED and live.`).waitFor();
    await page.unroute('**/graphql');
  });
});

it('after a refused submission, shows the flow as it is now; picking a flow reads it again', async () => {
  const builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  const draft = (await builder(`mutation { createFlowDraft(key: "buy-wealth") { id version } }`)).data!
    .createFlowDraft as { id: string; version: number };
  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Service flows' }).click();
  const pick = page.getByRole('button', { name: new RegExp(`buy-wealth v${draft.version}`) });
  await pick.click();
  await page.getByText('validateFlow finds no problem.').waitFor();

  // The builder adds a step nothing leads to while the operator looks at the draft.
  await builder(
    `mutation ($flowId: ID!) { addFlowStep(flowId: $flowId, step: { id: "extra", service: "IDENTITY_CHECK", title: "An extra check" }) { id } }`,
    { flowId: draft.id },
  );
  await page.getByRole('button', { name: `Submit version ${draft.version} for review` }).click();
  await page.getByRole('alert').waitFor();
  await page.locator('g.step.faulty[data-step="extra"]').waitFor();

  await builder(`mutation ($flowId: ID!) { removeFlowStep(flowId: $flowId, stepId: "extra") { id } }`, {
    flowId: draft.id,
  });
  await pick.click();
  await page.getByText('validateFlow finds no problem.').waitFor();
  await expect(page.locator('g.step[data-step="extra"]').count()).resolves.toBe(0);
});

it("refuses a builder's edit of a draft another builder changed since, shows the draft as it is now, and keeps the form", async () => {
  const bea = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  const flowId = (await bea(`mutation { createServiceFlow(key: "race-flow", name: "Race") { id } }`)).data!
    .createServiceFlow.id as string;
  const ADD = `mutation ($flowId: ID!, $step: FlowStepInput!) { addFlowStep(flowId: $flowId, step: $step) { id } }`;
  await bea(ADD, { flowId, step: { id: 'assess', service: 'RISK_ASSESSMENT', title: 'Assess' } });
  await page.goto(`${base}/console/service-flows`);
  await page.getByLabel('Bearer token').fill(await clientToken('builder.cleo', 'builder'));
  await page.getByRole('button', { name: 'Log in with this token' }).click();
  await page.getByRole('button', { name: /race-flow v1/ }).click();
  await page.locator('g.step[data-step="assess"]').waitFor();

  const form = page.getByRole('form', { name: 'Add a step' });
  await form.getByLabel('Service', { exact: true }).selectOption('IDENTITY_CHECK');
  await form.getByLabel('Step id').fill('mine');
  await form.getByLabel('Title', { exact: true }).fill('Mine');
  // Bea edits the draft while Cleo fills the form in.
  await bea(ADD, { flowId, step: { id: 'theirs', service: 'IDENTITY_CHECK', title: 'Theirs' } });
  await form.getByRole('button', { name: 'Add step' }).click();
  await form.getByRole('alert').getByText('CONFLICT', { exact: true }).waitFor();
  await form.getByText(/Someone else changed this draft since you read it/).waitFor();
  await page.locator('g.step[data-step="theirs"]').waitFor();
  await expect(page.locator('g.step[data-step="mine"]').count()).resolves.toBe(0);
  await expect(form.getByLabel('Step id').inputValue()).resolves.toBe('mine');

  await form.getByRole('button', { name: 'Add step' }).click();
  await page.locator('g.step[data-step="mine"]').waitFor();
  await expect(form.getByRole('alert').count()).resolves.toBe(0);
});

it('explains a page again with what the hub says now', async () => {
  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Page preview' }).click();
  await page.getByLabel('Member').fill('M0002');
  await page.getByLabel('Page').selectOption('PG-APP-home');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.getByRole('heading', { name: /M0002's/ }).waitFor();
  // Carol adds a segment M0002 falls in; explained again, M0002's page says so.
  await (
    await operator('ops.carol')
  )(`mutation ($input: SegmentInput!) { upsertSegment(input: $input) { version } }`, {
    input: {
      code: 'RISK_TAKERS_NOW',
      name: 'R4 and up',
      rule: { field: 'riskLevel', op: 'gte', value: 'R4' },
    },
  });
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.getByText(/RISK_TAKERS_NOW/).waitFor();
});
