// Every subgraph's audit trail through the gateway (`<subgraph>AuditLog`): the entry a real mutation wrote, filters,
// pagination, hostile arguments, who may read it, the indexes its queries use; and members recording each unmasked
// read of personal data as one entry per request.
import { GraphClient, serviceIdentity } from '@bank-hub/shared';
import type { Connection } from 'mongoose';
import type { RunningHub } from '../scripts/hub';
import {
  bearer,
  callerOf,
  clientToken,
  errorCodes,
  graphql,
  testConfig,
  type GraphQLResponse,
  type Send,
} from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import { queriesDuring, servingIndex, type IndexKeys, type QueryShape } from './support/indexes';
import { IN_APP_TEMPLATE } from './support/messages';

let hub: RunningHub;
let alice: Send;
let bob: Send;
let auditor: Send;
let piiReader: Send;
let builder: Send;
let member: Send;
let anonymous: Send;
let piiToken: string;

const TRAIL = (subgraph: string) => `query ($filter: AuditFilter, $first: Int, $after: String) {
  ${subgraph}AuditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id actor action targetType targetId before after at requestId } }
    pageInfo { hasNextPage endCursor }
  }
}`;

interface Entry {
  id: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  at: string;
  requestId: string;
}

interface Page {
  edges: { cursor: string; node: Entry }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

async function trail(
  send: Send,
  subgraph: string,
  variables: { filter?: Record<string, unknown>; first?: number; after?: string } = {},
): Promise<Page> {
  const response = await send(TRAIL(subgraph), variables);
  expect(response.errors).toBeUndefined();
  return response.data?.[`${subgraph}AuditLog`] as Page;
}

const entries = async (...args: Parameters<typeof trail>) => (await trail(...args)).edges.map((e) => e.node);

function ok(response: GraphQLResponse): Record<string, any> {
  expect(response.errors).toBeUndefined();
  return response.data!;
}

/** Inserts into members' audit trail while `action` runs. */
async function auditInsertsDuring(connection: Connection, action: () => Promise<unknown>): Promise<number> {
  let inserts = 0;
  const listener = (event: { commandName: string; command: Record<string, unknown> }) => {
    if (event.commandName === 'insert' && event.command.insert === 'audit_log') inserts += 1;
  };
  connection.getClient().on('commandStarted', listener);
  try {
    await action();
  } finally {
    connection.getClient().off('commandStarted', listener);
  }
  return inserts;
}

/** Customers of this file's own, brought in as the bank's systems do (the hub's service identity). */
const CUSTOMERS = [
  { id: 'AUD-0001', name: '周文静', phone: '13700111222', idNumber: '310101199001011234' },
  { id: 'AUD-0002', name: '吴建国', phone: '13700333444', idNumber: '310101198502025678' },
];
const PERSONAL_VALUES = CUSTOMERS.flatMap(({ name, phone, idNumber }) => [name, phone, idNumber]);
const SET_TAGS = `mutation ($memberId: ID!, $value: JSON!) {
  setMemberTags(memberId: $memberId, tags: [{ code: "interests", value: $value }]) { id }
}`;

beforeAll(async () => {
  hub = await startTestHub('audit-trail');
  alice = await callerOf(hub.gatewayUrl, 'ops.alice', 'operator');
  bob = await callerOf(hub.gatewayUrl, 'ops.bob', 'operator');
  auditor = await callerOf(hub.gatewayUrl, 'audit.ann', 'audit');
  piiToken = await clientToken('ops.pia', 'operator pii:read');
  piiReader = (query, variables = {}) => graphql(hub.gatewayUrl, query, variables, bearer(piiToken));
  builder = await callerOf(hub.gatewayUrl, 'builder.bea', 'builder');
  member = await callerOf(hub.gatewayUrl, 'M0001', 'member');
  anonymous = (query, variables = {}) => graphql(hub.gatewayUrl, query, variables);
  const graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET, 20_000);
  const synced = await graph.query(
    { identity: serviceIdentity('core-banking') },
    `mutation ($members: [MemberSyncInput!]!) { upsertMembers(members: $members) { created } }`,
    { members: CUSTOMERS.map((customer) => ({ ...customer, asOf: new Date().toISOString() })) },
  );
  expect(synced.errors).toEqual([]);
});

afterAll(() => stopTestHub(hub));

describe("each subgraph's trail after a real mutation in it", () => {
  it('members: a sync names the members by id only, and a tag edit names its operator, before and after', async () => {
    const [sync] = await entries(auditor, 'members', { filter: { actor: 'svc.core-banking' } });
    expect(sync).toMatchObject({
      action: 'upsertMembers',
      targetType: 'Member',
      targetId: '2 members',
      after: expect.objectContaining({ created: ['AUD-0001', 'AUD-0002'] }),
    });
    const shown = JSON.stringify(sync);
    for (const value of PERSONAL_VALUES) expect(shown).not.toContain(value);

    ok(await alice(SET_TAGS, { memberId: 'AUD-0001', value: ['travel'] }));
    const [edit] = await entries(auditor, 'members', {
      filter: { target: { type: 'Member', id: 'AUD-0001' } },
    });
    expect(edit).toMatchObject({
      actor: 'ops.alice',
      action: 'setMemberTags',
      targetId: 'AUD-0001',
      before: { tags: expect.not.objectContaining({ interests: expect.anything() }) },
      after: { tags: expect.objectContaining({ interests: ['travel'] }) },
    });
    expect(edit!.id).toMatch(/^[0-9a-f]{24}$/);
    expect(edit!.requestId).not.toBe('');
  });

  it('engagement: a benefit created by an operator', async () => {
    const created = ok(
      await alice(`mutation ($input: BenefitInput!) { createBenefit(input: $input) { id } }`, {
        input: {
          title: 'Audit coupon',
          kind: 'COUPON',
          value: 30,
          stock: 2,
          startsAt: '2026-01-01T00:00:00+08:00',
          endsAt: '2030-01-01T00:00:00Z',
          validDays: 30,
        },
      }),
    ).createBenefit.id as string;
    const found = await entries(auditor, 'engagement', {
      filter: { target: { type: 'BENEFIT', id: created } },
    });
    expect(found).toMatchObject([
      { actor: 'ops.alice', action: 'createBenefit', before: null, after: { title: 'Audit coupon' } },
    ]);
  });

  it('messages: a template created by an operator', async () => {
    const created = ok(
      await alice(`mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`, {
        input: IN_APP_TEMPLATE,
      }),
    ).createTemplate.id as string;
    const found = await entries(alice, 'messages', { filter: { target: { type: 'TEMPLATE', id: created } } });
    expect(found).toMatchObject([{ actor: 'ops.alice', action: 'createTemplate', targetId: created }]);
  });

  it('products: a service flow created by a builder', async () => {
    const created = ok(
      await builder(`mutation { createServiceFlow(key: "audit-flow", name: "Audit") { id } }`),
    ).createServiceFlow.id as string;
    const found = await entries(auditor, 'products', { filter: { actor: 'builder.bea' } });
    expect(found).toMatchObject([
      { action: 'createServiceFlow', targetType: 'ServiceFlow', targetId: created, before: null },
    ]);
  });

  it('analytics: a tracked event defined by an operator', async () => {
    ok(
      await alice(`mutation ($input: TrackedEventInput!) { defineTrackedEvent(input: $input) { name } }`, {
        input: { name: 'audit_seen', description: 'Seen.', properties: [] },
      }),
    );
    const found = await entries(auditor, 'analytics', {
      filter: { target: { type: 'TRACKED_EVENT', id: 'audit_seen' } },
    });
    expect(found).toMatchObject([{ actor: 'ops.alice', action: 'defineTrackedEvent', before: null }]);
  });

  it("content: a page created by an operator, in the new field and in content's former auditLog", async () => {
    const created = ok(
      await alice(`mutation ($input: PageInput!) { createPage(input: $input) { id } }`, {
        input: {
          channel: 'WEB',
          key: 'audit',
          title: 'Audit',
          slots: [{ code: 'hero', template: 'BANNER_CAROUSEL', maxItems: 2 }],
        },
      }),
    ).createPage.id as string;
    const found = await entries(auditor, 'content', { filter: { target: { type: 'PAGE', id: created } } });
    expect(found).toMatchObject([{ actor: 'ops.alice', action: 'createPage' }]);
    const former = ok(await auditor(`{ auditLog(targetType: PAGE, targetId: "${created}") { id action } }`));
    expect(former.auditLog).toEqual([{ id: found[0]!.id, action: 'createPage' }]);
  });
});

describe('reading a trail', () => {
  const target = { type: 'Member', id: 'AUD-0002' };
  let written: string[];

  beforeAll(async () => {
    // Five edits of one member, by two operators, far enough apart to tell their times apart.
    for (const [send, value] of [
      [alice, ['a']],
      [bob, ['b']],
      [alice, ['c']],
      [bob, ['d']],
      [alice, ['e']],
    ] as const) {
      ok(await send(SET_TAGS, { memberId: 'AUD-0002', value }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    written = (await entries(auditor, 'members', { filter: { target } })).map((entry) => entry.id);
  });

  it('pages newest first, each entry once, and says when there is no more', async () => {
    expect(written).toHaveLength(5);
    const first = await trail(auditor, 'members', { filter: { target }, first: 2 });
    const second = await trail(auditor, 'members', {
      filter: { target },
      first: 2,
      after: first.pageInfo.endCursor!,
    });
    const third = await trail(auditor, 'members', {
      filter: { target },
      first: 2,
      after: second.pageInfo.endCursor!,
    });
    expect([first, second, third].map((page) => page.pageInfo.hasNextPage)).toEqual([true, true, false]);
    const paged = [first, second, third].flatMap((page) => page.edges.map((edge) => edge.node));
    expect(paged.map((entry) => entry.id)).toEqual(written);
    expect(paged.map((entry) => (entry.after as { tags: { interests: string[] } }).tags.interests)).toEqual([
      ['e'],
      ['d'],
      ['c'],
      ['b'],
      ['a'],
    ]);
    const times = paged.map((entry) => Date.parse(entry.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it('filters by actor and by time range', async () => {
    const bobs = await entries(auditor, 'members', { filter: { target, actor: 'ops.bob' } });
    expect(bobs.map((entry) => entry.actor)).toEqual(['ops.bob', 'ops.bob']);
    const all = await entries(auditor, 'members', { filter: { target } });
    const [newest, , middle, , oldest] = all;
    const window = await entries(auditor, 'members', {
      filter: { target, since: middle!.at, until: newest!.at },
    });
    expect(window.map((entry) => entry.id)).toEqual([all[1]!.id, middle!.id]);
    const since = await entries(auditor, 'members', { filter: { actor: 'ops.alice', since: oldest!.at } });
    expect(since.map((entry) => entry.id)).toEqual(
      expect.arrayContaining([newest!.id, middle!.id, oldest!.id]),
    );
    expect(since.every((entry) => entry.actor === 'ops.alice')).toBe(true);
  });

  it('refuses hostile arguments with BAD_USER_INPUT naming the field, quickly', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ first: 101 }, 'first'],
      [{ first: 2_147_483_647 }, 'first'],
      [{ first: -1 }, 'first'],
      [{ after: 'Zm9yZ2Vk' }, 'after'],
      [
        { after: Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'x'])).toString('base64url') },
        'after',
      ],
      [{ filter: { target: { type: 'Member; drop', id: 'AUD-0001' } } }, 'filter.target.type'],
      [{ filter: { target: { type: 'Member', id: 'x'.repeat(10_000) } } }, 'filter.target.id'],
      [{ filter: { target: { type: 'Member', id: 'AUD\u0000' } } }, 'filter.target.id'],
      [{ filter: { since: '2026-02-01T00:00:00Z', until: '2026-01-01T00:00:00Z' } }, 'filter.until'],
    ];
    for (const [variables, field] of cases) {
      const response = await auditor(TRAIL('members'), variables);
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    // An absurd but valid range finds nothing rather than failing.
    const ancient = await entries(auditor, 'members', {
      filter: { since: '0001-01-01T00:00:00Z', until: '0002-01-01T00:00:00Z' },
    });
    expect(ancient).toEqual([]);
    // A target type no subgraph writes is no error: nothing is about it.
    expect(
      await entries(auditor, 'members', { filter: { target: { type: 'Nothing', id: 'AUD-0001' } } }),
    ).toEqual([]);
  });

  it('asks the database only by indexes that serve each filter in the trail order', async () => {
    // A target and an actor together read the target's index and check the actor on the way.
    const filters = [{ target }, { actor: 'ops.bob' }, { since: '2026-01-01T00:00:00Z' }, {}];
    const first = await trail(auditor, 'members', { first: 1 });
    const connection = hub.connections.members;
    const queries = await queriesDuring(connection, async () => {
      for (const filter of filters) await trail(auditor, 'members', { filter, first: 1 });
      await trail(auditor, 'members', { filter: { target }, first: 1, after: first.pageInfo.endCursor! });
    });
    const indexes = (await connection.collection('audit_log').indexes()) as IndexKeys;
    const reads = queries.filter((query) => query.collection === 'audit_log');
    expect(reads).toHaveLength(filters.length + 1);
    // A target's entries come from two branches (naming it alone, or among several), each served by its own index.
    const branches = reads.flatMap((read): QueryShape[] => {
      const or = read.filter.$or as Record<string, unknown>[] | undefined;
      return or?.every((branch) => 'targetType' in branch)
        ? or.map((filter) => ({ ...read, filter }))
        : [read];
    });
    expect(branches).toHaveLength(filters.length + 3);
    for (const branch of branches)
      expect({ filter: branch.filter, index: servingIndex(indexes, branch) }).toEqual({
        filter: branch.filter,
        index: expect.any(String),
      });
  });
});

describe('who may read a trail', () => {
  it.each([
    ['a member', () => member, 'FORBIDDEN'],
    ['a builder', () => builder, 'FORBIDDEN'],
    ['a caller without a token', () => anonymous, 'UNAUTHENTICATED'],
  ])('refuses %s', async (_who, caller, code) => {
    for (const subgraph of ['members', 'content', 'engagement', 'messages', 'products', 'analytics']) {
      const response = await caller()(TRAIL(subgraph));
      expect(errorCodes(response)).toEqual([code]);
    }
  });

  it('lets an auditor read every trail and change nothing', async () => {
    for (const subgraph of ['members', 'content', 'engagement', 'messages', 'products', 'analytics'])
      await trail(auditor, subgraph, { first: 1 });
    expect(errorCodes(await auditor(SET_TAGS, { memberId: 'AUD-0001', value: ['x'] }))).toEqual([
      'FORBIDDEN',
    ]);
  });
});

describe('reads of personal data', () => {
  const readsOf = (id: string) =>
    entries(auditor, 'members', { filter: { target: { type: 'Member', id }, actor: 'ops.pia' } });
  const PROFILE = (fields: string) => `query ($id: ID!) { member(id: $id) { id profile { ${fields} } } }`;

  it('records an unmasked read as one entry naming the member, the fields shown and the request', async () => {
    const before = await readsOf('AUD-0001');
    const read = await graphql(
      hub.gatewayUrl,
      PROFILE('name phone unmasked'),
      { id: 'AUD-0001' },
      { ...bearer(piiToken), 'x-request-id': 'audit-pii-read-1' },
    );
    expect(read.data?.member.profile).toEqual({ name: '周文静', phone: '13700111222', unmasked: true });
    const after = await readsOf('AUD-0001');
    expect(after).toHaveLength(before.length + 1);
    expect(after[0]).toMatchObject({
      actor: 'ops.pia',
      action: 'readPersonalData',
      targetType: 'Member',
      targetId: 'AUD-0001',
      before: null,
      after: { members: [{ id: 'AUD-0001', fields: ['name', 'phone'] }] },
      requestId: 'audit-pii-read-1',
    });
    for (const value of PERSONAL_VALUES) expect(JSON.stringify(after[0])).not.toContain(value);
  });

  it('records a list of members read unmasked with one insert naming them all, found by each member', async () => {
    const list = `{ members(filter: { ids: ["AUD-0001", "AUD-0002"] }, first: 10) {
      edges { node { id profile { name idNumber } } } } }`;
    let read: GraphQLResponse | undefined;
    const inserts = await auditInsertsDuring(hub.connections.members, async () => {
      read = await piiReader(list);
    });
    expect(read?.errors).toBeUndefined();
    expect(inserts).toBe(1);
    const [entry] = await readsOf('AUD-0002');
    expect(entry).toMatchObject({
      targetId: '2 members',
      after: {
        members: [
          { id: 'AUD-0001', fields: ['name', 'idNumber'] },
          { id: 'AUD-0002', fields: ['name', 'idNumber'] },
        ],
      },
    });
    expect((await readsOf('AUD-0001'))[0]!.id).toBe(entry!.id);
  });

  it('records nothing for a masked read, nor for a profile read without personal fields', async () => {
    const before = (
      await entries(auditor, 'members', { filter: { target: { type: 'Member', id: 'AUD-0001' } } })
    ).length;
    const inserts = await auditInsertsDuring(hub.connections.members, async () => {
      const masked = ok(await alice(PROFILE('name phone idNumber unmasked'), { id: 'AUD-0001' }));
      expect(masked.member.profile).toMatchObject({ name: '周**', unmasked: false });
      ok(await piiReader(PROFILE('city unmasked'), { id: 'AUD-0001' }));
    });
    expect(inserts).toBe(0);
    const after = await entries(auditor, 'members', {
      filter: { target: { type: 'Member', id: 'AUD-0001' } },
    });
    expect(after).toHaveLength(before);
  });
});
