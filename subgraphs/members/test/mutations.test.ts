// Operator mutations against the members subgraph over HTTP: what they change, what they reject, and that a
// rejected call changes nothing.
import { BSON, type CommandStartedEvent } from 'mongodb';
import { AuditLog } from '@bank-hub/shared';
import { changedBehindTheHubsBack, errorCodes, graphql } from '../../../test/support/env';
import { storedState } from '../../../test/support/stored';
import { compileRule } from '../src/domain/segment-filter';
import { startMembers, type MembersUnderTest, type SendAs } from './support';

let members: MembersUnderTest;
let operator: SendAs;
let member: SendAs;

beforeAll(async () => {
  members = await startMembers('mutations');
  operator = members.as('ops.alice', ['operator']);
  member = members.as('M0001', ['member']);
});

afterAll(() => members.stop());

const UPSERT_SEGMENT = `mutation ($input: SegmentInput!) { upsertSegment(input: $input) { code name rule audienceSize } }`;

describe('identity at the subgraph', () => {
  it('rejects an identity header not signed by the gateway', async () => {
    const forged = await graphql(
      members.server.url,
      '{ viewer { id } }',
      {},
      { 'x-hub-identity': 'eyJhbGciOiJub25lIn0.e30.' },
    );
    expect(errorCodes(forged)).toEqual(['UNAUTHENTICATED']);
  });

  it('rejects an identity token signed with another secret', async () => {
    const { signInternalIdentity } = await import('@bank-hub/shared');
    const header = await signInternalIdentity(
      { subject: 'ops.x', scopes: new Set(['operator']) },
      'y'.repeat(40),
    );
    const response = await graphql(
      members.server.url,
      '{ segments { code } }',
      {},
      { 'x-hub-identity': header },
    );
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
  });

  it('refuses a request that did not come through the gateway', async () => {
    const response = await graphql(members.server.url, '{ membershipLevels { code } }');
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data ?? null).toBeNull();
  });

  it('serves an anonymous caller the gateway vouched for', async () => {
    const response = await members.as('', [])('{ membershipLevels { code } viewer { id } }');
    expect(response.errors).toBeUndefined();
    expect(response.data?.viewer).toBeNull();
  });
});

describe('segments', () => {
  it('upserts a segment and counts its audience', async () => {
    const rule = {
      all: [
        { field: 'riskLevel', op: 'gte', value: 'R3' },
        { field: 'attr.city', op: 'eq', value: 'Shanghai' },
      ],
    };
    const response = await operator(UPSERT_SEGMENT, {
      input: { code: 'SH_BALANCED', name: 'Shanghai balanced+', rule },
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.upsertSegment).toMatchObject({ code: 'SH_BALANCED', rule });
    const expected = await members.repos.members.count({
      riskLevel: { $gte: 'R3' },
      'attributes.city': 'Shanghai',
    });
    expect(response.data?.upsertSegment.audienceSize).toBe(expected);
    expect(expected).toBeGreaterThan(0);
    const audit = await members.repos.audit.forTarget('Segment', 'SH_BALANCED');
    expect(audit[0]).toMatchObject({ actor: 'ops.alice', action: 'upsertSegment', before: null });
  });

  it.each([
    [
      {
        all: [
          { field: 'riskLevel', op: 'gte', value: 'R3' },
          { field: 'tag.aum', op: 'between', value: 1 },
        ],
      },
      'input.rule.all[1].op',
    ],
    [{ any: [{ field: 'tag.no_such_tag', op: 'eq', value: true }] }, 'input.rule.any[0].field'],
    [{ field: 'segment', op: 'eq', value: 'NEW_YOUNG' }, 'input.rule.field'],
    ['not a rule', 'input.rule'],
    // A tag compared with values of another type than its definition's selects nobody, silently.
    [{ field: 'tag.aum', op: 'gte', value: '500000' }, 'input.rule.value'],
    [{ not: { field: 'tag.student', op: 'eq', value: 'true' } }, 'input.rule.not.value'],
    [{ field: 'tag.interests', op: 'in', value: ['travel', 1] }, 'input.rule.value[1]'],
    // "Gold and above" as strings: GOLD, PLATINUM, SILVER and STANDARD, without DIAMOND.
    [{ field: 'level', op: 'gte', value: 'GOLD' }, 'input.rule.op'],
    [{ any: [{ field: 'level', op: 'in', value: ['GOLD', 'gold'] }] }, 'input.rule.any[0].value[1]'],
    [{ not: { field: 'riskLevel', op: 'eq', value: 'r5' } }, 'input.rule.not.value'],
  ])('rejects the invalid rule %j naming %s, and stores nothing', async (rule, field) => {
    const response = await operator(UPSERT_SEGMENT, { input: { code: 'BROKEN', name: 'Broken', rule } });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors?.[0]?.extensions?.field).toBe(field);
    expect(await members.repos.segments.findByCode('BROKEN')).toBeNull();
  });

  const UPSERT_FROM = `mutation ($input: SegmentInput!, $expectedVersion: Int) {
    upsertSegment(input: $input, expectedVersion: $expectedVersion) { code name version }
  }`;

  it('refuses an edit made from an old version, and a create of a code that exists, with CONFLICT, storing nothing', async () => {
    const rule = { field: 'level', op: 'eq', value: 'GOLD' };
    const input = (name: string) => ({ code: 'VERSIONED', name, rule });
    const created = await operator(UPSERT_FROM, { input: input('first') });
    expect(created.data?.upsertSegment).toEqual({ code: 'VERSIONED', name: 'first', version: 1 });
    const edited = await operator(UPSERT_FROM, { input: input('second'), expectedVersion: 1 });
    expect(edited.data?.upsertSegment).toEqual({ code: 'VERSIONED', name: 'second', version: 2 });

    // An operator still looking at version 1, and a late retry of the create: neither replaces the edit.
    const stale = await operator(UPSERT_FROM, { input: input('stale'), expectedVersion: 1 });
    expect(stale.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'expectedVersion',
      version: 2,
    });
    const retried = await operator(UPSERT_FROM, { input: input('first') });
    expect(retried.errors?.[0]?.extensions).toMatchObject({
      code: 'CONFLICT',
      field: 'input.code',
      version: 2,
    });
    expect(await members.repos.segments.findByCode('VERSIONED')).toMatchObject({
      name: 'second',
      version: 2,
    });
    const audit = await members.repos.audit.forTarget('Segment', 'VERSIONED');
    expect(audit.map((record) => (record.after as { name: string }).name).sort()).toEqual([
      'first',
      'second',
    ]);

    const missing = await operator(UPSERT_FROM, {
      input: { ...input('x'), code: 'NEVER_CREATED' },
      expectedVersion: 1,
    });
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    expect(await members.repos.segments.findByCode('NEVER_CREATED')).toBeNull();
  });

  it('edits a segment stored without a version from version 0', async () => {
    const rule = { field: 'level', op: 'eq', value: 'GOLD' };
    await members.repos.segments.model.insertMany({
      _id: 'UNVERSIONED',
      name: 'old',
      description: null,
      rule,
      updatedAt: new Date(),
      updatedBy: 'test',
    });
    await changedBehindTheHubsBack(members.connection);
    const listed = await operator('{ segments { code version } }');
    expect(listed.data?.segments).toContainEqual({ code: 'UNVERSIONED', version: 0 });
    const stale = await operator(UPSERT_FROM, {
      input: { code: 'UNVERSIONED', name: 'x', rule },
      expectedVersion: 1,
    });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', version: 0 });
    const edited = await operator(UPSERT_FROM, {
      input: { code: 'UNVERSIONED', name: 'new', rule },
      expectedVersion: 0,
    });
    expect(edited.data?.upsertSegment).toEqual({ code: 'UNVERSIONED', name: 'new', version: 1 });
  });

  it('applies one of 20 concurrent edits made from the same version and refuses the others, auditing one edit', async () => {
    const rule = { field: 'level', op: 'eq', value: 'GOLD' };
    const created = await operator(UPSERT_FROM, { input: { code: 'EDITED_AT_ONCE', name: 'v0', rule } });
    expect(created.errors).toBeUndefined();
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        operator(UPSERT_FROM, {
          input: { code: 'EDITED_AT_ONCE', name: `v${i + 1}`, rule },
          expectedVersion: 1,
        }),
      ),
    );
    const applied = answers.flatMap((answer) => answer.data?.upsertSegment ?? []);
    expect(applied).toHaveLength(1);
    expect(answers.flatMap((answer) => errorCodes(answer))).toEqual(
      Array.from({ length: 19 }, () => 'CONFLICT'),
    );
    const stored = await members.repos.segments.findByCode('EDITED_AT_ONCE');
    expect(stored).toMatchObject({ name: applied[0].name, version: 2 });
    const nameOf = (state: unknown) => (state as { name: string } | null)?.name ?? null;
    const audit = await members.repos.audit.forTarget('Segment', 'EDITED_AT_ONCE');
    expect(audit.map((record) => [nameOf(record.before), nameOf(record.after)]).sort()).toEqual(
      [
        [null, 'v0'],
        ['v0', applied[0].name],
      ].sort(),
    );
  });

  it('rejects a bad segment code', async () => {
    const response = await operator(UPSERT_SEGMENT, {
      input: { code: 'lower-case', name: 'x', rule: { field: 'level', op: 'eq', value: 'GOLD' } },
    });
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.code' });
  });

  it('previews an audience without saving', async () => {
    const before = await members.repos.segments.all();
    const response = await operator(
      'mutation ($rule: TargetingRule!) { previewSegment(rule: $rule) { audienceSize sample { id riskLevel } } }',
      { rule: { field: 'riskLevel', op: 'eq', value: 'R5' } },
    );
    const preview = response.data?.previewSegment;
    expect(preview.audienceSize).toBe(await members.repos.members.count({ riskLevel: 'R5' }));
    expect(preview.sample.length).toBe(10);
    expect(preview.sample.every((m: { riskLevel: string }) => m.riskLevel === 'R5')).toBe(true);
    expect(await members.repos.segments.all()).toEqual(before);
  });

  it('shows a member their segments but not their rules or sizes', async () => {
    const names = await member('{ viewer { segments { code name } } }');
    expect(names.data?.viewer.segments.map((s: { code: string }) => s.code)).toEqual([
      'CONSERVATIVE_SAVERS',
      'NEW_YOUNG',
    ]);
    for (const field of ['rule', 'audienceSize']) {
      expect(errorCodes(await member(`{ viewer { segments { ${field} } } }`))).toContain('FORBIDDEN');
    }
  });

  it('is forbidden to a member token', async () => {
    const response = await member(UPSERT_SEGMENT, {
      input: { code: 'X', name: 'x', rule: { field: 'level', op: 'eq', value: 'GOLD' } },
    });
    expect(errorCodes(response)).toEqual(['FORBIDDEN']);
  });
});

describe('a segment saved while its audit record could not be written', () => {
  it('is every process’s segment all the same: this one lists it at once', async () => {
    // Read once, so that this process holds the definitions from before the save.
    await operator('{ segments { code } }');
    const failing = jest
      .spyOn(AuditLog.prototype, 'record')
      .mockRejectedValueOnce(new Error('audit log unreachable'));
    try {
      const saved = await operator(UPSERT_SEGMENT, {
        input: { code: 'AUDIT_GAP', name: 'Audit gap', rule: { field: 'riskLevel', op: 'eq', value: 'R5' } },
      });
      expect(errorCodes(saved)).toEqual(['INTERNAL_SERVER_ERROR']);
    } finally {
      failing.mockRestore();
    }
    const listed = await operator('{ segments { code } }');
    expect(listed.data?.segments.map((segment: { code: string }) => segment.code)).toContain('AUDIT_GAP');
  });
});

describe('segment limits', () => {
  // A database of its own: these tests fill the segment library far past what the others expect.
  let own: MembersUnderTest;
  let ownOperator: SendAs;
  beforeAll(async () => {
    own = await startMembers('segment-limits');
    ownOperator = own.as('ops.alice', ['operator']);
  });
  afterAll(() => own.stop());

  const seeded = () => own.repos.segments.all();
  /** Segments written straight to the database, as if stored before the limit, removed again after the test. */
  async function storeSegments(count: number, rule: (i: number) => unknown): Promise<() => Promise<void>> {
    const codes = Array.from({ length: count }, (_, i) => `STORED_${i}`);
    await own.repos.segments.model.insertMany(
      codes.map((code, i) => ({
        _id: code,
        name: code,
        description: null,
        rule: rule(i),
        updatedAt: new Date(),
        updatedBy: 'test',
      })),
    );
    await changedBehindTheHubsBack(own.connection);
    return async () => {
      await own.repos.segments.model.deleteMany({ _id: { $in: codes } });
      await changedBehindTheHubsBack(own.connection);
    };
  }

  it('refuses a new segment past 200 with SEGMENT_LIMIT_REACHED and stores nothing; existing ones stay editable', async () => {
    const remove = await storeSegments(200 - (await seeded()).length, () => ({
      field: 'level',
      op: 'eq',
      value: 'GOLD',
    }));
    try {
      const rule = { field: 'riskLevel', op: 'eq', value: 'R5' };
      const refused = await ownOperator(UPSERT_SEGMENT, { input: { code: 'ONE_TOO_MANY', name: 'x', rule } });
      expect(refused.errors?.[0]?.extensions).toMatchObject({
        code: 'SEGMENT_LIMIT_REACHED',
        field: 'input.code',
        maxSegments: 200,
      });
      expect(await own.repos.segments.findByCode('ONE_TOO_MANY')).toBeNull();
      expect(await own.repos.segments.model.countDocuments()).toBe(200);
      const edited = await ownOperator(
        `mutation ($input: SegmentInput!) { upsertSegment(input: $input, expectedVersion: 0) { code name } }`,
        { input: { code: 'STORED_0', name: 'edited', rule } },
      );
      expect(edited.errors).toBeUndefined();
      expect(edited.data?.upsertSegment).toMatchObject({ code: 'STORED_0', name: 'edited' });
    } finally {
      await remove();
    }
  });

  it('counts the audiences of 1,100 segments of 16 KB rules (over 16 MB together) in commands MongoDB accepts', async () => {
    // Rules at the size limit on a tag no member holds: as large as a rule gets, cheap to match.
    const values = Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(150, 'x'));
    const remove = await storeSegments(1_100, (i) => ({
      field: 'tag.motto',
      op: 'in',
      value: [`${i}`, ...values.slice(1)],
    }));
    const commands: CommandStartedEvent[] = [];
    const record = (event: CommandStartedEvent) => {
      if (event.commandName === 'aggregate') commands.push(event);
    };
    own.connection.getClient().on('commandStarted', record);
    try {
      const response = await ownOperator('{ segments { code audienceSize } }');
      expect(response.errors).toBeUndefined();
      const sizes = new Map(
        (response.data?.segments as { code: string; audienceSize: number }[]).map((s) => [
          s.code,
          s.audienceSize,
        ]),
      );
      expect(sizes.size).toBe((await seeded()).length);
      expect(sizes.size).toBeGreaterThan(1_100);
      expect(sizes.get('STORED_7')).toBe(0);
      const wealth = await own.repos.segments.findByCode('WEALTH_CLIENTS');
      expect(sizes.get('WEALTH_CLIENTS')).toBe(await own.repos.members.count(compileRule(wealth!.rule)));
      expect(sizes.get('WEALTH_CLIENTS')).toBeGreaterThan(0);
      const total = commands.reduce((sum, event) => sum + BSON.calculateObjectSize(event.command), 0);
      expect(total).toBeGreaterThan(16 * 1024 * 1024);
      for (const event of commands)
        expect(BSON.calculateObjectSize(event.command)).toBeLessThan(16 * 1024 * 1024);
    } finally {
      own.connection.getClient().off('commandStarted', record);
      await remove();
    }
  });
});

describe('tags', () => {
  it('defines tags and sets them on a member, who then enters a segment using them', async () => {
    const define = await operator(
      `mutation { defineTags(tags: [{ code: "esg_interest", name: "ESG", category: "preference", valueType: BOOLEAN, source: MANUAL }]) { code } }`,
    );
    expect(define.data?.defineTags).toEqual([{ code: 'esg_interest' }]);
    await operator(UPSERT_SEGMENT, {
      input: {
        code: 'ESG_FANS',
        name: 'ESG fans',
        rule: { field: 'tag.esg_interest', op: 'eq', value: true },
      },
    });
    const set = await operator(
      `mutation { setMemberTags(memberId: "M0001", tags: [{ code: "esg_interest", value: true }]) { segmentCodes tags { code value definition { name } } } }`,
    );
    expect(set.errors).toBeUndefined();
    expect(set.data?.setMemberTags.segmentCodes).toContain('ESG_FANS');
    expect(set.data?.setMemberTags.tags).toContainEqual({
      code: 'esg_interest',
      value: true,
      definition: { name: 'ESG' },
    });
    const removed = await operator(
      `mutation { setMemberTags(memberId: "M0001", tags: [], removeCodes: ["esg_interest"]) { segmentCodes } }`,
    );
    expect(removed.data?.setMemberTags.segmentCodes).not.toContain('ESG_FANS');
  });

  it('sets aum_band with aum and removes it with aum, so the band never tells another figure', async () => {
    const tagsOf = (answer: { data?: Record<string, { tags: { code: string; value: unknown }[] }> | null }) =>
      Object.fromEntries((answer.data?.setMemberTags?.tags ?? []).map(({ code, value }) => [code, value]));
    const set = await operator(
      `mutation { setMemberTags(memberId: "M0011", tags: [{ code: "aum", value: 750000 }]) { tags { code value } } }`,
    );
    expect(set.errors).toBeUndefined();
    expect(tagsOf(set)).toMatchObject({ aum: 750_000, aum_band: '500K-6M' });
    const [stored] = await members.repos.members.findByIds(['M0011']);
    expect(stored?.tags).toMatchObject({ aum: 750_000, aum_band: '500K-6M' });
    const removed = await operator(
      `mutation { setMemberTags(memberId: "M0011", tags: [], removeCodes: ["aum"]) { tags { code value } } }`,
    );
    expect(tagsOf(removed)).not.toHaveProperty('aum');
    expect(tagsOf(removed)).not.toHaveProperty('aum_band');
  });

  it('sets and removes a tag named like a member every object inherits (constructor)', async () => {
    await operator(
      `mutation { defineTags(tags: [{ code: "constructor", name: "Builder", category: "profession", valueType: BOOLEAN, source: MANUAL }]) { code } }`,
    );
    const set = await operator(
      `mutation { setMemberTags(memberId: "M0003", tags: [{ code: "constructor", value: true }]) { tags { code value } } }`,
    );
    expect(set.data?.setMemberTags.tags).toContainEqual({ code: 'constructor', value: true });
    const removed = await operator(
      `mutation { setMemberTags(memberId: "M0003", tags: [], removeCodes: ["constructor"]) { tags { code } } }`,
    );
    expect(removed.errors).toBeUndefined();
    expect(removed.data?.setMemberTags.tags).not.toContainEqual({ code: 'constructor' });
  });

  it('audits 30 concurrent taggings of one member as one chain: each before is what that write replaced', async () => {
    await operator(
      `mutation { defineTags(tags: [{ code: "visits", name: "Visits", category: "behaviour", valueType: NUMBER, source: MANUAL }]) { code } }`,
    );
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        operator(
          `mutation ($value: JSON!) { setMemberTags(memberId: "M0007", tags: [{ code: "visits", value: $value }]) { tags { code value } } }`,
          { value: i + 1 },
        ),
      ),
    );
    expect(answers.flatMap((answer) => answer.errors ?? [])).toEqual([]);
    // Each call answers the member as its own write left it.
    answers.forEach((answer, i) =>
      expect(answer.data?.setMemberTags.tags).toContainEqual({ code: 'visits', value: i + 1 }),
    );
    const visits = (state: unknown) => (state as { tags: Record<string, unknown> }).tags.visits ?? null;
    const audit = await members.repos.audit.forTarget('Member', 'M0007');
    const befores = audit.map((record) => visits(record.before));
    const afters = audit.map((record) => visits(record.after));
    expect(new Set(afters)).toEqual(new Set(Array.from({ length: 30 }, (_, i) => i + 1)));
    // Writes to one document are serialized, so the 30 records chain from "no value" to the value stored: every
    // before is distinct and is another record's after, except the first write's.
    expect(new Set(befores).size).toBe(30);
    expect(befores.filter((before) => !afters.includes(before))).toEqual([null]);
    const [stored] = await members.repos.members.findByIds(['M0007']);
    expect(afters.filter((after) => !befores.includes(after))).toEqual([stored?.tags.visits]);
  });

  it('rejects a value of the wrong type and leaves the member unchanged', async () => {
    const [before] = await members.repos.members.findByIds(['M0002']);
    const response = await operator(
      `mutation { setMemberTags(memberId: "M0002", tags: [{ code: "student", value: true }, { code: "aum", value: "lots" }]) { id } }`,
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'tags[1].value',
    });
    const [after] = await members.repos.members.findByIds(['M0002']);
    expect(after).toEqual(before);
  });

  it('rejects one tag given two values in one call, naming the second, and leaves the member unchanged', async () => {
    const [before] = await members.repos.members.findByIds(['M0002']);
    const response = await operator(
      `mutation { setMemberTags(memberId: "M0002", tags: [{ code: "student", value: true }, { code: "student", value: false }]) { id } }`,
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags[1].code' });
    const [after] = await members.repos.members.findByIds(['M0002']);
    expect(after).toEqual(before);
  });

  it('rejects an unknown tag code and an unknown member', async () => {
    const unknownTag = await operator(
      `mutation { setMemberTags(memberId: "M0002", tags: [{ code: "nope", value: 1 }]) { id } }`,
    );
    expect(unknownTag.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'tags[0].code',
    });
    const unknownMember = await operator(
      `mutation { setMemberTags(memberId: "M777777", tags: [{ code: "student", value: true }]) { id } }`,
    );
    expect(errorCodes(unknownMember)).toEqual(['NOT_FOUND']);
  });

  it('repeats at most 64 characters of an unknown tag or segment code of 100,000 it refuses', async () => {
    const long = 'x'.repeat(100_000);
    const SET = `mutation ($tags: [MemberTagInput!]!, $remove: [String!]) {
      setMemberTags(memberId: "M0002", tags: $tags, removeCodes: $remove) { id }
    }`;
    const refusals = [
      [await operator(SET, { tags: [{ code: long, value: 1 }] }), 'tags[0].code'],
      [await operator(SET, { tags: [], remove: [long] }), 'removeCodes[0]'],
      [
        await operator(
          'query ($code: String) { members(filter: { segmentCode: $code }) { edges { cursor } } }',
          {
            code: long,
          },
        ),
        'filter.segmentCode',
      ],
    ] as const;
    for (const [response, field] of refusals) {
      expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      const message = response.errors?.[0]?.message ?? '';
      // Lengths, not the message: a failure would print all of it.
      expect([field, message.includes('x'.repeat(64)), message.includes('x'.repeat(65))]).toEqual([
        field,
        true,
        false,
      ]);
    }
  });

  it('refuses tags past 100 on a member, also set by 12 calls at once, with BAD_USER_INPUT at tags, storing nothing', async () => {
    const codes = Array.from({ length: 120 }, (_, i) => `cap_${i}`);
    const define = (batch: string[]) =>
      operator(`mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`, {
        tags: batch.map((code) => ({
          code,
          name: code,
          category: 'behaviour',
          valueType: 'BOOLEAN',
          source: 'MANUAL',
        })),
      });
    expect((await define(codes.slice(0, 100))).errors).toBeUndefined();
    expect((await define(codes.slice(100))).errors).toBeUndefined();
    const SET = `mutation ($tags: [MemberTagInput!]!, $remove: [String!]) {
      setMemberTags(memberId: "M0011", tags: $tags, removeCodes: $remove) { tags { code } }
    }`;
    const [before] = await members.repos.members.findByIds(['M0011']);
    const seededCount = Object.keys(before!.tags).length;
    const calls = Array.from({ length: 12 }, (_, i) => codes.slice(i * 10, i * 10 + 10));
    const answers = await Promise.all(
      calls.map((batch) => operator(SET, { tags: batch.map((code) => ({ code, value: true })) })),
    );
    const accepted = calls.filter((_, i) => !answers[i]!.errors);
    const refused = answers.flatMap((answer) => answer.errors ?? []).map((error) => error.extensions);
    expect(accepted).toHaveLength(Math.floor((100 - seededCount) / 10));
    expect(refused).toEqual(
      Array.from({ length: 12 - accepted.length }, () =>
        expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'tags' }),
      ),
    );
    const [after] = await members.repos.members.findByIds(['M0011']);
    expect(Object.keys(after!.tags).sort()).toEqual(
      [...Object.keys(before!.tags), ...accepted.flat()].sort(),
    );
    // At the limit a member's tags may still be replaced and removed.
    const stored = accepted[0]!;
    const replaced = await operator(SET, { tags: [{ code: stored[0], value: false }], remove: [stored[1]] });
    expect(replaced.errors).toBeUndefined();
  });

  it('refuses a list of over 4,096 characters and descriptions of over 500, storing nothing', async () => {
    const [before] = await members.repos.members.findByIds(['M0012']);
    const list = await operator(
      `mutation ($value: JSON!) { setMemberTags(memberId: "M0012", tags: [{ code: "interests", value: $value }]) { id } }`,
      { value: Array.from({ length: 20 }, (_, i) => `${i}`.padEnd(256, 'x')) },
    );
    expect(list.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags[0].value' });
    const [after] = await members.repos.members.findByIds(['M0012']);
    expect(after).toEqual(before);
    const long = 'd'.repeat(501);
    const segment = await operator(UPSERT_SEGMENT, {
      input: {
        code: 'LONG_STORY',
        name: 'x',
        description: long,
        rule: { field: 'level', op: 'eq', value: 'GOLD' },
      },
    });
    expect(segment.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.description',
    });
    expect(await members.repos.segments.findByCode('LONG_STORY')).toBeNull();
    const tag = await operator(
      `mutation ($description: String) { defineTags(tags: [{ code: "long_story", name: "x", category: "behaviour", valueType: BOOLEAN, source: MANUAL, description: $description }]) { code } }`,
      { description: long },
    );
    expect(tag.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'tags[0].description',
    });
    expect((await members.repos.tagDefinitions.all()).map((definition) => definition._id)).not.toContain(
      'long_story',
    );
  });

  it('lets a segment compare a STRING tag with the longest value it may hold (256 characters)', async () => {
    await operator(
      `mutation { defineTags(tags: [{ code: "nickname", name: "Nickname", category: "profile", valueType: STRING, source: MANUAL }]) { code } }`,
    );
    const SET = `mutation ($value: JSON!) { setMemberTags(memberId: "M0013", tags: [{ code: "nickname", value: $value }]) { id } }`;
    const longest = 'n'.repeat(256);
    expect((await operator(SET, { value: longest })).errors).toBeUndefined();
    const segment = await operator(UPSERT_SEGMENT, {
      input: {
        code: 'LONG_NICKNAME',
        name: 'Long nickname',
        rule: { field: 'tag.nickname', op: 'eq', value: longest },
      },
    });
    expect(segment.errors).toBeUndefined();
    expect(segment.data?.upsertSegment.audienceSize).toBe(1);
    const tooLong = await operator(SET, { value: `${longest}n` });
    expect(tooLong.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags[0].value' });
  });

  it('refuses to change the value type of an existing tag', async () => {
    const response = await operator(
      `mutation { defineTags(tags: [{ code: "aum", name: "AUM", category: "asset", valueType: STRING, source: IMPORTED }]) { code } }`,
    );
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'tags[0].valueType',
    });
  });

  it('keeps a new tag’s value type when two operators define it at once with different types', async () => {
    const define = (code: string, valueType: string) =>
      operator(
        `mutation { defineTags(tags: [{ code: "${code}", name: "Race", category: "behaviour", valueType: ${valueType}, source: MANUAL }]) { code valueType } }`,
      );
    const codes = Array.from({ length: 10 }, (_, i) => `race_${i}`);
    const pairs = await Promise.all(
      codes.map((code) => Promise.all([define(code, 'NUMBER'), define(code, 'STRING')])),
    );
    const stored = new Map(
      (await members.repos.tagDefinitions.all()).map((definition) => [definition._id, definition.valueType]),
    );
    for (const [i, answers] of pairs.entries()) {
      const code = codes[i]!;
      // One call defines the tag; the other is refused, as it would be a moment later, and changes nothing.
      const defined = answers.filter((answer) => !answer.errors).map((answer) => answer.data?.defineTags[0]);
      expect([code, defined]).toEqual([code, [{ code, valueType: stored.get(code) }]]);
      const refused = answers.flatMap((answer) => answer.errors ?? []).map((error) => error.extensions);
      expect(refused).toEqual([
        expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'tags[0].valueType' }),
      ]);
      const audit = await members.repos.audit.forTarget('TagDefinition', code);
      expect(audit.map((record) => (record.after as { valueType: string }).valueType)).toEqual([
        stored.get(code),
      ]);
    }
    // Defined alike at once, both calls succeed.
    const alike = await Promise.all([define('alike', 'NUMBER'), define('alike', 'NUMBER')]);
    expect(alike.flatMap((answer) => answer.errors ?? [])).toEqual([]);
    expect(await members.repos.audit.forTarget('TagDefinition', 'alike')).toHaveLength(2);
  });

  it('keeps a tag whose defineTags call is under way out of the library, and frees it a minute after its process stopped', async () => {
    // What a call leaves between taking a place for a new tag and storing its last one.
    await members.repos.tagDefinitions.model.collection.insertOne({
      _id: 'half_defined' as never,
      name: 'Half defined',
      category: 'behaviour',
      valueType: 'NUMBER',
      source: 'MANUAL',
      description: null,
      updatedAt: new Date(),
      slot: 999,
      pendingCall: 'a-call-under-way',
      pendingSince: new Date(),
    });
    await changedBehindTheHubsBack(members.connection);
    const library = await operator(`{ tagDefinitions { code } }`);
    expect(library.data?.tagDefinitions).not.toContainEqual({ code: 'half_defined' });
    const set = await operator(
      `mutation { setMemberTags(memberId: "M0002", tags: [{ code: "half_defined", value: 1 }]) { id } }`,
    );
    expect(set.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tags[0].code' });

    // Its process stopped mid-call a minute ago: the code and the place are free again, for any value type.
    await members.repos.tagDefinitions.model.collection.updateOne(
      { _id: 'half_defined' as never },
      {
        $set: { pendingSince: new Date(Date.now() - 61_000) },
      },
    );
    const defined = await operator(
      `mutation { defineTags(tags: [{ code: "half_defined", name: "Whole", category: "behaviour", valueType: BOOLEAN, source: MANUAL }]) { code valueType } }`,
    );
    expect(defined.errors).toBeUndefined();
    expect(defined.data?.defineTags).toEqual([{ code: 'half_defined', valueType: 'BOOLEAN' }]);
    const audit = await members.repos.audit.forTarget('TagDefinition', 'half_defined');
    expect(audit.map((record) => record.before)).toEqual([null]);
  });
});

describe('awardPoints', () => {
  const AWARD = `mutation ($memberId: ID!, $amount: Int!, $key: String!) {
    awardPoints(memberId: $memberId, amount: $amount, reason: "campaign", idempotencyKey: $key) { id amount balanceAfter levelAfter }
  }`;

  it('moves the member up a level when a threshold is crossed', async () => {
    const response = await operator(AWARD, { memberId: 'M0001', amount: 5_000, key: 'level-up-M0001' });
    expect(response.data?.awardPoints).toMatchObject({
      amount: 5_000,
      balanceAfter: 5_120,
      levelAfter: 'GOLD',
    });
    const viewer = await member('{ viewer { points growthPoints level { code } pointsLedger { amount } } }');
    expect(viewer.data?.viewer).toMatchObject({
      points: 5_120,
      growthPoints: 5_120,
      level: { code: 'GOLD' },
    });
    expect(viewer.data?.viewer.pointsLedger).toEqual([{ amount: 5_000 }]);
  });

  it('returns the first entry for a reused key and refuses a different award under it for good', async () => {
    const first = await operator(AWARD, { memberId: 'M0003', amount: 10, key: 'reuse-key-1' });
    const again = await operator(AWARD, { memberId: 'M0003', amount: 10, key: 'reuse-key-1' });
    expect(again.data?.awardPoints).toEqual(first.data?.awardPoints);
    const different = await operator(AWARD, { memberId: 'M0003', amount: 99, key: 'reuse-key-1' });
    expect(errorCodes(different)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it.each([
    [{ memberId: 'M0001', amount: 0, key: 'bad-amount-1' }, 'amount'],
    [{ memberId: 'M0001', amount: -5, key: 'bad-amount-2' }, 'amount'],
    [{ memberId: 'M0001', amount: 5, key: 'short' }, 'idempotencyKey'],
  ])('rejects %j at %s without writing', async (variables, field) => {
    const response = await operator(AWARD, variables);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(await members.repos.ledger.countForKey(variables.key)).toBe(0);
  });

  it('answers NOT_FOUND for an unknown member', async () => {
    const response = await operator(AWARD, { memberId: 'M404404', amount: 5, key: 'unknown-member-1' });
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
  });

  it('answers NOT_FOUND for a 100 KB member id without sending it back whole', async () => {
    const memberId = 'M'.repeat(100_000);
    const response = await operator(AWARD, { memberId, amount: 5, key: 'unknown-member-2' });
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
    expect(JSON.stringify(response.errors).length).toBeLessThan(1_000);
  });

  it("shows a member their own ledger and no one else's, even through entity resolution", async () => {
    const ENTITIES = `query ($representations: [_Any!]!) {
      _entities(representations: $representations) { ... on Member { id pointsLedger { amount } } }
    }`;
    const own = await member(ENTITIES, { representations: [{ __typename: 'Member', id: 'M0001' }] });
    expect(own.errors).toBeUndefined();
    const other = await member(ENTITIES, { representations: [{ __typename: 'Member', id: 'M0002' }] });
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
  });
});

/**
 * Runs `run` while `act` is made to happen once, right after the first read of `memberId`'s document returns and
 * before the reader acts on it (what another process did in between); checks that it happened.
 */
async function afterNextReadOf<T>(
  memberId: string,
  act: () => Promise<unknown>,
  run: () => Promise<T>,
): Promise<T> {
  const model = members.repos.members.model;
  let pending: (() => Promise<unknown>) | null = act;
  const find = model.find.bind(model);
  const spy = jest.spyOn(model, 'find').mockImplementation(((filter: Record<string, unknown>) => {
    const query = find(filter);
    if (!JSON.stringify(filter).includes(memberId)) return query;
    const exec = query.exec.bind(query);
    query.exec = async () => {
      const read = await exec();
      const next = pending;
      pending = null;
      if (next) await next();
      return read;
    };
    return query;
  }) as unknown as typeof model.find);
  let result: T;
  try {
    result = await run();
  } finally {
    spy.mockRestore();
  }
  expect(pending).toBeNull();
  return result;
}

describe('spendPoints and refundPoints', () => {
  const ENTRY = 'id kind amount balanceAfter levelAfter';
  const SPEND = `mutation ($memberId: ID!, $amount: Int!, $key: String!) {
    spendPoints(memberId: $memberId, amount: $amount, reason: "points mall", idempotencyKey: $key) { ${ENTRY} }
  }`;
  const REFUND = `mutation ($memberId: ID!, $spendKey: String!, $amount: Int!, $key: String!) {
    refundPoints(memberId: $memberId, spendKey: $spendKey, amount: $amount, reason: "sold out", idempotencyKey: $key) {
      ${ENTRY} refundOf
    }
  }`;
  const AWARD_AS = `mutation ($memberId: ID!, $amount: Int!, $key: String!) {
    awardPoints(memberId: $memberId, amount: $amount, reason: "task reward", idempotencyKey: $key) { ${ENTRY} }
  }`;
  let service: SendAs;

  beforeAll(() => {
    service = members.as('svc.engagement', ['service']);
  });

  async function balances(memberId: string) {
    const [found] = await members.repos.members.findByIds([memberId]);
    return { points: found!.points, growthPoints: found!.growthPoints, levelCode: found!.levelCode };
  }

  it('takes spendable points only, as a negative entry, once per key', async () => {
    await service(AWARD_AS, { memberId: 'M0010', amount: 300, key: 'spend-setup-M0010' });
    const before = await balances('M0010');
    const spent = await service(SPEND, { memberId: 'M0010', amount: 120, key: 'spend-once-M0010' });
    expect(spent.data?.spendPoints).toMatchObject({
      kind: 'SPEND',
      amount: -120,
      balanceAfter: before.points - 120,
      levelAfter: before.levelCode,
    });
    const again = await service(SPEND, { memberId: 'M0010', amount: 120, key: 'spend-once-M0010' });
    expect(again.data?.spendPoints).toEqual(spent.data?.spendPoints);
    expect(await balances('M0010')).toEqual({ ...before, points: before.points - 120 });
  });

  it('refuses a spend the balance does not cover, storing nothing and giving the key back', async () => {
    const before = await balances('M0011');
    const ledgerBefore = await members.repos.ledger.newestFor('M0011', 100);
    const refused = await service(SPEND, {
      memberId: 'M0011',
      amount: before.points + 1,
      key: 'spend-too-much-M0011',
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'INSUFFICIENT_POINTS', field: 'amount' });
    expect(await balances('M0011')).toEqual(before);
    expect(await members.repos.ledger.newestFor('M0011', 100)).toEqual(ledgerBefore);
    expect(await members.repos.ledger.countForKey('spend-too-much-M0011')).toBe(0);
  });

  /** A spend whose writer stalled after storing it, past its lease: a retry of its key may take it over. */
  const stalledSpend = (id: string, key: string, memberId: string, amount: number) =>
    members.repos.ledger.model.create({
      _id: id,
      memberId,
      kind: 'SPEND',
      amount: -amount,
      reason: 'points mall',
      idempotencyKey: key,
      state: 'PENDING',
      leaseUntil: new Date(Date.now() - 1_000),
      balanceAfter: null,
      levelAfter: null,
      createdAt: new Date(),
      createdBy: 'svc.engagement',
    });

  it('keeps a stalled writer from applying a spend a retry of its key refused', async () => {
    await members.repos.members.model.updateOne({ _id: 'M0013' }, { $set: { points: 50 } });
    await stalledSpend('PE-stalled-spend', 'stalled-spend-M0013', 'M0013', 100);
    const refused = await service(SPEND, { memberId: 'M0013', amount: 100, key: 'stalled-spend-M0013' });
    expect(errorCodes(refused)).toEqual(['INSUFFICIENT_POINTS']);
    expect(await members.repos.ledger.countForKey('stalled-spend-M0013')).toBe(0);
    await service(AWARD_AS, { memberId: 'M0013', amount: 100, key: 'stalled-spend-credit-M0013' });
    // The stalled writer wakes up with the balance covering its spend now: the refusal stands, no entry is left to
    // account for it, and its key is free for a new spend.
    const woken = await members.repos.members.applyPoints('M0013', 'PE-stalled-spend', {
      points: -100,
      growthPoints: 0,
    });
    expect(woken).toBeNull();
    expect((await balances('M0013')).points).toBe(150);
  });

  it('keeps a spend a stalled writer applied while a retry of its key found the balance short', async () => {
    const model = members.repos.members.model;
    await model.updateOne({ _id: 'M0014' }, { $set: { points: 50 } });
    await stalledSpend('PE-raced-spend', 'raced-spend-M0014', 'M0014', 100);
    // Right after the retry reads the member (50 points, the spend not applied), an award lands and the stalled
    // writer applies the spend: the retry's reading is out of date before it acts on it.
    const retry = await afterNextReadOf(
      'M0014',
      async () => {
        await model.updateOne({ _id: 'M0014' }, { $inc: { points: 100 } });
        await members.repos.members.applyPoints('M0014', 'PE-raced-spend', { points: -100, growthPoints: 0 });
      },
      () => service(SPEND, { memberId: 'M0014', amount: 100, key: 'raced-spend-M0014' }),
    );
    expect(retry.errors).toBeUndefined();
    expect(retry.data?.spendPoints).toMatchObject({ id: 'PE-raced-spend', amount: -100, balanceAfter: 50 });
    expect((await balances('M0014')).points).toBe(50);
    expect(await members.repos.ledger.findByKey('raced-spend-M0014')).toMatchObject({ state: 'APPLIED' });
  });

  it('never tells a writer that stalled past its lease its spend was refused when a retry of its key applied it', async () => {
    const model = members.repos.members.model;
    await model.updateOne({ _id: 'M0016' }, { $set: { points: 50 } });
    // Right after the writer reads the member (50 points), it stalls past its lease; meanwhile an award lands and a
    // retry of its key takes the spend over and applies it. The writer then acts on its stale reading.
    let retried: Awaited<ReturnType<SendAs>> | null = null;
    const writer = await afterNextReadOf(
      'M0016',
      async () => {
        await model.updateOne({ _id: 'M0016' }, { $inc: { points: 100 } });
        await members.repos.ledger.model.updateOne(
          { idempotencyKey: 'owner-stalled-M0016' },
          { $set: { leaseUntil: new Date(Date.now() - 1_000) } },
        );
        retried = await service(SPEND, { memberId: 'M0016', amount: 100, key: 'owner-stalled-M0016' });
      },
      () => service(SPEND, { memberId: 'M0016', amount: 100, key: 'owner-stalled-M0016' }),
    );
    expect(retried!.errors).toBeUndefined();
    const entry = await members.repos.ledger.findByKey('owner-stalled-M0016');
    expect(entry).toMatchObject({ state: 'APPLIED', amount: -100 });
    expect((await balances('M0016')).points).toBe(50);
    // The points are gone: the writer's caller must hear so, not INSUFFICIENT_POINTS.
    expect(writer.errors).toBeUndefined();
    expect(writer.data?.spendPoints).toMatchObject({ id: entry!._id, amount: -100, balanceAfter: 50 });
  });

  it('lets a member stored past the largest balance (before the bound) spend, as the balance covers it', async () => {
    await members.repos.members.model.updateOne({ _id: 'M0015' }, { $set: { points: 2_147_484_647 } });
    const spent = await service(
      `mutation { spendPoints(memberId: "M0015", amount: 100, reason: "points mall", idempotencyKey: "past-the-bound-M0015") { kind amount } }`,
    );
    expect(spent.errors).toBeUndefined();
    expect(spent.data?.spendPoints).toEqual({ kind: 'SPEND', amount: -100 });
    expect((await balances('M0015')).points).toBe(2_147_484_547);
  });

  /** A spend of `amount` by a member given the points for it first; returns the spend's entry id. */
  async function spent(memberId: string, amount: number, spendKey: string): Promise<string> {
    await service(AWARD_AS, { memberId, amount, key: `credit-for-${spendKey}` });
    const spend = await service(SPEND, { memberId, amount, key: spendKey });
    expect(spend.errors).toBeUndefined();
    return spend.data?.spendPoints.id as string;
  }

  it('gives back spendable points of a spend with a refund, never growth points', async () => {
    const spendId = await spent('M0012', 40, 'refund-spend-M0012-1');
    const before = await balances('M0012');
    const refunded = await service(REFUND, {
      memberId: 'M0012',
      spendKey: 'refund-spend-M0012-1',
      amount: 40,
      key: 'refund-M0012-1',
    });
    expect(refunded.data?.refundPoints).toMatchObject({ kind: 'REFUND', amount: 40, refundOf: spendId });
    expect(await balances('M0012')).toEqual({ ...before, points: before.points + 40 });
  });

  it('never gives back more of a spend than it took, in one refund or several under other keys', async () => {
    await spent('M0017', 100, 'refund-spend-M0017');
    const refund = (amount: number, key: string) =>
      service(REFUND, { memberId: 'M0017', spendKey: 'refund-spend-M0017', amount, key });
    const before = await balances('M0017');
    expect(errorCodes(await refund(101, 'refund-M0017-whole'))).toEqual(['REFUND_EXCEEDS_SPEND']);
    const first = await refund(60, 'refund-M0017-1');
    expect(first.errors).toBeUndefined();
    const over = await refund(41, 'refund-M0017-2');
    expect(over.errors?.[0]?.extensions).toMatchObject({
      code: 'REFUND_EXCEEDS_SPEND',
      field: 'amount',
      spent: 100,
      refunded: 60,
    });
    expect((await refund(40, 'refund-M0017-3')).errors).toBeUndefined();
    expect(errorCodes(await refund(1, 'refund-M0017-4'))).toEqual(['REFUND_EXCEEDS_SPEND']);
    // A retry of a refund given is answered with it, also once the spend is refunded in full.
    expect((await refund(60, 'refund-M0017-1')).data?.refundPoints).toEqual(first.data?.refundPoints);
    expect(await balances('M0017')).toEqual({ ...before, points: before.points + 100 });
    // The refused refunds stored nothing and gave their keys back.
    for (const key of ['refund-M0017-whole', 'refund-M0017-2', 'refund-M0017-4'])
      expect(await members.repos.ledger.countForKey(key)).toBe(0);
  });

  it('refunds only a spend of the same member, answering another member’s spend as one that does not exist', async () => {
    await spent('M0018', 50, 'refund-spend-M0018');
    await service(AWARD_AS, { memberId: 'M0019', amount: 50, key: 'refund-award-M0019' });
    const before = await storedState({ members: members.connection });
    const refund = (memberId: string, spendKey: string, amount = 10) =>
      service(REFUND, { memberId, spendKey, amount, key: `refund-of-${spendKey}-by-${memberId}` });
    const otherMember = await refund('M0019', 'refund-spend-M0018');
    const noSpend = await refund('M0019', 'refund-spend-nowhere');
    expect(otherMember.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'spendKey' });
    expect(otherMember.errors?.[0]?.message).toBe(
      noSpend.errors?.[0]?.message.replace('refund-spend-nowhere', 'refund-spend-M0018'),
    );
    expect(errorCodes(noSpend)).toEqual(['NOT_FOUND']);
    const notASpend = await refund('M0019', 'refund-award-M0019');
    expect(notASpend.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'spendKey' });
    expect(await storedState({ members: members.connection })).toEqual(before);
  });

  it('refunds a spend only once it is applied: one still in progress is CONFLICT', async () => {
    await stalledSpend('PE-pending-spend', 'pending-spend-M0022', 'M0022', 10);
    const refund = await service(REFUND, {
      memberId: 'M0022',
      spendKey: 'pending-spend-M0022',
      amount: 10,
      key: 'refund-pending-M0022',
    });
    expect(refund.errors?.[0]?.extensions).toMatchObject({ code: 'CONFLICT', field: 'spendKey' });
    expect(await members.repos.ledger.countForKey('refund-pending-M0022')).toBe(0);
  });

  it('counts a refund whose writer died after counting it against its spend once, when a retry finishes it', async () => {
    const spendId = await spent('M0023', 50, 'refund-spend-M0023');
    const entry = {
      _id: 'PE-refund-died',
      memberId: 'M0023',
      kind: 'REFUND' as const,
      amount: 50,
      reason: 'sold out',
      idempotencyKey: 'refund-died-M0023',
      refundOf: spendId,
      state: 'PENDING' as const,
      leaseUntil: new Date(Date.now() - 1_000),
      balanceAfter: null,
      levelAfter: null,
      createdAt: new Date(),
      createdBy: 'svc.engagement',
    };
    await members.repos.ledger.model.create(entry);
    expect(await members.repos.ledger.reserveRefund(spendId, entry._id, 50)).toBe(true);
    const before = await balances('M0023');
    const retry = await service(REFUND, {
      memberId: 'M0023',
      spendKey: 'refund-spend-M0023',
      amount: 50,
      key: 'refund-died-M0023',
    });
    expect(retry.data?.refundPoints).toMatchObject({ id: 'PE-refund-died', amount: 50, refundOf: spendId });
    expect(await balances('M0023')).toEqual({ ...before, points: before.points + 50 });
    expect(await members.repos.ledger.findByKey('refund-spend-M0023')).toMatchObject({
      refunded: 50,
      refunds: ['PE-refund-died'],
    });
  });

  it('leaves the room of a refund refused for the balance limit to the spend’s next refund', async () => {
    await spent('M0024', 100, 'refund-spend-M0024');
    const refund = (key: string) =>
      service(REFUND, { memberId: 'M0024', spendKey: 'refund-spend-M0024', amount: 100, key });
    const model = members.repos.members.model;
    await model.updateOne({ _id: 'M0024' }, { $set: { points: 2_147_483_600 } });
    expect(errorCodes(await refund('refund-M0024-1'))).toEqual(['BALANCE_LIMIT_REACHED']);
    await model.updateOne({ _id: 'M0024' }, { $set: { points: 0 } });
    expect((await refund('refund-M0024-2')).errors).toBeUndefined();
    expect((await balances('M0024')).points).toBe(100);
    expect(await members.repos.ledger.findByKey('refund-spend-M0024')).toMatchObject({ refunded: 100 });
  });

  it('takes at most 100 refunds of one spend', async () => {
    await spent('M0025', 200, 'refund-spend-M0025');
    const refund = (i: number) =>
      service(REFUND, {
        memberId: 'M0025',
        spendKey: 'refund-spend-M0025',
        amount: 1,
        key: `refund-M0025-${i}`,
      });
    for (let i = 0; i < 100; i++) expect((await refund(i)).errors).toBeUndefined();
    expect(errorCodes(await refund(100))).toEqual(['REFUND_EXCEEDS_SPEND']);
    expect(await members.repos.ledger.findByKey('refund-spend-M0025')).toMatchObject({ refunded: 100 });
  });

  it('answers a refund key sent again for another spend IDEMPOTENCY_KEY_REUSED', async () => {
    await spent('M0021', 30, 'refund-spend-M0021-1');
    await spent('M0021', 30, 'refund-spend-M0021-2');
    const refund = (spendKey: string) =>
      service(REFUND, { memberId: 'M0021', spendKey, amount: 10, key: 'refund-M0021' });
    expect((await refund('refund-spend-M0021-1')).errors).toBeUndefined();
    expect(errorCodes(await refund('refund-spend-M0021-2'))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it('refuses a key reused for another kind of entry', async () => {
    await spent('M0012', 5, 'kind-reuse-spend-M0012');
    await service(REFUND, {
      memberId: 'M0012',
      spendKey: 'kind-reuse-spend-M0012',
      amount: 5,
      key: 'kind-reuse-M0012',
    });
    const reused = await service(AWARD_AS, { memberId: 'M0012', amount: 5, key: 'kind-reuse-M0012' });
    expect(errorCodes(reused)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
  });

  it('are the hub’s own: an operator or member may not spend or refund', async () => {
    for (const caller of [operator, member]) {
      const spend = await caller(SPEND, { memberId: 'M0001', amount: 1, key: 'spend-forbidden-1' });
      const refund = await caller(REFUND, {
        memberId: 'M0001',
        spendKey: 'spend-forbidden-1',
        amount: 1,
        key: 'refund-forbidden-1',
      });
      expect([...errorCodes(spend), ...errorCodes(refund)]).toEqual(['FORBIDDEN', 'FORBIDDEN']);
    }
    expect(await members.repos.ledger.countForKey('spend-forbidden-1')).toBe(0);
  });
});

describe('applyLifecycle', () => {
  const APPLY = `mutation ($results: [LifecycleResultInput!]!) {
    applyLifecycle(results: $results) { stagesChanged tagsChanged unchanged unknownMemberIds }
  }`;

  it('reports member ids that name no member instead of counting them unchanged, and writes nothing for them', async () => {
    const service = members.as('svc.analytics', ['service']);
    const results = [
      { memberId: 'M0020', stage: 'REVENUE', tags: [] },
      { memberId: 'NO_SUCH_MEMBER', stage: 'REVENUE', tags: [] },
    ];
    await service(APPLY, { results });
    const again = await service(APPLY, { results });
    expect(again.errors).toBeUndefined();
    expect(again.data?.applyLifecycle).toEqual({
      stagesChanged: 0,
      tagsChanged: 0,
      unchanged: 1,
      unknownMemberIds: ['NO_SUCH_MEMBER'],
    });
    expect(await members.repos.members.findByIds(['NO_SUCH_MEMBER'])).toEqual([]);
  });

  it.each([
    ['200 characters long', 'M'.repeat(200)],
    ['with a space', 'M 0035'],
    ['with a $', '$M0035'],
    ['in full-width letters', 'Ｍ００３５'],
    ['naming a guest', 'guest:device-0001'],
  ])(
    'refuses a member id %s as BAD_USER_INPUT naming the field, and writes nothing of the call',
    async (_what, memberId) => {
      const service = members.as('svc.analytics', ['service']);
      const before = (await members.repos.members.findByIds(['M0035']))[0];
      const response = await service(APPLY, {
        results: [
          { memberId: 'M0035', stage: 'REFERRAL', tags: [] },
          { memberId, stage: 'REFERRAL', tags: [] },
        ],
      });
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'results[1].memberId',
      });
      expect(response.errors?.[0]?.message).not.toContain(memberId);
      expect((await members.repos.members.findByIds(['M0035']))[0]).toEqual(before);
    },
  );

  const APPLY_REFUSING = `mutation ($results: [LifecycleResultInput!]!) {
    applyLifecycle(results: $results) { stagesChanged tagsChanged refusedTags { code reason memberIds } }
  }`;
  const stored = async (memberId: string) => (await members.repos.members.findByIds([memberId]))[0];

  it('applies stages and the tags still COMPUTED when an operator made one MANUAL or it left the library, and reports the refused ones', async () => {
    const defined = await operator(
      `mutation ($tags: [TagDefinitionInput!]!) { defineTags(tags: $tags) { code } }`,
      {
        tags: [
          {
            code: 'lc_score',
            name: 'Score',
            category: 'engagement',
            valueType: 'NUMBER',
            source: 'COMPUTED',
          },
          { code: 'lc_flag', name: 'Flag', category: 'engagement', valueType: 'BOOLEAN', source: 'MANUAL' },
        ],
      },
    );
    expect(defined.errors).toBeUndefined();
    const service = members.as('svc.analytics', ['service']);
    const tags = [
      { code: 'lc_score', value: 7 },
      { code: 'lc_flag', value: true },
      { code: 'lc_gone', value: 1 },
    ];
    const response = await service(APPLY_REFUSING, {
      results: [
        { memberId: 'M0040', stage: 'REFERRAL', tags },
        { memberId: 'M0041', stage: 'REFERRAL', tags },
      ],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.applyLifecycle).toEqual({
      stagesChanged: 2,
      tagsChanged: 2,
      refusedTags: [
        { code: 'lc_flag', reason: 'NOT_COMPUTED', memberIds: ['M0040', 'M0041'] },
        { code: 'lc_gone', reason: 'NOT_IN_LIBRARY', memberIds: ['M0040', 'M0041'] },
      ],
    });
    const member = await stored('M0041');
    expect(member?.lifecycleStage).toBe('REFERRAL');
    expect(member?.tags).toMatchObject({ lc_score: 7 });
    expect(member?.tags).not.toHaveProperty('lc_flag');
    expect(member?.tags).not.toHaveProperty('lc_gone');
  });

  it('refuses a value of the wrong type or with hidden characters for that member alone, as setMemberTags does', async () => {
    const service = members.as('svc.analytics', ['service']);
    const response = await service(APPLY_REFUSING, {
      results: [
        { memberId: 'M0042', stage: 'RETENTION', tags: [{ code: 'preferred_channel', value: 'APP\u200B' }] },
        { memberId: 'M0043', stage: 'RETENTION', tags: [{ code: 'preferred_channel', value: 7 }] },
        { memberId: 'M0044', stage: 'RETENTION', tags: [{ code: 'preferred_channel', value: 'WEB' }] },
      ],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.applyLifecycle.refusedTags).toEqual([
      { code: 'preferred_channel', reason: 'INVALID_VALUE', memberIds: ['M0042', 'M0043'] },
    ]);
    expect((await stored('M0042'))?.tags.preferred_channel).not.toBe('APP\u200B');
    expect((await stored('M0042'))?.lifecycleStage).toBe('RETENTION');
    expect((await stored('M0044'))?.tags.preferred_channel).toBe('WEB');
  });

  it('refuses a result that gives one tag twice, naming the second, and writes nothing of the call', async () => {
    const service = members.as('svc.analytics', ['service']);
    const before = await stored('M0047');
    const response = await service(APPLY_REFUSING, {
      results: [
        { memberId: 'M0048', stage: 'REFERRAL', tags: [{ code: 'rfm_score', value: 4 }] },
        {
          memberId: 'M0047',
          stage: 'REFERRAL',
          tags: [
            { code: 'rfm_score', value: 5 },
            { code: 'preferred_channel', value: 'WEB' },
            { code: 'rfm_score', value: 'five' },
          ],
        },
      ],
    });
    expect(response.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'results[1].tags[2].code',
    });
    expect(await stored('M0047')).toEqual(before);
    expect((await stored('M0048'))?.lifecycleStage).not.toBe('REFERRAL');
  });

  it('repeats at most 64 characters of an unknown tag code of 100,000 it refuses', async () => {
    const service = members.as('svc.analytics', ['service']);
    const response = await service(APPLY_REFUSING, {
      results: [{ memberId: 'M0049', stage: 'RETENTION', tags: [{ code: 'x'.repeat(100_000), value: 1 }] }],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.applyLifecycle.refusedTags).toEqual([
      { code: 'x'.repeat(64), reason: 'NOT_IN_LIBRARY', memberIds: ['M0049'] },
    ]);
  });

  it('never takes a member past 100 tags, and still moves their stage', async () => {
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`lc_many_${i}`, true]));
    await members.repos.members.model.updateOne({ _id: 'M0045' }, { $set: { tags: hundred } });
    await members.repos.members.model.updateOne(
      { _id: 'M0046' },
      { $set: { tags: { ...Object.fromEntries(Object.entries(hundred).slice(1)), rfm_score: 1 } } },
    );
    const service = members.as('svc.analytics', ['service']);
    const response = await service(APPLY_REFUSING, {
      results: [
        { memberId: 'M0045', stage: 'CHURNED', tags: [{ code: 'rfm_score', value: 2 }] },
        // At the bound already, a member's computed tags may still be replaced.
        { memberId: 'M0046', stage: 'CHURNED', tags: [{ code: 'rfm_score', value: 3 }] },
      ],
    });
    expect(response.errors).toBeUndefined();
    expect(response.data?.applyLifecycle).toEqual({
      stagesChanged: 2,
      tagsChanged: 1,
      refusedTags: [{ code: 'rfm_score', reason: 'TAG_LIMIT', memberIds: ['M0045'] }],
    });
    const full = await stored('M0045');
    expect(Object.keys(full?.tags ?? {})).toHaveLength(100);
    expect(full?.lifecycleStage).toBe('CHURNED');
    expect((await stored('M0046'))?.tags.rfm_score).toBe(3);
  });
});

describe('the points recovery job', () => {
  let recovering: MembersUnderTest;

  beforeAll(async () => {
    recovering = await startMembers('points-recovery', { config: { POINTS_RECOVERY_INTERVAL_MS: 100 } });
  });

  afterAll(() => recovering.stop());

  it("applies an operator's award whose writer died after storing it, once, with no retry of its key", async () => {
    const { repos } = recovering;
    await repos.members.model.updateOne(
      { _id: 'M0020' },
      { $set: { points: 100, growthPoints: 980, levelCode: 'STANDARD', levelRank: 1 } },
    );
    await repos.ledger.model.create({
      _id: 'PE-orphaned-award',
      memberId: 'M0020',
      kind: 'AWARD',
      amount: 70,
      reason: 'salon bonus',
      idempotencyKey: 'orphaned-award-M0020',
      state: 'PENDING',
      leaseUntil: new Date(Date.now() - 20 * 60_000),
      balanceAfter: null,
      levelAfter: null,
      createdAt: new Date(Date.now() - 20 * 60_000),
      createdBy: 'ops.alice',
    });
    const viewer = recovering.as('M0020', ['member']);
    const read = () =>
      viewer('{ viewer { points growthPoints level { code } pointsLedger { id balanceAfter } } }');
    const deadline = Date.now() + 5_000;
    while (
      (await repos.ledger.findByKey('orphaned-award-M0020'))?.state !== 'APPLIED' &&
      Date.now() < deadline
    )
      await new Promise((resolve) => setTimeout(resolve, 100));
    // Later passes leave it as it is.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const response = await read();
    expect(response.data?.viewer).toEqual({
      points: 170,
      growthPoints: 1_050,
      level: { code: 'SILVER' },
      pointsLedger: [{ id: 'PE-orphaned-award', balanceAfter: 170 }],
    });
    const [stored] = await repos.members.findByIds(['M0020']);
    expect(stored?.appliedEntries.filter((id) => id === 'PE-orphaned-award')).toHaveLength(1);
    const audit = await repos.audit.forTarget('Member', 'M0020');
    expect(audit.map((record) => [record.actor, record.action])).toEqual([
      ['members:points-recovery', 'awardPoints (completed by recovery)'],
    ]);
  });
});
