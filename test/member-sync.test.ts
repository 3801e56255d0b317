// Members from the bank's core banking and CRM systems, through the gateway with the hub's service identity: a customer
// registered there becomes a member who signs in and gets a page targeted by what the systems imported; an update
// keeps what members owns (points, level, stage, computed tags); a rerun or an older record changes nothing; bad input
// is refused per member, per tag or per call; syncs of one member at once keep the newest value of each field, never
// a mix of two records.
import { GraphClient, serviceIdentity, type GraphResponse } from '@bank-hub/shared';
import type { RunningHub } from '../scripts/hub';
import { openRepositories, type MembersRepositories } from '../subgraphs/members/src/models';
import { bearer, clientToken, errorCodes, graphql, testConfig } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';

let hub: RunningHub;
let repos: MembersRepositories;
let graph: GraphClient;
let operator: Record<string, string>;

beforeAll(async () => {
  hub = await startTestHub('member-sync', { config: { SUBGRAPH_TIMEOUT_MS: 20_000 } });
  repos = await openRepositories(hub.connections.members);
  graph = new GraphClient(() => hub.gatewayUrl, testConfig.SUBGRAPH_SECRET, 20_000);
  operator = bearer(await clientToken('ops.lin', 'operator'));
});

afterAll(() => stopTestHub(hub));

const SYNC = `mutation ($members: [MemberSyncInput!]!) {
  upsertMembers(members: $members) {
    created updated unchanged refused
    results { id outcome refusal field message refusedTags { code reason } staleFields }
  }
}`;

interface Synced {
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  results: {
    id: string;
    outcome: string;
    refusal: string | null;
    field: string | null;
    message: string | null;
    refusedTags: { code: string; reason: string }[];
    staleFields: string[];
  }[];
}

/** The bank systems' connector: the hub's service identity, through the gateway. */
const bankSystem = { identity: serviceIdentity('core-banking') };

function sync(members: Record<string, unknown>[]): Promise<GraphResponse<{ upsertMembers: Synced }>> {
  return graph.query<{ upsertMembers: Synced }>(bankSystem, SYNC, { members });
}

async function synced(members: Record<string, unknown>[]): Promise<Synced> {
  const response = await sync(members);
  expect(response.errors).toEqual([]);
  return response.data!.upsertMembers;
}

let lastAsOf = 0;
/** When a record was taken: now, and later than every record this file took before, as a system's change times. */
const asOf = () => new Date((lastAsOf = Math.max(Date.now(), lastAsOf + 1))).toISOString();

/** What a new customer's record carries at least: the personal data a member needs. */
const customer = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  asOf: asOf(),
  name: '赵明',
  phone: '13900123456',
  idNumber: '310101198601150031',
  ...extra,
});

const stored = async (id: string) => (await repos.members.findByIds([id]))[0];
const existing = async (ids: string[]) => [...(await repos.members.syncStates(ids)).keys()];
const syncAudits = () =>
  hub.connections.members.collection('audit_log').find({ action: 'upsertMembers' }).toArray();

const VIEWER = `query ($channel: Channel!, $key: String!) {
  viewer {
    id points growthPoints riskLevel lifecycleStage registeredAt segmentCodes
    level { code }
    profile { city ageGroup phoneVerified fiveGCapable }
    page(channel: $channel, key: $key) {
      slots { code items { __typename ... on Banner { title } ... on EntryCard { title } } }
    }
  }
}`;

const SEGMENTS = `{ segments { code audienceSize } lifecycleCounts { stage members } }`;

describe('a customer registered in the bank', () => {
  it('becomes a member who signs in at the entry level and gets a page targeted by the imported attributes', async () => {
    const id = 'C-NEW-0001';
    const member = bearer(await clientToken(id, 'member'));
    const home = { channel: 'APP', key: 'home' };
    expect((await graphql(hub.gatewayUrl, VIEWER, home, member)).data?.viewer).toBeNull();
    const counts = async () => {
      const { data } = await graphql(hub.gatewayUrl, SEGMENTS, {}, operator);
      return {
        privateBanking: data?.segments.find((s: { code: string }) => s.code === 'PRIVATE_BANKING')
          .audienceSize,
        acquisition: data?.lifecycleCounts.find((c: { stage: string }) => c.stage === 'ACQUISITION').members,
      };
    };
    const before = await counts();

    const result = await synced([
      customer(id, {
        registeredAt: '2026-11-20T09:00:00+08:00',
        riskLevel: 'R4',
        city: 'Shanghai',
        ageGroup: '45-54',
        phoneVerified: true,
        fiveGCapable: true,
        tags: [
          { code: 'aum', value: 8_600_000 },
          { code: 'wealth_holder', value: true },
          { code: 'salary_account', value: true },
        ],
      }),
    ]);
    expect(result).toEqual({
      created: 1,
      updated: 0,
      unchanged: 0,
      refused: 0,
      results: [
        {
          id,
          outcome: 'CREATED',
          refusal: null,
          field: null,
          message: null,
          refusedTags: [],
          staleFields: [],
        },
      ],
    });

    const response = await graphql(hub.gatewayUrl, VIEWER, home, member);
    expect(response.errors).toBeUndefined();
    const viewer = response.data?.viewer;
    expect(viewer).toMatchObject({
      id,
      points: 0,
      growthPoints: 0,
      level: { code: 'STANDARD' },
      riskLevel: 'R4',
      lifecycleStage: 'ACQUISITION',
      registeredAt: '2026-11-20T01:00:00.000Z',
      profile: { city: 'Shanghai', ageGroup: '45-54', phoneVerified: true, fiveGCapable: true },
    });
    // The computed tags that follow from what was imported: the AUM's band, and new while registered under 30 days.
    const { tags } = (await stored(id))!;
    expect(tags).toMatchObject({ aum: 8_600_000, aum_band: '6M+' });
    expect(tags.new_user).toBe(
      Date.now() - Date.parse('2026-11-20T01:00:00Z') < 30 * 86_400_000 ? true : undefined,
    );
    expect(viewer.segmentCodes).toEqual(
      expect.arrayContaining(['PRIVATE_BANKING', 'WEALTH_CLIENTS', 'GROWTH_INVESTORS', 'SALARY_EARNERS']),
    );
    const titles = (code: string) =>
      viewer.page.slots
        .find((slot: { code: string }) => slot.code === code)
        .items.map((item: { title?: string }) => item.title);
    // The private banking salon is for AUM of 6M and more; the new-member gift for members at ACQUISITION.
    expect(titles('hero')).toEqual(
      expect.arrayContaining(['私行财富沙龙 Private Banking Salon', '新人礼包：最高888元 New-Member Gift']),
    );
    expect(titles('entries')).toContain('私行服务');
    // Audiences and stage counts are counted from the members as they stand: the new member is in them at once.
    expect(await counts()).toEqual({
      privateBanking: before.privateBanking + 1,
      acquisition: before.acquisition + 1,
    });
    expect(await syncAudits()).toContainEqual(
      expect.objectContaining({
        actor: 'svc.core-banking',
        after: expect.objectContaining({ created: [id], updated: [] }),
      }),
    );
  });

  it('synced again as it was changes nothing, says so and leaves no audit record', async () => {
    const member = customer('C-SAME-0001', {
      riskLevel: 'R2',
      registeredAt: '2026-10-01T00:00:00Z',
      tags: [{ code: 'aum', value: 52_000 }],
    });
    expect((await synced([member])).created).toBe(1);
    const first = await stored('C-SAME-0001');
    const audits = (await syncAudits()).length;
    expect(await synced([member])).toEqual({
      created: 0,
      updated: 0,
      unchanged: 1,
      refused: 0,
      results: [
        {
          id: 'C-SAME-0001',
          outcome: 'UNCHANGED',
          refusal: null,
          field: null,
          message: null,
          refusedTags: [],
          staleFields: [],
        },
      ],
    });
    expect(await stored('C-SAME-0001')).toEqual(first);
    expect(await syncAudits()).toHaveLength(audits);
  });
});

describe('an update from the bank systems', () => {
  it('writes the given fields and imported tags, and keeps points, level, stage and computed tags', async () => {
    const id = 'C-KEEP-0001';
    expect(
      (await synced([customer(id, { riskLevel: 'R1', tags: [{ code: 'aum', value: 3_000 }] })])).created,
    ).toBe(1);
    const awarded = await graphql(
      hub.gatewayUrl,
      `mutation { awardPoints(memberId: "${id}", amount: 1500, reason: "welcome", idempotencyKey: "keep-${id}") { id } }`,
      {},
      operator,
    );
    expect(awarded.errors).toBeUndefined();
    const lifecycle = await graph.query(
      { identity: serviceIdentity('analytics') },
      `mutation { applyLifecycle(results: [{ memberId: "${id}", stage: RETENTION, tags: [{ code: "engagement_score", value: 80 }] }]) { stagesChanged } }`,
    );
    expect(lifecycle.errors).toEqual([]);
    const before = (await stored(id))!;

    const result = await synced([
      {
        id,
        asOf: asOf(),
        riskLevel: 'R3',
        city: 'Hangzhou',
        tags: [
          { code: 'aum', value: 620_000 },
          { code: 'wealth_holder', value: true },
        ],
      },
    ]);
    expect(result.results[0]).toMatchObject({ outcome: 'UPDATED', refusedTags: [] });
    const after = (await stored(id))!;
    expect(after).toMatchObject({
      points: 1_500,
      growthPoints: 1_500,
      levelCode: 'SILVER',
      lifecycleStage: 'RETENTION',
      lifecycleChangedAt: before.lifecycleChangedAt,
      appliedEntries: before.appliedEntries,
      personal: before.personal,
      riskLevel: 'R3',
      attributes: { city: 'Hangzhou' },
      tags: { aum: 620_000, aum_band: '500K-6M', wealth_holder: true, engagement_score: 80 },
    });
    expect(await repos.ledger.model.countDocuments({ memberId: id })).toBe(1);
  });

  it('keeps within a member’s 100 tags: the other fields are written, the tags reported as TAG_LIMIT', async () => {
    const codes = Array.from({ length: 101 }, (_, i) => `imported_${String(i).padStart(3, '0')}`);
    for (const batch of [codes.slice(0, 100), codes.slice(100)]) {
      const defined = await graphql(
        hub.gatewayUrl,
        `
          mutation ($tags: [TagDefinitionInput!]!) {
            defineTags(tags: $tags) {
              code
            }
          }
        `,
        {
          tags: batch.map((code) => ({
            code,
            name: code,
            category: 'asset',
            valueType: 'BOOLEAN',
            source: 'IMPORTED',
          })),
        },
        operator,
      );
      expect(defined.errors).toBeUndefined();
    }
    const id = 'C-FULL-0001';
    const full = await synced([
      customer(id, { tags: codes.slice(0, 100).map((code) => ({ code, value: true })) }),
    ]);
    expect(full.results[0]).toMatchObject({ outcome: 'CREATED', refusedTags: [] });
    const past = await synced([
      { id, asOf: asOf(), riskLevel: 'R5', tags: [{ code: codes[100], value: true }] },
    ]);
    expect(past.results[0]).toMatchObject({
      outcome: 'UPDATED',
      refusedTags: [{ code: codes[100], reason: 'TAG_LIMIT' }],
    });
    const member = (await stored(id))!;
    expect(member.riskLevel).toBe('R5');
    expect(Object.keys(member.tags)).toHaveLength(100);
  });
});

describe('what the sync refuses', () => {
  it('refuses a member that does not fit, alone, and a tag that is not IMPORTED or not valid, alone', async () => {
    const result = await synced([
      { id: 'C-BAD-0001', asOf: asOf(), name: '钱多多', idNumber: '310101198601150031' },
      customer('C-BAD-0002', { name: '林\u202E雨' }),
      customer('C-BAD-0003', { registeredAt: '2999-01-01T00:00:00Z' }),
      customer('C-BAD-0004', { city: 'x'.repeat(10_000) }),
      customer('C-TAGS-0001', {
        tags: [
          { code: 'salary_account', value: true },
          { code: 'engagement_score', value: 99 },
          { code: 'marketing_opt_out', value: false },
          { code: 'aum', value: 'a lot' },
          { code: 'student', value: 'yes\u200B' },
          { code: 'z'.repeat(5_000), value: true },
        ],
      }),
    ]);
    expect(result).toMatchObject({ created: 1, updated: 0, unchanged: 0, refused: 4 });
    expect(result.results.map(({ id, outcome, refusal, field }) => [id, outcome, refusal, field])).toEqual([
      ['C-BAD-0001', 'REFUSED', 'INCOMPLETE_NEW_MEMBER', 'members[0]'],
      ['C-BAD-0002', 'REFUSED', 'INVALID_FIELD', 'members[1].name'],
      ['C-BAD-0003', 'REFUSED', 'INVALID_FIELD', 'members[2].registeredAt'],
      ['C-BAD-0004', 'REFUSED', 'INVALID_FIELD', 'members[3].city'],
      ['C-TAGS-0001', 'CREATED', null, null],
    ]);
    expect(result.results[4]!.refusedTags).toEqual([
      { code: 'engagement_score', reason: 'NOT_IMPORTED' },
      { code: 'marketing_opt_out', reason: 'NOT_IMPORTED' },
      { code: 'aum', reason: 'INVALID_VALUE' },
      { code: 'student', reason: 'INVALID_VALUE' },
      { code: 'z'.repeat(64), reason: 'NOT_IN_LIBRARY' },
    ]);
    expect(await existing(['C-BAD-0001', 'C-BAD-0002', 'C-BAD-0003', 'C-BAD-0004'])).toEqual([]);
    // Registered now (none given): new, as members derives it.
    expect((await stored('C-TAGS-0001'))!.tags).toEqual({ salary_account: true, new_user: true });
  });

  it.each<[string, Record<string, unknown>[], string]>([
    ['501 members', Array.from({ length: 501 }, (_, i) => ({ id: `C-MANY-${i}`, asOf: asOf() })), 'members'],
    ['no member', [], 'members'],
    [
      'one member twice',
      [customer('C-TWICE-0001'), customer('C-TWICE-0001', { city: 'Wuhan' })],
      'members[1].id',
    ],
    ['an id no member can have', [customer('C-OK-0001'), customer('x'.repeat(65))], 'members[1].id'],
    ['an id with a space', [customer('C 0001')], 'members[0].id'],
    [
      'one tag twice',
      [
        customer('C-OK-0002', {
          tags: [
            { code: 'aum', value: 1 },
            { code: 'aum', value: 2 },
          ],
        }),
      ],
      'members[0].tags[1].code',
    ],
  ])('refuses a call with %s as BAD_USER_INPUT and stores nothing of it', async (_what, members, field) => {
    const response = await sync(members);
    expect(
      response.errors.map((error) => [
        error.extensions?.code,
        (error.extensions as { field?: string })?.field,
      ]),
    ).toEqual([['BAD_USER_INPUT', field]]);
    expect(await existing(members.map((member) => String(member.id)))).toEqual([]);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a risk level outside R1–R5', customer('C-RISK-0001', { riskLevel: 'R6' })],
    ['a record without asOf', customer('C-RISK-0001', { asOf: undefined })],
  ])('refuses %s before anything runs', async (_what, member) => {
    const response = await sync([member]);
    expect(response.errors.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(await repos.members.exists('C-RISK-0001')).toBe(false);
  });

  it('refuses a member whose record was taken in the future or before 1900, naming asOf, and stores nothing of it', async () => {
    const id = 'C-ASOF-0001';
    expect((await synced([customer(id, { city: 'Xiamen' })])).created).toBe(1);
    const before = await stored(id);
    const result = await synced([
      { id, asOf: new Date(Date.now() + 6 * 60_000).toISOString(), city: 'Future' },
      customer('C-ASOF-0002', { asOf: '1899-12-31T23:59:59Z' }),
      { id: 'C-ASOF-0003', asOf: '2999-01-01T00:00:00Z', name: 'x', phone: '13900000000' },
    ]);
    expect(result.results.map(({ outcome, refusal, field }) => [outcome, refusal, field])).toEqual([
      ['REFUSED', 'INVALID_FIELD', 'members[0].asOf'],
      ['REFUSED', 'INVALID_FIELD', 'members[1].asOf'],
      ['REFUSED', 'INVALID_FIELD', 'members[2].asOf'],
    ]);
    expect(await stored(id)).toEqual(before);
    expect(await existing(['C-ASOF-0002', 'C-ASOF-0003'])).toEqual([]);
  });

  it('is closed to operators, members and client tokens that claim the service scope', async () => {
    const members = [customer('C-FORBIDDEN-0001')];
    for (const token of [
      await clientToken('ops.lin', 'operator'),
      await clientToken('M0001', 'member'),
      await clientToken('svc.fake', 'operator service'),
    ]) {
      expect(errorCodes(await graphql(hub.gatewayUrl, SYNC, { members }, bearer(token)))).toEqual([
        'FORBIDDEN',
      ]);
    }
    expect(await repos.members.exists('C-FORBIDDEN-0001')).toBe(false);
  });
});

describe('two syncs of one member at once', () => {
  it('create the member once and keep the fields of both', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `C-RACE-000${i}`);
    const [core, crm] = await Promise.all([
      synced(ids.map((id) => customer(id, { riskLevel: 'R5', tags: [{ code: 'aum', value: 7_000_000 }] }))),
      synced(
        ids.map((id) =>
          customer(id, {
            city: 'Chengdu',
            phoneVerified: true,
            tags: [{ code: 'salary_account', value: true }],
          }),
        ),
      ),
    ]);
    expect(core.created + crm.created).toBe(ids.length);
    expect(core.updated + crm.updated).toBe(ids.length);
    const members = await repos.members.findByIds(ids);
    expect(members).toHaveLength(ids.length);
    for (const member of members)
      expect(member).toMatchObject({
        riskLevel: 'R5',
        attributes: { city: 'Chengdu' },
        contact: { phoneVerified: true },
        tags: { aum: 7_000_000, salary_account: true },
        points: 0,
        lifecycleStage: 'ACQUISITION',
      });
    // Then both at once on the members they made: each writes only its own fields.
    await Promise.all([
      synced(ids.map((id) => ({ id, asOf: asOf(), riskLevel: 'R2' }))),
      synced(ids.map((id) => ({ id, asOf: asOf(), city: 'Wuhan', tags: [{ code: 'aum', value: 10 }] }))),
    ]);
    for (const member of await repos.members.findByIds(ids))
      expect(member).toMatchObject({
        riskLevel: 'R2',
        attributes: { city: 'Wuhan' },
        tags: { aum: 10, salary_account: true },
      });
  });
});

describe('records that arrive late, replayed or at once', () => {
  /** An instant `minutes` before now: when a record was taken, for records that must be older than others. */
  const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

  it('a replay of an older call changes nothing and says which fields a newer record holds', async () => {
    const id = 'C-REPLAY-01';
    const yesterday = {
      id,
      asOf: minutesAgo(24 * 60),
      phone: '13900000001',
      riskLevel: 'R2',
      tags: [{ code: 'aum', value: 40_000 }],
    };
    expect((await synced([customer(id, { asOf: minutesAgo(48 * 60) })])).created).toBe(1);
    expect((await synced([yesterday])).results[0]).toMatchObject({ outcome: 'UPDATED', staleFields: [] });
    const today = {
      id,
      asOf: minutesAgo(10),
      phone: '13900000002',
      riskLevel: 'R4',
      tags: [{ code: 'aum', value: 900_000 }],
    };
    expect((await synced([today])).results[0]).toMatchObject({ outcome: 'UPDATED', staleFields: [] });
    const current = await stored(id);
    const audits = (await syncAudits()).length;

    // The connector timed out on yesterday's call and retries it now.
    const replay = await synced([yesterday]);
    expect(replay).toMatchObject({ updated: 0, unchanged: 1 });
    expect(replay.results[0]).toMatchObject({
      outcome: 'UNCHANGED',
      refusedTags: [],
      staleFields: ['phone', 'riskLevel', 'tags.aum'],
    });
    expect(await stored(id)).toEqual(current);
    expect(current).toMatchObject({
      personal: { phone: '13900000002' },
      riskLevel: 'R4',
      tags: { aum: 900_000, aum_band: '500K-6M' },
    });
    expect(await syncAudits()).toHaveLength(audits);
    // And today's again is a repeat: nothing to write, nothing stale.
    expect((await synced([today])).results[0]).toMatchObject({ outcome: 'UNCHANGED', staleFields: [] });
    expect(await stored(id)).toEqual(current);
  });

  it('lands each field of records arriving out of order: core banking’s phone and the CRM’s city both stand', async () => {
    const id = 'C-ORDER-01';
    expect((await synced([customer(id, { asOf: minutesAgo(60), city: 'Beijing' })])).created).toBe(1);
    const crm = { id, asOf: minutesAgo(30), city: 'Chengdu', phone: '13900000031' };
    const core = {
      id,
      asOf: minutesAgo(20),
      phone: '13900000032',
      tags: [{ code: 'wealth_holder', value: true }],
    };
    // Core banking's later record arrives first, the CRM's earlier one after it.
    expect((await synced([core])).results[0]).toMatchObject({ outcome: 'UPDATED', staleFields: [] });
    const late = await synced([crm]);
    expect(late.results[0]).toMatchObject({ outcome: 'UPDATED', staleFields: ['phone'] });
    expect(await stored(id)).toMatchObject({
      personal: { phone: '13900000032' },
      attributes: { city: 'Chengdu' },
      tags: { wealth_holder: true },
    });
  });

  it('20 calls for one member at once leave each field at its newest record’s value, never a mix of two calls', async () => {
    const ids = ['C-MIX-01', 'C-MIX-02', 'C-MIX-03'];
    const base = Date.now() - 60 * 60_000;
    expect(
      (await synced(ids.map((id) => customer(id, { asOf: new Date(base).toISOString() })))).created,
    ).toBe(3);
    // Call k was taken k minutes after the member's first record; each gives a phone, city and AUM that match, and
    // every third one an age group too. They are sent in an order unrelated to when they were taken.
    const calls = Array.from({ length: 20 }, (_, k) => ({
      k,
      record: (id: string) => ({
        id,
        asOf: new Date(base + (k + 1) * 60_000).toISOString(),
        phone: `1390000${String(k).padStart(4, '0')}`,
        city: `City-${k}`,
        tags: [{ code: 'aum', value: 1_000_000 * k }],
        ...(k % 3 === 0 ? { ageGroup: ['18-24', '25-34', '35-44', '45-54'][(k / 3) % 4] } : {}),
      }),
    })).sort((a, b) => ((a.k * 7) % 20) - ((b.k * 7) % 20));
    const answers = await Promise.all(calls.map(({ record }) => synced(ids.map(record))));
    for (const member of await repos.members.findByIds(ids)) {
      // The newest call (k = 19) gave the triple; the newest that gave an age group was k = 18 (35-44).
      expect([member.personal.phone, member.attributes.city, member.tags.aum, member.tags.aum_band]).toEqual([
        '13900000019',
        'City-19',
        19_000_000,
        '6M+',
      ]);
      expect(member.attributes.ageGroup).toBe('35-44');
    }
    // The newest call is never reported stale; any other one, which found a newer record's triple or landed before it,
    // is stale in the whole triple or none of it.
    const answerOf = (k: number) => answers[calls.findIndex((call) => call.k === k)]!;
    for (const result of answerOf(19).results) expect(result.staleFields).toEqual([]);
    for (const answer of answers)
      for (const { staleFields } of answer.results)
        expect([[], ['phone', 'city', 'tags.aum']]).toContainEqual(
          staleFields.filter((field) => field !== 'ageGroup'),
        );
  });

  it('takes an IMPORTED tag an operator set or removed as older than any record: the systems’ record puts it back', async () => {
    const id = 'C-OPERATOR-TAG';
    const first = customer(id, {
      asOf: minutesAgo(60),
      tags: [
        { code: 'aum', value: 900_000 },
        { code: 'wealth_holder', value: true },
      ],
    });
    expect((await synced([first])).created).toBe(1);
    const corrected = await graphql(
      hub.gatewayUrl,
      `
        mutation ($id: ID!) {
          setMemberTags(memberId: $id, tags: [{ code: "aum", value: 5 }], removeCodes: ["wealth_holder"]) {
            id
          }
        }
      `,
      { id },
      operator,
    );
    expect(corrected.errors).toBeUndefined();
    expect((await stored(id))?.tags).toMatchObject({ aum: 5, aum_band: '<10K' });

    // The connector re-sends the record the tags came from: what an operator set is put back, as the next sync would.
    const replay = await synced([first]);
    expect(replay.results[0]).toMatchObject({ outcome: 'UPDATED', staleFields: [] });
    expect((await stored(id))?.tags).toMatchObject({
      aum: 900_000,
      aum_band: '500K-6M',
      wealth_holder: true,
    });
  });

  it('creates a new member once under concurrent creates taken at different times, with the newest fields', async () => {
    const id = 'C-CREATE-RACE';
    const base = Date.now() - 60 * 60_000;
    const answers = await Promise.all(
      [3, 7, 1, 9, 5, 0, 8, 2, 6, 4].map((k) =>
        synced([
          customer(id, {
            asOf: new Date(base + k * 60_000).toISOString(),
            phone: `1390000000${k}`,
            city: `City-${k}`,
            tags: [{ code: 'aum', value: k }],
          }),
        ]),
      ),
    );
    expect(answers.reduce((created, answer) => created + answer.created, 0)).toBe(1);
    expect(await repos.members.model.countDocuments({ _id: id })).toBe(1);
    expect(await stored(id)).toMatchObject({
      personal: { phone: '13900000009' },
      attributes: { city: 'City-9' },
      tags: { aum: 9, aum_band: '<10K' },
      points: 0,
      lifecycleStage: 'ACQUISITION',
    });
  });
});

describe('a sync and the suitability assessment', () => {
  it('leaves the risk level a recorded assessment set: the sync’s older export does not undo it', async () => {
    const id = 'C-ASSESSED-01';
    expect((await synced([customer(id, { riskLevel: 'R1' })])).created).toBe(1);
    const assessed = await graph.query<{ recordRiskAssessment: { riskLevel: string } }>(
      { identity: serviceIdentity('products') },
      `mutation ($id: ID!, $at: DateTime!) {
        recordRiskAssessment(memberId: $id, riskLevel: R2, score: 31, assessedAt: $at) { riskLevel }
      }`,
      { id, at: new Date().toISOString() },
    );
    expect(assessed.errors).toEqual([]);

    // The nightly export was taken before the member's assessment, and still says R5.
    // Even taken after the assessment was recorded: the assessment is the bank's word on the risk level.
    const result = await synced([{ id, asOf: asOf(), riskLevel: 'R5', city: 'Suzhou' }]);
    expect(result.results[0]).toMatchObject({ outcome: 'UPDATED' });
    expect(await stored(id)).toMatchObject({
      riskLevel: 'R2',
      riskScore: 31,
      attributes: { city: 'Suzhou' },
    });
  });
});

describe('a call that fails part way', () => {
  it('audits the members it wrote before failing, so a rerun that answers UNCHANGED leaves none unaudited', async () => {
    const written = 'C-PARTIAL-01';
    const broken = 'C-PARTIAL-02';
    expect((await synced([customer(broken)])).created).toBe(1);
    // A member document the database will not update as asked (a store fault for one member of the call).
    await hub.connections.members
      .collection<{ _id: string }>('members')
      .updateOne({ _id: broken }, { $set: { tags: 'unreadable' } });

    const record = customer(written);
    const failed = await sync([record, { id: broken, asOf: asOf(), tags: [{ code: 'aum', value: 5 }] }]);
    expect(failed.errors.length).toBeGreaterThan(0);
    expect(await stored(written)).toBeDefined();
    const audits = await syncAudits();
    expect(
      audits.filter((audit) => (audit.after as { created: string[] }).created.includes(written)),
    ).toHaveLength(1);
    // The connector retries: the member written before the failure is UNCHANGED now, and audited once all the same.
    const rerun = await synced([record]);
    expect(rerun.results[0]).toMatchObject({ outcome: 'UNCHANGED' });
  });
});
