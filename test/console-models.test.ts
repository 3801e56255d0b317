// The operations console's Models screen in a real browser: the model registry and a model's versions as the graph
// answers them, activating an older version (confirmed first, pinned by default) that the graph then serves, a
// version pruned meanwhile refused with its code, and the federated rounds, read only, with each participant's maximum
// and weight.
import type { Browser, Page } from 'playwright-core';
import type { RunningHub } from '../scripts/hub';
import { launchBrowser, logInToConsole, screenshot } from './support/browser';
import { roundKeys } from '../subgraphs/analytics/src/domain/federated';
import { callerOf, type Send } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let browser: Browser;
let page: Page;
let alice: Send;

/** Sends `query` as alice, failing the test on any error; its data. */
async function must(query: string, variables: Record<string, unknown> = {}) {
  const response = await alice(query, variables);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

const BANDIT = 'creative-bandit';

beforeAll(async () => {
  // The development issuer (/dev/token) exists in development only.
  hub = await startTestHub('console-models', { config: { NODE_ENV: 'development' } });
  browser = await launchBrowser();
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  // Three versions of the bandit: the seed's and two trainings.
  for (let i = 0; i < 2; i += 1) await must('mutation { retrainCreativeBandit { version } }');
  // bank.a announces more than the others together: its weight is capped; bank.b's contract allows it 500 samples.
  const samples = { 'bank.a': 1_000, 'bank.b': 400, 'bank.c': 100 };
  for (const id of Object.keys(samples))
    await must(
      `mutation ($id: ID!, $name: String!, $max: Int) {
        registerFederatedParticipant(id: $id, name: $name, maxSamples: $max) { id }
      }`,
      { id, name: id, max: id === 'bank.b' ? 500 : null },
    );
  const open = `mutation { openFederatedRound(participants: ["bank.a", "bank.b", "bank.c"]) { id } }`;
  const abandoned = (await must(open)).openFederatedRound.id as string;
  await must('mutation ($id: ID!) { abandonFederatedRound(id: $id) { id } }', { id: abandoned });
  const roundId = (await must(open)).openFederatedRound.id as string;
  for (const [id, count] of Object.entries(samples)) {
    const posted = await (
      await callerOf(hub.gatewayUrl, id, 'federation')
    )(
      `mutation ($roundId: ID!, $publicKey: String!, $samples: Int!) {
        postFederatedKey(roundId: $roundId, publicKey: $publicKey, samples: $samples) { id }
      }`,
      { roundId, publicKey: roundKeys().publicKey, samples: count },
    );
    expect(posted.errors).toBeUndefined();
  }
  page = await browser.newPage({ viewport: { width: 1360, height: 1300 } });
  page.setDefaultTimeout(10_000);
});

afterAll(async () => {
  await page?.close();
  await browser?.close();
  await stopTestHub(hub);
});

const REGISTRY = `{
  models {
    name activeVersion shadowVersion pinned latestVersion
    versions { version status metrics { name value } }
  }
}`;
const ROUNDS = `{
  federatedRounds(open: false) {
    id status participants publishedVersion sampleLimits { participant maxSamples } keys { participant weight }
  }
}`;

interface Model {
  name: string;
  activeVersion: number | null;
  shadowVersion: number | null;
  pinned: boolean;
  latestVersion: number;
  versions: { version: number; status: string; metrics: { name: string; value: number }[] }[];
}

const cell = (row: ReturnType<Page['locator']>, figure: string) =>
  row.locator(`[data-figure="${figure}"]`).textContent();

it('shows the registry as the graph answers it, activates an older version, and refuses a pruned one', async () => {
  await logInToConsole(page, hub.gatewayUrl.replace(/\/graphql$/, ''), 'ops.dana');
  await page.getByRole('link', { name: 'Models', exact: true }).click();
  const models = (await must(REGISTRY)).models as Model[];
  expect(models.map((model) => model.name)).toContain(BANDIT);
  for (const model of models) {
    const row = page.locator(`tr[data-model="${model.name}"]`);
    await expect(cell(row, 'active')).resolves.toBe(String(model.activeVersion ?? '—'));
    await expect(cell(row, 'shadow')).resolves.toBe(String(model.shadowVersion ?? '—'));
    await expect(cell(row, 'latest')).resolves.toBe(String(model.latestVersion));
    await expect(cell(row, 'pinned')).resolves.toBe(model.pinned ? 'pinned' : 'no');
  }

  // The bandit's versions, newest first, with their status and metrics.
  await page.locator(`tr[data-model="${BANDIT}"]`).getByRole('button', { name: 'Versions' }).click();
  const panel = page.getByRole('region', { name: `Versions of ${BANDIT}` });
  const bandit = models.find((model) => model.name === BANDIT)!;
  expect(bandit.versions.map((version) => version.version)).toEqual([3, 2, 1]);
  await expect(
    panel.locator('tr[data-version]').evaluateAll((rows) => rows.map((row) => row.dataset.version)),
  ).resolves.toEqual(['3', '2', '1']);
  for (const version of bandit.versions) {
    const row = panel.locator(`tr[data-version="${version.version}"]`);
    await row.locator(`[data-status="${version.status}"]`).waitFor();
    await expect(row.locator('li[data-metric]').allTextContents()).resolves.toEqual(
      // As the screen writes a value: at most four decimals.
      version.metrics.map(
        ({ name, value }) => `${name} ${value.toLocaleString('en', { maximumFractionDigits: 4 })}`,
      ),
    );
  }

  // Rolling back to version 1 asks first; pinned, as the API would, and the graph then serves it.
  const first = panel.locator('tr[data-version="1"]');
  await first.getByRole('button', { name: 'Activate…' }).click();
  await panel.getByText(`Make version 1 of ${BANDIT} the one that serves, in place of version 3?`).waitFor();
  await expect(panel.getByLabel('Pin it: new versions wait as shadow').isChecked()).resolves.toBe(true);
  await panel.getByRole('button', { name: 'Activate version 1' }).click();
  await panel.getByText(`Version 1 of ${BANDIT} serves now, pinned: new versions wait as shadow.`).waitFor();
  const served = await must(`query ($name: String!) { model(name: $name) { version status } }`, {
    name: BANDIT,
  });
  expect(served.model).toEqual({ version: 1, status: 'ACTIVE' });
  await first.locator('[data-status="ACTIVE"]').waitFor();
  const banditRow = page.locator(`tr[data-model="${BANDIT}"]`);
  await banditRow.locator('[data-figure="active"]', { hasText: '1' }).waitFor();
  await expect(cell(banditRow, 'pinned')).resolves.toBe('pinned');

  // Version 2, pruned after the screen listed it: refused with the hub's code, and the list read again.
  await hub.connections.analytics.collection('model_versions').deleteOne({ name: BANDIT, version: 2 });
  await panel.locator('tr[data-version="2"]').getByRole('button', { name: 'Activate…' }).click();
  await panel.getByRole('button', { name: 'Activate version 2' }).click();
  const refusal = panel.getByRole('alert');
  await refusal.getByText('NOT_FOUND', { exact: true }).waitFor();
  await expect(refusal.textContent()).resolves.toMatch(
    new RegExp(`^Version 2 of ${BANDIT} was not activated: `),
  );
  await panel.locator('tr[data-version="2"]').waitFor({ state: 'detached' });
  expect(
    (await must(`query ($name: String!) { model(name: $name) { version } }`, { name: BANDIT })).model,
  ).toEqual({
    version: 1,
  });

  // The federated rounds, every one by default, as the graph lists them.
  const rounds = (await must(ROUNDS)).federatedRounds as {
    id: string;
    status: string;
    participants: string[];
    publishedVersion: number | null;
    sampleLimits: { participant: string; maxSamples: number }[];
    keys: { participant: string; weight: number | null }[];
  }[];
  expect(rounds.map((round) => round.status)).toEqual(['COLLECTING_UPDATES', 'ABANDONED']);
  // Every participant's maximum, and once every key is in, its weight: bank.a's 1,000 samples weigh no more than the
  // others' together.
  expect(rounds[0]!.keys.map((key) => key.weight)).toEqual([500, 400, 100]);
  expect(rounds[0]!.sampleLimits.map((limit) => limit.maxSamples)).toEqual([100_000, 500, 100_000]);
  for (const round of rounds) {
    const row = page.locator(`tr[data-round="${round.id}"]`);
    await row.locator(`[data-status="${round.status}"]`).waitFor();
    await expect(cell(row, 'participants')).resolves.toBe(round.participants.join(', '));
    await expect(cell(row, 'published')).resolves.toBe(String(round.publishedVersion ?? '—'));
    for (const { participant, maxSamples } of round.sampleLimits) {
      const figures = row.locator(`li[data-participant="${participant}"]`);
      await expect(cell(figures, 'max-samples')).resolves.toBe(String(maxSamples));
      const weight = round.keys.find((key) => key.participant === participant)?.weight ?? null;
      if (weight === null) await expect(figures.locator('[data-figure="weight"]').count()).resolves.toBe(0);
      else await expect(cell(figures, 'weight')).resolves.toBe(String(weight));
    }
  }
  await expect(page.getByRole('button', { name: /Abandon|Open/ }).count()).resolves.toBe(0);
  await page.evaluate(() => window.scrollTo(0, 0));
  await screenshot(page, 'console-models');
});
