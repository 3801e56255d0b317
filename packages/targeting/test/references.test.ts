import { codeReferences, describeUnknown, unknownReferences, type CodeReference, type Rule } from '../src';

describe('codeReferences', () => {
  it.each<[string, Rule, CodeReference[]]>([
    [
      'a segment compared with eq',
      { field: 'segment', op: 'eq', value: 'PRIVATE_BANKING' },
      [{ kind: 'segment', code: 'PRIVATE_BANKING', path: 'rule.value' }],
    ],
    [
      'each value of an in list, with its index',
      { field: 'level', op: 'in', value: ['GOLD', 'DIAMOND'] },
      [
        { kind: 'level', code: 'GOLD', path: 'rule.value[0]' },
        { kind: 'level', code: 'DIAMOND', path: 'rule.value[1]' },
      ],
    ],
    [
      'codes inside not, any and all, in rule order',
      {
        all: [
          { not: { field: 'segment', op: 'nin', value: ['WEALTH_CLIENTS'] } },
          {
            any: [
              { field: 'riskLevel', op: 'gte', value: 'R3' },
              { field: 'level', op: 'neq', value: 'GOLD' },
            ],
          },
          { field: 'segment', op: 'contains', value: 'SALARY_EARNERS' },
        ],
      },
      [
        { kind: 'segment', code: 'WEALTH_CLIENTS', path: 'rule.all[0].not.value[0]' },
        { kind: 'level', code: 'GOLD', path: 'rule.all[1].any[1].value' },
        { kind: 'segment', code: 'SALARY_EARNERS', path: 'rule.all[2].value' },
      ],
    ],
    ['no code for exists', { field: 'segment', op: 'exists', value: true }, []],
    [
      'no code for ranks, tags, stages or channels',
      {
        all: [
          { field: 'levelRank', op: 'gte', value: 3 },
          { field: 'tag.fund_investor', op: 'exists', value: true },
          { field: 'lifecycleStage', op: 'eq', value: 'RETENTION' },
          { field: 'channel', op: 'eq', value: 'APP' },
        ],
      },
      [],
    ],
  ])('finds %s', (_what, rule, expected) => {
    expect(codeReferences(rule)).toEqual(expected);
  });

  it('starts paths at the path it is given', () => {
    const rule: Rule = { not: { field: 'segment', op: 'eq', value: 'PRIVATE_BANKNIG' } };
    expect(codeReferences(rule, 'input.rule')).toEqual([
      { kind: 'segment', code: 'PRIVATE_BANKNIG', path: 'input.rule.not.value' },
    ]);
  });
});

describe('unknownReferences', () => {
  const known = { segments: new Set(['PRIVATE_BANKING']), levels: new Set(['GOLD', 'PRIVATE_BANKNIG']) };

  it('keeps the codes members does not know, each looked up among codes of its own kind', () => {
    const rule: Rule = {
      any: [
        { field: 'segment', op: 'in', value: ['PRIVATE_BANKING', 'PRIVATE_BANKNIG'] },
        { field: 'level', op: 'in', value: ['GOLD', 'GLOD', 'PRIVATE_BANKING'] },
      ],
    };
    expect(unknownReferences(codeReferences(rule), known)).toEqual([
      { kind: 'segment', code: 'PRIVATE_BANKNIG', path: 'rule.any[0].value[1]' },
      { kind: 'level', code: 'GLOD', path: 'rule.any[1].value[1]' },
      { kind: 'level', code: 'PRIVATE_BANKING', path: 'rule.any[1].value[2]' },
    ]);
  });

  it('keeps nothing when every code is known', () => {
    const rule: Rule = { field: 'segment', op: 'neq', value: 'PRIVATE_BANKING' };
    expect(unknownReferences(codeReferences(rule), known)).toEqual([]);
  });
});

describe('describeUnknown', () => {
  it('names every unknown code with where it stands', () => {
    const message = describeUnknown([
      { kind: 'segment', code: 'PRIVATE_BANKNIG', path: 'input.rule.not.value' },
      { kind: 'level', code: 'GLOD', path: 'input.rule.all[1].value[0]' },
    ]);
    expect(message).toContain('unknown segment "PRIVATE_BANKNIG" at input.rule.not.value');
    expect(message).toContain('unknown level "GLOD" at input.rule.all[1].value[0]');
  });

  it('lists ten and counts the rest', () => {
    const unknown = Array.from({ length: 25 }, (_, i) => ({
      kind: 'segment' as const,
      code: `S${i}`,
      path: `rule.value[${i}]`,
    }));
    const message = describeUnknown(unknown);
    expect(message).toContain('"S9"');
    expect(message).not.toContain('"S10"');
    expect(message).toContain('and 15 more');
  });
});
