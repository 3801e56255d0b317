// Engagement's days are the bank's business days (BANK_TIME_ZONE) through the gateway: a benefit's daily limit starts
// again at the bank's midnight, a claim's valid days run to the end of a business day, and a DISTINCT_DAYS task counts
// sign-ins on the days of the bank's zone — with the default zone (Asia/Shanghai, 16:00 UTC) and with UTC.
import type { HubConfig } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import type { ActivityDoc } from '../subgraphs/engagement/src/activities/model';
import { openRepositories, type EngagementRepositories } from '../subgraphs/engagement/src/models';
import { signInOnceActivity } from './support/activities';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { bearer, clientToken, errorCodes, graphql } from './support/env';
import { setClock } from './support/clock';
import { startTestHub, stopTestHub } from './support/hub';

/**
 * Sets the clock of the hub, which runs in this process, to `iso`. Instants are in the past, so that nothing a
 * background job stores meanwhile (a lease, a cursor) is ahead of the real clock after.
 */
const clockAt = (iso: string) => setClock(iso);

afterEach(() => jest.useRealTimers());

const CLAIM = `mutation ($benefitId: ID!, $key: String!) {
  claimBenefit(benefitId: $benefitId, idempotencyKey: $key) { id claimedAt expiresAt }
}`;
const JOIN = `mutation ($id: ID!) { joinActivity(activityId: $id) { joined } }`;
const SIGN_IN = `mutation ($id: ID!) { dailySignIn(activityId: $id) { tasks { task { id } value } } }`;

/** A running INTERACTIVE activity counting sign-ins on up to 7 distinct days. */
const signInDaysActivity = (id: string): ActivityDoc => {
  const activity = signInOnceActivity(id, new Date('2026-11-01T00:00:00Z'));
  return { ...activity, tasks: activity.tasks.map((task) => ({ ...task, target: 7 })) };
};

function daysOf(config: Partial<HubConfig>, label: string) {
  let hub: RunningHub;
  let engagement: EngagementRepositories;
  const member = async (id: string) => bearer(await clientToken(id, 'member'));

  beforeAll(async () => {
    hub = await startTestHub(label, { config });
    engagement = await openRepositories(hub.connections.engagement);
  });
  afterAll(() => stopTestHub(hub));

  return {
    /** Claims the benefit as `memberId` at `iso`: the claim, or the refusal's codes. */
    async claimAt(iso: string, memberId: string, benefitId: string) {
      clockAt(iso);
      const response = await graphql(
        hub.gatewayUrl,
        CLAIM,
        { benefitId, key: `days-${memberId}-${benefitId}` },
        await member(memberId),
      );
      return response.data?.claimBenefit ?? errorCodes(response);
    },
    benefit: (benefitId: string) =>
      insertBenefits(hub.connections.engagement, [
        publishedBenefit(benefitId, { perDayLimit: 1, perMemberLimit: 5, validDays: 7 }),
      ]),
    /** The member joins `activityId` at the first instant and signs in at each: the task's value after each. */
    async signInsAt(instants: string[], memberId: string, activityId: string) {
      await engagement.activities.model.create(signInDaysActivity(activityId));
      clockAt(instants[0]!);
      const joined = await graphql(hub.gatewayUrl, JOIN, { id: activityId }, await member(memberId));
      expect(joined.errors).toBeUndefined();
      const values: number[] = [];
      for (const at of instants) {
        clockAt(at);
        // A token of the moment: one issued at the first instant has expired a day later.
        const response = await graphql(hub.gatewayUrl, SIGN_IN, { id: activityId }, await member(memberId));
        expect(response.errors).toBeUndefined();
        values.push(response.data?.dailySignIn.tasks[0].value as number);
      }
      return values;
    },
  };
}

describe("in the bank's default zone, Asia/Shanghai", () => {
  const days = daysOf({}, 'engagement_days_shanghai');

  it("lets a per-day limit of 1 refuse a second claim at 23:59 and take one at 00:01, the bank's midnight", async () => {
    await days.benefit('B-DAYS-SH');
    // 23:00, 23:59 on 25 November and 00:01 on the 26th in Shanghai.
    expect(await days.claimAt('2026-11-25T15:00:00Z', 'M0301', 'B-DAYS-SH')).toMatchObject({
      id: expect.any(String),
    });
    expect(await days.claimAt('2026-11-25T15:59:00Z', 'M0302', 'B-DAYS-SH')).toEqual(['DAILY_LIMIT_REACHED']);
    const claimed = await days.claimAt('2026-11-25T16:01:00Z', 'M0303', 'B-DAYS-SH');
    // Valid 7 days: the 26th is the first, and the claim is usable to the end of 2 December in Shanghai.
    expect(claimed).toMatchObject({
      claimedAt: '2026-11-25T16:01:00.000Z',
      expiresAt: '2026-12-02T16:00:00.000Z',
    });
  });

  it("counts sign-ins on the bank's days: 00:30 and 23:30 the same day once, 23:30 and 00:30 the next day twice", async () => {
    expect(
      await days.signInsAt(['2026-11-25T16:30:00Z', '2026-11-26T15:30:00Z'], 'M0311', 'A-DAYS-SH-1'),
    ).toEqual([1, 1]);
    expect(
      await days.signInsAt(['2026-11-25T15:30:00Z', '2026-11-25T16:30:00Z'], 'M0312', 'A-DAYS-SH-2'),
    ).toEqual([1, 2]);
  });
});

describe('in a hub whose bank keeps UTC (BANK_TIME_ZONE)', () => {
  const days = daysOf({ BANK_TIME_ZONE: 'UTC' }, 'engagement_days_utc');

  it('starts the day, its limit and its sign-ins again at midnight UTC', async () => {
    await days.benefit('B-DAYS-UTC');
    expect(await days.claimAt('2026-11-25T15:59:00Z', 'M0321', 'B-DAYS-UTC')).toMatchObject({
      id: expect.any(String),
    });
    expect(await days.claimAt('2026-11-25T16:01:00Z', 'M0322', 'B-DAYS-UTC')).toEqual([
      'DAILY_LIMIT_REACHED',
    ]);
    const claimed = await days.claimAt('2026-11-26T00:01:00Z', 'M0323', 'B-DAYS-UTC');
    expect(claimed).toMatchObject({ expiresAt: '2026-12-03T00:00:00.000Z' });
    expect(
      await days.signInsAt(['2026-11-25T15:30:00Z', '2026-11-25T16:30:00Z'], 'M0324', 'A-DAYS-UTC'),
    ).toEqual([1, 1]);
  });
});
