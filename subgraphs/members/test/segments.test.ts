// The rule module evaluated in memory and the same rule compiled to a MongoDB filter select the same members,
// for every seeded segment and for a few hundred random rules over every field and operator (names that every
// JavaScript object inherits among them), on the seeded population in a real MongoDB-wire server.
import {
  OPERATORS,
  evaluate,
  isLifecycleStage,
  type Operator,
  type Rule,
  type Scalar,
} from '@bank-hub/targeting';
import type { Connection } from 'mongoose';
import { dropAndClose, testDatabase } from '../../../test/support/env';
import { compileRule } from '../src/domain/segment-filter';
import { targetProfileOf } from '../src/domain/segments';
import { openRepositories, type MembersRepositories } from '../src/models';
import { parseSegmentRule } from '../src/domain/segments';
import { DEMO_MEMBERS, LEVELS, SEGMENTS, TAGS, generateMembers, seedMembers } from '../src/seed';

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

  it('stores every segment at version 1, as a segment created through the hub is', async () => {
    const stored = await repos.segments.all();
    expect(stored.map((segment) => segment._id).sort()).toEqual(
      SEGMENTS.map((segment) => segment._id).sort(),
    );
    expect(stored.filter((segment) => segment.version !== 1)).toEqual([]);
  });

  it('seeds at least 1,000 members, deterministically', async () => {
    expect(await repos.members.count({})).toBeGreaterThanOrEqual(1_000);
    expect(generateMembers(50)).toEqual(generateMembers(50));
  });

  it('stores every seeded member exactly as the schema casts it, defaults and field order included', async () => {
    const stored = await repos.members.model.collection.find({}).sort({ _id: 1 }).toArray();
    const cast = generateMembers(stored.length).map((member) =>
      new repos.members.model(member).toObject({ depopulate: true }),
    );
    expect(JSON.stringify(stored)).toBe(JSON.stringify(cast));
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

describe('random rules', () => {
  const now = new Date('2026-11-30T17:00:00Z');
  /**
   * Names every JavaScript object answers for though no document holds them. Attributes are camel case, so they
   * reach `toString` and friends; tag codes are lower snake case, which leaves `constructor` (also given to a few
   * members below as a real tag, so both "absent" and "present" are compared).
   */
  const INHERITED_ATTRIBUTES = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
  const INHERITED_TAGS = ['constructor', 'hasownproperty', 'valueof', 'tostring'];
  const RULES = 300;

  /** mulberry32: deterministic, so a disagreement found once is found again. */
  function prng(seed: number): () => number {
    let state = seed >>> 0;
    return () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    };
  }

  let members: Awaited<ReturnType<MembersRepositories['members']['all']>>;
  /** Values that occur in the population, per field, so random conditions select real members. */
  const seen = new Map<string, Scalar[]>();

  beforeAll(async () => {
    await repos.members.model.updateMany(
      { _id: { $in: ['M0002', 'M0100', 'M0200'] } },
      { $set: { 'tags.constructor': 'builder' } },
    );
    members = await repos.members.all();
    const note = (field: string, value: unknown) => {
      for (const element of Array.isArray(value) ? value : [value]) {
        if (typeof element !== 'string' && typeof element !== 'number' && typeof element !== 'boolean')
          continue;
        const values = seen.get(field) ?? [];
        if (values.length < 40 && !values.includes(element)) values.push(element);
        seen.set(field, values);
      }
    };
    for (const member of members) {
      const profile = targetProfileOf(member, now);
      for (const [field, value] of Object.entries({
        level: profile.level,
        levelRank: profile.levelRank,
        lifecycleStage: profile.lifecycleStage,
        riskLevel: profile.riskLevel,
      }))
        note(field, value);
      for (const [code, value] of Object.entries(member.tags)) note(`tag.${code}`, value);
      for (const [name, value] of Object.entries(member.attributes)) note(`attr.${name}`, value);
    }
  });

  function randomRules(): Rule[] {
    const next = prng(20261130);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
    const fields = [
      'level',
      'levelRank',
      'lifecycleStage',
      'riskLevel',
      'now',
      ...TAGS.map((tag) => `tag.${tag._id}`),
      ...['city', 'ageGroup', 'gender'].map((name) => `attr.${name}`),
      ...INHERITED_TAGS.map((name) => `tag.${name}`),
      ...INHERITED_ATTRIBUTES.map((name) => `attr.${name}`),
    ];
    const instant = () =>
      new Date(now.getTime() + Math.round((next() - 0.5) * 4 * 86_400_000))
        .toISOString()
        .replace('Z', pick(['Z', '+08:00', '-05:00']) === 'Z' ? 'Z' : '+00:00');
    const value = (field: string, op: Operator): Scalar => {
      if (field === 'now') return instant();
      // Values a rule may compare the field with: of the field's own type (tags take any), and numbers or strings
      // only in order comparisons; a risk level or a stage that exists.
      const fits = (scalar: Scalar) =>
        (field === 'levelRank'
          ? typeof scalar === 'number'
          : field.startsWith('tag.') || typeof scalar === 'string') &&
        !(['gt', 'gte', 'lt', 'lte'].includes(op) && typeof scalar === 'boolean') &&
        (field !== 'riskLevel' || /^R[1-5]$/.test(String(scalar))) &&
        (field !== 'lifecycleStage' || isLifecycleStage(scalar));
      const known = (seen.get(field) ?? []).filter(fits);
      const candidates = [...known, 'x', 0, 3, 'R3', 'GOLD', true, LEVELS[2]!._id].filter(fits);
      return next() < 0.8 && known.length > 0 ? pick(known) : pick(candidates);
    };
    const condition = (): Rule => {
      const field = pick(fields);
      // Level codes and stages have no order.
      const unordered = field === 'level' || field === 'lifecycleStage';
      const op = pick(OPERATORS.filter((o) => !(unordered && ['gt', 'gte', 'lt', 'lte'].includes(o))));
      if (op === 'exists') return { field, op, value: next() < 0.5 };
      if (op === 'in' || op === 'nin')
        return {
          field,
          op,
          value: Array.from({ length: 1 + Math.floor(next() * 4) }, () => value(field, op)),
        };
      return { field, op, value: value(field, op) };
    };
    const node = (depth: number): Rule => {
      const roll = next();
      if (depth >= 3 || roll < 0.5) return condition();
      if (roll < 0.7) return { not: node(depth + 1) };
      const children = Array.from({ length: 2 + Math.floor(next() * 2) }, () => node(depth + 1));
      return roll < 0.85 ? { all: children } : { any: children };
    };
    return Array.from({ length: RULES }, () => node(0));
  }

  it('covers every operator and every kind of field, inherited names included', () => {
    const conditions = JSON.stringify(randomRules());
    for (const op of OPERATORS) expect(conditions).toContain(`"op":"${op}"`);
    for (const field of [
      '"now"',
      '"levelRank"',
      '"tag.aum"',
      '"attr.city"',
      '"tag.constructor"',
      '"attr.constructor"',
    ])
      expect(conditions).toContain(`"field":${field}`);
  });

  it(`agree in memory and in MongoDB on ${RULES} random rules, all of them valid segment rules`, async () => {
    const rules = randomRules();
    for (const [i, rule] of rules.entries())
      expect([i, parseSegmentRule(rule, 'rule')]).toEqual([i, { ok: true, rule }]);
    const inDatabase: string[][] = [];
    // One aggregation per fifty rules: a $facet per rule returns the ids its compiled filter selects.
    for (let start = 0; start < rules.length; start += 50) {
      const batch = rules.slice(start, start + 50);
      const facets = Object.fromEntries(
        batch.map((rule, i) => [`r${i}`, [{ $match: compileRule(rule, now) }, { $project: { _id: 1 } }]]),
      );
      const [result] = await repos.members.model.aggregate<Record<string, { _id: string }[]>>([
        { $facet: facets },
      ]);
      batch.forEach((_, i) => inDatabase.push((result?.[`r${i}`] ?? []).map((member) => member._id).sort()));
    }
    const disagreements = rules.flatMap((rule, i) => {
      const inMemory = members
        .filter((member) => evaluate(rule, targetProfileOf(member, now)))
        .map((m) => m._id);
      return JSON.stringify(inMemory) === JSON.stringify(inDatabase[i])
        ? []
        : [{ rule, inMemory: inMemory.length, inDatabase: inDatabase[i]!.length }];
    });
    expect(disagreements).toEqual([]);
    // Rules that select nobody or everybody agree too easily: most must select some members but not all.
    const proper = inDatabase.filter((ids) => ids.length > 0 && ids.length < members.length).length;
    expect(proper).toBeGreaterThan(RULES / 3);
  });
});
