// The rule module evaluated in memory and the same rule compiled to a MongoDB filter select the same members,
// for every seeded segment, on the seeded population in a real MongoDB-wire server.
import { evaluate } from '@bank-hub/targeting';
import type { Connection } from 'mongoose';
import { dropAndClose, testDatabase } from '../../../test/support/env';
import { compileRule } from '../src/domain/segment-filter';
import { targetProfileOf } from '../src/domain/segments';
import { openRepositories, type MembersRepositories } from '../src/models';
import { DEMO_MEMBERS, SEGMENTS, generateMembers, seedMembers } from '../src/seed';

let connection: Connection;
let repos: MembersRepositories;

beforeAll(async () => {
  connection = await testDatabase('segments');
  repos = await openRepositories(connection);
  await seedMembers(repos);
});

afterAll(() => dropAndClose(connection));

describe('seeded segments', () => {
  const now = new Date('2026-11-25T00:00:00Z');

  it.each(SEGMENTS.map((segment) => [segment._id, segment]))(
    '%s: the compiled filter selects exactly the members the rule matches in memory',
    async (_code, segment) => {
      const members = await repos.members.all();
      const inMemory = members
        .filter((member) => evaluate(segment.rule, targetProfileOf(member, now)))
        .map((m) => m._id);
      const inDatabase = (
        await repos.members.model.find(compileRule(segment.rule, now), { _id: 1 }).sort({ _id: 1 }).lean()
      ).map((member) => member._id);
      expect(inDatabase).toEqual(inMemory);
      // A segment nobody or everybody matches would make this comparison meaningless.
      expect(inMemory.length).toBeGreaterThan(0);
      expect(inMemory.length).toBeLessThan(members.length);
    },
  );

  it('seeds at least 1,000 members, deterministically', async () => {
    expect(await repos.members.count({})).toBeGreaterThanOrEqual(1_000);
    expect(generateMembers(50)).toEqual(generateMembers(50));
  });

  it('gives the two demo members clearly different segments', async () => {
    const [young, wealthy] = DEMO_MEMBERS.map((member) => targetProfileOf(member, now));
    const codesOf = (profile: typeof young) =>
      SEGMENTS.filter((segment) => evaluate(segment.rule, profile!)).map((segment) => segment._id);
    expect(codesOf(young)).toEqual(['NEW_YOUNG', 'CONSERVATIVE_SAVERS']);
    expect(codesOf(wealthy)).toEqual(
      expect.arrayContaining(['WEALTH_CLIENTS', 'PRIVATE_BANKING', 'GROWTH_INVESTORS']),
    );
    expect(codesOf(wealthy)).not.toContain('NEW_YOUNG');
  });
});
