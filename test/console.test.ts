// The operations console in a real browser: an operator logs in with a token from the development issuer and works
// its screens — a segment previewed as its rule is edited and saved, M0001's home page explained, a creative
// approved by a second operator (never by its editor, nor once it changed under them), a flow's problems marked on
// its steps (a branch on an amount labelled with its currency) and the flow published; the analytics screen shows
// the hub's own figures and a funnel it runs.
// A member's token gets "operators only", a token the hub did not issue ends the session, and nothing shows a stack.
import { buildClientSchema, getIntrospectionQuery, validate, type DocumentNode } from 'graphql';
import type { Browser, Page } from 'playwright-core';
import type { RunningHub } from '../scripts/hub';
import { launchBrowser, logInToConsole, screenshot } from './support/browser';
import { callerOf, clientToken, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import * as analytics from '../web/console/screens/analytics/operations';
import * as benefits from '../web/console/screens/benefits/operations';
import * as campaigns from '../web/console/screens/campaigns/operations';
import * as pagePreview from '../web/console/screens/page-preview/operations';
import * as reviewQueue from '../web/console/screens/review-queue/operations';
import * as segments from '../web/console/screens/segments/operations';
import * as serviceFlows from '../web/console/screens/service-flows/operations';

let hub: RunningHub;
let browser: Browser;
let base: string;
let page: Page;
const requested: string[] = [];

beforeAll(async () => {
  // The development issuer (/dev/token) exists in development only.
  hub = await startTestHub('console', { config: { NODE_ENV: 'development' } });
  base = hub.gatewayUrl.replace(/\/graphql$/, '');
  browser = await launchBrowser();
});

beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
  page.setDefaultTimeout(10_000);
  page.on('request', (request) => requested.push(request.url()));
});

afterEach(() => page.close());

afterAll(async () => {
  await browser?.close();
  await stopTestHub(hub);
});

const logIn = (operator: string) => logInToConsole(page, base, operator);

async function logInWithToken(token: string): Promise<void> {
  await page.goto(`${base}/console/`);
  await page.getByLabel('Bearer token').fill(token);
  await page.getByRole('button', { name: 'Log in with this token' }).click();
}

const alert = () => page.getByRole('alert').first();

describe('login', () => {
  it('tells a member that the console is for operators and builders only', async () => {
    await logInWithToken(await clientToken('M0001', 'member'));
    expect(await alert().textContent()).toMatch(/^Operators and builders only/);
    await expect(page.getByRole('heading', { name: 'Operations console' }).isVisible()).resolves.toBe(true);
  });

  it('ends the session when the hub refuses the token, and says why without details', async () => {
    await logInWithToken(
      await clientToken('ops.mallory', 'operator', { secret: 'not-the-hub-secret'.repeat(3) }),
    );
    await alert().waitFor();
    const message = (await alert().textContent())!;
    expect(message).toMatch(/The hub refused your token/);
    expect(message).not.toMatch(/https?:|at \w+ \(|Error:/);
    await expect(page.getByLabel('Operator id').isVisible()).resolves.toBe(true);
  });

  it('forgets what an operator was shown when the hub refuses their token: the next one never sees it', async () => {
    const token = await clientToken('ops.erin', 'operator', { expiresIn: '3s' });
    await logInWithToken(token);
    await page.getByRole('button', { name: /^CONSERVATIVE_SAVERS/ }).waitFor();
    // Once the token has expired, the next request (opening another screen) ends the session.
    const { exp } = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { exp: number };
    await page.waitForTimeout(Math.max(0, exp * 1_000 - Date.now() + 500));
    await page.getByRole('link', { name: 'Page preview' }).click();
    await page.getByText('The hub refused your token').waitFor();

    // The next operator's first answers are held back: whatever shows meanwhile can only come from the cache.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/graphql', async (route) => {
      await held;
      await route.continue();
    });
    await page.getByLabel('Operator id').fill('ops.frank');
    await page.getByRole('button', { name: 'Log in', exact: true }).click();
    await page.getByText('ops.frank', { exact: true }).waitFor();
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByRole('heading', { name: 'Segments', level: 1 }).waitFor();
    await expect(page.getByRole('button', { name: /^CONSERVATIVE_SAVERS/ }).count()).resolves.toBe(0);
    release();
    await page.getByRole('button', { name: /^CONSERVATIVE_SAVERS/ }).waitFor();
    await page.unroute('**/graphql');
  });

  it('opens a session from a token pasted as the header value it travels in, "Bearer <token>"', async () => {
    await logInWithToken(`Bearer ${await clientToken('ops.dora', 'operator')}`);
    await page.getByRole('button', { name: /^CONSERVATIVE_SAVERS/ }).waitFor();
    await expect(page.getByText('ops.dora', { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
  });
});

it('previews a segment as its rule is edited, then saves it', async () => {
  await logIn('ops.alice');
  await page.getByLabel('Code').fill('CONSOLE_GROWTH');
  await page.getByLabel('Name', { exact: true }).fill('Growth-minded, still active');
  // The form starts with riskLevel gte R3; narrow it to members who are not at risk or churned.
  await page.getByRole('button', { name: 'Add a condition' }).click();
  const second = page.locator('[data-condition="1"]');
  await second.getByRole('checkbox').check();
  await second.getByLabel('field').fill('lifecycleStage');
  await second.getByLabel('operator').selectOption('in');
  await second.getByLabel('value').fill('AT_RISK, CHURNED');

  const rule = {
    all: [
      { field: 'riskLevel', op: 'gte', value: 'R3' },
      { not: { field: 'lifecycleStage', op: 'in', value: ['AT_RISK', 'CHURNED'] } },
    ],
  };
  const operator = await callerOf(hub.gatewayUrl, 'ops.carol', 'operator');
  const expected = (
    await operator(`mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize } }`, {
      rule,
    })
  ).data!.previewSegment.audienceSize as number;
  expect(expected).toBeGreaterThan(0);
  await page
    .getByTestId('audience-size')
    .filter({ hasText: new RegExp(`^${expected}$`) })
    .waitFor();
  expect(await page.locator('section.preview tbody tr').count()).toBeGreaterThan(0);
  await screenshot(page, 'console-segments');

  await page.getByRole('button', { name: 'Save segment' }).click();
  await page.getByText(`Saved CONSOLE_GROWTH: ${expected} members.`).waitFor();
  const saved = await operator(`{ segments { code rule } }`);
  expect(saved.data!.segments).toContainEqual({ code: 'CONSOLE_GROWTH', rule });
});

it('saves a segment again from the same draft, and refuses a save once another operator changed it since', async () => {
  const carol = await callerOf(hub.gatewayUrl, 'ops.carol', 'operator');
  const UPSERT = `mutation ($input: SegmentInput!, $expectedVersion: Int) {
    upsertSegment(input: $input, expectedVersion: $expectedVersion) { version }
  }`;
  const rule = { field: 'riskLevel', op: 'eq', value: 'R2' };
  const created = await carol(UPSERT, { input: { code: 'CONSOLE_SHARED', name: 'by carol', rule } });
  expect(created.data?.upsertSegment).toEqual({ version: 1 });
  const storedName = async () =>
    ((await carol('{ segments { code name } }')).data!.segments as { code: string; name: string }[]).find(
      (segment) => segment.code === 'CONSOLE_SHARED',
    )?.name;
  const saveAs = async (name: string) => {
    await page.getByLabel('Name', { exact: true }).fill(name);
    const answered = page.waitForResponse((response) =>
      Boolean(response.request().postData()?.includes('ConsoleUpsertSegment')),
    );
    await page.getByRole('button', { name: 'Save segment' }).click();
    await answered;
  };

  await logIn('ops.alice');
  await page.getByRole('button', { name: /^CONSOLE_SHARED/ }).click();
  await saveAs('by alice');
  await saveAs('by alice, again');
  expect(await storedName()).toBe('by alice, again');

  // Carol edits the version she sees (3); Alice's screen still holds version 3 as well, and hers comes second.
  const edited = await carol(UPSERT, {
    input: { code: 'CONSOLE_SHARED', name: 'by carol, later', rule },
    expectedVersion: 3,
  });
  expect(edited.data?.upsertSegment).toEqual({ version: 4 });
  await saveAs('by alice, from an old copy');
  await page.getByText(/changed since/).waitFor();
  expect(await storedName()).toBe('by carol, later');
});

it('lists the seeded segments at version 1', async () => {
  await logIn('ops.alice');
  await page.getByRole('button', { name: /^CONSERVATIVE_SAVERS v1 / }).waitFor();
  await expect(page.getByRole('button', { name: / v0 / }).count()).resolves.toBe(0);
});

describe('a draft with unsaved edits', () => {
  const name = () => page.getByLabel('Name', { exact: true });
  const asked = () => page.getByRole('alertdialog', { name: 'Unsaved edits' });

  it('is kept when the operator picks another segment and then chooses to keep editing', async () => {
    await logIn('ops.alice');
    await page.getByRole('button', { name: /^WIN_BACK/ }).click();
    await name().fill('Win back, edited');
    await page.getByRole('button', { name: /^SILVER_AGE/ }).click();
    await asked().getByText('Your edits to WIN_BACK are not saved.').waitFor();
    await expect(name().inputValue()).resolves.toBe('Win back, edited');
    await asked().getByRole('button', { name: 'Keep editing' }).click();
    await expect(asked().count()).resolves.toBe(0);
    await expect(name().inputValue()).resolves.toBe('Win back, edited');
    await expect(page.getByLabel('Code').inputValue()).resolves.toBe('WIN_BACK');
  });

  it('is discarded for another segment or a new one only when the operator says so', async () => {
    await logIn('ops.alice');
    await page.getByRole('button', { name: /^WIN_BACK/ }).click();
    await name().fill('Win back, edited');
    await page.getByRole('button', { name: 'New segment' }).click();
    await asked().getByRole('button', { name: 'Discard them and start a new segment' }).click();
    await expect(name().inputValue()).resolves.toBe('');
    // A new draft typed into is unsaved edits too.
    await page.getByLabel('Code').fill('NOT_YET');
    await page.getByRole('button', { name: /^SILVER_AGE/ }).click();
    await asked().getByRole('button', { name: 'Discard them and open SILVER_AGE' }).click();
    await expect(page.getByLabel('Code').inputValue()).resolves.toBe('SILVER_AGE');
    // Nothing edited: the next pick opens at once.
    await page.getByRole('button', { name: /^WIN_BACK/ }).click();
    await expect(page.getByLabel('Code').inputValue()).resolves.toBe('WIN_BACK');
    await expect(asked().count()).resolves.toBe(0);
  });

  const editWinBack = async () => {
    await page.getByRole('button', { name: /^WIN_BACK/ }).click();
    await name().fill('Win back, kept');
  };
  const expectKept = async () => {
    await expect(name().inputValue()).resolves.toBe('Win back, kept');
    await expect(page.getByLabel('Code').inputValue()).resolves.toBe('WIN_BACK');
    // Still an edit: another pick asks first.
    await page.getByRole('button', { name: /^SILVER_AGE/ }).click();
    await asked().getByText('Your edits to WIN_BACK are not saved.').waitFor();
  };

  it('outlives leaving the screen and reloading the console, and goes when the operator logs out', async () => {
    await logIn('ops.alice');
    await editWinBack();
    await page.getByRole('link', { name: 'Page preview' }).click();
    await page.getByRole('link', { name: 'Segments' }).click();
    await expectKept();
    await asked().getByRole('button', { name: 'Keep editing' }).click();
    await page.reload();
    await expectKept();
    await page.getByRole('button', { name: 'Log out' }).click();
    await logIn('ops.alice');
    await expect(name().inputValue()).resolves.toBe('');
  });

  it('is kept for its operator when their session ends without logging out, and never shown to another', async () => {
    const endSession = async () => {
      await page.evaluate(() => sessionStorage.removeItem('hub-console-token'));
      await page.reload();
    };
    await logIn('ops.alice');
    await editWinBack();
    await endSession();
    await logIn('ops.bob');
    await expect(name().inputValue()).resolves.toBe('');
    await expect(page.getByLabel('Code').inputValue()).resolves.toBe('');
    await endSession();
    await logIn('ops.alice');
    await expectKept();
  });

  it('has the browser ask before the tab is closed while there are edits, and only then', async () => {
    // Whether leaving would be cancelled, as the browser asks it (headless Chromium shows no dialog for it).
    const leavingAsks = () =>
      page.evaluate(() => !window.dispatchEvent(new Event('beforeunload', { cancelable: true })));
    await logIn('ops.alice');
    await page.getByRole('button', { name: /^WIN_BACK/ }).click();
    await expect(leavingAsks()).resolves.toBe(false);
    await name().fill('Win back, kept');
    await expect(leavingAsks()).resolves.toBe(true);
    await page.getByRole('button', { name: /^WIN_BACK/ }).click();
    await asked().getByRole('button', { name: 'Discard them and open WIN_BACK' }).click();
    await expect(leavingAsks()).resolves.toBe(false);
  });
});

it('shows no audience beside a rule that cannot be sent, and says when its JSON does not parse', async () => {
  await logIn('ops.alice');
  // The form starts with riskLevel gte R3, previewed at once.
  await page.getByTestId('audience-size').waitFor();
  const field = page.locator('[data-condition="0"]').getByLabel('field');
  await field.fill('');
  await page.getByText('The rule is incomplete: every condition needs a field.').waitFor();
  await expect(page.getByTestId('audience-size').count()).resolves.toBe(0);

  await field.fill('riskLevel');
  await page.getByTestId('audience-size').waitFor();
  await page.getByRole('button', { name: 'Edit as JSON' }).click();
  await page.getByLabel('rule as JSON').fill('{"all": [');
  await page.getByText('The rule is not valid JSON.').waitFor();
  await expect(page.getByTestId('audience-size').count()).resolves.toBe(0);
  await expect(page.getByRole('button', { name: 'Save segment' }).isDisabled()).resolves.toBe(true);
});

it('says a rule too large to send is too large, not that the hub cannot be reached', async () => {
  await logIn('ops.alice');
  await page.getByTestId('audience-size').waitFor();
  await page.getByRole('button', { name: 'Edit as JSON' }).click();
  // Larger than the gateway takes in one request body (256 kB): refused with HTTP 413 before GraphQL runs.
  const rule = { field: 'attr.city', op: 'eq', value: 'x'.repeat(300_000) };
  await page.getByLabel('rule as JSON').fill(JSON.stringify(rule));
  await page
    .getByText('The hub refused the request as too large: make the rule or the text shorter.')
    .waitFor();
  await expect(page.getByTestId('audience-size').count()).resolves.toBe(0);
});

it('asks for a member before explaining a page, rather than asking the hub about nobody', async () => {
  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Page preview' }).click();
  const member = page.getByLabel('Member');
  await member.fill('  ');
  await expect(page.getByRole('button', { name: 'Explain' }).isDisabled()).resolves.toBe(true);
  await page.getByText('Enter a member id, such as M0001, to explain their page.').waitFor();
  await member.press('Enter');
  await expect(page.getByRole('alert').count()).resolves.toBe(0);
  await member.fill('M0002');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.getByRole('heading', { name: /M0002's/ }).waitFor();
});

describe('page preview', () => {
  /** Answers the console's page list with what `keep` leaves of the hub's answer. */
  async function servePages(keep: (page: { id: string; title: string }) => boolean): Promise<void> {
    await page.route('**/graphql', async (route) => {
      if (route.request().postDataJSON()?.operationName !== 'ConsolePages') return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as {
        data: { pages: { edges: { node: { id: string; title: string } }[] } };
      };
      body.data.pages.edges = body.data.pages.edges.filter((edge) => keep(edge.node));
      await route.fulfill({ response, json: body });
    });
  }

  it('says it is loading the pages when Explain is clicked before they arrive, then explains the page', async () => {
    await logIn('ops.alice');
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/graphql', async (route) => {
      if (route.request().postDataJSON()?.operationName === 'ConsolePages') await held;
      await route.continue();
    });
    await page.getByRole('link', { name: 'Page preview' }).click();
    await page.getByLabel('Member').fill('M0001');
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByRole('status').getByText('Loading the published pages…').waitFor();
    release();
    await page.getByRole('heading', { name: /M0001's/ }).waitFor();
    await page.unroute('**/graphql');
  });

  it('explains the page the list shows when the home page is not published', async () => {
    let first = '';
    await servePages((listed) => {
      const kept = listed.id !== 'PG-APP-home';
      if (kept && !first) first = listed.title;
      return kept;
    });
    await logIn('ops.alice');
    await page.getByRole('link', { name: 'Page preview' }).click();
    await page.getByLabel('Member').fill('M0001');
    await page.getByRole('option').first().waitFor({ state: 'attached' });
    await page.getByRole('button', { name: 'Explain' }).click();
    await page.getByRole('heading', { name: `M0001's ${first}` }).waitFor();
    await page.unroute('**/graphql');
  });

  it('says so when no page is published, and explains nothing', async () => {
    await servePages(() => false);
    await logIn('ops.alice');
    await page.getByRole('link', { name: 'Page preview' }).click();
    await page.getByText('No page is published: there is no page to explain.').waitFor();
    await expect(page.getByRole('button', { name: 'Explain' }).isDisabled()).resolves.toBe(true);
    await page.unroute('**/graphql');
  });
});

it("shows why the hub refused a step, in the hub's words, not a guess at a missing scope", async () => {
  const alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  const created = await alice(`mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`, {
    input: {
      pageId: 'PG-APP-home',
      slotCode: 'picks',
      name: 'console four eyes',
      kind: 'PRODUCT',
      refId: 'P-DP-007',
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '2027-01-01T00:00:00Z',
    },
  });
  const id = created.data!.createCreative.id as string;
  await alice(`mutation ($id: ID!) { submitForReview(target: { type: CREATIVE, id: $id }) { status } }`, {
    id,
  });
  // What the gateway answers an editor approving their own edit (the screen turns its button off, so the answer is
  // played back here as the hub words it).
  const ownEdit = await alice(
    `mutation ($id: ID!) { approve(target: { type: CREATIVE, id: $id, expectedVersion: 2 }) { status } }`,
    { id },
  );
  expect(ownEdit.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  await page.route('**/graphql', async (route) =>
    route.request().postDataJSON()?.operationName === 'ConsoleApprove'
      ? route.fulfill({ json: { data: null, errors: ownEdit.errors } })
      : route.continue(),
  );

  await logIn('ops.bob');
  await page.getByRole('link', { name: 'Review queue' }).click();
  const item = page.locator(`article[data-target="${id}"]`);
  await item.getByRole('button', { name: 'Approve' }).click();
  await expect(item.getByRole('alert').textContent()).resolves.toBe(
    `Not allowed: ${ownEdit.errors![0]!.message} FORBIDDEN`,
  );
  // The code, apart, is what support staff look up in the README's table of errors.
  await item.getByRole('alert').getByText('FORBIDDEN', { exact: true }).waitFor();
  await page.unroute('**/graphql');
});

it("explains M0001's home page: what it shows, and why each other candidate is not shown", async () => {
  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Page preview' }).click();
  await page.getByLabel('Member').fill('M0001');
  await page.getByLabel('Page').selectOption('PG-APP-home');
  await page.getByRole('button', { name: 'Explain' }).click();
  await page.getByRole('heading', { name: /M0001's/ }).waitFor();

  const operator = await callerOf(hub.gatewayUrl, 'ops.carol', 'operator');
  const answer = await operator(
    `{ member(id: "M0001") { pagePreview(channel: APP, key: "home") { slots { candidates { creativeId decision } } } } }`,
  );
  const candidates = (
    answer.data!.member.pagePreview.slots as { candidates: { creativeId: string; decision: string }[] }[]
  ).flatMap((slot) => slot.candidates);
  const notShown = candidates.filter((candidate) => !['PLACED', 'FALLBACK'].includes(candidate.decision));
  expect(notShown.length).toBeGreaterThan(0);
  await expect(page.locator('section.reasons tbody tr').count()).resolves.toBe(candidates.length);
  await screenshot(page, 'console-page-preview');

  await page.getByLabel('only why not shown').check();
  await expect(page.locator('section.reasons tbody tr').count()).resolves.toBe(notShown.length);
  const decisions = await page.locator('section.reasons .decision').allTextContents();
  expect(decisions.every((decision) => !['PLACED', 'FALLBACK'].includes(decision))).toBe(true);
});

it('lets a second operator approve a creative that its editor cannot', async () => {
  const alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  const created = await alice(`mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`, {
    input: {
      pageId: 'PG-APP-home',
      slotCode: 'picks',
      name: 'console travel savings',
      kind: 'PRODUCT',
      refId: 'P-DP-007',
      highlight: '旅行储蓄',
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '2027-01-01T00:00:00Z',
      rule: { field: 'tag.travel', op: 'exists', value: true },
    },
  });
  const id = created.data!.createCreative.id as string;
  await alice(`mutation ($id: ID!) { submitForReview(target: { type: CREATIVE, id: $id }) { status } }`, {
    id,
  });

  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Review queue' }).click();
  const item = page.locator(`article[data-target="${id}"]`);
  await item.getByText('Your edit: another operator must approve it (four eyes).').waitFor();
  await expect(item.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
  await page.getByRole('button', { name: 'Log out' }).click();

  await logIn('ops.bob');
  await page.getByRole('link', { name: 'Review queue' }).click();
  await item.getByText('旅行储蓄').waitFor();
  await expect(item.getByRole('button', { name: 'Approve' }).isEnabled()).resolves.toBe(true);
  await screenshot(page, 'console-review-queue');
  await item.getByRole('button', { name: 'Approve' }).click();
  await page.getByText(`Creative ${id} is now PUBLISHED and live.`).waitFor();
  await item.waitFor({ state: 'detached' });

  const stored = await alice(
    `{ creatives(pageId: "PG-APP-home", slotCode: "picks", first: 100) { edges { node { id status approvedBy } } } }`,
  );
  expect(stored.data!.creatives.edges).toContainEqual({
    node: { id, status: 'PUBLISHED', approvedBy: 'ops.bob' },
  });
});

it('refuses to approve a creative edited after the reviewer opened it', async () => {
  const alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  const input = {
    pageId: 'PG-APP-home',
    slotCode: 'hero',
    name: 'console stale banner',
    kind: 'BANNER',
    title: 'Reviewed title',
    imageUrl: 'https://cdn.example/stale.jpg',
    link: '/x',
    startsAt: '2026-01-01T00:00:00Z',
    endsAt: '2027-01-01T00:00:00Z',
  };
  const created = await alice(`mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`, {
    input,
  });
  const id = created.data!.createCreative.id as string;
  const submit = `mutation ($id: ID!) { submitForReview(target: { type: CREATIVE, id: $id }) { status } }`;
  await alice(submit, { id });

  await logIn('ops.bob');
  await page.getByRole('link', { name: 'Review queue' }).click();
  const item = page.locator(`article[data-target="${id}"]`);
  await item.getByText('Reviewed title').waitFor();
  // While Bob reads it, Alice changes where the banner leads and submits it again.
  const edit = await alice(
    `mutation ($id: ID!, $input: CreativeInput!) { updateCreative(id: $id, input: $input) { id } }`,
    { id, input: { ...input, link: '/transfer/confirm' } },
  );
  expect(edit.errors).toBeUndefined();
  await alice(submit, { id });
  await item.getByRole('button', { name: 'Approve' }).click();
  await item
    .getByRole('alert')
    .getByText(/changed since/)
    .waitFor();

  const stored = await alice(
    `{ creatives(pageId: "PG-APP-home", slotCode: "hero", first: 100) { edges { node { id status link approvedBy } } } }`,
  );
  expect(stored.data!.creatives.edges).toContainEqual({
    node: { id, status: 'IN_REVIEW', link: '/transfer/confirm', approvedBy: null },
  });
});

it("marks a draft flow's problems on its steps, submits it once they are fixed, and a second operator approves it", async () => {
  const builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  const draft = (await builder(`mutation { createFlowDraft(key: "buy-wealth") { id version } }`)).data!
    .createFlowDraft as { id: string; version: number };
  await builder(
    `mutation ($flowId: ID!) { addFlowStep(flowId: $flowId, step: { id: "extra", service: "IDENTITY_CHECK", title: "An extra check" }) { id } }`,
    { flowId: draft.id },
  );

  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Service flows' }).click();
  await page.getByRole('button', { name: new RegExp(`buy-wealth v${draft.version}`) }).click();
  const extra = page.locator('g.step[data-step="extra"]');
  await extra.waitFor();
  expect(await extra.getAttribute('class')).toContain('faulty');
  expect(await extra.textContent()).toContain('UNREACHABLE_STEP');
  expect(await page.locator('g.step.faulty').count()).toBe(1);
  // The seeded branch on the amount is in CNY, and says so.
  expect(await page.locator('g.transition text').allTextContents()).toEqual(['amount gte 500000 CNY']);
  await screenshot(page, 'console-service-flows');

  const submit = page.getByRole('button', { name: `Submit version ${draft.version} for review` });
  await submit.click();
  await alert().waitFor();
  expect(await alert().textContent()).not.toMatch(/https?:|Error:/);

  await builder(`mutation ($flowId: ID!) { removeFlowStep(flowId: $flowId, stepId: "extra") { id } }`, {
    flowId: draft.id,
  });
  await page.reload();
  await page.getByRole('button', { name: new RegExp(`buy-wealth v${draft.version}`) }).click();
  await page.getByText('validateFlow finds no problem.').waitFor();
  await submit.click();
  await page.getByText(`Submitted buy-wealth v${draft.version}`).waitFor();
  await page.getByRole('button', { name: `Withdraw version ${draft.version} to change it` }).waitFor();
  const live = `{ serviceFlow(key: "buy-wealth") { version status } }`;
  expect((await builder(live)).data!.serviceFlow).toEqual({
    version: draft.version - 1,
    status: 'PUBLISHED',
  });

  // Alice submitted it: her queue lists it for her to follow, without an Approve button.
  await page.getByRole('link', { name: 'Review queue' }).click();
  const item = page.locator(`article[data-type="FLOW"][data-target="${draft.id}"]`);
  await item.locator('.four-eyes').waitFor();
  expect(await item.getByRole('button', { name: 'Approve' }).count()).toBe(0);
  await page.getByRole('button', { name: 'Log out' }).click();

  await logIn('ops.bob');
  await page.getByRole('link', { name: 'Review queue' }).click();
  await item.getByRole('cell', { name: 'step confirm', exact: true }).waitFor();
  await item.getByRole('button', { name: 'Approve' }).click();
  await page.getByText(`Flow ${draft.id} is now PUBLISHED and live.`).waitFor();
  await item.waitFor({ state: 'detached' });
  expect((await builder(live)).data!.serviceFlow).toEqual({ version: draft.version, status: 'PUBLISHED' });
});

it("labels a branch on an amount with its currency: a builder tells a USD branch from the bank's", async () => {
  const builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  const draft = (await builder(`mutation { createFlowDraft(key: "buy-wealth") { id version } }`)).data!
    .createFlowDraft as { id: string; version: number };
  await builder(
    `mutation ($flowId: ID!) { disconnectFlowSteps(flowId: $flowId, from: "select", to: "disclose") { id } }`,
    { flowId: draft.id },
  );
  const connected = await builder(
    `mutation ($flowId: ID!) { connectFlowSteps(flowId: $flowId, from: "select", to: "disclose", when: { step: "select", output: "amount", op: "gte", value: 70000, currency: "USD" }) { id } }`,
    { flowId: draft.id },
  );
  expect(connected.errors).toBeUndefined();

  await logIn('ops.alice');
  await page.getByRole('link', { name: 'Service flows' }).click();
  await page.getByRole('button', { name: new RegExp(`buy-wealth v${draft.version}`) }).click();
  await page.locator('g.step[data-step="disclose"]').waitFor();
  expect(await page.locator('g.transition text').allTextContents()).toEqual(['amount gte 70000 USD']);
});

it('lets a builder compose a flow with a branch from nothing, its problems marked until fixed, and an operator approves it', async () => {
  await logInWithToken(await clientToken('builder.cleo', 'builder'));
  // A builder's token opens the service flows screen only: the others answer operators alone.
  await page.getByRole('heading', { name: 'Service flows', level: 1 }).waitFor();
  expect(await page.getByRole('navigation').getByRole('link').allTextContents()).toEqual(['Service flows']);

  const newFlow = page.getByRole('form', { name: 'New flow' });
  await newFlow.getByLabel('Key').fill('console-terms');
  await newFlow.getByLabel('Name').fill('Terms by risk');
  await newFlow.getByRole('button', { name: 'New flow' }).click();
  await page.getByText('No step yet').waitFor();

  const stepForm = page.getByRole('form', { name: /^(Add a step|Edit step)/ });
  const problemsOf = async (id: string) => {
    const step = page.locator(`g.step[data-step="${id}"]`);
    await step.waitFor();
    return (await step.locator('.step-problems').count())
      ? await step.locator('.step-problems').textContent()
      : '';
  };
  async function addStep(id: string, service: string, terminal: boolean, agreement?: string) {
    await stepForm.getByLabel('Service', { exact: true }).selectOption(service);
    await stepForm.getByLabel('Step id').fill(id);
    await stepForm.getByLabel('Title', { exact: true }).fill(`The ${id} step`);
    if (terminal) await stepForm.getByLabel('Ends the flow').check();
    if (agreement !== undefined) {
      await stepForm.getByLabel('agreementCode from').selectOption('a constant');
      await stepForm.getByLabel('agreementCode constant').fill(agreement);
    }
    await stepForm.getByRole('button', { name: 'Add step' }).click();
    await page.locator(`g.step[data-step="${id}"]`).waitFor();
  }

  await addStep('assess', 'RISK_ASSESSMENT', false);
  // The first step is where the flow starts; with no way on it is a dead end.
  await page.locator('g.step[data-step="assess"] .step-problems').filter({ hasText: 'DEAD_END' }).waitFor();
  await expect(page.locator('g.step[data-step="assess"] .step-title').textContent()).resolves.toMatch(/^▶/);

  // The terms step forgets its agreement: MISSING_INPUT, until it is edited in.
  await addStep('terms', 'SIGN_AGREEMENT', true);
  await page
    .locator('g.step[data-step="terms"] .step-problems')
    .filter({ hasText: 'MISSING_INPUT' })
    .waitFor();
  await page.getByRole('button', { name: 'Edit step terms' }).click();
  await stepForm.getByLabel('agreementCode from').selectOption('a constant');
  await stepForm.getByLabel('agreementCode constant').fill('TERMS');
  await stepForm.getByRole('button', { name: 'Save step terms' }).click();
  await page.getByRole('table', { name: 'steps' }).getByText('agreementCode = "TERMS"').waitFor();
  expect(await problemsOf('terms')).not.toContain('MISSING_INPUT');

  // A second step of the same id is refused beside the form, with the hub's code.
  await addStep('careful', 'SIGN_AGREEMENT', true, 'HIGH-RISK');
  await stepForm.getByLabel('Step id').fill('careful');
  await stepForm.getByLabel('Title', { exact: true }).fill('Again');
  await stepForm.getByRole('button', { name: 'Add step' }).click();
  const refusal = stepForm.getByRole('alert');
  await refusal.getByText('BAD_USER_INPUT', { exact: true }).waitFor();
  expect(await refusal.textContent()).toMatch(/step careful exists already \(step\.id\)/);

  const connect = page.getByRole('form', { name: 'Connect two steps' });
  await connect.getByLabel('From', { exact: true }).selectOption('assess');
  await connect.getByLabel('To', { exact: true }).selectOption('terms');
  await connect.getByRole('button', { name: 'Connect' }).click();
  await page
    .getByRole('list', { name: 'transitions' })
    .getByText(/by default/)
    .waitFor();
  await connect.getByLabel('From', { exact: true }).selectOption('assess');
  await connect.getByLabel('To', { exact: true }).selectOption('careful');
  await connect.getByLabel('Taken').selectOption('branch');
  await connect.getByLabel('Tests').selectOption('assess.riskLevel');
  await connect.getByLabel('Comparison').selectOption('in');
  await connect.getByLabel('Value').fill('R4, R5');
  await connect.getByRole('button', { name: 'Connect' }).click();
  await page.locator('g.transition text').filter({ hasText: 'riskLevel in ["R4","R5"]' }).waitFor();
  await page.getByText('validateFlow finds no problem.').waitFor();
  expect(await page.locator('g.step.faulty').count()).toBe(0);

  await page.getByRole('button', { name: 'Submit version 1 for review' }).click();
  await page.getByText('Submitted console-terms v1').waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();

  await logIn('ops.bob');
  await page.getByRole('link', { name: 'Review queue' }).click();
  const item = page.locator('article[data-type="FLOW"][data-target="SF-console-terms-v1"]');
  await item.getByRole('button', { name: 'Approve' }).click();
  await page.getByText('Flow SF-console-terms-v1 is now PUBLISHED and live.').waitFor();

  const builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  const published = await builder(`{
    serviceFlow(key: "console-terms") {
      version status startStepId editors submittedBy approvedBy
      steps { id service terminal inputs { input fromStep fromOutput constant } next { to when { step output op value } } }
    }
  }`);
  expect(published.data!.serviceFlow).toEqual({
    version: 1,
    status: 'PUBLISHED',
    startStepId: 'assess',
    editors: ['builder.cleo'],
    submittedBy: 'builder.cleo',
    approvedBy: 'ops.bob',
    steps: [
      {
        id: 'assess',
        service: 'RISK_ASSESSMENT',
        terminal: false,
        inputs: [],
        next: [
          { to: 'careful', when: { step: 'assess', output: 'riskLevel', op: 'in', value: ['R4', 'R5'] } },
          { to: 'terms', when: null },
        ],
      },
      {
        id: 'terms',
        service: 'SIGN_AGREEMENT',
        terminal: true,
        inputs: [{ input: 'agreementCode', fromStep: null, fromOutput: null, constant: 'TERMS' }],
        next: [],
      },
      {
        id: 'careful',
        service: 'SIGN_AGREEMENT',
        terminal: true,
        inputs: [{ input: 'agreementCode', fromStep: null, fromOutput: null, constant: 'HIGH-RISK' }],
        next: [],
      },
    ],
  });
});

describe('analytics', () => {
  const DAY_MS = 86_400_000;
  const TRACK = `mutation ($deviceId: ID!, $events: [EventInput!]!) {
    trackEvents(deviceId: $deviceId, events: $events) { accepted }
  }`;
  const ANALYSES = `query ($channel: Channel, $from: DateTime!, $to: DateTime!) {
    activeMembers(channel: $channel, days: 30) { dau mau daily { members } }
    lifecycleCounts { stage members }
    retention(weeks: 8) { week members }
    funnel(steps: ["page_view", "product_view"], from: $from, to: $to, withinHours: 24) { steps { name members } }
  }`;

  it("shows the hub's own figures: active members, lifecycle stages, retention and a funnel the operator runs", async () => {
    // Three members on the app today, two of whom went on to look at a product.
    const stamp = Date.now().toString(36);
    for (const [index, memberId] of ['M0001', 'M0002', 'M0003'].entries()) {
      const events = [
        { name: 'page_view', properties: { page: 'home' } },
        ...(index < 2
          ? [{ name: 'product_view', properties: { productId: 'P-WM-008', productType: 'WEALTH' } }]
          : []),
      ].map((event, i) => ({
        id: `console-${stamp}-${memberId}-${i}`,
        occurredAt: new Date(Date.now() - (2 - i) * 60_000).toISOString(),
        channel: 'APP',
        ...event,
      }));
      const tracked = await graphql(
        hub.gatewayUrl,
        TRACK,
        { deviceId: `console-device-${memberId}`, events },
        { authorization: `Bearer ${await clientToken(memberId, 'member')}` },
      );
      expect(tracked.data?.trackEvents.accepted).toBe(events.length);
    }
    const today = new Date(new Date().toISOString().slice(0, 10)).getTime();
    const range = {
      from: new Date(today - 29 * DAY_MS).toISOString(),
      to: new Date(today + DAY_MS).toISOString(),
    };
    const alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
    const asked = async (channel: string | null) => {
      const answer = await alice(ANALYSES, { channel, ...range });
      expect(answer.errors).toBeUndefined();
      return answer.data!;
    };
    // Analytics writes what it counts a moment after it accepts the events: the figures are read once they stay put.
    let all = await asked(null);
    for (let settled = false; !settled;) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const again = await asked(null);
      settled = JSON.stringify(again) === JSON.stringify(all);
      all = again;
    }
    expect(all.activeMembers.dau).toBeGreaterThanOrEqual(3);
    expect(all.funnel.steps[1].members).toBeGreaterThanOrEqual(2);

    await logIn('ops.alice');
    await page.getByRole('link', { name: 'Analytics' }).click();
    const active = page.getByRole('region', { name: 'Active members' });
    await expect(active.locator('[data-figure="dau"]').textContent()).resolves.toBe(
      String(all.activeMembers.dau),
    );
    await expect(active.locator('[data-figure="mau"]').textContent()).resolves.toBe(
      String(all.activeMembers.mau),
    );
    const bars = active.locator('svg.daily rect');
    await expect(bars.count()).resolves.toBe(30);
    await expect(bars.last().getAttribute('data-members')).resolves.toBe(String(all.activeMembers.dau));

    const stages = page.getByRole('region', { name: 'Lifecycle stages' });
    await stages.locator('tbody tr').first().waitFor();
    const shown = await stages.locator('tbody tr').evaluateAll((rows) =>
      rows.map((row) => ({
        stage: row.getAttribute('data-stage'),
        members: Number(row.querySelector('[data-figure="members"]')?.textContent),
      })),
    );
    expect(shown).toEqual(all.lifecycleCounts);

    const retention = page.getByRole('region', { name: 'Retention' });
    if (all.retention.length > 0) await retention.locator('tbody tr').first().waitFor();
    await expect(retention.locator('tbody tr').count()).resolves.toBe(all.retention.length);

    // The funnel: from a page to a product, over the 30 days the form opens with.
    const funnel = page.getByRole('region', { name: 'Funnel' });
    await funnel.getByRole('button', { name: 'Remove step 4' }).click();
    await funnel.getByRole('button', { name: 'Remove step 3' }).click();
    await expect(funnel.getByRole('button', { name: /^Remove step/ }).count()).resolves.toBe(0);
    await funnel.getByLabel('Step 2').selectOption('product_view');
    await funnel.getByRole('button', { name: 'Run the funnel' }).click();
    const steps = funnel.locator('table.funnel tbody tr');
    await steps.first().waitFor();
    const counted = await steps.evaluateAll((rows) =>
      rows.map((row) => ({
        name: row.getAttribute('data-step'),
        members: Number(row.querySelector('[data-figure="members"]')?.textContent),
      })),
    );
    expect(counted).toEqual(all.funnel.steps);
    await page.setViewportSize({ width: 1360, height: 1400 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'console-analytics');

    // Refused by the hub: in the hub's words and with its code, and the other panels stay.
    await funnel.locator('input.hours').fill('0');
    await funnel.getByRole('button', { name: 'Run the funnel' }).click();
    await funnel.getByRole('alert').getByText('BAD_USER_INPUT', { exact: true }).waitFor();
    await expect(funnel.locator('table.funnel').count()).resolves.toBe(0);
    await expect(active.locator('[data-figure="dau"]').isVisible()).resolves.toBe(true);

    // One channel: the web, where none of the three was today.
    const web = await asked('WEB');
    await page.getByLabel('Channel').selectOption('WEB');
    await active.locator('dl[data-channel="WEB"]').waitFor();
    await expect(active.locator('[data-figure="mau"]').textContent()).resolves.toBe(
      String(web.activeMembers.mau),
    );
    await expect(active.locator('[data-figure="dau"]').textContent()).resolves.toBe(
      String(web.activeMembers.dau),
    );
  });

  it('is for operators: a builder is not offered it', async () => {
    await logInWithToken(await clientToken('builder.bo', 'builder'));
    await page.getByRole('link', { name: 'Service flows' }).waitFor();
    await expect(page.getByRole('link', { name: 'Analytics' }).count()).resolves.toBe(0);
  });
});

it("asks only what the gateway's schema answers", async () => {
  const introspection = await graphql(hub.gatewayUrl, getIntrospectionQuery());
  const schema = buildClientSchema(introspection.data as never);
  const documents = [
    analytics,
    benefits,
    campaigns,
    pagePreview,
    reviewQueue,
    segments,
    serviceFlows,
  ].flatMap((operations) =>
    Object.values(operations).filter(
      (value): value is DocumentNode => (value as DocumentNode)?.kind === 'Document',
    ),
  );
  expect(documents.length).toBeGreaterThanOrEqual(28);
  for (const document of documents)
    expect(validate(schema, document).map((error) => error.message)).toEqual([]);
});

it('loads nothing from outside the hub', () => {
  expect(requested.length).toBeGreaterThan(0);
  expect(requested.filter((url) => !url.startsWith(`${base}/`))).toEqual([]);
});
