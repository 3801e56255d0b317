// The member rating (会员评级) through the gateway: products records purchases, the lifecycle job rates each active
// member by the RFM model of the registry and writes rfm_score, rfm_cell and member_rating to members as COMPUTED tags;
// a rerun changes nothing, a new model version with other thresholds changes the ratings, and a malformed one is
// refused when published and stops the job when stored by other means.
import {
  BankCalendar,
  GraphClient,
  serviceIdentity,
  type GraphCaller,
  type GraphResponse,
} from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { ensureDefaultModels } from '../subgraphs/analytics/src/authored-models';
import { DEFAULT_RATING_MODEL, RATING_MODEL_NAME } from '../subgraphs/analytics/src/domain/rating';
import { runLifecycleJob } from '../subgraphs/analytics/src/lifecycle-job';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import {
  bearer,
  clientToken,
  dropAndClose,
  errorCodes,
  graphql,
  testConfig,
  testDatabase,
  testLogger,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;

/** Seeded members with no seeded history: what they do here is all the job sees of them. */
const BIG_SPENDER = 'M0901';
const ODD_AMOUNTS = 'M0902';
const LAPSING = 'M0903';
const NEVER_BOUGHT = 'M0904';
/** Opened an account and claimed the welcome coupon through flows: completed flows, no purchase. */
const OPENED_ACCOUNT = 'M0905';
const RATED = [BIG_SPENDER, ODD_AMOUNTS, LAPSING, NEVER_BOUGHT, OPENED_ACCOUNT];
const DAY_MS = 86_400_000;
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);

const RUN = `mutation {
  runLifecycleJob { ran written ratingModelVersion members tagsChanged stagesChanged ratings { rating members } }
}`;
const RATING_MODEL = `{
  memberRatingModel { version windowDays recencyDays frequency monetary weights { recency frequency monetary } currency }
}`;
const PUBLISH = `mutation ($name: String!, $parameters: JSON!) {
  publishModelVersion(name: $name, parameters: $parameters) { name version status parameters trainedBy }
}`;

/** A purchase as products records it at analytics: its flow_completed, with the amount and its currency. */
const purchase = (memberId: string, n: number, daysAgo: number, properties: Record<string, unknown>) => ({
  id: `FS-rating-${memberId}-${n}-${Date.now().toString(36)}`,
  name: 'flow_completed',
  memberId,
  occurredAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
  channel: 'MINI_PROGRAM',
  properties: { flowKey: 'buy-wealth', ...properties },
});

async function ratingTags(memberId: string) {
  const response = await graphql(
    hub.gatewayUrl,
    `
      query ($id: ID!) {
        member(id: $id) {
          tags {
            code
            value
          }
        }
      }
    `,
    { id: memberId },
    operator,
  );
  const tags = Object.fromEntries(
    (response.data?.member.tags as { code: string; value: unknown }[]).map(({ code, value }) => [
      code,
      value,
    ]),
  );
  return { rfm_score: tags.rfm_score, rfm_cell: tags.rfm_cell, member_rating: tags.member_rating };
}

const allRatings = async () =>
  Object.fromEntries(await Promise.all(RATED.map(async (id) => [id, await ratingTags(id)] as const)));

beforeAll(async () => {
  hub = await startTestHub('member_rating', { config: { SUBGRAPH_TIMEOUT_MS: 20_000 } });
  operator = bearer(await clientToken('ops.lin', 'operator'));
  // Each member is active today, from their own device.
  for (const memberId of RATED) {
    const tracked = await graphql(
      hub.gatewayUrl,
      `mutation ($events: [EventInput!]!) { trackEvents(deviceId: "rating-${memberId}", events: $events) { accepted } }`,
      {
        events: [
          {
            id: `rating-${memberId}-${Date.now().toString(36)}`,
            name: 'sign_in',
            occurredAt: new Date().toISOString(),
            channel: 'APP',
          },
        ],
      },
      bearer(await clientToken(memberId, 'member')),
    );
    expect(tracked.data?.trackEvents.accepted).toBe(1);
  }
  const products = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET);
  const events = [
    // 12 purchases of 50,000 today: R5 F5 M5.
    ...Array.from({ length: 12 }, (_, n) => purchase(BIG_SPENDER, n, 0, { amount: 50_000, currency: 'CNY' })),
    // 4 purchases, of which only 1,000 CNY counts: one in dollars, a negative and an absurd amount do not.
    purchase(ODD_AMOUNTS, 0, 0, { amount: 1_000, currency: 'CNY' }),
    purchase(ODD_AMOUNTS, 1, 0, { amount: 1_000_000, currency: 'USD' }),
    purchase(ODD_AMOUNTS, 2, 1, { amount: -50_000, currency: 'CNY' }),
    purchase(ODD_AMOUNTS, 3, 2, { amount: 1e300, currency: 'CNY' }),
    // One of 200,000, 80 days ago: R3 F1 M4.
    purchase(LAPSING, 0, 80, { amount: 200_000, currency: 'CNY' }),
    // Flows that placed no purchase: products records them with no amount.
    purchase(OPENED_ACCOUNT, 0, 0, { flowKey: 'open-account' }),
    purchase(OPENED_ACCOUNT, 1, 0, { flowKey: 'welcome-benefit' }),
  ];
  const recorded = await products.query<{ recordMemberEvents: { accepted: number } }>(
    { identity: serviceIdentity('products') },
    `mutation ($events: [MemberEventInput!]!) { recordMemberEvents(events: $events) { accepted } }`,
    { events },
  );
  expect(recorded.data?.recordMemberEvents.accepted).toBe(events.length);
  // The members count as active once the rollup writer has flushed (a quarter of a second).
  const { rollups } = await openAnalytics(hub.connections.analytics);
  for (let tries = 0; tries < 50; tries++) {
    if ((await rollups.actives.countDocuments({ memberId: { $in: RATED } })) === RATED.length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(() => stopTestHub(hub));

describe('the member rating', () => {
  it('shows operators the rating model, with the currency amounts are summed in', async () => {
    const response = await graphql(hub.gatewayUrl, RATING_MODEL, {}, operator);
    expect(response.data?.memberRatingModel).toEqual({
      version: 1,
      windowDays: 365,
      recencyDays: [30, 60, 90, 150],
      frequency: [2, 4, 8, 12],
      monetary: [5_000, 20_000, 100_000, 500_000],
      weights: { recency: 1, frequency: 1, monetary: 1 },
      currency: 'CNY',
    });
    const member = bearer(await clientToken(NEVER_BOUGHT, 'member'));
    expect(errorCodes(await graphql(hub.gatewayUrl, RATING_MODEL, {}, member))).toEqual(['FORBIDDEN']);
  });

  it('rates members from their purchases in the bank currency, reports the ratings, and a rerun changes nothing', async () => {
    const first = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(first.errors).toBeUndefined();
    const run = first.data?.runLifecycleJob;
    expect(run).toMatchObject({ ran: true, written: true, ratingModelVersion: 1 });
    const counted = run.ratings as { rating: string; members: number }[];
    expect(counted.map(({ rating }) => rating)).toEqual([
      'PROSPECT',
      'CHAMPION',
      'LOYAL',
      'CANNOT_LOSE',
      'PROMISING',
      'NEEDS_ATTENTION',
      'HIBERNATING',
    ]);
    expect(counted.reduce((sum, { members }) => sum + members, 0)).toBe(run.members);
    expect(counted.find(({ rating }) => rating === 'CHAMPION')?.members).toBeGreaterThanOrEqual(1);
    expect(await allRatings()).toEqual({
      [BIG_SPENDER]: { rfm_score: 5, rfm_cell: 'R5F5M5', member_rating: 'CHAMPION' },
      [ODD_AMOUNTS]: { rfm_score: 3, rfm_cell: 'R5F3M1', member_rating: 'PROMISING' },
      [LAPSING]: { rfm_score: 3, rfm_cell: 'R3F1M4', member_rating: 'LOYAL' },
      [NEVER_BOUGHT]: { rfm_score: 1, rfm_cell: 'R1F1M1', member_rating: 'PROSPECT' },
      [OPENED_ACCOUNT]: { rfm_score: 1, rfm_cell: 'R1F1M1', member_rating: 'PROSPECT' },
    });
    // Purchases put a member at REVENUE; completed flows that bought nothing do not.
    const stages = await graphql(
      hub.gatewayUrl,
      `
        query ($ids: [ID!]!) {
          members(filter: { ids: $ids }, first: 10) {
            edges {
              node {
                id
                lifecycleStage
              }
            }
          }
        }
      `,
      { ids: [BIG_SPENDER, OPENED_ACCOUNT] },
      operator,
    );
    expect(
      Object.fromEntries(
        (stages.data?.members.edges as { node: { id: string; lifecycleStage: string } }[]).map(({ node }) => [
          node.id,
          node.lifecycleStage,
        ]),
      ),
    ).toEqual({ [BIG_SPENDER]: 'REVENUE', [OPENED_ACCOUNT]: 'ACTIVATION' });
    // A segment can target the rating.
    const audience = await graphql(
      hub.gatewayUrl,
      `
        mutation {
          previewSegment(rule: { field: "tag.member_rating", op: "eq", value: "CHAMPION" }) {
            audienceSize
          }
        }
      `,
      {},
      operator,
    );
    expect(audience.data?.previewSegment.audienceSize).toBeGreaterThanOrEqual(1);

    const again = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(again.data?.runLifecycleJob).toMatchObject({ stagesChanged: 0, tagsChanged: 0, ratings: counted });
  });

  it('rates by a new model version an operator publishes, and says which version rated', async () => {
    const before = await allRatings();
    const published = await graphql(
      hub.gatewayUrl,
      PUBLISH,
      {
        name: RATING_MODEL_NAME,
        parameters: {
          windowDays: 365,
          recencyDays: [30, 60, 90, 150],
          frequency: [1, 2, 3, 4],
          monetary: [1_000, 2_000, 3_000, 4_000],
          weights: { recency: 1, frequency: 1, monetary: 1 },
          note: 'left out',
        },
      },
      operator,
    );
    expect(published.errors).toBeUndefined();
    expect(published.data?.publishModelVersion).toMatchObject({
      version: 2,
      status: 'ACTIVE',
      trainedBy: 'ops.lin',
    });
    expect(published.data?.publishModelVersion.parameters).not.toHaveProperty('note');
    const run = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(run.data?.runLifecycleJob).toMatchObject({ ratingModelVersion: 2 });
    expect(run.data?.runLifecycleJob.tagsChanged).toBeGreaterThanOrEqual(2);
    expect(await allRatings()).toEqual({
      ...before,
      [ODD_AMOUNTS]: { rfm_score: 4, rfm_cell: 'R5F5M2', member_rating: 'LOYAL' },
      [LAPSING]: { rfm_score: 3, rfm_cell: 'R3F2M5', member_rating: 'LOYAL' },
    });
    const { audit } = await openAnalytics(hub.connections.analytics);
    expect((await audit.forTarget('MODEL', `${RATING_MODEL_NAME}@2`))[0]).toMatchObject({
      actor: 'ops.lin',
      action: 'publishModelVersion',
    });
  });

  it('refuses a malformed model, a trained model and non-operators, and stores nothing', async () => {
    const { models } = await openAnalytics(hub.connections.analytics);
    const head = await models.head(RATING_MODEL_NAME);
    const parameters = {
      windowDays: 365,
      recencyDays: [30, 60, 90, 150],
      frequency: [2, 4, 8, 12],
      monetary: [5_000, 20_000, 100_000, 500_000],
      weights: { recency: 1, frequency: 1, monetary: 1 },
    };
    const malformed: [unknown, string][] = [
      [{ ...parameters, recencyDays: [150, 90, 60, 30] }, 'recencyDays'],
      [{ ...parameters, windowDays: 1e9 }, 'windowDays'],
      [{ ...parameters, monetary: [1, 2, 3, 1e300] }, 'monetary'],
      [{ ...parameters, frequency: Array.from({ length: 5_000 }, (_, i) => i + 1) }, 'frequency'],
      [{ ...parameters, weights: { recency: 0, frequency: 0, monetary: 0 } }, 'weights'],
      ['R5F5M5', 'a rating model'],
    ];
    for (const [candidate, problem] of malformed) {
      const response = await graphql(
        hub.gatewayUrl,
        PUBLISH,
        { name: RATING_MODEL_NAME, parameters: candidate },
        operator,
      );
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters' });
      expect(response.errors?.[0]?.message).toContain(problem);
    }
    const trained = await graphql(hub.gatewayUrl, PUBLISH, { name: 'creative-bandit', parameters }, operator);
    expect(trained.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    const member = bearer(await clientToken(NEVER_BOUGHT, 'member'));
    const forbidden = await graphql(hub.gatewayUrl, PUBLISH, { name: RATING_MODEL_NAME, parameters }, member);
    expect(errorCodes(forbidden)).toEqual(['FORBIDDEN']);
    expect(await models.head(RATING_MODEL_NAME)).toEqual(head);
  });

  it('stops the job with FAILED_PRECONDITION on a malformed version stored by other means, writing nothing', async () => {
    const { models } = await openAnalytics(hub.connections.analytics);
    const before = await allRatings();
    await models.publish(
      {
        name: RATING_MODEL_NAME,
        description: 'written straight into the database',
        parameters: { windowDays: 365, recencyDays: 'soon' },
        metrics: {},
        trainedAt: new Date(),
        trainedBy: 'someone',
      },
      new Date(),
    );
    try {
      const run = await graphql(hub.gatewayUrl, RUN, {}, operator);
      expect(run.errors?.[0]?.extensions).toMatchObject({
        code: 'FAILED_PRECONDITION',
        name: RATING_MODEL_NAME,
      });
      expect(run.errors?.[0]?.message).toContain('recencyDays');
      const shown = await graphql(hub.gatewayUrl, RATING_MODEL, {}, operator);
      expect(errorCodes(shown)).toEqual(['FAILED_PRECONDITION']);
      expect(await allRatings()).toEqual(before);
    } finally {
      await graphql(
        hub.gatewayUrl,
        `mutation { activateModelVersion(name: "${RATING_MODEL_NAME}", version: 2, pin: false) { activeVersion } }`,
        {},
        operator,
      );
    }
  });
});

describe('a registry seeded before the rating model', () => {
  it('gains its default version as analytics starts, once', async () => {
    const connection = await testDatabase('rating-ensure');
    const { models } = await openAnalytics(connection);
    try {
      await ensureDefaultModels(models, 'seed', new Date());
      await models.versions.deleteMany({ name: RATING_MODEL_NAME });
      await models.heads.deleteMany({ _id: RATING_MODEL_NAME });
      await ensureDefaultModels(models, 'svc.analytics', new Date());
      await ensureDefaultModels(models, 'svc.analytics', new Date());
      expect(await models.head(RATING_MODEL_NAME)).toMatchObject({ active: 1, latest: 1 });
      expect(await models.active(RATING_MODEL_NAME)).toMatchObject({
        parameters: DEFAULT_RATING_MODEL,
        trainedBy: 'svc.analytics',
      });
      // The stage model it already had is left as it was.
      expect(await models.head('lifecycle-stage')).toMatchObject({ active: 1, latest: 1, updatedBy: 'seed' });
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('hostile amounts stored by other means', () => {
  it('count for nothing, while the same member’s other amounts and purchases still do', async () => {
    const connection = await testDatabase('rating-hostile');
    const repos = await openAnalytics(connection);
    await ensureDefaultModels(repos.models, 'test', new Date());
    const now = new Date();
    const today = calendar.dayOf(now);
    const amounts: unknown[] = [
      20_000,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      -1e9,
      1e300,
      '999999',
      { value: 1 },
      [1e6],
      true,
      null,
    ];
    const event = (memberId: string, n: number, properties: Record<string, unknown>) => ({
      _id: `svc.products:${memberId}-${n}`,
      name: 'flow_completed',
      memberId,
      deviceId: 'svc.products',
      recordedBy: 'svc.products',
      channel: 'MINI_PROGRAM' as const,
      occurredAt: now,
      receivedAt: now,
      day: today,
      properties: { flowKey: 'buy-fund', ...properties },
    });
    await repos.events.insertNew([
      ...amounts.map((amount, n) => event('M-hostile', n, { amount, currency: 'CNY' })),
      event('M-hostile', 90, { amount: 5_000_000, currency: 'cny' }),
      event('M-hostile', 91, { amount: 5_000_000, currency: ['CNY'] }),
      event('M-hostile', 92, { amount: 5_000_000 }),
      // Thousands of purchases: summed in the database, one row for the member.
      ...Array.from({ length: 3_000 }, (_, n) => event('M-many', n, { amount: 100, currency: 'CNY' })),
    ]);
    const day = { _id: '', day: today, channel: 'APP' as const, memberId: '' };
    await repos.rollups.markActive(
      ['M-hostile', 'M-many'].map((memberId) => ({ ...day, _id: `${today}|APP|${memberId}`, memberId })),
    );
    const handed: { memberId: string; tags: { code: string; value: unknown }[] }[] = [];
    const graph = new (class extends GraphClient {
      override async query<TData>(
        _caller: GraphCaller,
        _query: string,
        variables: Record<string, unknown> = {},
      ): Promise<GraphResponse<TData>> {
        const results = variables.results as typeof handed;
        handed.push(...results);
        const applyLifecycle = {
          stagesChanged: 0,
          tagsChanged: 0,
          unchanged: results.length,
          unknownMemberIds: [],
          refusedTags: [],
        };
        return { data: { applyLifecycle } as TData, errors: [] };
      }
    })(() => 'http://unused.invalid', 'unused');
    try {
      await runLifecycleJob(
        { repos, graph, logger: testLogger, calendar, bankCurrency: testConfig.BANK_CURRENCY },
        now,
      );
      const cell = (memberId: string) =>
        handed.find((result) => result.memberId === memberId)?.tags.find(({ code }) => code === 'rfm_cell')
          ?.value;
      // 14 purchases (F5), of which only 20,000 CNY counts (M3).
      expect(cell('M-hostile')).toBe('R5F5M3');
      // 3,000 purchases of 100: 300,000 (M4).
      expect(cell('M-many')).toBe('R5F5M4');
    } finally {
      await dropAndClose(connection);
    }
  });
});
