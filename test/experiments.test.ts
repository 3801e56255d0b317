// Experiments, the creative bandit and the model registry through the gateway, on synthetic traffic: verdicts count
// members, attributed (clicks and conversions alike) by the same bucketing content uses, so a variant whose members
// click five times as often is significant, while 20 members, one member's 100 clicks, a client's wrong variant keys
// or clicks no member sent decide nothing; the bandit moves exposure towards a creative with twice the click-through,
// counting a member once a day and a device without a member not at all;
// operators list, read and switch model versions, audited.
import { BankCalendar, GraphClient, addDays, serviceIdentity } from '@bank-hub/shared';
import { assignVariant } from '@bank-hub/targeting';
import type { RunningHub } from '../scripts/hub';
import { experimentOf } from '../subgraphs/analytics/src/analysis';
import { BANDIT_MODEL_NAME, trainCreativeBandit } from '../subgraphs/analytics/src/bandit-job';
import { trainOnceAnInterval } from '../subgraphs/analytics/src/scheduled-training';
import { mulberry32 } from '../subgraphs/analytics/src/domain/random';
import { dayBoundsOf, windowStart } from '../subgraphs/analytics/src/domain/rollups';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import type { EventDoc } from '../subgraphs/analytics/src/models/event';
import { rebuildDay } from '../subgraphs/analytics/src/rollup-job';
import { countedReads, type RowCount } from '../subgraphs/analytics/test/counted-reads';
import { insertPublishedPage, publishedBanner } from './support/content';
import {
  bearer,
  callerOf,
  clientToken,
  dropAndClose,
  errorCodes,
  graphql,
  testConfig,
  testDatabase,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { queriesDuring } from './support/indexes';

let hub: RunningHub;
let operator: Record<string, string>;
/** The bank's days analytics counts. */
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);

const VARIANTS = [
  { key: 'A', weight: 50, title: 'A', imageUrl: null, highlight: null },
  { key: 'B', weight: 50, title: 'B', imageUrl: null, highlight: null },
];
const ARMS = ['CR-bandit-1', 'CR-bandit-2', 'CR-bandit-3'];
/** The product of the product card CR-exp-product. */
const EXP_PRODUCT = 'P-WM-001';
const BEST_ARM = 'CR-bandit-2';

beforeAll(async () => {
  hub = await startTestHub('experiments');
  operator = bearer(await clientToken('ops.zhou', 'operator'));
  const hero = { code: 'hero', template: 'BANNER_CAROUSEL' as const, maxItems: 2 };
  // Each page's hero shows experiment creatives, [creative, experiment key]. expkeys runs one experiment on two
  // creatives: a member is assigned the same variant on both.
  const experimentPages: Record<string, [creativeId: string, experimentKey: string][]> = {
    exptest: [
      ['CR-exp-clear', 'exp-clear'],
      ['CR-exp-small', 'exp-small'],
    ],
    expclicks: [['CR-exp-clicks', 'exp-clicks']],
    exphostile: [['CR-exp-hostile', 'exp-hostile']],
    expratio: [['CR-exp-ratio', 'exp-ratio']],
    expkeys: [
      ['CR-exp-honest', 'exp-keys'],
      ['CR-exp-mislabelled', 'exp-keys'],
    ],
    expproduct: [['CR-exp-product', 'exp-product']],
  };
  for (const [page, creatives] of Object.entries(experimentPages)) {
    await insertPublishedPage(
      hub.connections.content,
      page,
      [hero],
      creatives.map(([id, experimentKey]) =>
        publishedBanner(`PG-APP-${page}`, 'hero', id, {
          experimentKey,
          variants: VARIANTS,
          // A product card: its members convert by buying its product.
          ...(id === 'CR-exp-product' ? { kind: 'PRODUCT' as const, refId: EXP_PRODUCT } : {}),
        }),
      ),
    );
  }
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

const STATS = `query ($page: ID!, $days: Int!) {
  creatives(pageId: $page, first: 100) { edges { node { id stats(days: $days) { impressions clicks } } } }
}`;

/**
 * Waits until the rollups of the last `days` days count `impressions` (and `clicks`) for the page's creatives: the
 * writer flushes every 250 ms, and events sent in several batches land in several flushes.
 */
async function untilCounted(pageId: string, impressions: number, clicks = 0, days = 1): Promise<void> {
  for (let tries = 0; tries < 50; tries++) {
    const response = await graphql(hub.gatewayUrl, STATS, { page: pageId, days }, operator);
    const stats: { impressions: number; clicks: number }[] = response.data?.creatives.edges.map(
      ({ node }: { node: { stats: { impressions: number; clicks: number } } }) => node.stats,
    );
    const total = (field: 'impressions' | 'clicks') =>
      stats.reduce((sum, counted) => sum + counted[field], 0);
    if (total('impressions') >= impressions && total('clicks') >= clicks) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${pageId} never reached ${impressions} impressions and ${clicks} clicks`);
}

/** Members `<prefix>0001`… that the shared bucketing puts in each variant of `key`, `perVariant` of each. */
function membersOf(prefix: string, key: string, perVariant: number): Record<'A' | 'B', string[]> {
  const byVariant: Record<'A' | 'B', string[]> = { A: [], B: [] };
  for (let n = 1; byVariant.A.length < perVariant || byVariant.B.length < perVariant; n++) {
    const memberId = `${prefix}${String(n).padStart(4, '0')}`;
    const bucket = byVariant[assignVariant(memberId, key, VARIANTS)!.key as 'A' | 'B'];
    if (bucket.length < perVariant) bucket.push(memberId);
  }
  return byVariant;
}

/** Each member's events, sent with their own token, ten members at a time. */
async function asMembers(sends: { memberId: string; events: Sent[]; at?: Date }[]): Promise<void> {
  for (let i = 0; i < sends.length; i += 10) {
    await Promise.all(
      sends
        .slice(i, i + 10)
        .map(async ({ memberId, events, at }) =>
          track(events, bearer(await clientToken(memberId, 'member')), at),
        ),
    );
  }
}

interface VariantResult {
  key: string;
  exposures: number;
  clicks: number;
  members: number;
  clickers: number;
  memberCtr: number | null;
  conversions: number;
}
interface Experiment {
  verdict: string;
  control: string | null;
  winner: string | null;
  pValue: number | null;
  sampleRatioPValue: number | null;
  threshold: number;
  variants: VariantResult[];
}

const EXPERIMENT_FIELDS = `experiment(days: 7) {
  key verdict control winner pValue sampleRatioPValue threshold minimumMembers minimumExposures
  variants { key weight exposures clicks ctr members clickers memberCtr conversions conversionRate }
}`;

/** The experiments of a page's creatives, by creative id. */
async function experimentsOn(pageId: string): Promise<Record<string, Experiment>> {
  const response = await graphql(
    hub.gatewayUrl,
    `query ($page: ID!) { creatives(pageId: $page, first: 100) { edges { node { id ${EXPERIMENT_FIELDS} } } } }`,
    { page: pageId },
    operator,
  );
  expect(response.errors).toBeUndefined();
  return Object.fromEntries(
    response.data?.creatives.edges.map(({ node }: { node: { id: string; experiment: Experiment } }) => [
      node.id,
      node.experiment,
    ]),
  );
}

/** Records members' completed flows as products does (the hub's service identity), each accepted. */
async function recordAsProducts(
  completions: { id: string; memberId: string; occurredAt: Date; properties: Record<string, unknown> }[],
): Promise<void> {
  const products = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
  const recorded = await products.query<{ recordMemberEvents: { accepted: number } }>(
    { identity: serviceIdentity('products') },
    `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted } }`,
    {
      events: completions.map(({ occurredAt, ...completion }) => ({
        ...completion,
        name: 'flow_completed',
        channel: 'APP',
        occurredAt: occurredAt.toISOString(),
      })),
    },
  );
  expect(recorded.data?.recordMemberEvents.accepted).toBe(completions.length);
}

const figures = (experiment: Experiment, ...fields: (keyof VariantResult)[]) =>
  experiment.variants.map((variant) => Object.fromEntries(fields.map((field) => [field, variant[field]])));

describe('experiments', () => {
  // 110 members in each variant of exp-clear: 6 of A's click it, 33 of B's; every third member converts afterwards.
  const CLEAR = membersOf('MCLR', 'exp-clear', 110);
  const CLEAR_CLICKERS = { A: 6, B: 33 };
  const CLEAR_MEMBERS = [...CLEAR.A, ...CLEAR.B];

  it('finds a real difference between the members who click significant, and attributes conversions by assignment', async () => {
    const small = membersOf('MSML', 'exp-small', 10);
    const seenAt = new Date(Date.now() - 60_000);
    const expected = {
      A: { members: 110, clickers: 6, conversions: 0 },
      B: { members: 110, clickers: 33, conversions: 0 },
    };
    await asMembers([
      ...(['A', 'B'] as const).flatMap((variant) =>
        CLEAR[variant].map((memberId, i) => ({
          memberId,
          at: seenAt,
          events: shown('CR-exp-clear', variant, i < CLEAR_CLICKERS[variant] ? 1 : 0, 1),
        })),
      ),
      // Ten members each: 1 clicker against 9 is not enough members to say anything.
      ...(['A', 'B'] as const).flatMap((variant) =>
        small[variant].map((memberId, i) => ({
          memberId,
          at: seenAt,
          events: shown('CR-exp-small', variant, i < (variant === 'A' ? 1 : 9) ? 1 : 0, 1),
        })),
      ),
    ]);
    // Every third member completes a flow, as products records it; the others' devices only say they did, which
    // converts nobody.
    const converting = CLEAR_MEMBERS.filter((_, i) => i % 3 === 0);
    for (const memberId of converting) expected[CLEAR.A.includes(memberId) ? 'A' : 'B'].conversions += 1;
    await recordAsProducts(
      converting.map((memberId) => ({
        id: `exp-clear-${memberId}`,
        memberId,
        occurredAt: new Date(),
        properties: { flowKey: 'buy-wealth' },
      })),
    );
    await asMembers(
      CLEAR_MEMBERS.filter((memberId) => !converting.includes(memberId)).map((memberId) => ({
        memberId,
        events: [{ name: 'flow_completed', properties: { flowKey: 'buy-wealth' } }],
      })),
    );
    await untilCounted('PG-APP-exptest', 2 * 110 + 2 * 10);

    const byId = await experimentsOn('PG-APP-exptest');
    const clear = byId['CR-exp-clear']!;
    expect(clear).toMatchObject({
      key: 'exp-clear',
      verdict: 'SIGNIFICANT',
      control: 'A',
      winner: 'B',
      minimumMembers: 100,
      minimumExposures: 100,
    });
    expect(clear.pValue).toBeLessThan(clear.threshold);
    expect(figures(clear, 'key', 'exposures', 'clicks', 'members', 'clickers', 'memberCtr')).toEqual([
      { key: 'A', exposures: 110, clicks: 6, members: 110, clickers: 6, memberCtr: 6 / 110 },
      { key: 'B', exposures: 110, clicks: 33, members: 110, clickers: 33, memberCtr: 33 / 110 },
    ]);
    for (const variant of clear.variants) expect(variant).toMatchObject(expected[variant.key as 'A' | 'B']);
    const notEnough = byId['CR-exp-small']!;
    expect(notEnough).toMatchObject({ verdict: 'NOT_ENOUGH_DATA', winner: null, pValue: null });
    expect(figures(notEnough, 'members', 'clickers')).toEqual([
      { members: 10, clickers: 1 },
      { members: 10, clickers: 9 },
    ]);
  }, 60_000);

  it('reads one row per exposed member, with the same results however many impressions, clicks and completions', async () => {
    const analytics = await openAnalytics(hub.connections.analytics);
    const count: RowCount = { rows: 0 };
    const read = async () => {
      const now = new Date();
      const today = calendar.dayOf(now);
      const ctx = {
        repos: { ...analytics, events: countedReads(analytics.events, count) },
        now,
        today,
        calendar,
      };
      count.rows = 0;
      const experiment = await experimentOf(
        ctx,
        'CR-exp-clear',
        {
          experimentKey: 'exp-clear',
          variants: VARIANTS.map(({ key, weight }) => ({ key, weight })),
          // As publishedBanner stores it: a creative published before starts were recorded.
          startedAt: null,
          endedAt: null,
          startsAt: new Date('2025-01-01T00:00:00Z'),
          endsAt: new Date('2030-01-01T00:00:00Z'),
          kind: 'BANNER',
          refId: null,
        },
        7,
      );
      return { experiment, rows: count.rows };
    };
    // The previous test's answer, as served: its members, clickers and conversions are checked there.
    const served = (await experimentsOn('PG-APP-exptest'))['CR-exp-clear']!;
    expect(figures(served, 'clickers')).toEqual([{ clickers: 6 }, { clickers: 33 }]);
    expect(served.variants.map((v) => v.conversions)).not.toEqual([0, 0]);
    const before = await read();
    expect(before.experiment).toMatchObject(served);
    // One first exposure, at most one last click and one last completion per member who saw it.
    expect(before.rows).toBeLessThanOrEqual(3 * CLEAR_MEMBERS.length);

    // 250 more impressions by some of those members after their first, 250 more clicks by those who clicked, a click
    // and a completion before the first exposure by each who did not (still neither a clicker nor a conversion), and
    // 20,000 completions and clicks by members who never saw it.
    const now = new Date();
    const event = (id: string, name: string, memberId: string, at: Date, properties = {}): EventDoc => ({
      _id: `exp-reads:${id}`,
      name,
      memberId,
      deviceId: 'exp-reads',
      channel: 'APP',
      occurredAt: at,
      receivedAt: now,
      day: calendar.dayOf(at),
      properties,
    });
    const weekAgo = new Date(calendar.startOf(windowStart(7, calendar.dayOf(now))).getTime() + 3_600_000);
    const justNow = new Date(now.getTime() - 1_000);
    const creative = { creativeId: 'CR-exp-clear' };
    const clicked = new Set([...CLEAR.A.slice(0, 6), ...CLEAR.B.slice(0, 33)]);
    const busy = [...CLEAR.A.slice(0, 12), ...CLEAR.B.slice(0, 12), ...CLEAR.B.slice(40, 52)];
    const noise = [
      ...busy.flatMap((memberId, i) => [
        ...Array.from({ length: 250 }, (_, n) =>
          event(`imp-${i}-${n}`, 'creative_impression', memberId, justNow, creative),
        ),
        ...(clicked.has(memberId)
          ? Array.from({ length: 250 }, (_, n) =>
              event(`click-${i}-${n}`, 'creative_click', memberId, justNow, creative),
            )
          : [event(`early-click-${i}`, 'creative_click', memberId, weekAgo, creative)]),
      ]),
      ...CLEAR_MEMBERS.filter((_, i) => i % 3 !== 0).map((memberId, i) =>
        event(`early-${i}`, 'flow_completed', memberId, weekAgo),
      ),
      ...Array.from({ length: 10_000 }, (_, n) =>
        event(`flow-${n}`, 'flow_completed', `M-unexposed-${n}`, justNow),
      ),
      ...Array.from({ length: 10_000 }, (_, n) =>
        event(`click-${n}`, 'creative_click', `M-unexposed-${n}`, justNow, creative),
      ),
    ];
    for (let i = 0; i < noise.length; i += 5_000) await analytics.events.insertNew(noise.slice(i, i + 5_000));
    try {
      const after = await read();
      expect(after.experiment).toMatchObject(served);
      expect(after.rows).toBeLessThanOrEqual(3 * CLEAR_MEMBERS.length);
    } finally {
      await analytics.events.model.deleteMany({ deviceId: 'exp-reads' }).exec();
    }
  }, 60_000);

  it('does not let one member sending 100 impressions and 100 clicks decide the verdict', async () => {
    // 150 members in each variant see the creative once; 3 of each click it. One more member of B sends 100
    // impressions and 100 clicks: counted by impression that is 3 of 150 against 103 of 250, a "winner"; counted by
    // member it is 3 of 150 against 4 of 151.
    const members = membersOf('MHOS', 'exp-hostile', 151);
    const hostile = members.B.pop()!;
    members.A.pop();
    await asMembers([
      ...(['A', 'B'] as const).flatMap((variant) =>
        members[variant].map((memberId, i) => ({
          memberId,
          events: shown('CR-exp-hostile', variant, i < 3 ? 1 : 0, 1),
        })),
      ),
      { memberId: hostile, events: shown('CR-exp-hostile', 'B', 100, 100) },
    ]);
    await untilCounted('PG-APP-exphostile', 400, 106);

    const experiment = (await experimentsOn('PG-APP-exphostile'))['CR-exp-hostile']!;
    expect(figures(experiment, 'key', 'exposures', 'clicks', 'members', 'clickers')).toEqual([
      { key: 'A', exposures: 150, clicks: 3, members: 150, clickers: 3 },
      { key: 'B', exposures: 250, clicks: 103, members: 151, clickers: 4 },
    ]);
    expect(experiment).toMatchObject({ verdict: 'NO_SIGNIFICANT_DIFFERENCE', control: 'A', winner: null });
    expect(experiment.pValue).toBeGreaterThan(experiment.threshold);
  }, 60_000);

  it('names no winner when members are not split among the variants as the weights say', async () => {
    // 50/50, yet 300 of A's members saw the creative and only 150 of B's (B's card failed to show for the others,
    // say): 15 of 300 against 30 of 150 clickers reads as a clear winner, but the members compared were not chosen by
    // the assignment alone.
    const members = membersOf('MSRM', 'exp-ratio', 300);
    const seen = { A: members.A, B: members.B.slice(0, 150) };
    const clickers = { A: 15, B: 30 };
    await asMembers(
      (['A', 'B'] as const).flatMap((variant) =>
        seen[variant].map((memberId, i) => ({
          memberId,
          events: shown('CR-exp-ratio', variant, i < clickers[variant] ? 1 : 0, 1),
        })),
      ),
    );
    await untilCounted('PG-APP-expratio', 450, 45);

    const experiment = (await experimentsOn('PG-APP-expratio'))['CR-exp-ratio']!;
    expect(figures(experiment, 'key', 'members', 'clickers')).toEqual([
      { key: 'A', members: 300, clickers: 15 },
      { key: 'B', members: 150, clickers: 30 },
    ]);
    expect(experiment).toMatchObject({
      verdict: 'SAMPLE_RATIO_MISMATCH',
      control: 'A',
      winner: null,
      pValue: null,
    });
    expect(experiment.sampleRatioPValue).toBeLessThan(0.001);
  }, 60_000);

  it('does not move the verdict for a client reporting a wrong or made-up variant key', async () => {
    // Two creatives of one experiment (the same key: each member is assigned the same variant on both), seen and
    // clicked by the same members: 10 of A's 110 and 12 of B's 110, no real difference. On the first every client
    // reports the variant its member was assigned; on the second A's clickers report B and 20 of B's others a key
    // the experiment does not have. Counted by reported key, that second one would be 0 of 100 against 22 of 100.
    const members = membersOf('MKEY', 'exp-keys', 110);
    const clickers = { A: 10, B: 12 };
    await asMembers(
      (['A', 'B'] as const).flatMap((variant) =>
        members[variant].map((memberId, i) => {
          const clicks = i < clickers[variant] ? 1 : 0;
          const reported = variant === 'A' ? (clicks ? 'B' : 'A') : !clicks && i >= 90 ? 'Z-made-up' : 'B';
          return {
            memberId,
            events: [
              ...shown('CR-exp-honest', variant, clicks, 1),
              ...shown('CR-exp-mislabelled', reported, clicks, 1),
            ],
          };
        }),
      ),
    );
    await untilCounted('PG-APP-expkeys', 2 * 220, 2 * 22);

    const byId = await experimentsOn('PG-APP-expkeys');
    const honest = byId['CR-exp-honest']!;
    const mislabelled = byId['CR-exp-mislabelled']!;
    expect(honest).toMatchObject({ verdict: 'NO_SIGNIFICANT_DIFFERENCE', winner: null });
    expect(figures(honest, 'members', 'clickers')).toEqual([
      { members: 110, clickers: 10 },
      { members: 110, clickers: 12 },
    ]);
    // What the clients reported is shown as they reported it …
    expect(figures(mislabelled, 'exposures', 'clicks')).toEqual([
      { exposures: 100, clicks: 0 },
      { exposures: 100, clicks: 22 },
    ]);
    // … and the verdict is the one the members' assignment gives.
    expect(mislabelled).toMatchObject({
      verdict: honest.verdict,
      control: honest.control,
      winner: honest.winner,
      pValue: honest.pValue,
    });
    expect(figures(mislabelled, 'key', 'members', 'clickers', 'memberCtr', 'conversions')).toEqual(
      figures(honest, 'key', 'members', 'clickers', 'memberCtr', 'conversions'),
    );
  }, 60_000);

  it('gives no verdict from impressions and clicks no member sent, and shows them as reported', async () => {
    // A's impressions last: once they are counted, so are its clicks (the same rollup document, written in order).
    await track([
      ...shown('CR-exp-clicks', 'B', 0, 100),
      ...shown('CR-exp-clicks', 'A', 300, 0),
      ...shown('CR-exp-clicks', 'A', 0, 100),
    ]);
    await untilCounted('PG-APP-expclicks', 200, 300);
    const experiment = (await experimentsOn('PG-APP-expclicks'))['CR-exp-clicks']!;
    expect(experiment).toMatchObject({
      verdict: 'NOT_ENOUGH_DATA',
      control: 'A',
      winner: null,
      pValue: null,
    });
    expect(figures(experiment, 'key', 'exposures', 'clicks', 'members', 'clickers', 'memberCtr')).toEqual([
      { key: 'A', exposures: 100, clicks: 300, members: 0, clickers: 0, memberCtr: null },
      { key: 'B', exposures: 100, clicks: 0, members: 0, clickers: 0, memberCtr: null },
    ]);
  });

  it('counts only members exposed while the experiment ran: not before it started nor after its creative ended', async () => {
    const MINUTE = 60_000;
    const now = Date.now();
    const ago = (minutes: number) => new Date(now - minutes * MINUTE);
    // Started half an hour ago, on a creative that ran for months without it; ended half an hour ago, after two and
    // a half hours; and one stored before starts were recorded, whose creative began half an hour ago.
    await insertPublishedPage(
      hub.connections.content,
      'expwindow',
      [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 3 }],
      [
        publishedBanner('PG-APP-expwindow', 'hero', 'CR-exp-late', {
          experimentKey: 'exp-late',
          variants: VARIANTS,
          experimentStartedAt: ago(30),
        }),
        publishedBanner('PG-APP-expwindow', 'hero', 'CR-exp-ended', {
          experimentKey: 'exp-ended',
          variants: VARIANTS,
          experimentStartedAt: ago(180),
          endsAt: ago(30),
        }),
        publishedBanner('PG-APP-expwindow', 'hero', 'CR-exp-legacy', {
          experimentKey: 'exp-legacy',
          variants: VARIANTS,
          startsAt: ago(30),
        }),
      ],
    );
    const late = membersOf('MLAT', 'exp-late', 6);
    const ended = membersOf('MEND', 'exp-ended', 6);
    const legacy = membersOf('MLEG', 'exp-legacy', 6);
    const seen = (creativeId: string, members: string[], at: Date, clicks: boolean) =>
      members.map((memberId) => ({ memberId, at, events: shown(creativeId, null, clicks ? 1 : 0, 1) }));
    await asMembers([
      // Before the start: every one of them clicks. A[0] sees it again once it runs, and does not click then.
      ...seen('CR-exp-late', [...late.A.slice(0, 3), ...late.B.slice(0, 3)], ago(120), true),
      ...seen('CR-exp-late', [late.A[0]!, ...late.A.slice(3), ...late.B.slice(3)], ago(1), false),
      ...seen('CR-exp-late', [late.A[3]!], ago(1), true),
      // While it ran, A[0] clicks; after its end the others see it, and every one of them and B[0] click.
      ...seen('CR-exp-ended', [...ended.A.slice(1, 3), ...ended.B.slice(0, 3)], ago(120), false),
      ...seen('CR-exp-ended', [ended.A[0]!], ago(120), true),
      ...seen('CR-exp-ended', [...ended.A.slice(3), ...ended.B.slice(3), ended.B[0]!], ago(10), true),
      // Before its creative's start, every one of them clicks; after, nobody.
      ...seen('CR-exp-legacy', [...legacy.A.slice(0, 3), ...legacy.B.slice(0, 3)], ago(120), true),
      ...seen('CR-exp-legacy', [...legacy.A.slice(3), ...legacy.B.slice(3)], ago(1), false),
    ]);

    const byId = await experimentsOn('PG-APP-expwindow');
    expect({
      late: figures(byId['CR-exp-late']!, 'key', 'members', 'clickers'),
      ended: figures(byId['CR-exp-ended']!, 'key', 'members', 'clickers'),
      legacy: figures(byId['CR-exp-legacy']!, 'key', 'members', 'clickers'),
    }).toEqual({
      late: [
        { key: 'A', members: 4, clickers: 1 },
        { key: 'B', members: 3, clickers: 0 },
      ],
      ended: [
        { key: 'A', members: 3, clickers: 1 },
        { key: 'B', members: 3, clickers: 0 },
      ],
      legacy: [
        { key: 'A', members: 3, clickers: 0 },
        { key: 'B', members: 3, clickers: 0 },
      ],
    });
  }, 60_000);

  it("shows exposures and clicks per variant only from while the experiment ran, as its members' figures", async () => {
    // Started at noon three bank days ago, ended half an hour ago: what clients reported that morning and in the last
    // half hour is no variant's, though it falls on the days counted; the day between is counted whole.
    const now = Date.now();
    const today = calendar.dayOf(new Date(now));
    const HOUR = 3_600_000;
    const threeDaysAgo = calendar.startOf(addDays(today, -3)).getTime();
    const pageId = await insertPublishedPage(
      hub.connections.content,
      'expspan',
      [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 1 }],
      [
        publishedBanner('PG-APP-expspan', 'hero', 'CR-exp-span', {
          experimentKey: 'exp-span',
          variants: VARIANTS,
          experimentStartedAt: new Date(threeDaysAgo + 12 * HOUR),
          endsAt: new Date(now - HOUR / 2),
        }),
      ],
    );
    const reported = async (at: number, a: [clicks: number, impressions: number], b: typeof a) =>
      track([...shown('CR-exp-span', 'A', ...a), ...shown('CR-exp-span', 'B', ...b)], {}, new Date(at));
    await reported(threeDaysAgo + 6 * HOUR, [2, 5], [0, 5]);
    await reported(threeDaysAgo + 18 * HOUR, [1, 3], [2, 4]);
    await reported(calendar.startOf(addDays(today, -2)).getTime() + 12 * HOUR, [3, 10], [4, 20]);
    await reported(now - HOUR, [0, 1], [1, 2]);
    await reported(now - HOUR / 6, [7, 7], [7, 7]);
    // Days that are over are counted by the rebuild, which has not run yet: yesterday too, where the last hour's
    // reports fall when the test runs in the first hour after the bank's midnight.
    const analytics = await openAnalytics(hub.connections.analytics);
    for (const day of [-3, -2, -1]) await rebuildDay(analytics, addDays(today, day), dayBoundsOf(testConfig));
    await untilCounted(pageId, 64, 27, 7);

    const experiment = (await experimentsOn(pageId))['CR-exp-span']!;
    expect(figures(experiment, 'key', 'exposures', 'clicks')).toEqual([
      { key: 'A', exposures: 14, clicks: 4 },
      { key: 'B', exposures: 26, clicks: 7 },
    ]);
  }, 60_000);

  it('counts nothing after its creative is archived: the archive ends the experiment', async () => {
    const pageId = await insertPublishedPage(
      hub.connections.content,
      'exparchive',
      [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }],
      [],
    );
    const alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
    const bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
    const created = await alice(
      `mutation ($input: CreativeInput!) { createCreative(input: $input) { id } }`,
      {
        input: {
          pageId,
          slotCode: 'hero',
          name: 'archived experiment',
          kind: 'BANNER',
          title: 'Hello',
          imageUrl: 'https://cdn.example/x.jpg',
          link: '/x',
          startsAt: '2025-01-01T00:00:00Z',
          endsAt: '2030-01-01T00:00:00Z',
          experimentKey: 'exp-archive',
          variants: VARIANTS.map(({ key, weight, title }) => ({ key, weight, title })),
        },
      },
    );
    expect(created.errors).toBeUndefined();
    const target = { type: 'CREATIVE', id: created.data?.createCreative.id as string };
    const STEP = (name: string) =>
      `mutation ($target: WorkflowTarget!) { ${name}(target: $target) { status version } }`;
    const submitted = await alice(STEP('submitForReview'), { target });
    expect(submitted.errors).toBeUndefined();
    const reviewed = { ...target, expectedVersion: submitted.data?.submitForReview.version };
    expect((await bob(STEP('approve'), { target: reviewed })).errors).toBeUndefined();
    const members = membersOf('MARC', 'exp-archive', 3);
    const everyone = [...members.A, ...members.B];
    // Seen while it ran; clicked, and a flow completed as products recorded it, only once it was archived.
    await asMembers(everyone.map((memberId) => ({ memberId, events: shown(target.id, null, 0, 1) })));
    const beforeArchiving = Date.now();
    expect((await bob(STEP('archive'), { target })).errors).toBeUndefined();
    await asMembers(everyone.map((memberId) => ({ memberId, events: shown(target.id, null, 1, 0) })));
    const products = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
    const recorded = await products.query<{ recordMemberEvents: { accepted: number } }>(
      { identity: serviceIdentity('products') },
      `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted } }`,
      {
        events: everyone.map((memberId) => ({
          id: `exp-archive-${memberId}`,
          name: 'flow_completed',
          memberId,
          occurredAt: new Date().toISOString(),
          channel: 'APP',
          properties: { flowKey: 'buy-wealth' },
        })),
      },
    );
    expect(recorded.data?.recordMemberEvents.accepted).toBe(everyone.length);

    const response = await graphql(
      hub.gatewayUrl,
      `query ($page: ID!) {
        creatives(pageId: $page, status: ARCHIVED) { edges { node { experimentEndedAt ${EXPERIMENT_FIELDS} } } }
      }`,
      { page: pageId },
      operator,
    );
    expect(response.errors).toBeUndefined();
    const node = response.data?.creatives.edges[0].node;
    const endedAt = new Date(node.experimentEndedAt).getTime();
    expect(endedAt).toBeGreaterThanOrEqual(beforeArchiving);
    expect(endedAt).toBeLessThanOrEqual(Date.now());
    expect(figures(node.experiment, 'key', 'members', 'clickers', 'conversions')).toEqual([
      { key: 'A', members: 3, clickers: 0, conversions: 0 },
      { key: 'B', members: 3, clickers: 0, conversions: 0 },
    ]);
  }, 60_000);

  it("converts a product card's members only by a purchase of its product, as products recorded it", async () => {
    const members = membersOf('MPRD', 'exp-product', 6);
    const seenAt = new Date(Date.now() - 60_000);
    const before = new Date(seenAt.getTime() - 30_000);
    const after = new Date(seenAt.getTime() + 30_000);
    await asMembers(
      (['A', 'B'] as const).flatMap((variant) =>
        members[variant].map((memberId) => ({
          memberId,
          at: seenAt,
          events: shown('CR-exp-product', variant, 0, 1),
        })),
      ),
    );
    const [a, b] = [members.A, members.B];
    const bought = (productId: string) => ({
      flowKey: 'buy-wealth',
      productId,
      amount: 20_000,
      currency: 'CNY',
    });
    await recordAsProducts([
      // Conversions: three of A's and one of B's bought the card's product after seeing it.
      ...[a[0]!, a[1]!, a[2]!, b[0]!].map((memberId) => ({
        id: `exp-product-buy-${memberId}`,
        memberId,
        occurredAt: after,
        properties: bought(EXP_PRODUCT),
      })),
      // None: another product bought, a flow that bought nothing, the product bought before the card was seen.
      { id: `exp-product-other-${a[3]}`, memberId: a[3]!, occurredAt: after, properties: bought('P-FD-009') },
      {
        id: `exp-product-open-${b[1]}`,
        memberId: b[1]!,
        occurredAt: after,
        properties: { flowKey: 'open-account' },
      },
      {
        id: `exp-product-early-${b[2]}`,
        memberId: b[2]!,
        occurredAt: before,
        properties: bought(EXP_PRODUCT),
      },
    ]);
    // A member's device saying they bought it converts nobody.
    await asMembers([
      { memberId: b[3]!, at: after, events: [{ name: 'flow_completed', properties: bought(EXP_PRODUCT) }] },
    ]);
    await untilCounted('PG-APP-expproduct', 12);
    const experiment = (await experimentsOn('PG-APP-expproduct'))['CR-exp-product']!;
    expect(figures(experiment, 'key', 'members', 'conversions')).toEqual([
      { key: 'A', members: 6, conversions: 3 },
      { key: 'B', members: 6, conversions: 1 },
    ]);
  }, 60_000);

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
    const direct = await graphql(
      hub.gatewayUrl,
      `{ creatives(pageId: "PG-APP-exptest") { edges { node { id ${EXPERIMENT_FIELDS} } } } }`,
      {},
      member,
    );
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
      const sends: { memberId: string; events: Sent[] }[] = [];
      // Members new to the creatives each round: the bandit counts a member once a day.
      for (let m = 0; m < 40; m++) {
        const memberId = `M${String(200 + round * 40 + m).padStart(4, '0')}`;
        const page = await graphql(hub.gatewayUrl, PAGE, {}, bearer(await clientToken(memberId, 'member')));
        const creativeId = page.data?.viewer.page.slots[0].items[0].creativeId as string;
        exposures[creativeId]! += 1;
        sends.push({ memberId, events: shown(creativeId, null, world() < ctr[creativeId]! ? 1 : 0, 1) });
      }
      await asMembers(sends);
      counted += 40;
      await untilCounted('PG-APP-bandit', counted);
      const trained = await graphql(hub.gatewayUrl, RETRAIN, {}, operator);
      expect(trained.data?.retrainCreativeBandit).toMatchObject({ version: round + 2, status: 'ACTIVE' });
    }
    expect(exposures[BEST_ARM]! / counted).toBeGreaterThan(0.5);
  });

  it("counts each member once a day and devices without a member not at all: no one client's clicks crown a creative", async () => {
    const honest = 'CR-bandit-honest';
    const stuffed = 'CR-bandit-stuffed';
    // Twenty members see the honest creative, five of them click it.
    await asMembers(
      Array.from({ length: 20 }, (_, m) => ({
        memberId: `M${String(600 + m).padStart(4, '0')}`,
        events: shown(honest, null, m < 5 ? 1 : 0, 1),
      })),
    );
    // One member sends 300 impressions and 300 clicks of another, from a new device every 100; scripts without a
    // member as many again.
    await asMembers([{ memberId: 'M0700', events: shown(stuffed, null, 300, 300) }]);
    await track(shown(stuffed, null, 300, 300));

    const trained = await graphql(hub.gatewayUrl, RETRAIN, {}, operator);
    const model = await graphql(
      hub.gatewayUrl,
      `
        query ($version: Int!) {
          model(name: "creative-bandit", version: $version) {
            parameters
          }
        }
      `,
      { version: trained.data?.retrainCreativeBandit.version },
      operator,
    );
    const posteriors: { creativeId: string }[] = model.data?.model.parameters.posteriors;
    const counted = posteriors
      .filter(({ creativeId }) => creativeId === honest || creativeId === stuffed)
      .sort((a, b) => a.creativeId.localeCompare(b.creativeId));
    expect(counted).toEqual([
      { creativeId: honest, alpha: 6, beta: 16 },
      { creativeId: stuffed, alpha: 2, beta: 1 },
    ]);
  });
});

describe('scheduled training of the creative bandit', () => {
  it('publishes one version an interval however many analytics processes run the schedule', async () => {
    const connection = await testDatabase('bandit-schedule');
    try {
      const repos = await openAnalytics(connection);
      const HOUR = 3_600_000;
      const start = new Date('2026-11-26T10:00:00Z');
      const at = (ms: number) => new Date(start.getTime() + ms);
      // Three processes' ticks: at once, then one and two minutes later, then at once an hour on.
      const rounds = [
        [0, 0, 0],
        [60_000, 120_000],
        [HOUR, HOUR, HOUR],
      ];
      const trained: boolean[] = [];
      for (const round of rounds) {
        const train = (tick: number) =>
          trainOnceAnInterval(repos.leases, BANDIT_MODEL_NAME, HOUR, at(tick), () =>
            trainCreativeBandit(repos, calendar, 'svc.analytics', at(tick)),
          );
        trained.push(...(await Promise.all(round.map(train))));
      }
      const versions = await repos.models.list(BANDIT_MODEL_NAME, 100);
      expect(versions.map((version) => version.trainedAt.toISOString())).toEqual([
        at(HOUR).toISOString(),
        at(0).toISOString(),
      ]);
      expect(trained.filter(Boolean)).toHaveLength(2);
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('pruning the model registry', () => {
  it('keeps a version an operator activates while old versions are being pruned', async () => {
    const connection = await testDatabase('registry-prune');
    try {
      const { models } = await openAnalytics(connection);
      const now = new Date('2026-11-26T10:00:00Z');
      const model = { name: 'prune-test', description: 'x', parameters: {}, metrics: {}, trainedAt: now };
      for (let i = 0; i < 21; i++) await models.publish({ ...model, trainedBy: 'svc.analytics' }, now);
      // The operator's activation (another process) lands after the pruning training read the head.
      const readHead = models.head.bind(models);
      let reads = 0;
      models.head = async (name) => {
        const head = await readHead(name);
        if (++reads === 1) await models.activate(name, 1, true, 'ops.zhou', now);
        return head;
      };
      await models.prune('prune-test', 20);
      expect((await models.active('prune-test'))?.version).toBe(1);
      expect((await models.list('prune-test', 100)).map(({ version }) => version)).toHaveLength(21);
    } finally {
      await dropAndClose(connection);
    }
  });

  it('an activation whose version a whole prune deleted after it was checked leaves the previous head serving', async () => {
    const connection = await testDatabase('registry-prune-activate');
    try {
      const { models } = await openAnalytics(connection);
      const now = new Date('2026-11-26T10:00:00Z');
      const model = { name: 'prune-test', description: 'x', parameters: {}, metrics: {}, trainedAt: now };
      for (let i = 0; i < 21; i++) await models.publish({ ...model, trainedBy: 'svc.analytics' }, now);
      // The operator's activation checks version 1 exists, then a whole prune runs, then the head is updated.
      expect(await models.version('prune-test', 1)).not.toBeNull();
      await models.prune('prune-test', 20);
      const later = new Date('2026-11-26T10:05:00Z');
      const activated = await models.activate('prune-test', 1, true, 'ops.zhou', later);
      const head = await models.head('prune-test');
      expect({
        activated,
        head: { active: head?.active, pinned: head?.pinned, updatedBy: head?.updatedBy },
        active: (await models.active('prune-test'))?.version,
        versionOne: await models.version('prune-test', 1),
      }).toEqual({
        activated: null,
        head: { active: 21, pinned: false, updatedBy: 'svc.analytics' },
        active: 21,
        versionOne: null,
      });
    } finally {
      await dropAndClose(connection);
    }
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
    // The heads read once for the list, then once per model for its versions' status, not once per version.
    const heads = (
      await queriesDuring(hub.connections.analytics, () => graphql(hub.gatewayUrl, MODELS, {}, operator))
    ).filter(({ collection }) => collection === 'model_heads');
    expect(heads).toHaveLength(1 + response.data?.models.length);

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
