// The segment form's rule model (web/console/screens/segments/rule.ts): what the form sends for what was typed, and
// which rules it can show again.
import { fromRule, toRule, type RuleForm } from '../web/console/screens/segments/rule';

const form = (match: RuleForm['match'], ...conditions: RuleForm['conditions']): RuleForm => ({
  match,
  conditions,
});
const row = (field: string, op: RuleForm['conditions'][number]['op'], value: string, negate = false) => ({
  negate,
  field,
  op,
  value,
});

describe('toRule', () => {
  it.each([
    [
      'a level code',
      form('all', row('level', 'eq', 'GOLD')),
      { all: [{ field: 'level', op: 'eq', value: 'GOLD' }] },
    ],
    [
      'a number',
      form('any', row('levelRank', 'gte', ' 3 ')),
      { any: [{ field: 'levelRank', op: 'gte', value: 3 }] },
    ],
    [
      'a comma-separated list',
      form('all', row('lifecycleStage', 'in', 'AT_RISK, CHURNED,')),
      { all: [{ field: 'lifecycleStage', op: 'in', value: ['AT_RISK', 'CHURNED'] }] },
    ],
    [
      'a negated condition',
      form('all', row('tag.travel', 'eq', 'true', true)),
      { all: [{ not: { field: 'tag.travel', op: 'eq', value: true } }] },
    ],
    [
      'exists, true unless false',
      form('all', row('tag.vip', 'exists', '')),
      { all: [{ field: 'tag.vip', op: 'exists', value: true }] },
    ],
  ])('sends %s as typed', (_what, typed, rule) => {
    expect(toRule(typed)).toEqual(rule);
  });

  it('sends nothing until every condition names a field', () => {
    expect(toRule(form('all'))).toBeNull();
    expect(toRule(form('all', row('level', 'eq', 'GOLD'), row(' ', 'eq', 'x')))).toBeNull();
  });
});

describe('fromRule', () => {
  it('shows again what the form sent', () => {
    const typed = form(
      'any',
      row('riskLevel', 'gte', 'R3'),
      row('lifecycleStage', 'nin', 'AT_RISK, CHURNED', true),
    );
    expect(fromRule(toRule(typed))).toEqual(typed);
  });

  it('shows a single condition as a one-line form', () => {
    expect(fromRule({ field: 'level', op: 'eq', value: 'GOLD' })).toEqual(
      form('all', row('level', 'eq', 'GOLD')),
    );
  });

  it.each([
    ['a group inside a group', { all: [{ any: [{ field: 'level', op: 'eq', value: 'GOLD' }] }] }],
    ['an unknown operator', { all: [{ field: 'level', op: 'like', value: 'G%' }] }],
    ['no rule at all', null],
  ])('leaves %s to the JSON editor', (_what, rule) => {
    expect(fromRule(rule)).toBeNull();
  });
});
