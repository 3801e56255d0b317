// Operators author benefits through the gateway: create as a draft, edit, four eyes to publish, audited, guarded by
// version; stock that only grows, and grows what remains when an edit raising it is approved; claim counts per state;
// bad input refused with the field at fault and nothing stored; and the privileges each membership level carries.
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type EngagementRepositories } from '../subgraphs/engagement/src/models';
import { bearer, callerOf, clientToken, errorCodes, graphql, type Send } from './support/env';
import { insertBenefits, publishedBenefit } from './support/benefits';
import { startTestHub, stopTestHub } from './support/hub';
import { storedState } from './support/stored';

let hub: RunningHub;
let repos: EngagementRepositories;
let alice: Send;
let bob: Send;
let builder: Send;
let member: Send;

beforeAll(async () => {
  hub = await startTestHub('benefit-operations');
  repos = await openRepositories(hub.connections.engagement);
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
  builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  member = await callerOf(hub.gatewayUrl, 'M0001', 'member');
});

afterAll(() => stopTestHub(hub));

const FIELDS =
  'id title kind stock remaining perMemberLimit status version lastEditedBy approvedBy levelCodes';
const CREATE = `mutation ($input: BenefitInput!) { createBenefit(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation ($id: ID!, $input: BenefitInput!, $expectedVersion: Int) {
  updateBenefit(id: $id, input: $input, expectedVersion: $expectedVersion) {
  ${FIELDS} pendingRevision { status changes { field before after } } } }`;
const STEP = `mutation ($id: ID!, $step: WorkflowStep!, $reason: String, $expectedVersion: Int) {
  engagementWorkflow(type: BENEFIT, id: $id, step: $step, reason: $reason, expectedVersion: $expectedVersion) {
    type id status live version
  }
}`;
const CLAIM = `mutation ($benefitId: ID!, $key: String!) { claimBenefit(benefitId: $benefitId, idempotencyKey: $key) { id } }`;

const INPUT = {
  title: '  Graduation coupon ',
  kind: 'COUPON',
  value: 30,
  stock: 2,
  startsAt: '2026-01-01T00:00:00+08:00',
  endsAt: '2030-01-01T00:00:00Z',
  validDays: 30,
  rule: { field: 'lifecycleStage', op: 'nin', value: ['CHURNED'] },
};

describe('a benefit from draft to members', () => {
  let id: string;

  it('is created as a draft, audited, and members may not claim it yet', async () => {
    const created = await alice(CREATE, { input: INPUT });
    expect(created.errors).toBeUndefined();
    expect(created.data?.createBenefit).toMatchObject({
      title: 'Graduation coupon',
      stock: 2,
      remaining: 2,
      perMemberLimit: 1,
      status: 'DRAFT',
      version: 1,
      lastEditedBy: 'ops.alice',
      approvedBy: null,
      levelCodes: [],
    });
    id = created.data?.createBenefit.id;
    expect(errorCodes(await member(CLAIM, { benefitId: id, key: 'draft-claim-1' }))).toEqual([
      'BENEFIT_NOT_AVAILABLE',
    ]);
  });

  it('is published by a second operator only', async () => {
    expect((await alice(STEP, { id, step: 'SUBMIT' })).data?.engagementWorkflow).toMatchObject({
      status: 'IN_REVIEW',
      live: false,
      version: 2,
    });
    expect(errorCodes(await alice(STEP, { id, step: 'APPROVE', expectedVersion: 2 }))).toEqual(['FORBIDDEN']);
    const approved = await bob(STEP, { id, step: 'APPROVE', expectedVersion: 2 });
    expect(approved.data?.engagementWorkflow).toMatchObject({
      type: 'BENEFIT',
      status: 'PUBLISHED',
      live: true,
    });
    expect((await member(CLAIM, { benefitId: id, key: 'published-claim-1' })).errors).toBeUndefined();
  });

  it('keeps serving while an edit raising the stock waits for approval, then grows what remains', async () => {
    const edited = await alice(UPDATE, { id, input: { ...INPUT, stock: 5 } });
    expect(edited.errors).toBeUndefined();
    expect(edited.data?.updateBenefit).toMatchObject({
      stock: 2,
      remaining: 1,
      status: 'PUBLISHED',
      pendingRevision: { status: 'DRAFT', changes: [{ field: 'stock', before: 2, after: 5 }] },
    });
    const version = (await alice(STEP, { id, step: 'SUBMIT' })).data?.engagementWorkflow.version as number;
    // A claim between the edit and its approval is kept: approval adds the increase to what remains then.
    const anotherMember = await clientToken('M0002', 'member');
    const claimed = await graphql(
      hub.gatewayUrl,
      CLAIM,
      { benefitId: id, key: 'between-edits' },
      bearer(anotherMember),
    );
    expect(claimed.errors).toBeUndefined();
    const approved = await bob(STEP, { id, step: 'APPROVE', expectedVersion: version });
    expect(approved.data?.engagementWorkflow.status).toBe('PUBLISHED');
    const listed = await alice(
      `{ benefits(status: PUBLISHED, first: 100) { id stock remaining approvedBy claimCounts { state claims } } }`,
    );
    expect(listed.data?.benefits.find((benefit: { id: string }) => benefit.id === id)).toEqual({
      id,
      stock: 5,
      remaining: 3,
      approvedBy: 'ops.bob',
      claimCounts: [
        { state: 'CLAIMED', claims: 2 },
        { state: 'USED', claims: 0 },
        { state: 'EXPIRED', claims: 0 },
        { state: 'REVOKED', claims: 0 },
      ],
    });
  });

  it('refuses stock that shrinks, a stale approval and edits of archived benefits', async () => {
    const shrink = await alice(UPDATE, { id, input: { ...INPUT, stock: 4 } });
    expect(shrink.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.stock' });
    // Two archive the same version at once: one wins, the other is refused, stale or too late.
    const answers = await Promise.all([
      bob(STEP, { id, step: 'ARCHIVE' }),
      bob(STEP, { id, step: 'ARCHIVE' }),
    ]);
    expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
    expect(['CONFLICT', 'FAILED_PRECONDITION']).toContain(
      errorCodes(answers.find((answer) => answer.errors)!)[0],
    );
    expect(errorCodes(await alice(UPDATE, { id, input: { ...INPUT, stock: 5 } }))).toEqual([
      'FAILED_PRECONDITION',
    ]);
    const records = await hub.connections.engagement
      .collection('audit_log')
      .find({ targetType: 'BENEFIT', targetId: id })
      .toArray();
    expect(records.map((record) => record.action)).toEqual([
      'createBenefit',
      'submit',
      'approve',
      'updateBenefit',
      'submit',
      'approve',
      'archive',
    ]);
  });
});

describe('approving what was reviewed', () => {
  const APPROVE_SEEN = `mutation ($id: ID!, $seen: Int!) {
    engagementWorkflow(type: BENEFIT, id: $id, step: APPROVE, expectedVersion: $seen) { status version }
  }`;

  it('refuses an approval that names no version with BAD_USER_INPUT, changing nothing', async () => {
    const id = (await alice(CREATE, { input: INPUT })).data?.createBenefit.id as string;
    await alice(STEP, { id, step: 'SUBMIT' });
    const before = await repos.benefits.findByIds([id]);
    const unversioned = await bob(STEP, { id, step: 'APPROVE' });
    expect(unversioned.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      reason: 'VERSION_REQUIRED',
      field: 'expectedVersion',
    });
    expect(await repos.benefits.findByIds([id])).toEqual(before);
  });

  it('refuses with CONFLICT, changing nothing, an approval of a benefit edited since its approver saw it', async () => {
    const id = (await alice(CREATE, { input: INPUT })).data?.createBenefit.id as string;
    const seen = (await alice(STEP, { id, step: 'SUBMIT' })).data?.engagementWorkflow.version as number;
    // While bob reviews, the editor swaps in a dearer coupon and submits it again.
    expect(
      (await alice(UPDATE, { id, input: { ...INPUT, value: 999, stock: 1_000 } })).errors,
    ).toBeUndefined();
    const resubmitted = (await alice(STEP, { id, step: 'SUBMIT' })).data?.engagementWorkflow
      .version as number;
    const before = await repos.benefits.findByIds([id]);
    const stale = await bob(APPROVE_SEEN, { id, seen });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: resubmitted });
    expect(await repos.benefits.findByIds([id])).toEqual(before);
    expect((await bob(APPROVE_SEEN, { id, seen: resubmitted })).data?.engagementWorkflow.status).toBe(
      'PUBLISHED',
    );
  });
});

describe('editing from the version an operator saw', () => {
  it('refuses with CONFLICT, changing nothing, an edit of a benefit changed since, and takes one of the current', async () => {
    const created = (await alice(CREATE, { input: INPUT })).data?.createBenefit;
    const id = created.id as string;
    // Two editors open version 1; the first saves.
    const first = await alice(UPDATE, {
      id,
      input: { ...INPUT, title: 'First editor' },
      expectedVersion: created.version,
    });
    expect(first.errors).toBeUndefined();
    expect(first.data?.updateBenefit).toMatchObject({ title: 'First editor', version: 2 });
    const before = await repos.benefits.findByIds([id]);
    const stale = await bob(UPDATE, {
      id,
      input: { ...INPUT, title: 'Second editor' },
      expectedVersion: created.version,
    });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 2 });
    expect(await repos.benefits.findByIds([id])).toEqual(before);
    const current = await bob(UPDATE, {
      id,
      input: { ...INPUT, title: 'Second editor' },
      expectedVersion: 2,
    });
    expect(current.data?.updateBenefit).toMatchObject({ title: 'Second editor', version: 3 });
  });
});

describe('the benefits waiting for a second operator', () => {
  it('are those in review, and published ones with an edit in review', async () => {
    const create = async () => (await alice(CREATE, { input: INPUT })).data?.createBenefit.id as string;
    const [draft, inReview, published, revised] = [
      await create(),
      await create(),
      await create(),
      await create(),
    ];
    for (const id of [inReview, published, revised]) await alice(STEP, { id, step: 'SUBMIT' });
    for (const id of [published, revised]) await bob(STEP, { id, step: 'APPROVE', expectedVersion: 2 });
    expect((await alice(UPDATE, { id: revised, input: { ...INPUT, stock: 9 } })).errors).toBeUndefined();
    await alice(STEP, { id: revised, step: 'SUBMIT' });

    const waiting = await bob(`{ benefits(awaitingReview: true, first: 100) { id } }`);
    const ids = (waiting.data?.benefits as { id: string }[]).map((benefit) => benefit.id);
    expect(ids).toEqual(expect.arrayContaining([inReview, revised]));
    expect(ids).not.toContain(draft);
    expect(ids).not.toContain(published);
    expect(errorCodes(await member(`{ benefits(awaitingReview: true) { id } }`))).toEqual(['FORBIDDEN']);
  });
});

describe('who sees what of a benefit', () => {
  it("shows builders a benefit's status but not its rule, and members neither", async () => {
    const ids = ['B-WELCOME-50', 'B-NOPE'];
    const asBuilder = await builder(`query ($ids: [ID!]!) { benefitsByIds(ids: $ids) { id status } }`, {
      ids,
    });
    expect(asBuilder.data?.benefitsByIds).toEqual([{ id: 'B-WELCOME-50', status: 'PUBLISHED' }, null]);
    const asMember = await member(`query ($ids: [ID!]!) { benefitsByIds(ids: $ids) { id } }`, { ids });
    expect(errorCodes(asMember)).toEqual(['FORBIDDEN']);
    expect(errorCodes(await builder('{ benefits { id } }'))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await builder(`{ benefitsByIds(ids: ["B-WELCOME-50"]) { rule } }`))).toEqual([
      'FORBIDDEN',
    ]);
  });
});

describe('bad benefit input', () => {
  it.each([
    [{ title: ' ' }, 'input.title'],
    [{ title: 'x'.repeat(61) }, 'input.title'],
    [{ value: -1 }, 'input.value'],
    [{ kind: 'FEE_DISCOUNT', value: 120 }, 'input.value'],
    [{ pointsCost: 100 }, 'input.pointsCost'],
    [{ kind: 'POINTS_PRODUCT' }, 'input.pointsCost'],
    // Dearer than members spends in one ledger entry: no member could ever pay for it.
    [{ kind: 'POINTS_PRODUCT', pointsCost: 1_000_001 }, 'input.pointsCost'],
    [{ stock: 0 }, 'input.stock'],
    [{ perMemberLimit: 101 }, 'input.perMemberLimit'],
    [{ perDayLimit: 0 }, 'input.perDayLimit'],
    [{ endsAt: '2025-12-31T00:00:00Z' }, 'input.endsAt'],
    [{ validDays: 0 }, 'input.validDays'],
    [{ rule: { field: 'attr.city', op: 'eq', value: 'Shanghai' } }, 'input.rule.field'],
    [{ rule: { field: 'channel', op: 'eq', value: 'APP' } }, 'input.rule.field'],
    [{ rule: { field: 'tag.student', op: 'eq', value: true } }, 'input.rule.op'],
    [{ levelCodes: ['gold'] }, 'input.levelCodes[0]'],
    [{ levelCodes: ['GOLD', 'GOLD'] }, 'input.levelCodes[1]'],
    [{ levelCodes: ['GOLD', 'PLATINUM_PLUS'] }, 'input.levelCodes[1]'],
  ])('refuses %j at %s and stores nothing', async (change, field) => {
    const engagement = { engagement: hub.connections.engagement };
    const before = await storedState(engagement);
    const response = await alice(CREATE, { input: { ...INPUT, ...change } });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await storedState(engagement)).toEqual(before);
  });

  it.each([
    ['first', '{ benefits(first: 0) { id } }', {}],
    ['first', '{ benefits(first: 101) { id } }', {}],
    [
      'ids',
      'query ($ids: [ID!]!) { benefitsByIds(ids: $ids) { id } }',
      { ids: Array.from({ length: 101 }, (_, i) => `B-${i}`) },
    ],
    ['first', '{ member(id: "M0001") { claims(first: 0) { id } } }', {}],
    [
      'reason',
      'mutation ($reason: String!) { revokeClaim(claimId: "CL-1", reason: $reason) { id } }',
      { reason: 'x'.repeat(501) },
    ],
    [
      'reason',
      'mutation ($reason: String!) { revokeClaim(claimId: "CL-1", reason: $reason) { id } }',
      { reason: 'sold \u202E%88.8' },
    ],
    ['reason', 'mutation { engagementWorkflow(type: BENEFIT, id: "B-WELCOME-50", step: REJECT) { id } }', {}],
    [
      'reason',
      'mutation ($reason: String) { engagementWorkflow(type: BENEFIT, id: "B-WELCOME-50", step: REJECT, reason: $reason) { id } }',
      { reason: 'stock \u0007wrong' },
    ],
  ])('answers BAD_USER_INPUT at %s for %s', async (field, query, variables) => {
    const response = await alice(query, variables);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
  });

  it('is for operators only', async () => {
    expect(errorCodes(await member(CREATE, { input: INPUT }))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await graphql(hub.gatewayUrl, CREATE, { input: INPUT }))).toEqual(['UNAUTHENTICATED']);
  });

  it('names levels that exist', async () => {
    const created = await alice(CREATE, { input: { ...INPUT, levelCodes: ['GOLD', 'DIAMOND'] } });
    expect(created.data?.createBenefit.levelCodes).toEqual(['GOLD', 'DIAMOND']);
    expect(await repos.benefits.findByIds([created.data?.createBenefit.id])).toHaveLength(1);
  });

  it('moves an activity only if it exists', async () => {
    const response = await alice(
      `mutation { engagementWorkflow(type: ACTIVITY, id: "A-1", step: SUBMIT) { id } }`,
    );
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });
});

describe("a membership level's privileges", () => {
  const LEVELS = `{ membershipLevels { code privileges { id } } }`;

  beforeAll(() =>
    insertBenefits(hub.connections.engagement, [
      publishedBenefit('B-PRIV-SILVER-UP', { levelCodes: ['SILVER', 'GOLD', 'PLATINUM', 'DIAMOND'] }),
      publishedBenefit('B-PRIV-GOLD', { levelCodes: ['GOLD'] }),
      publishedBenefit('B-PRIV-DRAFT', { levelCodes: ['GOLD'], status: 'DRAFT', approvedBy: null }),
      publishedBenefit('B-PRIV-ENDED', { levelCodes: ['GOLD'], endsAt: new Date('2025-06-01T00:00:00Z') }),
    ]),
  );

  const privilegesOf = (levels: { code: string; privileges: { id: string }[] }[], code: string) =>
    levels
      .find((level) => level.code === code)
      ?.privileges.map((benefit) => benefit.id)
      .filter((id) => id.startsWith('B-PRIV-'));

  it('are the published, unended benefits that name the level, in the same query as the level', async () => {
    const response = await member(LEVELS);
    expect(response.errors).toBeUndefined();
    expect(privilegesOf(response.data?.membershipLevels, 'STANDARD')).toEqual([]);
    expect(privilegesOf(response.data?.membershipLevels, 'SILVER')).toEqual(['B-PRIV-SILVER-UP']);
    expect(privilegesOf(response.data?.membershipLevels, 'GOLD')).toEqual([
      'B-PRIV-GOLD',
      'B-PRIV-SILVER-UP',
    ]);
    const viewer = await member('{ viewer { level { code privileges { id title kind } } } }');
    expect(viewer.data?.viewer.level.privileges).toEqual(expect.any(Array));
  });

  it('are null with SERVICE_UNAVAILABLE on their own path while engagement is down; the levels still answer', async () => {
    await hub.stopSubgraph('engagement');
    try {
      const response = await member(LEVELS);
      expect(response.data?.membershipLevels.map((level: { code: string }) => level.code)).toEqual([
        'STANDARD',
        'SILVER',
        'GOLD',
        'PLATINUM',
        'DIAMOND',
      ]);
      expect(
        response.data?.membershipLevels.every((level: { privileges: unknown }) => level.privileges === null),
      ).toBe(true);
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        serviceName: 'engagement',
      });
    } finally {
      await hub.restartSubgraph('engagement');
    }
  });
});
