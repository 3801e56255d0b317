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
    [{ field: 'now', op: 'lt', value: 'tomorrow' }, 'rule.value', 'ISO-8601'],
    [{ all: [{ field: 'level', op: 'eq', value: 'A' }], any: [] }, 'rule', 'must be'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = parseRule(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.path).toBe(path);
    expect(result.problem.message).toContain(message);
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

describe('own properties only', () => {
  it('reads a tag that really is called constructor', () => {
    const profile: TargetProfile = { tags: { constructor: true } };
    expect(evaluate({ field: 'tag.constructor', op: 'eq', value: true }, profile)).toBe(true);
  });
});
