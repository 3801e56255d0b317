// How members can be reached, as messages asks for it: time zone and phone capabilities on the profile, and audiences
// paged by the hub's service identity with a segment, a rule, ids or a lifecycle change.
import { errorCodes } from '../../../test/support/env';
import { startMembers, type MembersUnderTest, type SendAs } from './support';

let members: MembersUnderTest;
let service: SendAs;
let operator: SendAs;

beforeAll(async () => {
  members = await startMembers('reach');
  service = members.as('svc.messages', ['service', 'pii:read']);
  operator = members.as('ops.alice', ['operator']);
});

afterAll(() => members.stop());

const PAGE = `query ($filter: MemberFilter, $first: Int, $after: String) {
  members(filter: $filter, first: $first, after: $after) {
    edges { node { id profile { name phone timeZone phoneVerified fiveGCapable } } }
    pageInfo { hasNextPage endCursor }
  }
}`;

describe('a member profile', () => {
  it('says how the member can be reached, with a default time zone', async () => {
    const response = await service(PAGE, { filter: { ids: ['M0001', 'M0002'] } });
    expect(response.errors).toBeUndefined();
    expect(response.data?.members.edges.map((edge: { node: unknown }) => edge.node)).toEqual([
      {
        id: 'M0001',
        profile: {
          name: '林小雨',
          phone: '13800010001',
          timeZone: 'Asia/Shanghai',
          phoneVerified: true,
          fiveGCapable: false,
        },
      },
      {
        id: 'M0002',
        profile: {
          name: '陈国华',
          phone: '13900020002',
          timeZone: 'Asia/Shanghai',
          phoneVerified: true,
          fiveGCapable: true,
        },
      },
    ]);
  });

  it('masks short personal data too: a caller without pii:read sees fewer than half of a value, its last characters', async () => {
    await members.repos.members.model.updateOne(
      { _id: 'M0005' },
      { $set: { personal: { name: '张三', phone: '12345678', idNumber: 'E12345678' } } },
    );
    const response = await operator('{ member(id: "M0005") { profile { name phone idNumber unmasked } } }');
    expect(response.data?.member.profile).toEqual({
      name: '**',
      phone: '*****678',
      idNumber: '*****5678',
      unmasked: false,
    });
  });

  it('defaults a member stored without contact data to Asia/Shanghai and no verified phone', async () => {
    await members.repos.members.model.collection.updateOne(
      { _id: 'M0003' as never },
      { $unset: { contact: '' } },
    );
    const response = await service(PAGE, { filter: { ids: ['M0003'] } });
    expect(response.data?.members.edges[0].node.profile).toMatchObject({
      timeZone: 'Asia/Shanghai',
      phoneVerified: false,
      fiveGCapable: false,
    });
  });

  it('defaults such a member to the bank’s own time zone where BANK_TIME_ZONE names another', async () => {
    const zurich = await startMembers('reach_zurich', { config: { BANK_TIME_ZONE: 'Europe/Zurich' } });
    try {
      await zurich.repos.members.model.collection.updateOne(
        { _id: 'M0003' as never },
        { $unset: { contact: '' } },
      );
      const response = await zurich.as('svc.messages', ['service', 'pii:read'])(PAGE, {
        filter: { ids: ['M0003'] },
      });
      expect(response.data?.members.edges[0].node.profile.timeZone).toBe('Europe/Zurich');
      const guest = await zurich.as('svc.messages', ['service'])(
        `{ _entities(representations: [{ __typename: "Member", id: "guest:device-0001" }]) { ... on Member { profile { timeZone } } } }`,
      );
      expect(guest.data?._entities[0].profile.timeZone).toBe('Europe/Zurich');
    } finally {
      await zurich.stop();
    }
  });

  it('seeds some members abroad, most with a verified phone, some taking 5G', async () => {
    const all = await members.repos.members.all();
    const zones = new Set(all.map((member) => member.contact?.timeZone));
    expect(zones.size).toBeGreaterThan(2);
    const verified = all.filter((member) => member.contact?.phoneVerified).length;
    expect(verified / all.length).toBeGreaterThan(0.85);
    expect(all.some((member) => member.contact?.fiveGCapable)).toBe(true);
  });
});

describe('audiences for the hub', () => {
  it('pages the hub through a rule in pages of up to 2000, operators up to 100', async () => {
    const rule = { field: 'riskLevel', op: 'gte', value: 'R3' };
    const first = await service(PAGE, { filter: { rule }, first: 2000 });
    expect(first.errors).toBeUndefined();
    const ids: string[] = first.data?.members.edges.map((edge: { node: { id: string } }) => edge.node.id);
    const expected = (await members.repos.members.all()).filter((member) => member.riskLevel >= 'R3');
    expect(ids).toEqual(expected.map((member) => member._id));
    expect(errorCodes(await operator(PAGE, { filter: { rule }, first: 2000 }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await service(PAGE, { first: 2001 }))).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses an invalid rule, too many ids and a member token', async () => {
    const bad = await service(PAGE, { filter: { rule: { field: 'riskLevel', op: 'near', value: 'R3' } } });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
    expect(bad.errors?.[0]?.extensions?.field).toBe('filter.rule.op');
    const many = Array.from({ length: 1001 }, (_, i) => `M${i}`);
    expect(errorCodes(await service(PAGE, { filter: { ids: many } }))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await members.as('M0001', ['member'])(PAGE, {}))).toEqual(['FORBIDDEN']);
  });

  it('finds members whose lifecycle stage changed after an instant', async () => {
    const at = new Date();
    await members.repos.members.model.updateOne(
      { _id: 'M0010' },
      { $set: { lifecycleStage: 'AT_RISK', lifecycleChangedAt: new Date(at.getTime() + 1) } },
    );
    const response = await service(PAGE, {
      filter: { lifecycleStage: 'AT_RISK', lifecycleChangedAfter: at.toISOString() },
    });
    expect(response.data?.members.edges.map((edge: { node: { id: string } }) => edge.node.id)).toEqual([
      'M0010',
    ]);
  });
});
