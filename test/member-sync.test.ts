// Members from the bank's core banking and CRM systems, through the gateway with the hub's service identity: a customer
// registered there becomes a member who signs in and gets a page targeted by what the systems imported; an update
// keeps what members owns (points, level, stage, computed tags); a rerun changes nothing; bad input is refused per
// member, per tag or per call; two syncs of one member at once keep both.
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
    results { id outcome refusal field message refusedTags { code reason } }
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

/** What a new customer's record carries at least: the personal data a member needs. */
const customer = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: '赵明',
  phone: '13900123456',
  idNumber: '310101198601150031',
  ...extra,
});

const stored = async (id: string) => (await repos.members.findByIds([id]))[0];
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
      results: [{ id, outcome: 'CREATED', refusal: null, field: null, message: null, refusedTags: [] }],
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
    const past = await synced([{ id, riskLevel: 'R5', tags: [{ code: codes[100], value: true }] }]);
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
      { id: 'C-BAD-0001', name: '钱多多', idNumber: '310101198601150031' },
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
    expect(await repos.members.existingIds(['C-BAD-0001', 'C-BAD-0002', 'C-BAD-0003', 'C-BAD-0004'])).toEqual(
      [],
    );
    // Registered now (none given): new, as members derives it.
    expect((await stored('C-TAGS-0001'))!.tags).toEqual({ salary_account: true, new_user: true });
  });

  it.each<[string, Record<string, unknown>[], string]>([
    ['501 members', Array.from({ length: 501 }, (_, i) => ({ id: `C-MANY-${i}` })), 'members'],
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
    expect(await repos.members.existingIds(members.map((member) => String(member.id)))).toEqual([]);
  });

  it('refuses a risk level outside R1–R5 before anything runs', async () => {
    const response = await sync([customer('C-RISK-0001', { riskLevel: 'R6' })]);
    expect(response.errors.map((error) => error.extensions?.code)).toEqual(['BAD_USER_INPUT']);
    expect(await repos.members.exists('C-RISK-0001')).toBe(false);
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
      synced(ids.map((id) => ({ id, riskLevel: 'R2' }))),
      synced(ids.map((id) => ({ id, city: 'Wuhan', tags: [{ code: 'aum', value: 10 }] }))),
    ]);
    for (const member of await repos.members.findByIds(ids))
      expect(member).toMatchObject({
        riskLevel: 'R2',
        attributes: { city: 'Wuhan' },
        tags: { aum: 10, salary_account: true },
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
    const result = await synced([{ id, riskLevel: 'R5', city: 'Suzhou' }]);
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

    const failed = await sync([customer(written), { id: broken, tags: [{ code: 'aum', value: 5 }] }]);
    expect(failed.errors.length).toBeGreaterThan(0);
    expect(await stored(written)).toBeDefined();
    const audits = await syncAudits();
    expect(
      audits.filter((audit) => (audit.after as { created: string[] }).created.includes(written)),
    ).toHaveLength(1);
    // The connector retries: the member written before the failure is UNCHANGED now, and audited once all the same.
    const rerun = await synced([customer(written)]);
    expect(rerun.results[0]).toMatchObject({ outcome: 'UNCHANGED' });
  });
});
