import { GraphQLError, parseValue as parseLiteralText } from 'graphql';
import { DateTimeScalar, JSONScalar, JSON_LIMITS, TargetingRuleScalar } from '../src';

/** The error a scalar throws, or null when it accepts the input. */
function refusal(parse: () => unknown): { code: unknown; message: string } | null {
  try {
    parse();
    return null;
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    return { code: error.extensions.code, message: error.message };
  }
}

const nestedList = (levels: number) => '['.repeat(levels - 1) + '1' + ']'.repeat(levels - 1);

describe('DateTime', () => {
  it.each([
    ['2026-12-01T00:00:00+08:00', '2026-11-30T16:00:00.000Z'],
    ['2026-11-30T16:00:00Z', '2026-11-30T16:00:00.000Z'],
  ])('reads %s as the instant %s, from a variable or a literal', (text, instant) => {
    expect(DateTimeScalar.parseValue(text).toISOString()).toBe(instant);
    expect(DateTimeScalar.parseLiteral(parseLiteralText(JSON.stringify(text))).toISOString()).toBe(instant);
  });

  it.each([['1'], ['2026-12-01T00:00:00'], ['2026-12-01'], [1_796_083_200_000], [null], [{ $date: 1 }]])(
    'refuses %j as BAD_USER_INPUT',
    (value) => {
      expect(refusal(() => DateTimeScalar.parseValue(value))).toEqual({
        code: 'BAD_USER_INPUT',
        message: expect.stringContaining('RFC 3339'),
      });
    },
  );

  it('refuses a literal that is not a string', () => {
    expect(refusal(() => DateTimeScalar.parseLiteral(parseLiteralText('20261201')))?.code).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('writes instants in UTC', () => {
    expect(DateTimeScalar.serialize(new Date('2026-12-01T00:00:00+08:00'))).toBe('2026-11-30T16:00:00.000Z');
  });
});

describe.each([
  ['JSON', JSONScalar],
  ['TargetingRule', TargetingRuleScalar],
])('%s', (name, scalar) => {
  it.each([
    [`nested ${JSON_LIMITS.depth} levels deep`, nestedList(JSON_LIMITS.depth)],
    [
      `holding ${JSON_LIMITS.values} values`,
      JSON.stringify(Array.from({ length: JSON_LIMITS.values - 1 }, () => 0)),
    ],
    ['an object of scalars', '{"a": 1, "b": "x", "c": [true, null]}'],
  ])('accepts a value %s, from a variable or a literal', (_name, json) => {
    const value: unknown = JSON.parse(json);
    expect(scalar.parseValue(value)).toEqual(value);
    // GraphQL writes object keys unquoted.
    expect(scalar.parseLiteral(parseLiteralText(json.replace(/"(\w)":/g, '$1:')))).toEqual(value);
  });

  it.each([
    [`nested ${JSON_LIMITS.depth + 1} levels deep`, nestedList(JSON_LIMITS.depth + 1), 'nested deeper'],
    [
      `holding ${JSON_LIMITS.values + 1} values`,
      JSON.stringify(Array.from({ length: JSON_LIMITS.values }, () => 0)),
      'more than',
    ],
  ])('refuses a value %s as BAD_USER_INPUT', (_name, json, message) => {
    const expected = { code: 'BAD_USER_INPUT', message: expect.stringContaining(message) };
    expect(refusal(() => scalar.parseValue(JSON.parse(json)))).toEqual(expected);
    expect(refusal(() => scalar.parseLiteral(parseLiteralText(json)))).toEqual(expected);
  });

  it.each([
    ['a $-prefixed key', '{"$where": "1"}'],
    ['a dotted key, deep in a list', '[1, {"a": [{"b.c": 1}]}]'],
    ['a key with a NUL', '{"a\\u0000": 1}'],
    ['__proto__ as a key', '{"ok": {"__proto__": {"admin": true}}}'],
  ])('refuses a variable with %s as BAD_USER_INPUT', (_name, json) => {
    expect(refusal(() => scalar.parseValue(JSON.parse(json)))).toEqual({
      code: 'BAD_USER_INPUT',
      message: expect.stringContaining('keys may not start with $'),
    });
  });

  it('accepts keys that only hold $ or _ further in, and numbers JSON can carry', () => {
    const value: unknown = JSON.parse('{"price$": -0, "a_b": 1e308, "__proto": [-1e-308]}');
    expect(scalar.parseValue(value)).toEqual(value);
  });

  it('refuses a variable nested 100,000 levels deep without walking it all', () => {
    const deep: unknown = JSON.parse(nestedList(100_000));
    expect(refusal(() => scalar.parseValue(deep))).toEqual({
      code: 'BAD_USER_INPUT',
      message: `${name} is nested deeper than ${JSON_LIMITS.depth} levels`,
    });
  });
});
