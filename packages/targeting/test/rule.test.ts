import { evaluate, explainMismatch, parseRule, type Rule, type TargetProfile } from '../src';

describe('parseRule', () => {
  it.each([
    [{ field: 'riskLevel', op: 'gte', value: 'R3' }],
    [
      {
        all: [
          { field: 'tag.aum', op: 'gt', value: 1000 },
          { not: { field: 'level', op: 'eq', value: 'GOLD' } },
        ],
      },
    ],
    [
      {
        any: [
          { field: 'attr.city', op: 'in', value: ['Shanghai', 'Beijing'] },
          { field: 'tag.vip', op: 'exists', value: true },
        ],
      },
    ],
    [{ field: 'now', op: 'lt', value: '2030-01-01T00:00:00Z' }],
    [{ field: 'attr.ageGroup', op: 'in', value: ['18-24'] }],
  ])('accepts %j', (input) => {
    expect(parseRule(input)).toEqual({ ok: true, rule: input });
  });

  it.each([
    [null, 'rule', 'must be an object'],
    [{ all: [] }, 'rule.all', 'non-empty list'],
    [
      {
        all: [
          { field: 'riskLevel', op: 'eq', value: 'R1' },
          { field: 'bogus', op: 'eq', value: 1 },
        ],
      },
      'rule.all[1].field',
      'unknown field',
    ],
    [
      { any: [{ not: { field: 'level', op: 'between', value: 1 } }] },
      'rule.any[0].not.op',
      'unknown operator',
    ],
    [{ field: 'tag.aum', op: 'in', value: 5 }, 'rule.value', 'non-empty list'],
    [{ field: 'tag.aum', op: 'gt', value: true }, 'rule.value', 'not booleans'],
    [{ field: 'tag.Bad-Code', op: 'eq', value: 1 }, 'rule.field', 'unknown field'],
    [{ field: 'tag.ageGroup', op: 'eq', value: 1 }, 'rule.field', 'unknown field'],
    [{ field: 'attr.__proto__', op: 'exists', value: true }, 'rule.field', 'unknown field'],
    [{ field: 'level', op: 'eq', value: 'GOLD', extra: 1 }, 'rule.extra', 'unknown key'],
    [{ field: 'now', op: 'lt', value: 'tomorrow' }, 'rule.value', 'RFC 3339'],
    [{ field: 'now', op: 'lt', value: '1' }, 'rule.value', 'RFC 3339'],
    [{ field: 'now', op: 'gt', value: '2026-12-01T00:00:00' }, 'rule.value', 'with an offset'],
    [{ field: 'now', op: 'gt', value: '2026-12-01T00:00+08:00' }, 'rule.value', 'RFC 3339'],
    [
      { field: 'now', op: 'in', value: ['2026-12-01T00:00:00Z', '2026-02-30T00:00:00Z'] },
      'rule.value[1]',
      'RFC 3339',
    ],
    [{ field: 'attr.city', op: 'in', value: ['a', { $gt: '' }] }, 'rule.value[1]', 'a string, number'],
    // A value of another type than the field's: no member matches it in memory, while a database query casting it would.
    [{ field: 'levelRank', op: 'gt', value: '2' }, 'rule.value', 'compared with numbers'],
    [{ field: 'levelRank', op: 'in', value: [3, '5'] }, 'rule.value[1]', 'compared with numbers'],
    [{ field: 'levelRank', op: 'eq', value: true }, 'rule.value', 'compared with numbers'],
    [{ field: 'riskLevel', op: 'eq', value: 3 }, 'rule.value', 'compared with strings'],
    [{ field: 'attr.city', op: 'eq', value: false }, 'rule.value', 'compared with strings'],
    // A value no member can hold selects nobody, and its negation everybody, without a word.
    [{ field: 'riskLevel', op: 'eq', value: 'r5' }, 'rule.value', 'one of R1, R2'],
    [{ not: { field: 'riskLevel', op: 'lte', value: 'R9' } }, 'rule.not.value', 'one of R1, R2'],
    [{ field: 'lifecycleStage', op: 'in', value: ['CHURNED', 'LOST'] }, 'rule.value[1]', 'one of AWARENESS'],
    [{ field: 'channel', op: 'eq', value: 'app' }, 'rule.value', 'one of APP, WEB, MINI_PROGRAM, PARTNER'],
    [{ not: { field: 'channel', op: 'in', value: ['WEB', 'H5'] } }, 'rule.not.value[1]', 'one of APP, WEB'],
    // Codes and stages have no order as strings: GOLD sorts after DIAMOND, and before SILVER and STANDARD.
    [{ field: 'level', op: 'gte', value: 'GOLD' }, 'rule.op', 'levelRank'],
    [{ field: 'lifecycleStage', op: 'lt', value: 'REVENUE' }, 'rule.op', 'no order'],
    [{ field: 'channel', op: 'gte', value: 'MINI_PROGRAM' }, 'rule.op', 'no order'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = parseRule(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.path).toBe(path);
    expect(result.problem.message).toContain(message);
  });

  it.each([
    [
      'an in list of 101 values',
      { field: 'attr.city', op: 'in', value: Array.from({ length: 101 }, (_, i) => `c${i}`) },
      'rule.value',
      'at most 100 values',
    ],
    [
      // 256, as a STRING tag's value in members: a rule can compare a tag with any value it holds.
      'a value of 257 characters',
      { field: 'attr.city', op: 'eq', value: 'x'.repeat(257) },
      'rule.value',
      'at most 256 characters',
    ],
    [
      // Each condition encodes to 232 bytes: the 71st passes 16384.
      'a rule over 16 KB encoded',
      { any: Array.from({ length: 120 }, () => ({ field: 'attr.city', op: 'eq', value: 'x'.repeat(190) })) },
      'rule.any[70]',
      'larger than 16384 bytes',
    ],
    [
      'a rule of 201 nodes',
      { any: Array.from({ length: 200 }, () => ({ field: 'level', op: 'eq', value: 'GOLD' })) },
      'rule.any[199]',
      'more than 200 nodes',
    ],
  ])('rejects %s, naming the node', (_name, input, path, message) => {
    expect(parseRule(input)).toEqual({
      ok: false,
      problem: { path, message: expect.stringContaining(message) },
    });
  });

  it('accepts a rule at every limit', () => {
    const rule = {
      all: [
        { field: 'attr.city', op: 'in', value: Array.from({ length: 100 }, (_, i) => `city-${i}`) },
        { field: 'attr.city', op: 'neq', value: 'x'.repeat(256) },
      ],
    };
    expect(parseRule(rule)).toEqual({ ok: true, rule });
  });

  it('rejects a field the caller does not allow, naming the node', () => {
    const result = parseRule({ all: [{ field: 'segment', op: 'eq', value: 'X' }] }, 'input.rule', {
      allowField: (field) => field !== 'segment',
    });
    expect(result).toEqual({
      ok: false,
      problem: { path: 'input.rule.all[0].field', message: expect.stringContaining('not allowed') },
    });
  });

  it('rejects rules nested too deeply', () => {
    let rule: unknown = { field: 'level', op: 'eq', value: 'GOLD' };
    for (let i = 0; i < 12; i++) rule = { not: rule };
    expect(parseRule(rule).ok).toBe(false);
  });
});

describe('evaluate', () => {
  const profile: TargetProfile = {
    segmentCodes: ['NEW_YOUNG'],
    level: 'SILVER',
    levelRank: 2,
    lifecycleStage: 'ACQUISITION',
    riskLevel: 'R2',
    channel: 'APP',
    tags: { aum: 3000, interests: ['travel', 'sports'], student: true },
    attributes: { city: 'Shanghai' },
    now: new Date('2026-06-01T00:00:00Z'),
  };
  const cases: [string, Rule, boolean][] = [
    ['eq on a plain field', { field: 'level', op: 'eq', value: 'SILVER' }, true],
    ['gte on risk level', { field: 'riskLevel', op: 'gte', value: 'R3' }, false],
    ['lte on level rank', { field: 'levelRank', op: 'lte', value: 2 }, true],
    ['contains on a list tag', { field: 'tag.interests', op: 'contains', value: 'travel' }, true],
    ['eq on a list tag matches an element', { field: 'tag.interests', op: 'eq', value: 'sports' }, true],
    ['in on a list tag', { field: 'tag.interests', op: 'in', value: ['dining', 'sports'] }, true],
    ['nin on a list tag', { field: 'tag.interests', op: 'nin', value: ['travel'] }, false],
    ['neq matches a missing tag', { field: 'tag.marketing_opt_out', op: 'neq', value: true }, true],
    ['gt does not match a missing tag', { field: 'tag.engagement', op: 'gt', value: 0 }, false],
    ['exists false on a missing tag', { field: 'tag.vip', op: 'exists', value: false }, true],
    ['gt does not compare a number with a string', { field: 'tag.aum', op: 'gt', value: '1' }, false],
    ['segment membership', { field: 'segment', op: 'in', value: ['NEW_YOUNG', 'X'] }, true],
    ['channel', { field: 'channel', op: 'eq', value: 'WEB' }, false],
    ['attribute', { field: 'attr.city', op: 'eq', value: 'Shanghai' }, true],
    [
      'time window open',
      {
        all: [
          { field: 'now', op: 'gte', value: '2026-01-01T00:00:00.000Z' },
          { field: 'now', op: 'lt', value: '2027-01-01T00:00:00.000Z' },
        ],
      },
      true,
    ],
    ['time window closed', { field: 'now', op: 'lt', value: '2026-01-01T00:00:00.000Z' }, false],
    [
      // As strings, 2026-06-01T00:00:00.000Z sorts before 2026-06-01T07:59:59+08:00, an instant one second earlier.
      'now compares instants, not strings',
      { field: 'now', op: 'lt', value: '2026-06-01T07:59:59+08:00' },
      false,
    ],
    [
      'now equals an instant written with an offset',
      { field: 'now', op: 'eq', value: '2026-06-01T08:00:00+08:00' },
      true,
    ],
    [
      'now in a list of instants',
      { field: 'now', op: 'in', value: ['2026-05-31T19:00:00-05:00', '2027-01-01T00:00:00Z'] },
      true,
    ],
    ['an inherited name is no tag', { field: 'tag.constructor', op: 'exists', value: true }, false],
    ['an inherited name is no attribute', { field: 'attr.constructor', op: 'neq', value: 'x' }, true],
    ['an inherited method is no attribute', { field: 'attr.toString', op: 'exists', value: false }, true],
    [
      'all fails when one child fails',
      {
        all: [
          { field: 'level', op: 'eq', value: 'SILVER' },
          { field: 'riskLevel', op: 'eq', value: 'R5' },
        ],
      },
      false,
    ],
    [
      'any holds when one child holds',
      {
        any: [
          { field: 'level', op: 'eq', value: 'GOLD' },
          { field: 'tag.student', op: 'eq', value: true },
        ],
      },
      true,
    ],
    ['not inverts', { not: { field: 'lifecycleStage', op: 'eq', value: 'ACQUISITION' } }, false],
  ];
  it.each(cases)('%s', (_name, rule, expected) => {
    expect(evaluate(rule, profile)).toBe(expected);
  });
});

describe('explainMismatch', () => {
  const profile: TargetProfile = { level: 'GOLD', riskLevel: 'R2', segmentCodes: ['A'] };
  it.each<[string, Rule, string | null]>([
    ['a matching rule', { field: 'level', op: 'eq', value: 'GOLD' }, null],
    ['a failing condition', { field: 'riskLevel', op: 'gte', value: 'R3' }, 'rule'],
    [
      'the first failing child of all, followed down',
      {
        all: [
          { field: 'level', op: 'eq', value: 'GOLD' },
          {
            all: [
              { field: 'segment', op: 'eq', value: 'A' },
              { field: 'segment', op: 'eq', value: 'B' },
            ],
          },
        ],
      },
      'rule.all[1].all[1]',
    ],
    ['an any where nothing holds', { any: [{ field: 'level', op: 'eq', value: 'X' }] }, 'rule'],
    [
      'a not whose child holds',
      { all: [{ not: { field: 'level', op: 'eq', value: 'GOLD' } }] },
      'rule.all[0]',
    ],
  ])('%s', (_name, rule, expected) => {
    expect(explainMismatch(rule, profile)).toBe(expected);
  });
});

describe('evaluate at the instant the issue names', () => {
  // 2026-11-30T17:00Z is 2026-12-01T01:00 in UTC+8: one hour after midnight of 1 December there.
  const profile: TargetProfile = { now: new Date('2026-11-30T17:00:00Z') };
  it.each<[Rule, boolean]>([
    [{ field: 'now', op: 'gt', value: '2026-12-01T00:00:00+08:00' }, true],
    [{ field: 'now', op: 'lt', value: '2026-12-01T00:00:00+08:00' }, false],
    [{ field: 'now', op: 'gte', value: '2026-12-01T01:00:00+08:00' }, true],
    [{ field: 'now', op: 'lt', value: '2026-12-01T01:00:00.001+08:00' }, true],
  ])('%j is %s', (rule, expected) => {
    expect(parseRule(rule).ok).toBe(true);
    expect(evaluate(rule, profile)).toBe(expected);
  });
});

describe('own properties only', () => {
  it('reads a tag that really is called constructor', () => {
    const profile: TargetProfile = { tags: { constructor: true } };
    expect(evaluate({ field: 'tag.constructor', op: 'eq', value: true }, profile)).toBe(true);
  });
});

describe('strings in MongoDB’s order', () => {
  // MongoDB orders strings by their UTF-8 bytes, that is by code point: 𠮷 (U+20BB7) and emoji come after the
  // full-width forms (U+FF00–U+FFEF) of Chinese text, where JavaScript's < (UTF-16 code units) puts them before.
  it.each<[string, Rule, boolean]>([
    ['a character beyond U+FFFF after a full-width one', { field: 'attr.city', op: 'gt', value: '（' }, true],
    ['…and not before it', { field: 'attr.city', op: 'lt', value: '（' }, false],
    ['an emoji tag value after U+FFFD', { field: 'tag.nickname', op: 'gte', value: '\ufffd' }, true],
    ['plain text as before', { field: 'attr.city', op: 'lt', value: '𠮷野市' }, true],
    ['a shorter prefix first', { field: 'tag.nickname', op: 'gt', value: '😀' }, true],
  ])('%s', (_name, rule, expected) => {
    const profile: TargetProfile = { attributes: { city: '𠮷野' }, tags: { nickname: '😀😀' } };
    expect(evaluate(rule, profile)).toBe(expected);
  });
});
