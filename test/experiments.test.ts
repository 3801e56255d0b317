// Experiments, the creative bandit and the model registry through the gateway, on synthetic traffic: a variant with
// three times the click-through is significant and one with 20 exposures is "not enough data"; conversions are
// attributed by the same bucketing content uses; the bandit moves exposure towards a creative with twice the
// click-through; operators list, read and switch model versions, audited.
import DataLoader from 'dataloader';
import { assignVariant } from '@bank-hub/targeting';
import type { RunningHub } from '../scripts/hub';
import { experimentOf } from '../subgraphs/analytics/src/analysis';
import type { StatsKey } from '../subgraphs/analytics/src/context';
import { mulberry32 } from '../subgraphs/analytics/src/domain/random';
import { dayOf, windowStart } from '../subgraphs/analytics/src/domain/rollups';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import type { EventDoc } from '../subgraphs/analytics/src/models/event';
import type { RollupTotals } from '../subgraphs/analytics/src/models/rollup';
import { countedReads, type RowCount } from '../subgraphs/analytics/test/counted-reads';
import { insertPublishedPage, publishedBanner } from './support/content';
import { bearer, clientToken, errorCodes, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;

const VARIANTS = [
  { key: 'A', weight: 50, title: 'A', imageUrl: null, highlight: null },
  { key: 'B', weight: 50, title: 'B', imageUrl: null, highlight: null },
];
const ARMS = ['CR-bandit-1', 'CR-bandit-2', 'CR-bandit-3'];
const BEST_ARM = 'CR-bandit-2';

beforeAll(async () => {
  hub = await startTestHub('experiments');
  operator = bearer(await clientToken('ops.zhou', 'operator'));
  const hero = { code: 'hero', template: 'BANNER_CAROUSEL' as const, maxItems: 2 };
  await insertPublishedPage(
    hub.connections.content,
    'exptest',
    [hero],
    [
      publishedBanner('PG-APP-exptest', 'hero', 'CR-exp-clear', {
        experimentKey: 'exp-clear',
        variants: VARIANTS,
      }),
      publishedBanner('PG-APP-exptest', 'hero', 'CR-exp-small', {
        experimentKey: 'exp-small',
        variants: VARIANTS,
      }),
    ],
  );
  await insertPublishedPage(
    hub.connections.content,
    'expclicks',
    [hero],
    [
      publishedBanner('PG-APP-expclicks', 'hero', 'CR-exp-clicks', {
        experimentKey: 'exp-clicks',
        variants: VARIANTS,
      }),
    ],
  );
  await insertPublishedPage(
    hub.connections.content,
    'bandit',
    [{ ...hero, maxItems: 1 }],
    ARMS.map((id) => publishedBanner('PG-APP-bandit', 'hero', id, { priority: 3 })),
  );
});

afterAll(() => stopTestHub(hub));

const RETRAIN = `mutation { retrainCreativeBandit { version status } }`;

let sequence = 0;
interface Sent {
  name: string;
  properties: Record<string, unknown>;
}

/** Sends events, 100 to a batch from a fresh device each (within the per-device limit). */
async function track(events: Sent[], headers: Record<string, string> = {}, at = new Date()): Promise<void> {
  for (let i = 0; i < events.length; i += 100) {
    const batch = events.slice(i, i + 100).map((event) => ({
      id: `ex-${++sequence}-${Date.now().toString(36)}`,
      occurredAt: at.toISOString(),
      channel: 'APP',
      ...event,
    }));
    const response = await graphql(
      hub.gatewayUrl,
      `
        mutation ($d: ID!, $e: [EventInput!]!) {
          trackEvents(deviceId: $d, events: $e) {
            accepted
          }
        }
      `,
      { d: `experiments-${sequence}`, e: batch },
      headers,
    );
    expect(response.data?.trackEvents.accepted).toBe(batch.length);
  }
}

const shown = (creativeId: string, variant: string | null, clicks: number, impressions: number): Sent[] => [
  ...Array.from({ length: impressions }, () => ({
    name: 'creative_impression',
    properties: { creativeId, ...(variant ? { variant } : {}) },
  })),
  ...Array.from({ length: clicks }, () => ({
    name: 'creative_click',
    properties: { creativeId, ...(variant ? { variant } : {}) },
  })),
];

const STATS = `query ($page: ID!) { creatives(pageId: $page) { id stats(days: 1) { impressions } } }`;

/** Waits until the rollups count `impressions` for the page's creatives (the writer flushes every 250 ms). */
async function untilCounted(pageId: string, impressions: number): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    const response = await graphql(hub.gatewayUrl, STATS, { page: pageId }, operator);
    const total = response.data?.creatives.reduce(
      (sum: number, creative: { stats: { impressions: number } }) => sum + creative.stats.impressions,
      0,
    );
    if (total >= impressions) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${pageId} never reached ${impressions} impressions`);
}

describe('experiments', () => {
  const CLEAR_MEMBERS = Array.from({ length: 12 }, (_, i) => `M${String(900 + i).padStart(4, '0')}`);
  const EXPERIMENTS = `{ creatives(pageId: "PG-APP-exptest") {
    id
    experiment(days: 7) {
      key verdict control winner pValue threshold minimumExposures
      variants { key weight exposures clicks ctr members conversions conversionRate }
    }
  } }`;

  it('reports a clear winner as significant, 20 exposures as not enough data, and conversions by assignment', async () => {
    await track([
      ...shown('CR-exp-clear', 'A', 20, 400),
      ...shown('CR-exp-clear', 'B', 60, 400),
      ...shown('CR-exp-small', 'A', 1, 10),
      ...shown('CR-exp-small', 'B', 5, 10),
    ]);
    // Members who saw the clear experiment; every third converts afterwards.
    const members = CLEAR_MEMBERS;
    const expected = { A: { members: 0, conversions: 0 }, B: { members: 0, conversions: 0 } };
    for (const [i, memberId] of members.entries()) {
      const variant = assignVariant(memberId, 'exp-clear', VARIANTS)!.key as 'A' | 'B';
      const token = bearer(await clientToken(memberId, 'member'));
      const seenAt = new Date(Date.now() - 60_000);
      await track(
        [{ name: 'creative_impression', properties: { creativeId: 'CR-exp-clear', variant } }],
        token,
        seenAt,
      );
      expected[variant].members += 1;
      if (i % 3 === 0) {
        await track([{ name: 'flow_completed', properties: { flowKey: 'buy-wealth' } }], token);
        expected[variant].conversions += 1;
      }
    }
    await untilCounted('PG-APP-exptest', 820 + members.length);

    const response = await graphql(hub.gatewayUrl, EXPERIMENTS, {}, operator);
    expect(response.errors).toBeUndefined();
    const byId = Object.fromEntries(
      response.data?.creatives.map((c: { id: string; experiment: unknown }) => [c.id, c.experiment]),
    );
    const clear = byId['CR-exp-clear'];
    expect(clear).toMatchObject({ key: 'exp-clear', verdict: 'SIGNIFICANT', control: 'A', winner: 'B' });
    expect(clear.pValue).toBeLessThan(clear.threshold);
    expect(clear.variants.map((v: { key: string; clicks: number }) => [v.key, v.clicks])).toEqual([
      ['A', 20],
      ['B', 60],
    ]);
    for (const variant of clear.variants) expect(variant).toMatchObject(expected[variant.key as 'A' | 'B']);
    expect(byId['CR-exp-small']).toMatchObject({
      verdict: 'NOT_ENOUGH_DATA',
      winner: null,
      pValue: null,
      minimumExposures: 100,
    });
    expect(byId['CR-exp-small'].variants.map((v: { exposures: number }) => v.exposures)).toEqual([10, 10]);
  });

  it('reads one row per exposed member, with the same results however many impressions and completions', async () => {
    const analytics = await openAnalytics(hub.connections.analytics);
    const count: RowCount = { rows: 0 };
    const read = async () => {
      const now = new Date();
      const creativeTotals = new DataLoader<StatsKey, RollupTotals[], string>(
        (keys) =>
          Promise.all(
            keys.map(({ id, days }) => analytics.rollups.totals('creative', [id], windowStart(days, now))),
          ),
        { cacheKeyFn: ({ id, days }) => `${days}|${id}` },
      );
      const ctx = {
        repos: { ...analytics, events: countedReads(analytics.events, count) },
        now,
        loaders: { creativeTotals },
      };
      count.rows = 0;
      const experiment = await experimentOf(
        ctx,
        'CR-exp-clear',
        { experimentKey: 'exp-clear', variants: VARIANTS.map(({ key, weight }) => ({ key, weight })) },
        7,
      );
      return { experiment, rows: count.rows };
    };
    // The previous test's answer, as served: its members and conversions are checked there.
    const served = (await graphql(hub.gatewayUrl, EXPERIMENTS, {}, operator)).data?.creatives.find(
      (creative: { id: string }) => creative.id === 'CR-exp-clear',
    ).experiment;
    expect(served.variants.map((v: { conversions: number }) => v.conversions)).not.toEqual([0, 0]);
    const before = await read();
    expect(before.experiment).toMatchObject(served);
    // One first exposure and at most one last completion per member who saw it.
    expect(before.rows).toBeLessThanOrEqual(2 * CLEAR_MEMBERS.length);

    // 250 more impressions by each of those members after their first, a completion before the first exposure by
    // each who did not convert (still not a conversion), and 20,000 completions by members who never saw it.
    const now = new Date();
    const event = (id: string, name: string, memberId: string, at: Date, properties = {}): EventDoc => ({
      _id: `exp-reads:${id}`,
      name,
      memberId,
      deviceId: 'exp-reads',
      channel: 'APP',
      occurredAt: at,
      receivedAt: now,
      day: dayOf(at),
      properties,
    });
    const weekAgo = new Date(`${windowStart(7, now)}T01:00:00Z`);
    const noise = [
      ...CLEAR_MEMBERS.flatMap((memberId, i) => [
        ...Array.from({ length: 250 }, (_, n) =>
          event(`imp-${i}-${n}`, 'creative_impression', memberId, new Date(now.getTime() - 1_000), {
            creativeId: 'CR-exp-clear',
          }),
        ),
        ...(i % 3 === 0 ? [] : [event(`early-${i}`, 'flow_completed', memberId, weekAgo)]),
      ]),
      ...Array.from({ length: 20_000 }, (_, n) =>
        event(`flow-${n}`, 'flow_completed', `M-unexposed-${n}`, new Date(now.getTime() - 1_000)),
      ),
    ];
    for (let i = 0; i < noise.length; i += 5_000) await analytics.events.insertNew(noise.slice(i, i + 5_000));
    try {
      const after = await read();
      expect(after.experiment).toMatchObject(served);
      expect(after.rows).toBeLessThanOrEqual(2 * CLEAR_MEMBERS.length);
    } finally {
      await analytics.events.model.deleteMany({ deviceId: 'exp-reads' }).exec();
    }
  }, 60_000);

  it('reads a variant clicked more often than shown as clicked every time, with a p-value', async () => {
    // A's impressions last: once they are counted, so are its clicks (the same rollup document, written in order).
    await track([
      ...shown('CR-exp-clicks', 'B', 0, 100),
      ...shown('CR-exp-clicks', 'A', 300, 0),
      ...shown('CR-exp-clicks', 'A', 0, 100),
    ]);
    await untilCounted('PG-APP-expclicks', 200);
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          creatives(pageId: "PG-APP-expclicks") {
            experiment(days: 7) {
              verdict
              control
              winner
              pValue
              variants {
                key
                exposures
                clicks
              }
            }
          }
        }
      `,
      {},
      operator,
    );
    expect(response.errors).toBeUndefined();
    const experiment = response.data?.creatives[0].experiment;
    expect(experiment).toMatchObject({
      verdict: 'SIGNIFICANT',
      control: 'A',
      winner: 'A',
      variants: [
        { key: 'A', exposures: 100, clicks: 300 },
        { key: 'B', exposures: 100, clicks: 0 },
      ],
    });
    expect(experiment.pValue).toBeLessThan(0.001);
  });

  it('is for operators only', async () => {
    const member = bearer(await clientToken('M0001', 'member'));
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          viewer {
            page(channel: APP, key: "exptest") {
              slots {
                items {
                  ... on Banner {
                    title
                  }
                }
              }
            }
          }
        }
      `,
      {},
      member,
    );
    expect(response.errors).toBeUndefined();
    const direct = await graphql(hub.gatewayUrl, EXPERIMENTS, {}, member);
    expect(errorCodes(direct)).toContain('FORBIDDEN');
  });
});

describe('the creative bandit', () => {
  it('moves exposure towards the creative with twice the click-through, retrained between rounds', async () => {
    const ctr: Record<string, number> = { 'CR-bandit-1': 0.15, 'CR-bandit-2': 0.3, 'CR-bandit-3': 0.15 };
    const world = mulberry32(2026);
    const exposures: Record<string, number> = Object.fromEntries(ARMS.map((arm) => [arm, 0]));
    const PAGE = `{ viewer { page(channel: APP, key: "bandit") { slots { items { ... on PlacedItem { creativeId } } } } } }`;
    let counted = 0;
    for (let round = 0; round < 8; round++) {
      const events: Sent[] = [];
      for (let m = 0; m < 40; m++) {
        const memberId = `M${String(200 + m).padStart(4, '0')}`;
        const page = await graphql(hub.gatewayUrl, PAGE, {}, bearer(await clientToken(memberId, 'member')));
        const creativeId = page.data?.viewer.page.slots[0].items[0].creativeId as string;
        exposures[creativeId]! += 1;
        events.push(...shown(creativeId, null, world() < ctr[creativeId]! ? 1 : 0, 1));
      }
      await track(events);
      counted += 40;
      await untilCounted('PG-APP-bandit', counted);
      const trained = await graphql(hub.gatewayUrl, RETRAIN, {}, operator);
      expect(trained.data?.retrainCreativeBandit).toMatchObject({ version: round + 2, status: 'ACTIVE' });
    }
    expect(exposures[BEST_ARM]! / counted).toBeGreaterThan(0.5);
  });
});

describe('the model registry', () => {
  const MODELS = `{ models { name activeVersion shadowVersion pinned latestVersion versions(first: 3) { version status } } }`;

  it('lists every model with its versions, and reads one version or the active one', async () => {
    const response = await graphql(hub.gatewayUrl, MODELS, {}, operator);
    const models = Object.fromEntries(response.data?.models.map((m: { name: string }) => [m.name, m]));
    expect(models['lifecycle-stage']).toMatchObject({ activeVersion: 1, pinned: false });
    const bandit = models['creative-bandit'];
    expect(bandit.activeVersion).toBe(bandit.latestVersion);
    expect(bandit.versions[0]).toEqual({ version: bandit.latestVersion, status: 'ACTIVE' });
    expect(bandit.versions[1].status).toBe('RETIRED');

    const one = await graphql(
      hub.gatewayUrl,
      `
        {
          model(name: "creative-bandit", version: 1) {
            version
            status
            trainedBy
            metrics {
              name
              value
            }
            parameters
          }
        }
      `,
      {},
      operator,
    );
    expect(one.data?.model).toMatchObject({ version: 1, status: 'RETIRED', trainedBy: 'seed' });
    expect(one.data?.model.metrics.map((m: { name: string }) => m.name)).toEqual([
      'arms',
      'impressions',
      'clicks',
    ]);
    const active = await graphql(
      hub.gatewayUrl,
      `
        {
          model(name: "lifecycle-stage") {
            version
            status
          }
        }
      `,
      {},
      operator,
    );
    expect(active.data?.model).toEqual({ version: 1, status: 'ACTIVE' });
  });

  it('answers NOT_FOUND for a version or model that does not exist', async () => {
    for (const query of [
      `{ model(name: "creative-bandit", version: 999) { version } }`,
      `{ model(name: "no-such-model") { version } }`,
      `mutation { activateModelVersion(name: "creative-bandit", version: 999) { name } }`,
      `mutation { activateModelVersion(name: "no-such-model", version: 1) { name } }`,
    ]) {
      expect(errorCodes(await graphql(hub.gatewayUrl, query, {}, operator))).toEqual(['NOT_FOUND']);
    }
    const zero = await graphql(
      hub.gatewayUrl,
      `
        {
          model(name: "creative-bandit", version: 0) {
            version
          }
        }
      `,
      {},
      operator,
    );
    expect(zero.errors?.[0]?.message).toBe('model creative-bandit has no version 0');
    expect(
      errorCodes(
        await graphql(
          hub.gatewayUrl,
          `
            mutation {
              activateModelVersion(name: "creative-bandit", version: 0) {
                name
              }
            }
          `,
          {},
          operator,
        ),
      ),
    ).toEqual(['BAD_USER_INPUT']);
  });

  it('answers a missing model as a null field, next to the rest of the query', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          model(name: "no-such-model") {
            version
          }
          models {
            name
          }
        }
      `,
      {},
      operator,
    );
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
    expect(response.errors?.[0]?.path).toEqual(['model']);
    expect(response.data?.model).toBeNull();
    expect(response.data?.models.map((m: { name: string }) => m.name)).toContain('creative-bandit');
  });

  it('switches the active version for operators only, audited, and keeps a pinned version serving', async () => {
    const ACTIVATE = `mutation { activateModelVersion(name: "creative-bandit", version: 2) { activeVersion pinned shadowVersion } }`;
    const member = bearer(await clientToken('M0001', 'member'));
    expect(errorCodes(await graphql(hub.gatewayUrl, ACTIVATE, {}, member))).toEqual(['FORBIDDEN']);

    const activated = await graphql(hub.gatewayUrl, ACTIVATE, {}, operator);
    expect(activated.data?.activateModelVersion).toEqual({
      activeVersion: 2,
      pinned: true,
      shadowVersion: null,
    });
    const scores = await graphql(
      hub.gatewayUrl,
      `
        {
          creativeScores(creativeIds: ["CR-bandit-1"]) {
            version
          }
        }
      `,
    );
    expect(scores.data?.creativeScores.version).toBe(2);

    const trained = await graphql(hub.gatewayUrl, RETRAIN, {}, operator);
    expect(trained.data?.retrainCreativeBandit.status).toBe('SHADOW');
    const head = await graphql(hub.gatewayUrl, MODELS, {}, operator);
    expect(head.data?.models.find((m: { name: string }) => m.name === 'creative-bandit')).toMatchObject({
      activeVersion: 2,
      shadowVersion: trained.data?.retrainCreativeBandit.version,
      pinned: true,
    });

    const { audit } = await openAnalytics(hub.connections.analytics);
    const records = await audit.forTarget('MODEL', 'creative-bandit');
    expect(records[0]).toMatchObject({ actor: 'ops.zhou', action: 'activateModelVersion' });
    expect(records[0]?.after).toMatchObject({ active: 2, pinned: true });
  });
});
