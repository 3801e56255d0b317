// Claiming benefits through the gateway: never oversold under 1,000 concurrent claims, one claim per idempotency key
// under 200 concurrent repeats, limits and audiences that hold, refusals with stable codes that store no claim, claims
// used exactly once, members who see only their own claims, and page through all of them.
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type EngagementRepositories } from '../subgraphs/engagement/src/models';
import engagementDescriptor from '../subgraphs/engagement/src/descriptor';
import {
  argumentsHash,
  claimIdOf,
  claimRequestId,
} from '../subgraphs/engagement/src/benefits/domain/claiming';
import { BankCalendar } from '@bank-hub/shared';
import { insertBenefits, publishedBenefit } from './support/benefits';
import {
  bearer,
  clientToken,
  errorCodes,
  graphql,
  testConfig,
  type GraphQLResponse,
  callerOf,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { queriesDuring, servingIndex } from './support/indexes';
import { storedState } from './support/stored';
import { startSubgraph } from './support/subgraph';

let hub: RunningHub;
let repos: EngagementRepositories;
let operator: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

/**
 * Every claim of a rush in flight at engagement at once (not 64 at a time, the gateway's default pool), each answered
 * however long the rush takes on a shared machine: the test is about what is stored, never about speed.
 */
const RUSH = { SUBGRAPH_CONNECTIONS: 1_024, SUBGRAPH_TIMEOUT_MS: 60_000 };

beforeAll(async () => {
  hub = await startTestHub('claims', { config: RUSH });
  repos = await openRepositories(hub.connections.engagement);
  operator = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
});

afterAll(() => stopTestHub(hub));

const memberId = (n: number) => `M${String(n).padStart(4, '0')}`;
const memberToken = (id: string) => clientToken(id, 'member');

const CLAIM = `mutation ($benefitId: ID!, $key: String!) {
  claimBenefit(benefitId: $benefitId, idempotencyKey: $key) { id memberId state source benefit { id title } }
}`;
const claimAs = async (member: string, benefitId: string, key: string) =>
  graphql(hub.gatewayUrl, CLAIM, { benefitId, key }, bearer(await memberToken(member)));

async function remaining(benefitId: string): Promise<number> {
  const [benefit] = await repos.benefits.findByIds([benefitId]);
  return benefit!.remaining;
}

/** What a refusal must leave as it was: everything stored, but the record of the refused key's answer. */
async function storedButRequests() {
  const state = await storedState(hub.connections);
  delete state['engagement.claim_requests'];
  return state;
}

describe('claimBenefit under contention', () => {
  it('gives 100 claims and 900 clear refusals to 1,000 members claiming the last 100 items at once', async () => {
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-RUSH', { stock: 100 })]);
    const tokens = await Promise.all(Array.from({ length: 1_000 }, (_, i) => memberToken(memberId(201 + i))));
    const claim = (i: number) =>
      graphql(hub.gatewayUrl, CLAIM, { benefitId: 'B-RUSH', key: `rush-${i}-key` }, bearer(tokens[i]!));
    const responses = await Promise.all(tokens.map((_token, i) => claim(i)));
    // On a loaded machine a claim can outlast its request's deadline (every claim of the rush queues for the same two
    // cores): it answers SERVICE_UNAVAILABLE (or CONFLICT while its first try still runs), and its member sends it
    // again with the same key, as a channel does, until the answer is final.
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const unfinished = responses.flatMap((response, i) =>
        errorCodes(response).some((code) => code === 'SERVICE_UNAVAILABLE' || code === 'CONFLICT') ? [i] : [],
      );
      if (unfinished.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const retried = await Promise.all(unfinished.map(claim));
      unfinished.forEach((i, n) => (responses[i] = retried[n]!));
    }
    const claimed = responses.filter((response) => response.data?.claimBenefit);
    const refused = responses.filter((response) => !response.data?.claimBenefit);
    expect(claimed).toHaveLength(100);
    expect(refused).toHaveLength(900);
    expect(new Set(refused.flatMap(errorCodes))).toEqual(new Set(['OUT_OF_STOCK']));
    expect(refused.every((response) => response.errors?.length === 1)).toBe(true);
    expect(new Set(claimed.map((response) => response.data?.claimBenefit.memberId)).size).toBe(100);
    expect(await remaining('B-RUSH')).toBe(0);
    expect(await repos.claims.model.countDocuments({ benefitId: 'B-RUSH' })).toBe(100);
    // The refused claims left no counters behind.
    expect(await repos.claimCounters.model.countDocuments({ _id: /^M\|B-RUSH\|/ })).toBe(100);
    // What is stored is the point, not how fast: a loaded machine takes minutes over the rush.
  }, 300_000);

  it('makes one claim of 200 concurrent claims with one key, and answers all 200 with it', async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-REPEAT', { stock: 1_000, perMemberLimit: 100 }),
    ]);
    const token = await memberToken('M0101');
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        graphql(hub.gatewayUrl, CLAIM, { benefitId: 'B-REPEAT', key: 'one-key-for-all' }, bearer(token)),
      ),
    );
    expect(responses.flatMap(errorCodes)).toEqual([]);
    expect(new Set(responses.map((response) => response.data?.claimBenefit.id)).size).toBe(1);
    expect(await repos.claims.model.countDocuments({ benefitId: 'B-REPEAT' })).toBe(1);
    expect(await remaining('B-REPEAT')).toBe(999);
  });

  it('never lets one member past the per-member limit, also with concurrent claims under different keys', async () => {
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-TWICE', { perMemberLimit: 2 })]);
    const token = await memberToken('M0102');
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        graphql(hub.gatewayUrl, CLAIM, { benefitId: 'B-TWICE', key: `twice-key-${i}` }, bearer(token)),
      ),
    );
    expect(responses.filter((response) => response.data?.claimBenefit)).toHaveLength(2);
    expect(new Set(responses.flatMap(errorCodes))).toEqual(new Set(['CLAIM_LIMIT_REACHED']));
    expect(await remaining('B-TWICE')).toBe(998);
  });

  it('never lets a day past the per-day limit', async () => {
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-DAILY', { perDayLimit: 3 })]);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => claimAs(memberId(150 + i), 'B-DAILY', 'daily-key-1')),
    );
    expect(responses.filter((response) => response.data?.claimBenefit)).toHaveLength(3);
    expect(new Set(responses.flatMap(errorCodes))).toEqual(new Set(['DAILY_LIMIT_REACHED']));
  });
});

describe('claimBenefit', () => {
  beforeAll(() =>
    insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-ONCE'),
      publishedBenefit('B-SOLD-OUT', { stock: 5, remaining: 0 }),
      publishedBenefit('B-ENDED', { endsAt: new Date('2025-06-01T00:00:00Z') }),
      publishedBenefit('B-LATER', { startsAt: new Date('2029-01-01T00:00:00Z') }),
      publishedBenefit('B-UNPUBLISHED', { status: 'DRAFT', approvedBy: null }),
      publishedBenefit('B-WEALTHY', { rule: { field: 'segment', op: 'eq', value: 'WEALTH_CLIENTS' } }),
      publishedBenefit('B-DIAMONDS', { levelCodes: ['DIAMOND'] }),
      publishedBenefit('B-SHOP', { kind: 'POINTS_PRODUCT', pointsCost: 10 }),
    ]),
  );

  it('claims the seeded welcome coupon and shows it among the member’s claims', async () => {
    const claimed = await claimAs('M0001', 'B-WELCOME-50', 'welcome-M0001');
    expect(claimed.errors).toBeUndefined();
    expect(claimed.data?.claimBenefit).toMatchObject({
      memberId: 'M0001',
      state: 'CLAIMED',
      source: 'CLAIM',
      benefit: { id: 'B-WELCOME-50' },
    });
    const mine = await (
      await callerOf(hub.gatewayUrl, 'M0001', 'member')
    )('{ viewer { claims { id state expiresAt benefit { title kind value } } } }');
    expect(mine.data?.viewer.claims).toContainEqual(
      expect.objectContaining({ id: claimed.data?.claimBenefit.id, state: 'CLAIMED' }),
    );
  });

  it('offers a benefit with an audience to those in it only', async () => {
    // M0002 is a wealth client at DIAMOND level; M0001 is neither.
    expect((await claimAs('M0002', 'B-WEALTHY', 'audience-key-1')).data?.claimBenefit).toBeTruthy();
    expect((await claimAs('M0002', 'B-DIAMONDS', 'audience-key-2')).data?.claimBenefit).toBeTruthy();
    const before = await storedButRequests();
    expect(errorCodes(await claimAs('M0001', 'B-WEALTHY', 'audience-key-1'))).toEqual(['NOT_IN_AUDIENCE']);
    expect(errorCodes(await claimAs('M0001', 'B-DIAMONDS', 'audience-key-2'))).toEqual(['NOT_IN_AUDIENCE']);
    expect(await storedButRequests()).toEqual(before);
  });

  it('refuses with a stable code and stores no claim, and repeats the refusal for a repeated key', async () => {
    expect((await claimAs('M0003', 'B-ONCE', 'first-claim-M0003')).data?.claimBenefit).toBeTruthy();
    const before = await storedButRequests();
    const cases: [string, string, string, string][] = [
      ['B-SOLD-OUT', 'sold-out-key', 'OUT_OF_STOCK', 'extensions'],
      ['B-ENDED', 'ended-key-1', 'BENEFIT_NOT_AVAILABLE', 'extensions'],
      ['B-LATER', 'later-key-1', 'BENEFIT_NOT_AVAILABLE', 'extensions'],
      ['B-UNPUBLISHED', 'draft-key-1', 'BENEFIT_NOT_AVAILABLE', 'extensions'],
      ['B-ONCE', 'second-claim-M0003', 'CLAIM_LIMIT_REACHED', 'extensions'],
      ['B-WELCOME-50', 'first-claim-M0003', 'IDEMPOTENCY_KEY_REUSED', 'idempotencyKey'],
      ['B-NOPE', 'unknown-key-1', 'NOT_FOUND', 'extensions'],
      ['B-SHOP', 'shop-key-01', 'BAD_USER_INPUT', 'benefitId'],
      ['B ONCE', 'bad-id-key-1', 'BAD_USER_INPUT', 'benefitId'],
      ['B-ONCE', 'short', 'BAD_USER_INPUT', 'idempotencyKey'],
      ['B-ONCE', 'k'.repeat(65), 'BAD_USER_INPUT', 'idempotencyKey'],
    ];
    for (const [benefitId, key, code, field] of cases) {
      for (const attempt of [1, 2]) {
        const response = await claimAs('M0003', benefitId, key);
        expect({ benefitId, attempt, codes: errorCodes(response) }).toEqual({
          benefitId,
          attempt,
          codes: [code],
        });
        if (field !== 'extensions') expect(response.errors?.[0]?.extensions?.field).toBe(field);
      }
    }
    expect(await storedButRequests()).toEqual(before);
  });

  it('needs a member token', async () => {
    const anonymous = await graphql(hub.gatewayUrl, CLAIM, { benefitId: 'B-ONCE', key: 'anonymous-key' });
    expect(errorCodes(anonymous)).toEqual(['UNAUTHENTICATED']);
    // An operator's token is a good token, but not a member's.
    expect(errorCodes(await operator(CLAIM, { benefitId: 'B-ONCE', key: 'operator-key' }))).toEqual([
      'FORBIDDEN',
    ]);
  });

  it('gives nothing to a token whose member members does not know, not even without an audience', async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-NOBODY', { stock: 5, perMemberLimit: 5 }),
    ]);
    // What the known members' claims below change is checked on its own; everything else must stay as it was.
    const elsewhere = async () => {
      const state = await storedState(hub.connections);
      for (const collection of [
        'benefits',
        'claims',
        'claim_counters',
        'claim_reservations',
        'claim_requests',
      ])
        delete state[`engagement.${collection}`];
      return state;
    };
    const before = await elsewhere();
    // Strangers and known members claiming in the same moment, asked of members together: each gets their own answer.
    const strangers = ['M9990', 'M9991', 'M9990', 'nobody_at_all'];
    const [refused, known] = await Promise.all([
      Promise.all(strangers.map((member, i) => claimAs(member, 'B-NOBODY', `nobody-key-${i}`))),
      Promise.all(['M0003', 'M0005'].map((member) => claimAs(member, 'B-NOBODY', `known-key-${member}`))),
    ]);
    for (const response of refused) expect(errorCodes(response)).toEqual(['FORBIDDEN']);
    expect(known.flatMap(errorCodes)).toEqual([]);
    expect(await remaining('B-NOBODY')).toBe(3);
    expect(await repos.claims.model.countDocuments({ benefitId: 'B-NOBODY' })).toBe(2);
    // Nothing stored for the strangers: no counter, no answer kept for their keys.
    expect(await repos.claimCounters.model.countDocuments({ _id: /M999|nobody_at_all/ })).toBe(0);
    expect(await repos.claimReservations.model.countDocuments({ _id: /M999|nobody_at_all/ })).toBe(0);
    expect(await repos.claimRequests.model.countDocuments({ _id: /nobody-key/ })).toBe(0);
    expect(await elsewhere()).toEqual(before);
  });

  it('asks members who the claimants are once, and not again for a member it knows', async () => {
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-KNOWN', { stock: 100, perMemberLimit: 2 }),
    ]);
    const claimants = Array.from({ length: 20 }, (_, i) => memberId(170 + i));
    const membersAsked = () => hub.gatewaySubgraphs.get('members')!.counts.sent;
    const first = await Promise.all(
      claimants.map((member) => claimAs(member, 'B-KNOWN', `known-1-${member}`)),
    );
    expect(first.flatMap(errorCodes)).toEqual([]);
    const asked = membersAsked();
    const second = await Promise.all(
      claimants.map((member) => claimAs(member, 'B-KNOWN', `known-2-${member}`)),
    );
    expect(second.flatMap(errorCodes)).toEqual([]);
    expect(membersAsked()).toBe(asked);
    expect(await remaining('B-KNOWN')).toBe(60);
  });

  it('stores nothing and says SERVICE_UNAVAILABLE when members cannot say who is claiming', async () => {
    const before = await storedState(hub.connections);
    await hub.stopSubgraph('members');
    try {
      const response = await claimAs('M0001', 'B-WEALTHY', 'members-down-1');
      expect(errorCodes(response)).toEqual(['SERVICE_UNAVAILABLE']);
      expect(response.errors?.[0]?.extensions?.serviceName).toBe('members');
    } finally {
      await hub.restartSubgraph('members');
    }
    expect(await storedState(hub.connections)).toEqual(before);
    // Nothing was answered, so the same key may claim once members is back.
    expect(errorCodes(await claimAs('M0001', 'B-WEALTHY', 'members-down-1'))).toEqual(['NOT_IN_AUDIENCE']);
  });
});

describe('a claim', () => {
  const USE = `mutation ($claimId: ID!) { useClaim(claimId: $claimId) { id state usedAt } }`;
  const REVOKE = `mutation ($claimId: ID!, $reason: String!) { revokeClaim(claimId: $claimId, reason: $reason) { id state } }`;

  beforeAll(() =>
    insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-USE', { perMemberLimit: 5, validDays: 7 }),
    ]),
  );

  async function claimOf(member: string, key: string): Promise<string> {
    const response = await claimAs(member, 'B-USE', key);
    expect(response.errors).toBeUndefined();
    return response.data?.claimBenefit.id;
  }

  it('is used exactly once, also when used twice at the same time', async () => {
    const claimId = await claimOf('M0005', 'use-me-once');
    const member = await callerOf(hub.gatewayUrl, 'M0005', 'member');
    const [first, second] = await Promise.all([member(USE, { claimId }), member(USE, { claimId })]);
    const answers = [first!, second!];
    expect(answers.filter((response) => response.data?.useClaim?.state === 'USED')).toHaveLength(1);
    const refused = answers.find((response) => response.errors)!;
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FAILED_PRECONDITION', state: 'USED' });
  });

  it('expires unused after its valid days, and an expired claim cannot be used', async () => {
    const claimId = await claimOf('M0005', 'let-me-expire');
    await repos.claims.model.updateOne(
      { _id: claimId },
      { $set: { expiresAt: new Date(Date.now() - 1_000) } },
    );
    const member = await callerOf(hub.gatewayUrl, 'M0005', 'member');
    const expired = await member('{ viewer { claims(state: EXPIRED) { id state } } }');
    expect(expired.data?.viewer.claims).toEqual([{ id: claimId, state: 'EXPIRED' }]);
    expect((await member(USE, { claimId })).errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      state: 'EXPIRED',
    });
  });

  it('cannot be revoked once expired, and stays as it was', async () => {
    const claimId = await claimOf('M0005', 'expire-then-revoke');
    await repos.claims.model.updateOne(
      { _id: claimId },
      { $set: { expiresAt: new Date(Date.now() - 1_000) } },
    );
    const [before] = await repos.claims.findByIds([claimId]);
    expect((await operator(REVOKE, { claimId, reason: 'too late' })).errors?.[0]?.extensions).toMatchObject({
      code: 'FAILED_PRECONDITION',
      state: 'EXPIRED',
    });
    expect(await repos.claims.findByIds([claimId])).toEqual([before]);
  });

  it('is NOT_FOUND for an id that is no claim, naming at most 64 characters of it', async () => {
    const claimId = `CL-${'x'.repeat(100_000)}`;
    for (const response of [
      await (await callerOf(hub.gatewayUrl, 'M0005', 'member'))(USE, { claimId }),
      await operator(REVOKE, { claimId, reason: 'no such claim' }),
    ]) {
      const [error] = response.errors ?? [];
      expect(error?.extensions).toMatchObject({ code: 'NOT_FOUND', id: claimId.slice(0, 64) });
      expect(error!.message.length).toBeLessThan(200);
    }
  });

  it('is revoked by an operator with a reason, audited, and cannot be used after', async () => {
    const claimId = await claimOf('M0006', 'revoke-me-please');
    const member = await callerOf(hub.gatewayUrl, 'M0006', 'member');
    expect(errorCodes(await member(REVOKE, { claimId, reason: 'fraud' }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await operator(REVOKE, { claimId, reason: ' ' }))).toEqual(['BAD_USER_INPUT']);
    const revoked = await operator(REVOKE, { claimId, reason: 'claimed with a stolen account' });
    expect(revoked.data?.revokeClaim).toEqual({ id: claimId, state: 'REVOKED' });
    expect(errorCodes(await member(USE, { claimId }))).toEqual(['FAILED_PRECONDITION']);
    const records = await hub.connections.engagement
      .collection('audit_log')
      .find({ targetType: 'CLAIM', targetId: claimId })
      .toArray();
    expect(records).toEqual([
      expect.objectContaining({ actor: 'ops.alice', action: 'revokeClaim', requestId: expect.any(String) }),
    ]);
  });

  it('belongs to its member: another member can neither use it nor see it, whatever id they name', async () => {
    const claimId = await claimOf('M0007', 'mine-not-yours');
    const usedId = await claimOf('M0007', 'mine-and-used');
    const owner = await callerOf(hub.gatewayUrl, 'M0007', 'member');
    expect((await owner(USE, { claimId: usedId })).errors).toBeUndefined();
    const [before] = await repos.claims.findByIds([claimId]);
    const other = await callerOf(hub.gatewayUrl, 'M0008', 'member');
    // Another member's claim, usable or used, answers exactly as an id that is no claim: ids tell nothing.
    const noClaim = `CL-${'0'.repeat(32)}`;
    const refusal = async (id: string) => {
      const [error] = (await other(USE, { claimId: id })).errors ?? [];
      const named = error?.extensions?.id === id ? '<id>' : error?.extensions?.id;
      return { message: error?.message.replace(id, '<id>'), extensions: { ...error?.extensions, id: named } };
    };
    const expected = await refusal(noClaim);
    expect(expected.extensions).toMatchObject({ code: 'NOT_FOUND' });
    expect(await refusal(claimId)).toEqual(expected);
    expect(await refusal(usedId)).toEqual(expected);
    expect(await repos.claims.findByIds([claimId])).toEqual([before]);
    expect(errorCodes(await other('{ member(id: "M0007") { claims { id } } }'))).toEqual(['FORBIDDEN']);
    const operatorView = await operator('{ member(id: "M0007") { claims { id memberId } } }');
    expect(operatorView.data?.member.claims).toEqual([
      { id: usedId, memberId: 'M0007' },
      { id: claimId, memberId: 'M0007' },
    ]);
    // An operator (at the till) uses any member's claim.
    expect((await operator(USE, { claimId })).data?.useClaim).toMatchObject({ id: claimId, state: 'USED' });
  });
});

describe("a member's claims page by page", () => {
  const PAGE = `query ($state: ClaimState, $first: Int, $after: String) {
    viewer { claimsConnection(state: $state, first: $first, after: $after) {
      edges { cursor node { id state } } pageInfo { hasNextPage endCursor }
    } }
  }`;
  const OPERATOR_PAGE = `query ($first: Int, $after: String) {
    member(id: "M0010") { claimsConnection(first: $first, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor }
    } }
  }`;
  // 130 claims over 65 instants, two at each: more than the 100 the list can show, and ties that only the id orders.
  const at = (i: number) => new Date(Date.UTC(2025, 0, 1) + Math.floor(i / 2) * 60_000);
  const claims = Array.from({ length: 130 }, (_, i) => ({
    _id: `CL-PAGES-${String(i).padStart(3, '0')}`,
    benefitId: 'B-PAGES',
    memberId: 'M0010',
    source: 'CLAIM' as const,
    state: i % 3 === 0 ? ('USED' as const) : ('CLAIMED' as const),
    claimedAt: at(i),
    expiresAt: new Date('2999-01-01T00:00:00Z'),
    usedAt: i % 3 === 0 ? at(i) : null,
    revokedAt: null,
    revokedBy: null,
    revokeReason: null,
  }));
  // Newest first, ties newest id first.
  const newestFirst = claims.map((claim) => claim._id).reverse();
  let member: (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

  beforeAll(async () => {
    await repos.claims.model.insertMany(claims);
    member = await callerOf(hub.gatewayUrl, 'M0010', 'member');
  });

  /** Every id `fetchPage` hands out, following endCursor until hasNextPage is false; and how many pages it took. */
  async function walk(fetchPage: (after: string | null) => Promise<GraphQLResponse>, field: string) {
    const ids: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const response = await fetchPage(after);
      expect(response.errors).toBeUndefined();
      const connection = response.data?.[field].claimsConnection;
      ids.push(...connection.edges.map((edge: { node: { id: string } }) => edge.node.id));
      pages += 1;
      if (!connection.pageInfo.hasNextPage) return { ids, pages };
      after = connection.pageInfo.endCursor;
      expect(pages).toBeLessThan(20);
    }
  }

  it('hands the member every claim once, newest first, past the 100 the list shows', async () => {
    expect((await member('{ viewer { claims(first: 100) { id } } }')).data?.viewer.claims).toHaveLength(100);
    const all = await walk((after) => member(PAGE, { after }), 'viewer');
    expect(all).toEqual({ ids: newestFirst, pages: 7 });
    const byHundred = await walk((after) => member(PAGE, { first: 100, after }), 'viewer');
    expect(byHundred).toEqual({ ids: newestFirst, pages: 2 });
    // The list is the connection's first page.
    const list = await member('{ viewer { claims { id } } }');
    expect(list.data?.viewer.claims.map((claim: { id: string }) => claim.id)).toEqual(
      newestFirst.slice(0, 20),
    );
  });

  it('pages through one state, each edge with its own cursor to go on from', async () => {
    const used = await walk((after) => member(PAGE, { state: 'USED', first: 7, after }), 'viewer');
    const expected = claims
      .filter((claim) => claim.state === 'USED')
      .map((claim) => claim._id)
      .reverse();
    expect(used).toEqual({ ids: expected, pages: Math.ceil(expected.length / 7) });
    const first = await member(PAGE, { first: 3 });
    const second = first.data?.viewer.claimsConnection.edges[1];
    const fromSecond = await member(PAGE, { first: 2, after: second.cursor });
    expect(
      fromSecond.data?.viewer.claimsConnection.edges.map((edge: { node: { id: string } }) => edge.node.id),
    ).toEqual(newestFirst.slice(2, 4));
  });

  it('lets an operator page through a member, and nobody else; a guest has none', async () => {
    expect(await walk((after) => operator(OPERATOR_PAGE, { first: 50, after }), 'member')).toEqual({
      ids: newestFirst,
      pages: 3,
    });
    const other = await callerOf(hub.gatewayUrl, 'M0008', 'member');
    expect(errorCodes(await other(OPERATOR_PAGE, { first: 5 }))).toEqual(['FORBIDDEN']);
    const guest = await graphql(
      hub.gatewayUrl,
      '{ member(id: "M0010") { claimsConnection { edges { cursor } } } }',
    );
    expect(errorCodes(guest)).toEqual(['UNAUTHENTICATED']);
    const device = await graphql(hub.gatewayUrl, PAGE, {}, { 'x-device-id': 'device-claims-01' });
    expect(device.errors).toBeUndefined();
    expect(device.data?.viewer.claimsConnection).toEqual({
      edges: [],
      pageInfo: { hasNextPage: false, endCursor: null },
    });
  });

  it('reads each page through an index that gives the claims in order, ties included', async () => {
    const [tie] = claims.slice(-1);
    const reads = await queriesDuring(hub.connections.engagement, async () => {
      await repos.claims.ofMember('M0010', null, new Date(), 21, null);
      await repos.claims.ofMember('M0010', null, new Date(), 21, { at: tie!.claimedAt, id: tie!._id });
    });
    const indexes = await repos.claims.model.collection.indexes();
    expect(reads.map((read) => servingIndex(indexes, read))).toEqual([
      'memberId_1_claimedAt_-1__id_-1',
      'memberId_1_claimedAt_-1__id_-1',
    ]);
  });

  it('refuses a page size out of 1 to 100 and a cursor it did not hand out, with BAD_USER_INPUT', async () => {
    for (const first of [0, -1, 101, 1_000_000])
      expect(errorCodes(await member(PAGE, { first }))).toEqual(['BAD_USER_INPUT']);
    const first = await member(PAGE, { first: 1 });
    const cursor: string = first.data?.viewer.claimsConnection.pageInfo.endCursor;
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
    const tampered = [
      'not-a-cursor',
      `${cursor}A`,
      cursor.slice(0, -1),
      encode(['not a time', 'CL-PAGES-001']),
      encode(['2025-01-01T00:00:00.000Z']),
      encode(['2025-01-01T00:00:00.000Z', 42]),
      encode({ at: '2025-01-01T00:00:00.000Z', id: 'CL-PAGES-001' }),
      Buffer.from('1735689600000|CL-PAGES-001', 'utf8').toString('base64url'),
    ];
    for (const after of tampered) {
      const response = await member(PAGE, { after });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors?.[0]?.message).toContain('after');
    }
    // A cursor names a place in time, not a member's claim: another member gets their own claims after it, if any.
    const other = await callerOf(hub.gatewayUrl, 'M0008', 'member');
    const elsewhere = await other(PAGE, { after: cursor });
    expect(elsewhere.errors).toBeUndefined();
    expect(JSON.stringify(elsewhere.data)).not.toContain('CL-PAGES');
  });
});

describe('a claim whose writer died halfway', () => {
  const requestId = claimRequestId('M0009', 'CLAIM', 'crash-key-0001');
  const claimId = claimIdOf(requestId);

  beforeAll(async () => {
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-CRASH', { stock: 10 })]);
    // The dead writer recorded the request, counted the member and took an item of stock, then stopped.
    await repos.claimRequests.model.create({
      _id: requestId,
      memberId: 'M0009',
      source: 'CLAIM',
      argumentsHash: argumentsHash({ benefitId: 'B-CRASH' }),
      claimId,
      pointsCost: 0,
      createdAt: new Date(),
      holder: 'dead-writer',
      leaseUntil: new Date(Date.now() - 1_000),
      outcome: null,
    });
    await repos.claimCounters.reserve('M|B-CRASH|M0009', 1, claimId);
    await repos.benefits.takeStock('B-CRASH', claimId);
  });

  it('is finished by a retry of its key, which takes no second item and counts the member once', async () => {
    const retried = await claimAs('M0009', 'B-CRASH', 'crash-key-0001');
    expect(retried.data?.claimBenefit.id).toBe(claimId);
    expect(await remaining('B-CRASH')).toBe(9);
    expect(await repos.claimCounters.find('M|B-CRASH|M0009')).toMatchObject({ count: 1, claims: [] });
    expect(await repos.claims.model.countDocuments({ benefitId: 'B-CRASH' })).toBe(1);
  });

  it('leaves a writer that wakes up after the retry nothing to change', async () => {
    expect(await repos.claimCounters.reserve('M|B-CRASH|M0009', 1, claimId)).toBe(true);
    expect(await repos.benefits.takeStock('B-CRASH', claimId)).toBe(true);
    expect(await repos.claimRequests.answer(requestId, 'dead-writer', { claimId, refusal: null })).toBeNull();
    expect(await remaining('B-CRASH')).toBe(9);
    expect(await repos.claimCounters.find('M|B-CRASH|M0009')).toMatchObject({ count: 1 });
  });
});

describe('claims whose writers died, retried after 1,000 other claims of the benefit', () => {
  const BENEFIT = 'B-LATE';
  const died = (member: string) => {
    const requestId = claimRequestId(member, 'CLAIM', 'late-retry-key');
    return { requestId, claimId: claimIdOf(requestId) };
  };
  // Took its item and stored its claim; took its item; counted the member and the day only. None answered.
  const [stored, tookItem, countedOnly] = ['M0011', 'M0012', 'M0013'];
  const today = () => `D|${BENEFIT}|${new BankCalendar(testConfig.BANK_TIME_ZONE).dayOf(new Date())}`;

  beforeAll(async () => {
    // 1,002 items: the two dead writers' that took one and 1,000 others', all taken before the retries come.
    await insertBenefits(hub.connections.engagement, [
      publishedBenefit(BENEFIT, { stock: 1_002, perDayLimit: 10_000_000 }),
    ]);
    for (const member of [stored, tookItem, countedOnly]) {
      const { requestId, claimId } = died(member);
      await repos.claimRequests.model.create({
        _id: requestId,
        memberId: member,
        source: 'CLAIM',
        argumentsHash: argumentsHash({ benefitId: BENEFIT }),
        benefitId: BENEFIT,
        claimId,
        pointsCost: 0,
        createdAt: new Date(),
        holder: 'dead-writer',
        leaseUntil: new Date(Date.now() - 1_000),
        outcome: null,
      });
      expect(await repos.claimCounters.reserve(`M|${BENEFIT}|${member}`, 1, claimId)).toBe(true);
      expect(await repos.claimCounters.reserve(today(), 10_000_000, claimId)).toBe(true);
      if (member !== countedOnly) expect(await repos.benefits.takeStock(BENEFIT, claimId)).toBe(true);
    }
    const claimDoc = await repos.claims.model.create({
      _id: died(stored).claimId,
      benefitId: BENEFIT,
      memberId: stored,
      source: 'CLAIM',
      state: 'CLAIMED',
      claimedAt: new Date(),
      expiresAt: new Date(Date.now() + 86_400_000),
      pointsPaid: 0,
    });
    expect(claimDoc._id).toBe(died(stored).claimId);
    // 1,000 members claim the rest, 100 at a time.
    for (let from = 0; from < 1_000; from += 100) {
      const responses = await Promise.all(
        Array.from({ length: 100 }, (_, i) => claimAs(memberId(201 + from + i), BENEFIT, 'late-others-key')),
      );
      expect(responses.filter((response) => response.data?.claimBenefit)).toHaveLength(100);
    }
    expect(await remaining(BENEFIT)).toBe(0);
  }, 180_000);

  it('finishes the ones that hold an item without taking another, refuses the other, and counts each once', async () => {
    const [first, second, third] = await Promise.all(
      [stored, tookItem, countedOnly].map((member) => claimAs(member, BENEFIT, 'late-retry-key')),
    );
    expect(first!.data?.claimBenefit.id).toBe(died(stored).claimId);
    expect(second!.data?.claimBenefit.id).toBe(died(tookItem).claimId);
    // It never took an item, and the 1,000 took the rest.
    expect(errorCodes(third!)).toEqual(['OUT_OF_STOCK']);
    expect(await remaining(BENEFIT)).toBe(0);
    expect(await repos.claims.model.countDocuments({ benefitId: BENEFIT })).toBe(1_002);
    // The day counts exactly the claims made; the refused one's member count went back.
    expect(await repos.claimCounters.find(today())).toMatchObject({
      count: 1_002,
      claims: [],
      releasing: [],
    });
    expect(await repos.claimCounters.find(`M|${BENEFIT}|${stored}`)).toMatchObject({ count: 1 });
    expect(await repos.claimCounters.find(`M|${BENEFIT}|${countedOnly}`)).toBeNull();
    // Nothing grows with the claims on the contended documents: ids stay there only while a claim is in flight.
    const [benefit] = await repos.benefits.findByIds([BENEFIT]);
    expect(benefit!.recentClaims).toEqual([]);
  });
});

describe('a claim counter, whose writer may die between its two writes', () => {
  const counterId = 'D|B-COUNTER|2026-01-01';
  const counter = () => repos.claimCounters.find(counterId);
  const held = (claimId: string) => repos.claimReservations.holds(counterId, claimId);
  /** What a writer that died right after changing the counter left: the change, and the claim's id with it. */
  const diedAfterCounting = (claimId: string) =>
    repos.claimCounters.model.updateOne(
      { _id: counterId },
      { $inc: { count: 1 }, $push: { claims: claimId } },
      { upsert: true },
    );

  beforeEach(async () => {
    await repos.claimCounters.model.deleteOne({ _id: counterId });
    await repos.claimReservations.model.deleteMany({ _id: { $gt: `${counterId}|`, $lt: `${counterId}}` } });
  });

  it('counts a claim counted but not recorded once, when its retry reserves or releases it', async () => {
    await repos.claimCounters.reserve(counterId, 10, 'CL-other');
    await diedAfterCounting('CL-a');
    expect(await repos.claimCounters.reserve(counterId, 2, 'CL-a')).toBe(true);
    expect(await counter()).toMatchObject({ count: 2, claims: [] });
    expect(await held('CL-a')).toBe(true);
    await diedAfterCounting('CL-b');
    await repos.claimCounters.release(counterId, 'CL-b');
    expect(await counter()).toMatchObject({ count: 2, claims: [] });
  });

  it('finishes a release whose writer died after giving the count back, giving it back once', async () => {
    await repos.claimCounters.reserve(counterId, 10, 'CL-other');
    await repos.claimCounters.reserve(counterId, 10, 'CL-a');
    await repos.claimCounters.model.updateOne(
      { _id: counterId },
      { $inc: { count: -1 }, $push: { releasing: 'CL-a' } },
    );
    await repos.claimCounters.release(counterId, 'CL-a');
    expect(await counter()).toMatchObject({ count: 1, claims: [], releasing: [] });
    expect(await held('CL-a')).toBe(false);
    // Reserved again after such a release, it counts again, once.
    await repos.claimCounters.reserve(counterId, 10, 'CL-b');
    await repos.claimCounters.model.updateOne(
      { _id: counterId },
      { $inc: { count: -1 }, $push: { releasing: 'CL-b' } },
    );
    expect(await repos.claimCounters.reserve(counterId, 10, 'CL-b')).toBe(true);
    expect(await repos.claimCounters.reserve(counterId, 10, 'CL-b')).toBe(true);
    expect(await counter()).toMatchObject({ count: 2, claims: [], releasing: [] });
    expect(await held('CL-b')).toBe(true);
  });

  it('reads the claim ids an earlier version kept as counted', async () => {
    await repos.claimCounters.model.create({ _id: counterId, count: 2, claims: ['CL-old-1', 'CL-old-2'] });
    expect(await repos.claimCounters.reserve(counterId, 3, 'CL-old-1')).toBe(true);
    expect(await counter()).toMatchObject({ count: 2, claims: ['CL-old-2'] });
    await repos.claimCounters.release(counterId, 'CL-old-2');
    await repos.claimCounters.release(counterId, 'CL-old-1');
    expect(await counter()).toBeNull();
  });

  it('takes one item of stock for a claim whose writer died before recording it', async () => {
    await insertBenefits(hub.connections.engagement, [publishedBenefit('B-COUNTER', { stock: 2 })]);
    await repos.benefits.model.updateOne(
      { _id: 'B-COUNTER' },
      { $inc: { remaining: -1 }, $push: { recentClaims: 'CL-a' } },
    );
    expect(await repos.benefits.takeStock('B-COUNTER', 'CL-a')).toBe(true);
    expect(await repos.benefits.takeStock('B-COUNTER', 'CL-a')).toBe(true);
    const [benefit] = await repos.benefits.findByIds(['B-COUNTER']);
    expect(benefit).toMatchObject({ remaining: 1, recentClaims: [] });
  });
});

describe('the engagement subgraph on its own', () => {
  it('refuses a member a forged entity representation of another member', async () => {
    const engagement = await startSubgraph('claims-entities', engagementDescriptor);
    try {
      const ENTITIES = `query ($representations: [_Any!]!) {
        _entities(representations: $representations) { ... on Member { id claims { id } } }
      }`;
      const asMember = engagement.as('M0001', ['member']);
      const own = await asMember(ENTITIES, { representations: [{ __typename: 'Member', id: 'M0001' }] });
      expect(own.errors).toBeUndefined();
      const forged = await asMember(ENTITIES, { representations: [{ __typename: 'Member', id: 'M0002' }] });
      expect(errorCodes(forged)).toEqual(['FORBIDDEN']);
    } finally {
      await engagement.stop();
    }
  });
});
