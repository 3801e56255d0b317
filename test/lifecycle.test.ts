// The computed lifecycle through the gateway: analytics works out each member's stage and engagement tags from their
// events and writes them to members through the graph with the hub's service identity. A member whose events stop
// for 30 days (the clock of this process, the hub's too, moved on) becomes AT_RISK, segments follow, a rerun changes
// nothing, two runs at once apply once, a run as of another day writes nothing, and a run whose lease another process
// took over stops.
import {
  BankCalendar,
  GraphClient,
  createLogger,
  type GraphCaller,
  type GraphResponse,
} from '@bank-hub/shared';
import { LIFECYCLE_STAGES } from '@bank-hub/targeting';
import type { RunningHub } from '../scripts/hub';
import { ensureDefaultModels } from '../subgraphs/analytics/src/authored-models';
import { runLifecycleJob } from '../subgraphs/analytics/src/lifecycle-job';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
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
import { setClock } from './support/clock';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;

/** A member with no seeded history: what they do here is all the job sees of them. Registered 10 days ago. */
const MEMBER = 'M0999';
/** Another, whose behaviour here gives every behavioural tag something to read. */
const BUSY = 'M0998';
const DAY_MS = 86_400_000;
/** The bank's days the job counts. */
const calendar = new BankCalendar(testConfig.BANK_TIME_ZONE);
const bankCurrency = testConfig.BANK_CURRENCY;

beforeAll(async () => {
  // A run over the demo history takes a second or two on the Java fallback alone, more while other suites run: the
  // gateway's 3 s deadline for one fetch would make a slow machine fail a correct run.
  // The demo's full history: runs are checked to compute the hundreds of members active in it.
  hub = await startTestHub('lifecycle', { config: { SUBGRAPH_TIMEOUT_MS: 20_000 }, history: 'full' });
  operator = bearer(await clientToken('ops.lin', 'operator'));
  const device = `lifecycle-${Date.now().toString(36)}`;
  const member = bearer(await clientToken(MEMBER, 'member'));
  const events = ['sign_in', 'page_view'].map((name, i) => ({
    id: `lc-${i}-${Date.now().toString(36)}`,
    name,
    occurredAt: new Date().toISOString(),
    channel: 'APP',
    properties: name === 'page_view' ? { page: 'home' } : {},
  }));
  const tracked = await graphql(
    hub.gatewayUrl,
    `mutation ($events: [EventInput!]!) { trackEvents(deviceId: "${device}", events: $events) { accepted } }`,
    { events },
    member,
  );
  expect(tracked.data?.trackEvents.accepted).toBe(2);
  // A new member: the seed registered everyone before this year.
  const { members } = await openMembers(hub.connections.members);
  await members.model
    .updateOne({ _id: MEMBER }, { $set: { registeredAt: new Date(Date.now() - 10 * DAY_MS) } })
    .exec();
  // BUSY, over the last three days: web banking on two, the app today.
  const at = (daysAgo: number, channel: string) => ({
    occurredAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
    channel,
  });
  const busyEvents = [
    { name: 'sign_in', ...at(2, 'WEB') },
    { name: 'product_view', ...at(2, 'WEB'), properties: { productId: 'P-WM-008', productType: 'WEALTH' } },
    { name: 'product_view', ...at(1, 'WEB'), properties: { productId: 'P-WM-012', productType: 'WEALTH' } },
    { name: 'product_view', ...at(1, 'WEB'), properties: { productId: 'P-FD-003', productType: 'FUND' } },
    // Payments viewed on one day only: no interest yet.
    { name: 'product_view', ...at(0, 'APP'), properties: { productId: 'P-PY-001', productType: 'PAYMENT' } },
    { name: 'share', ...at(0, 'APP'), properties: { contentId: 'TP-001', target: 'wechat' } },
    ...[0, 1].map(() => ({
      name: 'live_watch',
      ...at(0, 'APP'),
      properties: { liveStreamId: 'LS-001', seconds: 90 },
    })),
  ].map((event, i) => ({ id: `busy-${i}-${Date.now().toString(36)}`, ...event }));
  const busy = await graphql(
    hub.gatewayUrl,
    `mutation ($events: [EventInput!]!) { trackEvents(deviceId: "${device}-busy", events: $events) { accepted } }`,
    { events: busyEvents },
    bearer(await clientToken(BUSY, 'member')),
  );
  expect(busy.data?.trackEvents.accepted).toBe(busyEvents.length);
  // The members count as active once the rollup writer has flushed (a quarter of a second): BUSY on three days.
  const { rollups } = await openAnalytics(hub.connections.analytics);
  for (let tries = 0; tries < 50; tries++) {
    const busyDays = await rollups.actives.countDocuments({ memberId: BUSY });
    if ((await rollups.actives.exists({ memberId: MEMBER })) && busyDays === 3) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(() => stopTestHub(hub));

afterEach(async () => {
  jest.useRealTimers();
  // A token signed while the clock stood days on is not valid yet.
  operator = bearer(await clientToken('ops.lin', 'operator'));
});

const RUN = `mutation Run($asOf: DateTime) {
  runLifecycleJob(asOf: $asOf) {
    ran written asOf modelVersion members stagesChanged tagsChanged unchanged stages { stage members }
    unknownMembers unknownMemberIds
  }
}`;

const MEMBER_STATE = `query ($id: ID!) {
  member(id: $id) { lifecycleStage lifecycleChangedAt segmentCodes tags { code value } }
}`;

const AT_RISK_AUDIENCE = `mutation {
  previewSegment(rule: { field: "lifecycleStage", op: "eq", value: "AT_RISK" }) { audienceSize }
}`;

const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

/**
 * Moves the clock of this process (the hub's too) `days` on, where it runs on, and signs the operator in again then (a
 * token signed before would have expired): the member's events stopped that many days ago.
 */
async function daysPass(days: number) {
  setClock(daysFromNow(days), { running: true });
  operator = bearer(await clientToken('ops.lin', 'operator'));
}

async function memberState(id = MEMBER) {
  const response = await graphql(hub.gatewayUrl, MEMBER_STATE, { id }, operator);
  const member = response.data?.member;
  return {
    stage: member.lifecycleStage as string,
    segments: member.segmentCodes as string[],
    tags: Object.fromEntries(
      (member.tags as { code: string; value: unknown }[]).map((t) => [t.code, t.value]),
    ),
  };
}

describe('the lifecycle job', () => {
  it('reads the stage model operators can see', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          lifecycleModel {
            version
            fallback
            metrics {
              name
            }
            rules {
              stage
              description
              rule
            }
          }
        }
      `,
      {},
      operator,
    );
    const model = response.data?.lifecycleModel;
    expect(model.rules.map((rule: { stage: string }) => rule.stage)).toEqual([
      'CHURNED',
      'AT_RISK',
      'REFERRAL',
      'REVENUE',
      'RETENTION',
      'ACTIVATION',
    ]);
    expect(model.rules[1].rule).toEqual({ field: 'tag.days_since_active', op: 'gte', value: 30 });
    expect(model.metrics.map((metric: { name: string }) => metric.name)).toContain('days_since_active');
  });

  it('computes a stage and engagement tags from events, and a rerun changes nothing', async () => {
    const first = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(first.errors).toBeUndefined();
    expect(first.data?.runLifecycleJob).toMatchObject({
      ran: true,
      modelVersion: 1,
      unknownMembers: 0,
      unknownMemberIds: [],
    });
    expect(first.data?.runLifecycleJob.members).toBeGreaterThan(100);
    expect(await memberState()).toMatchObject({
      stage: 'ACTIVATION',
      tags: {
        active_days_30: 1,
        days_since_active: 0,
        churn_risk: 'MEDIUM',
        // 1 active day of 45: 60 × 1/45, rounded.
        engagement_score: 1,
        days_since_login: 0,
        interests: [],
        preferred_channel: 'APP',
        // Members' own: registered 10 days ago.
        new_user: true,
      },
    });
    const again = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(again.data?.runLifecycleJob).toMatchObject({ ran: true, stagesChanged: 0, tagsChanged: 0 });
    expect(again.data?.runLifecycleJob.unchanged).toBe(again.data?.runLifecycleJob.members);
  });

  it('computes every behavioural tag from what the member did', async () => {
    const run = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(run.errors).toBeUndefined();
    const { stage, tags } = await memberState(BUSY);
    expect(stage).toBe('REFERRAL');
    expect(tags).toMatchObject({
      active_days_30: 3,
      // 3 active days of 45 (4 points), 1 share of 3 (3.33), 2 live watches of 5 (4): 11.33.
      engagement_score: 11,
      days_since_login: 2,
      // Wealth viewed on two days; funds (also investing) and payments on one day alone would be none yet.
      interests: ['investing'],
      // Two days on the web, one in the app.
      preferred_channel: 'WEB',
    });
    // Registered long ago, by the seed: false, or absent on a member who never carried it.
    expect(tags.new_user ?? false).toBe(false);
  });

  it('moves a member whose events stopped 30 days ago to AT_RISK, and segments follow', async () => {
    const before = (await graphql(hub.gatewayUrl, AT_RISK_AUDIENCE, {}, operator)).data?.previewSegment
      .audienceSize;
    await daysPass(30);
    const run = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(run.data?.runLifecycleJob.written).toBe(true);
    expect(run.data?.runLifecycleJob.stagesChanged).toBeGreaterThan(0);
    const state = await memberState();
    // Registered 40 days ago now: no longer new.
    expect(state).toMatchObject({
      stage: 'AT_RISK',
      tags: { days_since_active: 30, churn_risk: 'HIGH', days_since_login: 30, new_user: false },
    });
    // WIN_BACK is the seed's segment of AT_RISK and CHURNED members.
    expect(state.segments).toContain('WIN_BACK');
    const after = (await graphql(hub.gatewayUrl, AT_RISK_AUDIENCE, {}, operator)).data?.previewSegment
      .audienceSize;
    const atRisk = run.data?.runLifecycleJob.stages.find(
      (s: { stage: string }) => s.stage === 'AT_RISK',
    ).members;
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(atRisk);

    const rerun = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(rerun.data?.runLifecycleJob).toMatchObject({ stagesChanged: 0, tagsChanged: 0 });
  });

  it('applies two runs at once only once', async () => {
    await daysPass(61);
    const runs = await Promise.all(
      [0, 1].map(async () => (await graphql(hub.gatewayUrl, RUN, {}, operator)).data?.runLifecycleJob),
    );
    // Either the second found the first under way (ran: false), or it ran after it and found nothing to change.
    const applying = runs.filter((run) => run.ran && run.tagsChanged > 0);
    expect(applying).toHaveLength(1);
    expect(runs.reduce((sum, run) => sum + run.tagsChanged, 0)).toBe(applying[0].members);
    expect((await memberState()).stage).toBe('CHURNED');
  });

  it('records a run in the audit log, and refuses non-operators and far-off days with a code', async () => {
    const { audit } = await openAnalytics(hub.connections.analytics);
    const records = await audit.forTarget('JOB', 'lifecycle');
    expect(records.length).toBeGreaterThanOrEqual(3);
    expect(records[0]).toMatchObject({ actor: 'ops.lin', action: 'runLifecycleJob' });

    const member = bearer(await clientToken(MEMBER, 'member'));
    expect(errorCodes(await graphql(hub.gatewayUrl, RUN, {}, member))).toEqual(['FORBIDDEN']);
    const tooFar = await graphql(hub.gatewayUrl, RUN, { asOf: daysFromNow(-400) }, operator);
    expect(tooFar.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'asOf' });
  });
});

/** Marks members active in the app today, as the rollups record a day's visitors. */
function activeToday(repos: Awaited<ReturnType<typeof openAnalytics>>, memberIds: readonly string[]) {
  const today = calendar.dayOf(new Date());
  return repos.rollups.markActive(
    memberIds.map((memberId) => ({
      _id: `${today}|APP|${memberId}`,
      day: today,
      channel: 'APP' as const,
      memberId,
    })),
  );
}

/** Ids `<prefix>0000`, `<prefix>0001`, … */
const numberedIds = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);

/** A database of its own gets the default stage and rating models, as the seed publishes them. */
function publishStageModel(repos: Awaited<ReturnType<typeof openAnalytics>>) {
  return ensureDefaultModels(repos.models, 'test', new Date());
}

/** Members as the job sees it: takes and keeps every call, and lets the test act while the first is under way. */
class RecordingGraph extends GraphClient {
  readonly handed: number[] = [];
  /** What each call handed over. */
  readonly results: { memberId: string; stage: string; tags: { code: string; value: unknown }[] }[] = [];
  constructor(
    private readonly during: (call: number) => Promise<void>,
    /** What members refuses of each call. */
    private readonly refusedTags: (
      memberIds: string[],
    ) => { code: string; reason: string; memberIds: string[] }[] = () => [],
    /** The member ids of each call members knows no member by. */
    private readonly unknownMemberIds: (memberIds: string[]) => string[] = () => [],
  ) {
    super(() => 'http://unused.invalid', 'unused');
  }
  override async query<TData>(
    _caller: GraphCaller,
    _query: string,
    variables: Record<string, unknown> = {},
  ): Promise<GraphResponse<TData>> {
    const results = variables.results as unknown[];
    this.handed.push(results.length);
    this.results.push(...(results as RecordingGraph['results']));
    await this.during(this.handed.length);
    const memberIds = (results as { memberId: string }[]).map((result) => result.memberId);
    const unknownMemberIds = this.unknownMemberIds(memberIds);
    const known = memberIds.filter((memberId) => !unknownMemberIds.includes(memberId));
    const applyLifecycle = {
      stagesChanged: 0,
      tagsChanged: 0,
      unchanged: known.length,
      unknownMemberIds,
      refusedTags: this.refusedTags(known),
    };
    return { data: { applyLifecycle } as TData, errors: [] };
  }
}

describe('a run whose lease another process took over', () => {
  it('stops applying once another run holds the lease, so two runs never interleave their results', async () => {
    const connection = await testDatabase('lifecycle-lease');
    const repos = await openAnalytics(connection);
    // Its own data: the stage model, and 1,001 members active today, six pages of results.
    await publishStageModel(repos);
    await activeToday(repos, numberedIds('M-lease-', 1_001));
    // While the first page is applied, the run's lease lapses (a run past its lifetime) and another process takes it.
    const graph = new RecordingGraph(async (call) => {
      if (call !== 1) return;
      await repos.leases.model.updateOne({ _id: 'lifecycle' }, { $set: { until: new Date(0) } }).exec();
      expect(await repos.leases.acquire('lifecycle', 'another-process', 600_000, new Date())).toBe(true);
    });
    try {
      const run = runLifecycleJob({ repos, graph, logger: testLogger, calendar, bankCurrency }, new Date());
      await expect(run).rejects.toMatchObject({ extensions: { code: 'CONFLICT' } });
      // Only the first page went out before the takeover; the other run applies its own.
      expect(graph.handed).toEqual([200]);
      expect(await repos.leases.model.findById('lifecycle').lean().exec()).toMatchObject({
        holder: 'another-process',
      });
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('computed tags members refuses', () => {
  it('are counted in the run and logged once, and the run goes on with every page', async () => {
    const connection = await testDatabase('lifecycle-refused');
    const repos = await openAnalytics(connection);
    await publishStageModel(repos);
    await activeToday(repos, numberedIds('M-refused-', 700));
    const graph = new RecordingGraph(
      async () => undefined,
      (memberIds) => [{ code: 'churn_risk', reason: 'NOT_COMPUTED', memberIds }],
    );
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
    try {
      const run = await runLifecycleJob({ repos, graph, logger, calendar, bankCurrency }, new Date());
      expect(graph.handed).toEqual([200, 200, 200, 100]);
      expect(run.refusedTags).toEqual([{ code: 'churn_risk', reason: 'NOT_COMPUTED', members: 700 }]);
      const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
      expect(warnings).toHaveLength(1);
      expect(warnings[0].refusedTags).toEqual(run.refusedTags);
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('results naming no member', () => {
  it('count in no figure of the run, which names them', async () => {
    const connection = await testDatabase('lifecycle-unknown');
    const repos = await openAnalytics(connection);
    await publishStageModel(repos);
    const memberIds = numberedIds('M-unknown-', 600);
    await activeToday(repos, memberIds);
    // Members knows no member by every tenth id, in every page.
    const gone = (ids: string[]) => ids.filter((memberId) => Number(memberId.slice(-4)) % 10 === 0);
    const graph = new RecordingGraph(async () => undefined, undefined, gone);
    try {
      const run = await runLifecycleJob(
        { repos, graph, logger: testLogger, calendar, bankCurrency },
        new Date(),
      );
      expect(graph.handed).toEqual([200, 200, 200]);
      expect(run.unknownMemberIds).toEqual(gone(memberIds));
      expect(run).toMatchObject({ written: true, members: 540, unchanged: 540, unknownMembers: 60 });
      expect(run.stages).toEqual([{ stage: 'ACTIVATION', members: 540 }]);
    } finally {
      await dropAndClose(connection);
    }
  });

  it('are named up to the first 100 by id, and all counted, in the run and its log line', async () => {
    const connection = await testDatabase('lifecycle-unknown-many');
    const repos = await openAnalytics(connection);
    await publishStageModel(repos);
    const memberIds = numberedIds('M-closed-', 1_200);
    await activeToday(repos, memberIds);
    // Members knows none of them, and answers each page's ids last first.
    const graph = new RecordingGraph(
      async () => undefined,
      undefined,
      (ids) => [...ids].reverse(),
    );
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
    try {
      const run = await runLifecycleJob({ repos, graph, logger, calendar, bankCurrency }, new Date());
      expect(run).toMatchObject({ written: true, members: 0, unknownMembers: 1_200 });
      expect(run.unknownMemberIds).toEqual(memberIds.slice(0, 100));
      const warning = lines.map((line) => JSON.parse(line)).find((entry) => entry.level === 40);
      expect(warning).toMatchObject({ unknownMembers: 1_200 });
      expect(warning.unknownMemberIds).toEqual(memberIds.slice(0, 100));
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('ids that can be no member id', () => {
  it('are never handed to members, only counted in one warning, and the run goes on with the others', async () => {
    const connection = await testDatabase('lifecycle-odd-ids');
    const repos = await openAnalytics(connection);
    await publishStageModel(repos);
    // Events stored before analytics checked a token's subject: a member id is what members' ids look like.
    const odd = ['M'.repeat(200), 'M 0001', '$M0001', 'Ｍ０００１会员', 'guest:device-0001'];
    await activeToday(repos, ['M-odd-0001', ...odd, 'M-odd-0002']);
    const graph = new RecordingGraph(async () => undefined);
    const lines: string[] = [];
    const logger = createLogger('test', 'info', { write: (line: string) => void lines.push(line) });
    try {
      const run = await runLifecycleJob({ repos, graph, logger, calendar, bankCurrency }, new Date());
      expect(graph.results.map((result) => result.memberId)).toEqual(['M-odd-0001', 'M-odd-0002']);
      expect(run).toMatchObject({ written: true, members: 2, unchanged: 2, unknownMembers: 0 });
      const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
      expect(warnings).toEqual([expect.objectContaining({ notMemberIds: odd.length })]);
      expect(lines.join('\n')).not.toContain('M'.repeat(200));
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('purchases', () => {
  it("counts products' record of a completed flow that placed a purchase, not an app's own flow_completed", async () => {
    const connection = await testDatabase('lifecycle-purchases');
    const repos = await openAnalytics(connection);
    await publishStageModel(repos);
    const now = new Date();
    const today = calendar.dayOf(now);
    const completed = (
      memberId: string,
      recordedBy: string | null,
      properties: Record<string, unknown> = { flowKey: 'buy-fund', amount: 1_000 },
    ) => ({
      _id: `${recordedBy ?? 'device'}:${memberId}:${String(properties.flowKey)}`,
      name: 'flow_completed',
      memberId,
      deviceId: recordedBy ?? 'device',
      ...(recordedBy ? { recordedBy } : {}),
      channel: 'MINI_PROGRAM' as const,
      occurredAt: now,
      receivedAt: now,
      day: today,
      properties,
    });
    // The app claims a purchase for both; products recorded one for the second alone. The third opened an account and
    // claimed the welcome coupon through flows: completed, with no purchase placed, so products recorded no amount.
    await repos.events.insertNew([
      completed('M-claims', null),
      completed('M-bought', null),
      completed('M-bought', 'svc.products'),
      completed('M-opened', 'svc.products', { flowKey: 'open-account' }),
      completed('M-opened', 'svc.products', { flowKey: 'welcome-benefit' }),
    ]);
    await activeToday(repos, ['M-claims', 'M-bought', 'M-opened']);
    const graph = new RecordingGraph(async () => undefined);
    try {
      const run = await runLifecycleJob({ repos, graph, logger: testLogger, calendar, bankCurrency }, now);
      expect(Object.fromEntries(graph.results.map((result) => [result.memberId, result.stage]))).toEqual({
        'M-bought': 'REVENUE',
        'M-claims': 'ACTIVATION',
        'M-opened': 'ACTIVATION',
      });
      // The member rating reads the same purchases: one of 1,000 today, or none.
      const rating = (memberId: string) =>
        graph.results
          .find((result) => result.memberId === memberId)
          ?.tags.filter(({ code }) => ['rfm_score', 'rfm_cell', 'member_rating'].includes(code));
      expect(rating('M-bought')).toEqual([
        { code: 'rfm_score', value: 2 },
        { code: 'rfm_cell', value: 'R5F1M1' },
        { code: 'member_rating', value: 'PROMISING' },
      ]);
      expect(rating('M-claims')).toEqual([
        { code: 'rfm_score', value: 1 },
        { code: 'rfm_cell', value: 'R1F1M1' },
        { code: 'member_rating', value: 'PROSPECT' },
      ]);
      expect(rating('M-opened')).toEqual(rating('M-claims'));
      expect(run.ratings).toContainEqual({ rating: 'PROMISING', members: 1 });
      expect(run.ratings).toContainEqual({ rating: 'PROSPECT', members: 2 });
    } finally {
      await dropAndClose(connection);
    }
  });
});

describe('applyLifecycle, the door the job writes through', () => {
  const APPLY = `mutation ($results: [LifecycleResultInput!]!) { applyLifecycle(results: $results) { stagesChanged } }`;
  const result = (tags: { code: string; value: unknown }[] = []) => [
    { memberId: MEMBER, stage: 'REVENUE', tags },
  ];

  it('is closed to operators and to client tokens that claim the service scope', async () => {
    expect(errorCodes(await graphql(hub.gatewayUrl, APPLY, { results: result() }, operator))).toEqual([
      'FORBIDDEN',
    ]);
    const claimed = bearer(await clientToken('svc.fake', 'operator service'));
    expect(errorCodes(await graphql(hub.gatewayUrl, APPLY, { results: result() }, claimed))).toEqual([
      'FORBIDDEN',
    ]);
    expect((await memberState()).stage).not.toBe('REVENUE');
  });
});

describe('an operator who makes a computed tag MANUAL', () => {
  const DEFINE = `mutation ($source: TagSource!) {
    defineTags(tags: [{ code: "churn_risk", name: "流失风险", category: "engagement", valueType: STRING, source: $source }]) { code }
  }`;

  it('stops only that tag: stages and the other tags still move, and the run reports the refused tag', async () => {
    expect((await graphql(hub.gatewayUrl, DEFINE, { source: 'MANUAL' }, operator)).errors).toBeUndefined();
    try {
      const before = await memberState();
      const response = await graphql(
        hub.gatewayUrl,
        `
          mutation {
            runLifecycleJob {
              ran
              members
              stagesChanged
              refusedTags {
                code
                reason
                members
              }
            }
          }
        `,
        {},
        operator,
      );
      expect(response.errors).toBeUndefined();
      const run = response.data?.runLifecycleJob;
      expect(run.ran).toBe(true);
      expect(run.stagesChanged).toBeGreaterThan(0);
      expect(run.refusedTags).toEqual([{ code: 'churn_risk', reason: 'NOT_COMPUTED', members: run.members }]);
      // Back from CHURNED (61 days on) to today: the stage and days_since_active move, churn_risk stays as it was.
      expect(await memberState()).toMatchObject({
        stage: 'ACTIVATION',
        tags: { days_since_active: 0, churn_risk: before.tags.churn_risk },
      });
    } finally {
      await graphql(hub.gatewayUrl, DEFINE, { source: 'COMPUTED' }, operator);
    }
  });
});

describe('reading the lifecycle', () => {
  it('counts members per stage for operators (AARRR counts), every stage listed', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          lifecycleCounts {
            stage
            members
          }
        }
      `,
      {},
      operator,
    );
    const counts = response.data?.lifecycleCounts as { stage: string; members: number }[];
    expect(counts.map((count) => count.stage)).toEqual(LIFECYCLE_STAGES);
    expect(counts.reduce((sum, count) => sum + count.members, 0)).toBe(1_200);
  });
});

describe('a run as of another day than today', () => {
  // Members keeps only a member's current stage: what a run writes is today's, whatever day it computes.
  it("is refused for a later day, which would put today's active members AT_RISK or CHURNED", async () => {
    await graphql(hub.gatewayUrl, RUN, {}, operator);
    const before = await memberState();
    for (const days of [1, 30, 400]) {
      const run = await graphql(hub.gatewayUrl, RUN, { asOf: daysFromNow(days) }, operator);
      expect(run.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'asOf' });
    }
    expect(await memberState()).toEqual(before);
  });

  it('computes an earlier day without writing it over the stages and tags of today', async () => {
    const today = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(today.data?.runLifecycleJob.written).toBe(true);
    const before = await memberState();
    const past = await graphql(hub.gatewayUrl, RUN, { asOf: daysFromNow(-7) }, operator);
    expect(past.errors).toBeUndefined();
    expect(past.data?.runLifecycleJob).toMatchObject({
      ran: true,
      written: false,
      stagesChanged: 0,
      tagsChanged: 0,
      unchanged: 0,
    });
    // The seeded members active before last week were computed as of then.
    expect(past.data?.runLifecycleJob.members).toBeGreaterThan(100);
    expect(await memberState()).toEqual(before);
    // Nothing of last week was written: today's run finds every member as it left them.
    const again = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(again.data?.runLifecycleJob).toMatchObject({ written: true, stagesChanged: 0, tagsChanged: 0 });
  });
});
