// Referral (拉新) through the gateway: invite codes, one referral per invitee and one invitee per code (also under
// concurrent accepts), every refusal with a code and nothing stored, and both sides rewarded once each when the
// invitee opens an account (completes the open-account flow in products; test/flow-rewards.test.ts shows a member's
// own flow_completed event earns nothing).
import type { RunningHub } from '../scripts/hub';
import {
  openRepositories as openEngagement,
  type EngagementRepositories,
} from '../subgraphs/engagement/src/models';
import { rewardReferrals } from '../subgraphs/engagement/src/referrals/operations';
import { FAILURES_PER_PASS, type RewardGranter } from '../subgraphs/engagement/src/rewards';
import { ErrorCode, hubError } from '@bank-hub/shared';
import { openRepositories as openMembers } from '../subgraphs/members/src/models';
import {
  bearer,
  clientToken,
  dropAndClose,
  errorCodes,
  graphql,
  testDatabase,
  testLogger,
} from './support/env';
import { openAccount } from './support/flows';
import { startTestHub, stopTestHub } from './support/hub';
import { readCounter } from './support/subgraph';

let hub: RunningHub;
let engagement: EngagementRepositories;
/** Seeded members still at ACQUISITION: the new members who may accept an invite. */
let newcomers: string[];

beforeAll(async () => {
  hub = await startTestHub('referrals', {
    config: {
      TASK_FEED_INTERVAL_MS: 250,
      FLOW_EVENT_RELAY_INTERVAL_MS: 100,
      // Tens of accepts at once, each asking members who the member is: answered however long that takes on a shared
      // machine, as the tests are about what is stored (a request past its deadline is refused SERVICE_UNAVAILABLE).
      SUBGRAPH_TIMEOUT_MS: 30_000,
    },
  });
  engagement = await openEngagement(hub.connections.engagement);
  const { members } = await openMembers(hub.connections.members);
  newcomers = (
    await members.model.find({ lifecycleStage: 'ACQUISITION' }).sort({ _id: 1 }).limit(60).lean().exec()
  ).map((member) => member._id);
  expect(newcomers.length).toBe(60);
});

afterAll(() => stopTestHub(hub));

const as = async (memberId: string) => bearer(await clientToken(memberId, 'member'));
const CREATE = `mutation { createInviteCode { code createdAt inviteeId } }`;
const ACCEPT = `mutation ($code: String!) { acceptInvite(code: $code) { inviterId inviteeId code state } }`;

async function codeOf(memberId: string): Promise<string> {
  const response = await graphql(hub.gatewayUrl, CREATE, {}, await as(memberId));
  expect(response.errors).toBeUndefined();
  return response.data?.createInviteCode.code;
}

const points = async (memberId: string) =>
  (
    await graphql(
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
    )
  ).data?.viewer.points as number;

describe('invite codes', () => {
  it('are created for members only, and accepted once by a newly acquired member', async () => {
    expect(errorCodes(await graphql(hub.gatewayUrl, CREATE, {}))).toEqual(['UNAUTHENTICATED']);
    const code = await codeOf('M0002');
    expect(code).toMatch(/^[A-HJ-NP-Z2-9]{8}$/);
    const [invitee, other] = newcomers;
    const accepted = await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee!));
    expect(accepted.data?.acceptInvite).toEqual({
      inviterId: 'M0002',
      inviteeId: invitee,
      code,
      state: 'PENDING',
    });
    // Accepting again answers the same referral.
    expect(
      (await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee!))).data?.acceptInvite.state,
    ).toBe('PENDING');
    expect(errorCodes(await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(other!)))).toEqual([
      'INVITE_CODE_USED',
    ]);
    expect(
      errorCodes(await graphql(hub.gatewayUrl, ACCEPT, { code: await codeOf('M0003') }, await as(invitee!))),
    ).toEqual(['ALREADY_REFERRED']);
    const mine = await graphql(
      hub.gatewayUrl,
      `
        {
          viewer {
            invitations {
              code
              inviteeId
              referral {
                state
              }
            }
          }
        }
      `,
      {},
      await as('M0002'),
    );
    expect(mine.data?.viewer.invitations).toContainEqual({
      code,
      inviteeId: invitee,
      referral: { state: 'PENDING' },
    });
  });

  it('refuses one’s own code, an unknown one, a member no longer new and a loop, storing nothing', async () => {
    const before = await engagement.referrals.model.countDocuments();
    const [, , a, b] = newcomers;
    const own = await codeOf(a!);
    expect(errorCodes(await graphql(hub.gatewayUrl, ACCEPT, { code: own }, await as(a!)))).toEqual([
      'SELF_REFERRAL',
    ]);
    for (const code of ['NOPE2345', 'x', '"; drop', 'A'.repeat(5_000)]) {
      expect(errorCodes(await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(b!)))).toEqual([
        'INVITE_CODE_UNKNOWN',
      ]);
    }
    // M0002 is a long-standing REVENUE member.
    expect(errorCodes(await graphql(hub.gatewayUrl, ACCEPT, { code: own }, await as('M0002')))).toEqual([
      'FAILED_PRECONDITION',
    ]);
    expect(await engagement.referrals.model.countDocuments()).toBe(before);
    // a brings in b; then b's code cannot bring in a.
    expect(
      (await graphql(hub.gatewayUrl, ACCEPT, { code: own }, await as(b!))).data?.acceptInvite.state,
    ).toBe('PENDING');
    const back = await codeOf(b!);
    expect(errorCodes(await graphql(hub.gatewayUrl, ACCEPT, { code: back }, await as(a!)))).toEqual([
      'REFERRAL_LOOP',
    ]);
    expect(await engagement.referrals.model.countDocuments()).toBe(before + 1);
  });

  it('gives one code to one invitee when twenty accept it at once', async () => {
    const code = await codeOf('M0004');
    const contenders = newcomers.slice(8, 28);
    const answers = await Promise.all(
      contenders.map(async (memberId) => graphql(hub.gatewayUrl, ACCEPT, { code }, await as(memberId))),
    );
    expect(answers.filter((answer) => answer.data?.acceptInvite)).toHaveLength(1);
    expect(answers.filter((answer) => errorCodes(answer)[0] === 'INVITE_CODE_USED')).toHaveLength(19);
    expect(await engagement.referrals.model.countDocuments({ code })).toBe(1);
  });

  it('are refused to a token whose member does not exist, storing nothing', async () => {
    const response = await graphql(hub.gatewayUrl, CREATE, {}, await as('M9990'));
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(await engagement.invitations.model.countDocuments({ inviterId: 'M9990' })).toBe(0);
    // Nor may such a token accept one: members is up and says there is nobody, which no retry changes.
    const code = await codeOf('M0009');
    const accepted = await graphql(hub.gatewayUrl, ACCEPT, { code }, await as('M9991'));
    expect(errorCodes(accepted)).toEqual(['FORBIDDEN']);
    expect(await engagement.referrals.model.countDocuments({ _id: 'M9991' })).toBe(0);
    expect(await engagement.invitations.findByCode(code)).toMatchObject({ inviteeId: null });
  });

  it('are at most 20 per member, also when 60 are created at once', async () => {
    const headers = await as('M0006');
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => graphql(hub.gatewayUrl, CREATE, {}, headers)),
    );
    expect(answers.filter((answer) => answer.data?.createInviteCode)).toHaveLength(20);
    expect(answers.flatMap(errorCodes)).toEqual(Array.from({ length: 40 }, () => 'FAILED_PRECONDITION'));
    expect(await engagement.invitations.model.countDocuments({ inviterId: 'M0006' })).toBe(20);
    expect(errorCodes(await graphql(hub.gatewayUrl, CREATE, {}, headers))).toEqual(['FAILED_PRECONDITION']);
  });

  it('never make two members refer each other, also when both accept the other’s code at once', async () => {
    const pairs = Array.from(
      { length: 10 },
      (_, i) => [newcomers[30 + 2 * i]!, newcomers[31 + 2 * i]!] as const,
    );
    const outcomes = await Promise.all(
      pairs.map(async ([a, b]) => {
        const [codeOfA, codeOfB] = [await codeOf(a), await codeOf(b)];
        const answers = await Promise.all([
          graphql(hub.gatewayUrl, ACCEPT, { code: codeOfB }, await as(a)),
          graphql(hub.gatewayUrl, ACCEPT, { code: codeOfA }, await as(b)),
        ]);
        // Exactly one of the two is referred, by the other; the other is told it would close a loop.
        return answers.map((answer) => answer.data?.acceptInvite?.state ?? errorCodes(answer).join()).sort();
      }),
    );
    expect(outcomes).toEqual(pairs.map(() => ['PENDING', 'REFERRAL_LOOP']));
    for (const [a, b] of pairs) {
      const stored = await engagement.referrals.findByInvitees([a, b]);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.inviterId).toBe(stored[0]!._id === a ? b : a);
    }
  });

  it('shows the inviter where each referral stands, reading referrals once however many codes were taken', async () => {
    const invitees = newcomers.slice(55, 58);
    const codes = [];
    for (const invitee of invitees) {
      const code = await codeOf('M0008');
      expect((await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee))).errors).toBeUndefined();
      codes.push(code);
    }
    const headers = await as('M0008');
    // The reward job's sweep for activated referrals runs every 250 ms here; it is not the request's read.
    const readsDuring = readCounter(
      hub.connections.engagement,
      (event) => (event.command.filter as { state?: unknown } | undefined)?.state === 'ACTIVATED',
    );
    let invitations: unknown;
    const reads = await readsDuring(async () => {
      const response = await graphql(
        hub.gatewayUrl,
        '{ viewer { invitations { code inviteeId referral { state } } } }',
        {},
        headers,
      );
      invitations = response.data?.viewer.invitations;
    });
    expect(invitations).toHaveLength(3);
    expect(invitations).toEqual(
      expect.arrayContaining(
        codes.map((code, i) => ({ code, inviteeId: invitees[i], referral: { state: 'PENDING' } })),
      ),
    );
    expect(reads).toMatchObject({ invitations: 1, referrals: 1 });
  });

  it('keeps invitations to the member and operators', async () => {
    const response = await graphql(
      hub.gatewayUrl,
      `
        {
          member(id: "M0002") {
            invitations {
              code
            }
          }
        }
      `,
      {},
      await as('M0003'),
    );
    expect(errorCodes(response)).toContain('FORBIDDEN');
  });
});

describe('activation', () => {
  it('rewards inviter and invitee once each when the invitee opens an account, even if they open two', async () => {
    const invitee = newcomers[29]!;
    const code = await codeOf('M0005');
    await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee));
    const [inviterBefore, inviteeBefore] = [await points('M0005'), await points(invitee)];
    await openAccount(hub.gatewayUrl, invitee, await as(invitee));
    await openAccount(hub.gatewayUrl, invitee, await as(invitee));
    for (let tries = 0; tries < 80; tries++) {
      const [referral] = await engagement.referrals.findByInvitees([invitee]);
      if (referral?.state === 'REWARDED') break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    const [referral] = await engagement.referrals.findByInvitees([invitee]);
    expect(referral).toMatchObject({ state: 'REWARDED' });
    expect(await points('M0005')).toBe(inviterBefore + 500);
    expect(await points(invitee)).toBe(inviteeBefore + 200);
    // Another pass of the consumer grants nothing more.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await points('M0005')).toBe(inviterBefore + 500);
  });

  it('never comes of an account opened before the invite was accepted, however late its event arrives', async () => {
    // The member opens an account, then at once accepts a code: products' record of the account reaches engagement
    // seconds later (relay 100 ms, feed two seconds behind), after the accept. The referral did not bring them in.
    const invitee = newcomers[53]!;
    const code = await codeOf('M0011');
    const [inviterBefore, inviteeBefore] = [await points('M0011'), await points(invitee)];
    await openAccount(hub.gatewayUrl, invitee, await as(invitee));
    const accepted = await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee));
    expect(accepted.data?.acceptInvite.state).toBe('PENDING');
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect((await engagement.referrals.findByInvitees([invitee]))[0]).toMatchObject({
      state: 'PENDING',
      activatedAt: null,
    });
    expect([await points('M0011'), await points(invitee)]).toEqual([inviterBefore, inviteeBefore]);
    // An account opened after the accept activates it.
    await openAccount(hub.gatewayUrl, invitee, await as(invitee));
    for (let tries = 0; tries < 80; tries++) {
      if ((await engagement.referrals.findByInvitees([invitee]))[0]?.state === 'REWARDED') break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect((await engagement.referrals.findByInvitees([invitee]))[0]).toMatchObject({ state: 'REWARDED' });
    expect([await points('M0011'), await points(invitee)]).toEqual([
      inviterBefore + 500,
      inviteeBefore + 200,
    ]);
  });

  it('never comes to an accept still under way, which a second accept of the same code ends', async () => {
    // An accept that recorded its referral and took the code, and stopped there (its process died, say): while an
    // accept checks, an account opened must not activate a referral it may still give back.
    const invitee = newcomers[52]!;
    const code = await codeOf('M0010');
    await engagement.referrals.record({
      _id: invitee,
      inviterId: 'M0010',
      code,
      state: 'ACCEPTING',
      acceptedAt: new Date(),
      activatedAt: null,
      rewardedAt: null,
    });
    expect(await engagement.invitations.take(code, invitee, new Date())).toBe(true);
    await openAccount(hub.gatewayUrl, invitee, await as(invitee));
    // The account's event reaches engagement within a second (relay 100 ms, feed 250 ms, two seconds behind).
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    expect((await engagement.referrals.findByInvitees([invitee]))[0]).toMatchObject({
      state: 'ACCEPTING',
      activatedAt: null,
    });

    const again = await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee));
    expect(again.errors).toBeUndefined();
    expect(again.data?.acceptInvite).toEqual({
      inviterId: 'M0010',
      inviteeId: invitee,
      code,
      state: 'PENDING',
    });
    expect((await engagement.referrals.findByInvitees([invitee]))[0]).toMatchObject({ state: 'PENDING' });
  });
});

describe('rewarding activated referrals', () => {
  it('records rewards refused for good and goes on, so they never hold up later referrals', async () => {
    const invitee = newcomers[50]!;
    const phantomInvitee = newcomers[51]!;
    const before = await points(phantomInvitee);
    // Older than any real referral: five whose inviter members does not know (one invitee real, four not either).
    const long = new Date(Date.now() - 3_600_000);
    await engagement.referrals.model.insertMany(
      Array.from({ length: FAILURES_PER_PASS }, (_, i) => ({
        _id: i === 0 ? phantomInvitee : `M98${i}0`,
        inviterId: `M97${i}0`,
        code: `PHANTOM${i}`,
        state: 'ACTIVATED',
        acceptedAt: long,
        activatedAt: long,
      })),
    );
    const code = await codeOf('M0007');
    await graphql(hub.gatewayUrl, ACCEPT, { code }, await as(invitee));
    const inviterBefore = await points('M0007');
    await openAccount(hub.gatewayUrl, invitee, await as(invitee));
    for (let tries = 0; tries < 60; tries++) {
      if ((await engagement.referrals.findByInvitees([invitee]))[0]?.state === 'REWARDED') break;
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    expect(await points('M0007')).toBe(inviterBefore + 500);
    // The real invitee of a phantom inviter still has their side.
    expect(await points(phantomInvitee)).toBe(before + 200);
    const phantoms = await engagement.referrals.findByInvitees([phantomInvitee, 'M9810']);
    expect(phantoms.map((referral) => [referral.state, referral.rewardRefusal?.code])).toEqual([
      ['ACTIVATED', 'NOT_FOUND'],
      ['ACTIVATED', 'NOT_FOUND'],
    ]);
  });

  it('puts off a referral whose grant failed, and tries the others first', async () => {
    const connection = await testDatabase('referral-backoff');
    try {
      const repos = await openEngagement(connection);
      const now = new Date();
      await repos.referrals.model.insertMany(
        Array.from({ length: 8 }, (_, i) => ({
          _id: `M${3100 + i}`,
          inviterId: 'M0001',
          code: `CODE${i}`,
          state: 'ACTIVATED',
          acceptedAt: now,
          activatedAt: new Date(now.getTime() - 1_000 * (10 - i)),
        })),
      );
      const asked: string[] = [];
      // The five oldest invitees' grants fail (members times out on them); the other three succeed.
      const granter: RewardGranter = {
        async grant(reward) {
          asked.push(reward.idempotencyKey);
          if (reward.idempotencyKey < 'referral:M3105')
            throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members timed out');
          return { pointsEntryId: 'PE-1', claim: null };
        },
      };
      await rewardReferrals({ repos, granter, logger: testLogger }, now);
      await rewardReferrals({ repos, granter, logger: testLogger }, now);
      expect(await repos.referrals.model.countDocuments({ state: 'REWARDED' })).toBe(3);
      // Oldest first; the second pass asks none of the five again.
      expect(asked.slice(0, 5)).toEqual([0, 1, 2, 3, 4].map((i) => `referral:M310${i}:inviter`));
      expect(asked.slice(5)).not.toContain('referral:M3100:inviter');
      // Not before its backoff has passed.
      const retried = await repos.referrals.awaitingRewards(new Date(now.getTime() + 5_000));
      expect(retried.map((referral) => referral._id)).toEqual(['M3100', 'M3101', 'M3102', 'M3103', 'M3104']);
      expect(await repos.referrals.awaitingRewards(now)).toEqual([]);
    } finally {
      await dropAndClose(connection);
    }
  });

  it('stops a pass after a few failed grants, leaving the rest to the next one', async () => {
    const connection = await testDatabase('referral-rewards');
    try {
      const repos = await openEngagement(connection);
      const now = new Date();
      await repos.referrals.model.insertMany(
        Array.from({ length: 20 }, (_, i) => ({
          _id: `M${3000 + i}`,
          inviterId: 'M0001',
          code: `CODE${i}`,
          state: 'ACTIVATED',
          acceptedAt: now,
        })),
      );
      let asked = 0;
      // Members is down: every grant fails alike, so a pass that tried all 20 would only wait on each in turn.
      const granter: RewardGranter = {
        async grant() {
          asked += 1;
          throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'members is down');
        },
      };
      await rewardReferrals({ repos, granter, logger: testLogger }, now);
      expect(asked).toBe(FAILURES_PER_PASS);
      expect(await repos.referrals.model.countDocuments({ state: 'ACTIVATED' })).toBe(20);
    } finally {
      await dropAndClose(connection);
    }
  });
});
