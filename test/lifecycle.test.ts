// The computed lifecycle through the gateway: analytics works out each member's stage and engagement tags from their
// events and writes them to members through the graph with the hub's service identity. A member whose events stop
// for 30 (simulated) days becomes AT_RISK, segments follow, a rerun changes nothing, and two runs at once apply once.
import { LIFECYCLE_STAGES } from '@bank-hub/targeting';
import type { RunningHub } from '../scripts/hub';
import { openRepositories as openAnalytics } from '../subgraphs/analytics/src/models';
import { bearer, clientToken, errorCodes, graphql } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let operator: Record<string, string>;

/** A member with no seeded history: what they do here is all the job sees of them. */
const MEMBER = 'M0999';
const DAY_MS = 86_400_000;

beforeAll(async () => {
  hub = await startTestHub('lifecycle');
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
  // The member counts as active once the rollup writer has flushed (a quarter of a second).
  const { rollups } = await openAnalytics(hub.connections.analytics);
  for (let tries = 0; tries < 50; tries++) {
    if (await rollups.actives.exists({ memberId: MEMBER })) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(() => stopTestHub(hub));

const RUN = `mutation Run($asOf: DateTime) {
  runLifecycleJob(asOf: $asOf) {
    ran asOf modelVersion members stagesChanged tagsChanged unchanged stages { stage members }
  }
}`;

const MEMBER_STATE = `query ($id: ID!) {
  member(id: $id) { lifecycleStage lifecycleChangedAt segmentCodes tags { code value } }
}`;

const AT_RISK_AUDIENCE = `mutation {
  previewSegment(rule: { field: "lifecycleStage", op: "eq", value: "AT_RISK" }) { audienceSize }
}`;

const daysFromNow = (days: number) => new Date(Date.now() + days * DAY_MS).toISOString();

async function memberState() {
  const response = await graphql(hub.gatewayUrl, MEMBER_STATE, { id: MEMBER }, operator);
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
    expect(first.data?.runLifecycleJob).toMatchObject({ ran: true, modelVersion: 1 });
    expect(first.data?.runLifecycleJob.members).toBeGreaterThan(100);
    expect(await memberState()).toMatchObject({
      stage: 'ACTIVATION',
      tags: { active_days_30: 1, days_since_active: 0, churn_risk: 'MEDIUM' },
    });
    const again = await graphql(hub.gatewayUrl, RUN, {}, operator);
    expect(again.data?.runLifecycleJob).toMatchObject({ ran: true, stagesChanged: 0, tagsChanged: 0 });
    expect(again.data?.runLifecycleJob.unchanged).toBe(again.data?.runLifecycleJob.members);
  });

  it('moves a member whose events stopped 30 days ago to AT_RISK, and segments follow', async () => {
    const before = (await graphql(hub.gatewayUrl, AT_RISK_AUDIENCE, {}, operator)).data?.previewSegment
      .audienceSize;
    const run = await graphql(hub.gatewayUrl, RUN, { asOf: daysFromNow(30) }, operator);
    expect(run.data?.runLifecycleJob.stagesChanged).toBeGreaterThan(0);
    const state = await memberState();
    expect(state).toMatchObject({ stage: 'AT_RISK', tags: { days_since_active: 30, churn_risk: 'HIGH' } });
    // WIN_BACK is the seed's segment of AT_RISK and CHURNED members.
    expect(state.segments).toContain('WIN_BACK');
    const after = (await graphql(hub.gatewayUrl, AT_RISK_AUDIENCE, {}, operator)).data?.previewSegment
      .audienceSize;
    const atRisk = run.data?.runLifecycleJob.stages.find(
      (s: { stage: string }) => s.stage === 'AT_RISK',
    ).members;
    expect(after).toBeGreaterThan(before);
    expect(after).toBeGreaterThanOrEqual(atRisk);

    const rerun = await graphql(hub.gatewayUrl, RUN, { asOf: daysFromNow(30) }, operator);
    expect(rerun.data?.runLifecycleJob).toMatchObject({ stagesChanged: 0, tagsChanged: 0 });
  });

  it('applies two runs at once only once', async () => {
    const asOf = daysFromNow(61);
    const runs = await Promise.all(
      [0, 1].map(async () => (await graphql(hub.gatewayUrl, RUN, { asOf }, operator)).data?.runLifecycleJob),
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
    const tooFar = await graphql(hub.gatewayUrl, RUN, { asOf: daysFromNow(400) }, operator);
    expect(tooFar.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'asOf' });
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
