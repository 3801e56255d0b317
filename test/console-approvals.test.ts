// The operations console in a real browser, beyond content: activities and benefits (engagement), templates and
// campaigns (messages), bundles (products) wait in the review queue for a second operator, who approves them there
// (their editor is offered no Approve button); the Campaigns screen shows each campaign's state and stats, pauses and resumes it, and says why
// the hub refused a step, with its code; the Benefits screen shows stock and claims, and revokes a member's claim.
import type { Browser, Page } from 'playwright-core';
import type { RunningHub } from '../scripts/hub';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { launchBrowser, logInToConsole, screenshot } from './support/browser';
import { bearer, callerOf, clientToken, graphql, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { IN_APP_TEMPLATE, messaging, type Messaging } from './support/messages';

let hub: RunningHub;
let browser: Browser;
let base: string;
let page: Page;
let alice: Send;
let bob: Send;
let m: Messaging;

beforeAll(async () => {
  // The development issuer (/dev/token) exists in development only.
  hub = await startTestHub('console-approvals', { config: { NODE_ENV: 'development' } });
  base = hub.gatewayUrl.replace(/\/graphql$/, '');
  browser = await launchBrowser();
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
  m = await messaging(hub);
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

async function openQueueAs(operator: string): Promise<void> {
  await logIn(operator);
  await page.getByRole('link', { name: 'Review queue' }).click();
}

const waiting = (type: string, id: string) =>
  page.locator(`article[data-type="${type}"][data-target="${id}"]`);

/** Sends `query` as `who`, failing the test on any error; its data. */
async function must(who: Send, query: string, variables: Record<string, unknown> = {}) {
  const response = await who(query, variables);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

const ENGAGEMENT_STEP = `mutation ($type: EngagementTargetType!, $id: ID!, $step: WorkflowStep!, $expectedVersion: Int) {
  engagementWorkflow(type: $type, id: $id, step: $step, expectedVersion: $expectedVersion) { status }
}`;
const MESSAGES_STEP = `mutation ($type: MessagesTargetType!, $id: ID!, $step: WorkflowStep!) {
  messagesWorkflow(type: $type, id: $id, step: $step) { status }
}`;

const campaignInput = (name: string, templateId: string) => ({
  name,
  purpose: 'MARKETING',
  audience: { segmentCode: 'GOLD_AND_ABOVE' },
  trigger: { kind: 'ONCE', at: new Date(Date.now() + 3_600_000).toISOString() },
  variants: [{ key: 'A', weight: 1, templateIds: [templateId] }],
});

describe('review queue', () => {
  it('lets a second operator approve an activity its editor is offered no Approve button for', async () => {
    const created = await must(
      alice,
      `mutation ($input: ActivityInput!) { createActivity(input: $input) { id } }`,
      {
        input: {
          title: '周末签到 Console weekend',
          summary: 'Sign in on Saturday and Sunday.',
          imageUrl: 'https://cdn.example/weekend.jpg',
          kind: 'INTERACTIVE',
          startsAt: '2026-01-01T00:00:00Z',
          endsAt: '2030-01-01T00:00:00Z',
          tasks: [
            {
              id: 'weekend',
              title: 'Sign in twice',
              event: 'sign_in',
              measure: 'DISTINCT_DAYS',
              target: 2,
              reward: { points: 10 },
            },
          ],
        },
      },
    );
    const id = created.createActivity.id as string;
    await must(alice, ENGAGEMENT_STEP, { type: 'ACTIVITY', id, step: 'SUBMIT' });

    await openQueueAs('ops.alice');
    const item = waiting('ACTIVITY', id);
    await item.getByText('Your edit: another operator must approve it (four eyes).').waitFor();
    await expect(item.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Log out' }).click();

    await openQueueAs('ops.bob');
    // What approving publishes: the activity's fields, its tasks among them.
    await item.getByRole('cell', { name: 'tasks', exact: true }).waitFor();
    await item.getByText('Sign in twice', { exact: false }).waitFor();
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Activity ${id} is now PUBLISHED and live.`).waitFor();
    await item.waitFor({ state: 'detached' });

    const stored = await must(alice, `query ($id: ID!) { activity(id: $id) { status approvedBy } }`, { id });
    expect(stored.activity).toEqual({ status: 'PUBLISHED', approvedBy: 'ops.bob' });
  });

  it("shows a published benefit's edit in review as its change, and publishes it when a second operator approves", async () => {
    const input = {
      title: 'Console coupon',
      kind: 'COUPON',
      value: 30,
      stock: 2,
      startsAt: '2026-01-01T00:00:00Z',
      endsAt: '2030-01-01T00:00:00Z',
      validDays: 30,
    };
    const id = (
      await must(alice, `mutation ($input: BenefitInput!) { createBenefit(input: $input) { id } }`, { input })
    ).createBenefit.id as string;
    await must(alice, ENGAGEMENT_STEP, { type: 'BENEFIT', id, step: 'SUBMIT' });
    await must(bob, ENGAGEMENT_STEP, { type: 'BENEFIT', id, step: 'APPROVE', expectedVersion: 2 });
    await must(
      alice,
      `mutation ($id: ID!, $input: BenefitInput!) { updateBenefit(id: $id, input: $input) { id } }`,
      {
        id,
        input: { ...input, stock: 5 },
      },
    );
    await must(alice, ENGAGEMENT_STEP, { type: 'BENEFIT', id, step: 'SUBMIT' });

    await openQueueAs('ops.carol');
    const item = waiting('BENEFIT', id);
    await item.getByText('an edit of published content', { exact: false }).waitFor();
    const stock = item.locator('tbody tr', { has: page.getByRole('cell', { name: 'stock', exact: true }) });
    await expect(stock.locator('td.before').textContent()).resolves.toBe('2');
    await expect(stock.locator('td.after').textContent()).resolves.toBe('5');
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Benefit ${id} is now PUBLISHED and live.`).waitFor();

    const stored = await must(
      alice,
      `query ($ids: [ID!]!) { benefitsByIds(ids: $ids) { stock approvedBy } }`,
      {
        ids: [id],
      },
    );
    expect(stored.benefitsByIds).toEqual([{ stock: 5, approvedBy: 'ops.carol' }]);
  });

  it('approves a template, then the campaign that sends it; a campaign approved too early is refused with its code', async () => {
    const templateId = (
      await must(alice, `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: { ...IN_APP_TEMPLATE, name: 'Console season' },
      })
    ).createTemplate.id as string;
    await must(alice, MESSAGES_STEP, { type: 'TEMPLATE', id: templateId, step: 'SUBMIT' });
    const campaignId = (
      await must(alice, `mutation ($input: CampaignInput!) { createCampaign(input: $input) { id } }`, {
        input: campaignInput('Console autumn', templateId),
      })
    ).createCampaign.id as string;
    await must(alice, MESSAGES_STEP, { type: 'CAMPAIGN', id: campaignId, step: 'SUBMIT' });

    await openQueueAs('ops.alice');
    const template = waiting('TEMPLATE', templateId);
    const campaign = waiting('CAMPAIGN', campaignId);
    await campaign.getByText('Your edit: another operator must approve it (four eyes).').waitFor();
    await expect(campaign.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await expect(template.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await page.getByRole('button', { name: 'Log out' }).click();

    await openQueueAs('ops.bob');
    await campaign
      .getByText(
        `Approving is refused until its templates are published: ${templateId} (Console season) is IN_REVIEW.`,
      )
      .waitFor();
    // Approved all the same, the campaign is refused by messages, which says why, with its code.
    await campaign.getByRole('button', { name: 'Approve' }).click();
    await campaign.getByRole('alert').getByText('FAILED_PRECONDITION', { exact: true }).waitFor();

    await template.getByText('{{member.name}}，您好').waitFor();
    await template.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Template ${templateId} is now PUBLISHED and live.`).waitFor();
    // The queue is read again after the step: the campaign's templates are published now.
    await campaign.getByText('Approving is refused', { exact: false }).waitFor({ state: 'detached' });
    await campaign.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Campaign ${campaignId} is now PUBLISHED and live.`).waitFor();

    const stored = await must(alice, `query ($id: ID!) { campaign(id: $id) { status state approvedBy } }`, {
      id: campaignId,
    });
    expect(stored.campaign).toEqual({ status: 'PUBLISHED', state: 'SCHEDULED', approvedBy: 'ops.bob' });
  });

  it('lets a second operator approve a hot topic, showing what members will read', async () => {
    const input = {
      title: '养老金融 Console pensions',
      summary: 'What the new personal pension rules mean for you.',
      coverUrl: 'https://cdn.example/pension.jpg',
      tags: ['pension'],
    };
    const id = (
      await must(alice, `mutation ($input: TopicInput!) { createTopic(input: $input) { id } }`, { input })
    ).createTopic.id as string;
    await must(
      alice,
      `mutation ($id: ID!) { submitForReview(target: { type: TOPIC, id: $id }) { status } }`,
      {
        id,
      },
    );

    await openQueueAs('ops.bob');
    const item = waiting('TOPIC', id);
    await item.getByRole('cell', { name: 'coverUrl', exact: true }).waitFor();
    await item.getByText('What the new personal pension rules mean for you.', { exact: false }).waitFor();
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Topic ${id} is now PUBLISHED and live.`).waitFor();
    await item.waitFor({ state: 'detached' });

    const stored = await must(
      alice,
      '{ managedTopics(status: PUBLISHED, first: 100) { edges { node { id approvedBy } } } }',
    );
    expect(stored.managedTopics.edges).toContainEqual({ node: { id, approvedBy: 'ops.bob' } });
  });

  it('lets a second operator approve a bundle, showing its products and terms', async () => {
    const input = {
      name: 'Console starter',
      description: 'Pocket savings and a travel deposit.',
      productIds: ['P-WM-002', 'P-DP-007'],
      minTotalAmount: 1_000,
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2030-01-01T00:00:00Z',
      rateBonus: 0.2,
    };
    const id = (
      await must(alice, `mutation ($input: BundleInput!) { createBundle(input: $input) { id } }`, { input })
    ).createBundle.id as string;
    await must(
      alice,
      `mutation ($id: ID!) { productsWorkflow(type: BUNDLE, id: $id, step: SUBMIT) { status } }`,
      { id },
    );

    await openQueueAs('ops.bob');
    const item = waiting('BUNDLE', id);
    await item.getByRole('cell', { name: 'productIds', exact: true }).waitFor();
    await item.getByText('P-DP-007', { exact: false }).waitFor();
    await item.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`Bundle ${id} is now PUBLISHED and live.`).waitFor();
    await item.waitFor({ state: 'detached' });

    const { bundles } = await must(alice, '{ bundles(status: PUBLISHED, first: 100) { id approvedBy } }');
    expect(bundles).toContainEqual({ id, approvedBy: 'ops.bob' });
  });
});

describe('campaigns', () => {
  const stateOf = async (id: string) =>
    (await must(alice, `query ($id: ID!) { campaign(id: $id) { state } }`, { id })).campaign.state as string;

  it('shows a campaign with its state and stats, and pauses and resumes it', async () => {
    const templateId = await m.publishedTemplate({ ...IN_APP_TEMPLATE, name: 'Console pause' });
    const id = await m.approvedCampaign(campaignInput('Console pause', templateId));
    await logIn('ops.carol');
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const item = page.locator(`article[data-campaign="${id}"]`);
    await item.locator('.state').getByText('SCHEDULED', { exact: true }).waitFor();
    for (const count of ['sent', 'delivered', 'opened', 'clicked', 'pending', 'skipped'])
      await expect(item.locator(`td[data-count="${count}"]`).textContent()).resolves.toBe('0');

    await item.getByRole('button', { name: 'Pause' }).click();
    await item.getByText('Console pause is now PAUSED.').waitFor();
    await item.locator('.state').getByText('PAUSED', { exact: true }).waitFor();
    await expect(stateOf(id)).resolves.toBe('PAUSED');

    await item.getByRole('button', { name: 'Resume' }).click();
    await item.getByText('Console pause is now SCHEDULED.').waitFor();
    await expect(stateOf(id)).resolves.toBe('SCHEDULED');
    await expect(item.getByRole('button', { name: 'Resume' }).count()).resolves.toBe(0);
  });

  it('says why a pause was refused, with its code, and shows the campaign as it is now', async () => {
    const templateId = await m.publishedTemplate({ ...IN_APP_TEMPLATE, name: 'Console archived' });
    const id = await m.approvedCampaign(campaignInput('Console archived', templateId));
    await logIn('ops.carol');
    await page.getByRole('link', { name: 'Campaigns' }).click();
    const item = page.locator(`article[data-campaign="${id}"]`);
    await item.getByRole('button', { name: 'Pause' }).waitFor();
    // Another operator archives it while Carol looks at it.
    await must(bob, MESSAGES_STEP, { type: 'CAMPAIGN', id, step: 'ARCHIVE' });

    await item.getByRole('button', { name: 'Pause' }).click();
    const refusal = item.getByRole('alert');
    await refusal.getByText(/^Console archived was not paused: .*ARCHIVED/).waitFor();
    await refusal.getByText('FAILED_PRECONDITION', { exact: true }).waitFor();
    await item.locator('.state').getByText('ARCHIVED', { exact: true }).waitFor();
    await expect(item.getByRole('button', { name: 'Pause' }).count()).resolves.toBe(0);
  });
});

describe('benefits screen', () => {
  const CLAIM = `mutation ($benefitId: ID!, $key: String!) {
    claimBenefit(benefitId: $benefitId, idempotencyKey: $key) { id }
  }`;
  const INVENTORY = `query ($id: ID!) {
    benefitsByIds(ids: [$id]) { remaining stock claimCounts { state claims } }
  }`;

  it("shows a benefit's stock and claims, and revokes a member's claim only with a reason", async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-CONSOLE', { title: 'Console coupon', stock: 10, perMemberLimit: 2 }),
    ]);
    const member = bearer(await clientToken('M0105', 'member'));
    const claimIds: string[] = [];
    for (const key of ['console-claim-1', 'console-claim-2']) {
      const claimed = await graphql(hub.gatewayUrl, CLAIM, { benefitId: 'B-CONSOLE', key }, member);
      expect(claimed.errors).toBeUndefined();
      claimIds.push(claimed.data!.claimBenefit.id as string);
    }
    const inventory = async () => (await must(alice, INVENTORY, { id: 'B-CONSOLE' })).benefitsByIds[0];
    const counted = (stored: { claimCounts: { state: string; claims: number }[] }, state: string) =>
      String(stored.claimCounts.find((count) => count.state === state)?.claims ?? 0);

    await logIn('ops.dana');
    await page.getByRole('link', { name: 'Benefits' }).click();
    const row = page.locator('tr[data-benefit="B-CONSOLE"]');
    const before = await inventory();
    await expect(row.locator('[data-figure="remaining"]').textContent()).resolves.toBe(
      `${before.remaining} of ${before.stock}`,
    );
    await expect(row.locator('[data-claims="CLAIMED"]').textContent()).resolves.toBe('2');

    await page.getByLabel('Member id').fill('M0105');
    await page.getByRole('button', { name: 'Show claims' }).click();
    const claim = page.locator(`tr[data-claim="${claimIds[0]}"]`);
    await claim.getByRole('button', { name: 'Revoke…' }).click();
    // Without a reason the hub refuses, in its words and with its code, and nothing changes.
    await page.getByRole('button', { name: 'Revoke claim' }).click();
    await page.getByRole('alert').getByText('BAD_USER_INPUT', { exact: true }).waitFor();
    await claim.locator('[data-state="CLAIMED"]').waitFor();
    await page.getByLabel('Why (the member and the audit log keep it)').fill('Given twice by mistake');
    await page.getByRole('button', { name: 'Revoke claim' }).click();
    await page.getByText(`Claim ${claimIds[0]} is revoked.`).waitFor();
    await claim.locator('[data-state="REVOKED"]').waitFor();
    await expect(claim.getByRole('button', { name: 'Revoke…' }).count()).resolves.toBe(0);
    await page.locator(`tr[data-claim="${claimIds[1]}"] [data-state="CLAIMED"]`).waitFor();

    // The inventory is read again: what the hub holds now.
    const after = await inventory();
    expect(counted(after, 'REVOKED')).toBe('1');
    await row.locator('[data-claims="REVOKED"]', { hasText: '1' }).waitFor();
    await expect(row.locator('[data-claims="CLAIMED"]').textContent()).resolves.toBe(
      counted(after, 'CLAIMED'),
    );
    await expect(row.locator('[data-figure="remaining"]').textContent()).resolves.toBe(
      `${after.remaining} of ${after.stock}`,
    );
    await page.setViewportSize({ width: 1360, height: 1300 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await screenshot(page, 'console-benefits');
  });

  it('says the hub knows no such member, with its code, rather than showing no claims', async () => {
    await logIn('ops.dana');
    await page.getByRole('link', { name: 'Benefits' }).click();
    await page.getByLabel('Member id').fill('M9999');
    await page.getByRole('button', { name: 'Show claims' }).click();
    const refusal = page.getByRole('region', { name: "A member's claims" }).getByRole('alert');
    await refusal.getByText('NOT_FOUND', { exact: true }).waitFor();
    await expect(refusal.textContent()).resolves.toMatch(/^The claims could not be read: /);
    await expect(page.getByText('has no claim').count()).resolves.toBe(0);
  });
});
