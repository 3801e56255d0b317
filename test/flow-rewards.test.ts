// Rewards for a completed service flow, through the gateway: only products' word that a member completed a flow (its
// flow_completed event, recorded through analytics' service door under the session's id) activates a referral or
// completes a task — once, also when analytics was down as the flow completed. The same event sent from a member's
// device still reaches analytics (funnels, lifecycle stages) and earns nothing.
import type { RunningHub } from '../scripts/hub';
import {
  openRepositories as openAnalytics,
  type AnalyticsRepositories,
} from '../subgraphs/analytics/src/models';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import type { TaskDoc } from '../subgraphs/engagement/src/activities/model';
import type { ProductDoc } from '../subgraphs/products/src/models/product';
import { PRODUCTS } from '../subgraphs/products/src/seed';
import { EventRelayRepository, decodeFeedCursor } from '@bank-hub/shared';
import { bearer, clientToken, graphql, type GraphQLResponse, type Send } from './support/env';
import {
  ADVANCE,
  OPEN_INPUTS,
  START,
  advanceSteps,
  attestation,
  openAccount as walkOpenAccount,
} from './support/flows';
import { signInOnceActivity } from './support/activities';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let engagement: EngagementRepositories;
let analytics: AnalyticsRepositories;
/** Seeded members still at ACQUISITION: the new members who may accept an invite. */
let newcomers: string[];

beforeAll(async () => {
  hub = await startTestHub('flow-rewards', {
    config: { TASK_FEED_INTERVAL_MS: 250, FLOW_EVENT_RELAY_INTERVAL_MS: 100 },
  });
  engagement = await openEngagement(hub.connections.engagement);
  analytics = await openAnalytics(hub.connections.analytics);
  const { members } = await openMembers(hub.connections.members);
  newcomers = (
    await members.model.find({ lifecycleStage: 'ACQUISITION' }).sort({ _id: 1 }).limit(3).lean().exec()
  ).map((member) => member._id);
  expect(newcomers.length).toBe(3);
});

afterAll(() => stopTestHub(hub));

const as = async (memberId: string) => bearer(await clientToken(memberId, 'member'));

/** Completes a session's steps as the member's mini-program, with the bank's attestations; each must succeed. */
async function advanceAll(
  memberId: string,
  headers: Record<string, string>,
  session: string,
  steps: [string, unknown][],
): Promise<void> {
  const send: Send = (query, variables = {}) => graphql(hub.gatewayUrl, query, variables, headers);
  for (const answer of await advanceSteps({ memberId, send }, session, steps))
    expect(answer.errors).toBeUndefined();
}

async function ok(response: Promise<GraphQLResponse>) {
  const result = await response;
  expect(result.errors).toBeUndefined();
  return result.data!;
}

const points = async (memberId: string): Promise<number> =>
  (
    await ok(
      graphql(
        hub.gatewayUrl,
        `
          {
            viewer {
              points
            }
          }
        `,
        {},
        await as(memberId),
      ),
    )
  ).viewer.points;

/** The invitee accepted the inviter's code and joined the new-member tasks, whose open-account task pays 200. */
async function referredNewcomer(inviterId: string, inviteeId: string): Promise<void> {
  const created = await ok(
    graphql(
      hub.gatewayUrl,
      `
        mutation {
          createInviteCode {
            code
          }
        }
      `,
      {},
      await as(inviterId),
    ),
  );
  await ok(
    graphql(
      hub.gatewayUrl,
      `
        mutation ($code: String!) {
          acceptInvite(code: $code) {
            state
          }
        }
      `,
      { code: created.createInviteCode.code },
      await as(inviteeId),
    ),
  );
  await ok(
    graphql(
      hub.gatewayUrl,
      `
        mutation {
          joinActivity(activityId: "A-NEWBIE") {
            joined
          }
        }
      `,
      {},
      await as(inviteeId),
    ),
  );
}

const openAccount = async (memberId: string) => walkOpenAccount(hub.gatewayUrl, memberId, await as(memberId));

async function until(done: () => Promise<boolean>, what: string): Promise<void> {
  for (let tries = 0; tries < 120; tries++) {
    if (await done()) return;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Waits until engagement's task feed has counted the analytics event `id` (its cursor is at or past it). */
async function counted(id: string): Promise<void> {
  await until(async () => {
    const event = await analytics.events.model.findById(id).lean().exec();
    const cursor = await engagement.cursors.get('tasks');
    if (!event || !cursor) return false;
    const at = decodeFeedCursor(cursor, 'the task feed');
    return at.at > event.receivedAt || (at.at.getTime() === event.receivedAt.getTime() && at.id >= event._id);
  }, `the task feed to count ${id}`);
}

const referralOf = async (inviteeId: string) => (await engagement.referrals.findByInvitees([inviteeId]))[0];
const openAccountTask = (memberId: string) =>
  engagement.progress.model
    .findOne({ activityId: 'A-NEWBIE', taskId: 'open-account', memberId })
    .lean()
    .exec();

describe('a flow_completed sent from a member’s device', () => {
  it('reaches analytics, yet activates no referral and completes no task', async () => {
    const invitee = newcomers[0]!;
    await referredNewcomer('M0011', invitee);
    const before = [await points('M0011'), await points(invitee)];
    const id = `open-account-${Date.now().toString(36)}`;
    const tracked = await ok(
      graphql(
        hub.gatewayUrl,
        `
          mutation ($e: [EventInput!]!) {
            trackEvents(deviceId: "farming-phone", events: $e) {
              accepted
            }
          }
        `,
        {
          e: [
            {
              id,
              name: 'flow_completed',
              occurredAt: new Date().toISOString(),
              channel: 'APP',
              properties: { flowKey: 'open-account' },
            },
          ],
        },
        await as(invitee),
      ),
    );
    expect(tracked.trackEvents.accepted).toBe(1);
    await counted(`farming-phone:${id}`);
    expect(await referralOf(invitee)).toMatchObject({ state: 'PENDING', activatedAt: null });
    expect((await openAccountTask(invitee))?.completedAt ?? null).toBeNull();
    expect([await points('M0011'), await points(invitee)]).toEqual(before);
  });
});

describe('completing the open-account flow through products', () => {
  it('activates the referral and completes the task, rewarding each once', async () => {
    const invitee = newcomers[1]!;
    await referredNewcomer('M0012', invitee);
    const [inviterBefore, inviteeBefore] = [await points('M0012'), await points(invitee)];
    const session = await openAccount(invitee);
    await until(
      async () =>
        (await referralOf(invitee))?.state === 'REWARDED' &&
        Boolean((await openAccountTask(invitee))?.rewardedAt),
      'the referral and the task rewarded',
    );
    // Referral: 500 to the inviter, 200 to the invitee; the open-account task: 200 more.
    expect(await points('M0012')).toBe(inviterBefore + 500);
    expect(await points(invitee)).toBe(inviteeBefore + 400);
    const recorded = await analytics.events.model.find({ name: 'flow_completed', memberId: invitee }).lean();
    expect(recorded.map((event) => [event._id, event.recordedBy, event.properties])).toEqual([
      [`svc.products:${session}`, 'svc.products', { flowKey: 'open-account' }],
    ]);

    // Opening another account is a new completion at analytics, and no new reward.
    const second = await openAccount(invitee);
    await counted(`svc.products:${second}`);
    expect(await points('M0012')).toBe(inviterBefore + 500);
    expect(await points(invitee)).toBe(inviteeBefore + 400);
  });

  it('completes while analytics is down, and rewards once analytics is back', async () => {
    const invitee = newcomers[2]!;
    await referredNewcomer('M0013', invitee);
    const [inviterBefore, inviteeBefore] = [await points('M0013'), await points(invitee)];
    await hub.stopSubgraph('analytics');
    let session: string;
    try {
      session = await openAccount(invitee);
      // Relay passes fail meanwhile; the event waits in products' own queue.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(
        await hub.connections.products.collection('event_relay').countDocuments({ _id: session as never }),
      ).toBe(1);
      expect((await referralOf(invitee))?.state).toBe('PENDING');
    } finally {
      await hub.restartSubgraph('analytics');
    }
    await until(
      async () =>
        (await referralOf(invitee))?.state === 'REWARDED' &&
        Boolean((await openAccountTask(invitee))?.rewardedAt),
      'the referral and the task rewarded',
    );
    expect(await points('M0013')).toBe(inviterBefore + 500);
    expect(await points(invitee)).toBe(inviteeBefore + 400);
    expect(await analytics.events.model.countDocuments({ _id: `svc.products:${session}` })).toBe(1);
    expect(await hub.connections.products.collection('event_relay').countDocuments()).toBe(0);
  });
});

describe('a purchase flow whose purchase was not confirmed', () => {
  it('is recorded as a completed flow that bought nothing, unlike a confirmed one', async () => {
    const headers = await as('M0002');
    const buy = async (confirmed: boolean): Promise<string> => {
      const started = await ok(
        graphql(
          hub.gatewayUrl,
          `
            mutation {
              startFlowSession(flowKey: "buy-wealth") {
                id
              }
            }
          `,
          {},
          headers,
        ),
      );
      const session = started.startFlowSession.id as string;
      const steps: [string, unknown][] = [
        ['assess', { riskLevel: 'R4', score: 80 }],
        // P-WM-008: WEALTH, R3, on the mini-program, minimum 10,000.
        ['select', { productId: 'P-WM-008', amount: 20_000 }],
        ['confirm', { orderId: `O-${session.slice(-8)}`, confirmed }],
      ];
      await advanceAll('M0002', headers, session, steps);
      return session;
    };
    const [declined, bought] = [await buy(false), await buy(true)];
    const recorded = async (session: string) => {
      await until(
        async () => (await analytics.events.model.countDocuments({ _id: `svc.products:${session}` })) === 1,
        'products to record the completed session',
      );
      return (await analytics.events.model.findById(`svc.products:${session}`).lean().exec())?.properties;
    };
    expect(await recorded(declined)).toEqual({ flowKey: 'buy-wealth' });
    expect(await recorded(bought)).toEqual({
      flowKey: 'buy-wealth',
      productId: 'P-WM-008',
      amount: 20_000,
      currency: 'CNY',
    });
  });
});

describe('purchases in two currencies', () => {
  it('count each towards a purchase-amount task in its own currency only, never added up', async () => {
    const now = new Date();
    // A USD wealth product the mini-program sells, beside P-WM-008 (CNY, minimum 10,000).
    await hub.connections.products.collection<ProductDoc>('products').insertOne({
      ...PRODUCTS.find((product) => product._id === 'P-WM-008')!,
      _id: 'P-WM-901',
      name: 'USD Steady Wealth (mini-program)',
      minAmount: 1_000,
      currency: 'USD',
      channels: ['MINI_PROGRAM'],
    });
    const sumOfAmounts = (id: string, currency: string | null): TaskDoc => ({
      id,
      title: id,
      event: 'flow_completed',
      where: [{ property: 'flowKey', op: 'eq', value: 'buy-wealth' }],
      measure: 'SUM',
      property: 'amount',
      // A task stored before tasks named a currency reads the bank's.
      ...(currency ? { currency } : {}),
      target: 30_000,
      reward: { points: 1, benefitId: null },
    });
    await engagement.activities.model.create({
      ...signInOnceActivity('A-CURRENCIES', now),
      kind: 'FINANCIAL',
      tasks: [sumOfAmounts('buy-cny', null), sumOfAmounts('buy-usd', 'USD')],
    });
    const headers = await as('M0002');
    await ok(
      graphql(
        hub.gatewayUrl,
        `
          mutation {
            joinActivity(activityId: "A-CURRENCIES") {
              joined
            }
          }
        `,
        {},
        headers,
      ),
    );
    const buy = async (productId: string, amount: number): Promise<string> => {
      const session = (
        await ok(
          graphql(
            hub.gatewayUrl,
            `
              mutation {
                startFlowSession(flowKey: "buy-wealth") {
                  id
                }
              }
            `,
            {},
            headers,
          ),
        )
      ).startFlowSession.id as string;
      const steps: [string, unknown][] = [
        ['assess', { riskLevel: 'R4', score: 80 }],
        ['select', { productId, amount }],
        ['confirm', { orderId: `O-${session.slice(-8)}`, confirmed: true }],
      ];
      await advanceAll('M0002', headers, session, steps);
      return session;
    };
    const sessions = [await buy('P-WM-008', 20_000), await buy('P-WM-901', 20_000)];
    for (const session of sessions) {
      await until(
        async () => (await analytics.events.model.countDocuments({ _id: `svc.products:${session}` })) === 1,
        'products to record the completed session',
      );
      await counted(`svc.products:${session}`);
    }
    const stored = await analytics.events.model
      .find({ _id: { $in: sessions.map((session) => `svc.products:${session}`) } })
      .lean()
      .exec();
    expect(stored.map((event) => event.properties.currency).sort()).toEqual(['CNY', 'USD']);
    const progress = async (taskId: string) =>
      engagement.progress.model
        .findOne({ activityId: 'A-CURRENCIES', taskId, memberId: 'M0002' })
        .lean()
        .exec();
    // 20,000 CNY and 20,000 USD are not 40,000 of anything: neither task reaches 30,000 (sums in cents).
    expect(await progress('buy-cny')).toMatchObject({ cents: 2_000_000, completedAt: null });
    expect(await progress('buy-usd')).toMatchObject({ cents: 2_000_000, completedAt: null });
  });
});

describe('a session that completed while queuing its event failed (a process dying right after completing it)', () => {
  it('still reaches analytics and rewards, though nobody sends the step again', async () => {
    const invitee = newcomers[0]!;
    const inviterBefore = await points('M0011');
    const headers = await as(invitee);
    const started = await ok(graphql(hub.gatewayUrl, START, {}, headers));
    const session = started.startFlowSession.id as string;
    const steps: [string, unknown][] = [
      ['identity', { verified: true }],
      ['terms', { signed: true, signedAt: new Date().toISOString() }],
    ];
    await advanceAll(invitee, headers, session, steps);
    // Only this session's event fails to queue, once: the relay job and messages queue through the same class.
    const queue = EventRelayRepository.prototype.enqueue;
    let died = false;
    const enqueue = jest.spyOn(EventRelayRepository.prototype, 'enqueue').mockImplementation(async function (
      this: EventRelayRepository,
      events,
    ) {
      if (!died && events.some((event) => event._id === session)) {
        died = true;
        throw new Error('the process died');
      }
      return queue.call(this, events);
    });
    try {
      const last = await graphql(
        hub.gatewayUrl,
        ADVANCE,
        {
          session,
          step: 'open',
          output: { accountId: `AC-${session.slice(-8)}` },
          key: `${session}-2`,
          attestation: attestation(
            invitee,
            session,
            'open',
            { accountId: `AC-${session.slice(-8)}` },
            { inputs: OPEN_INPUTS },
          ),
        },
        headers,
      );
      expect(died).toBe(true);
      expect(last.errors).toBeDefined();
    } finally {
      enqueue.mockRestore();
    }
    await until(
      async () => (await analytics.events.model.countDocuments({ _id: `svc.products:${session}` })) === 1,
      'products to record the completed session',
    );
    await until(async () => (await referralOf(invitee))?.state === 'REWARDED', 'the referral rewarded');
    expect(await points('M0011')).toBe(inviterBefore + 500);
  });
});
