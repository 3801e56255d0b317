// Custom scalars shared by every subgraph.
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badInput } from './errors';

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An instant in time, as an ISO-8601 string in UTC (e.g. 2026-11-25T08:00:00.000Z).',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    return parseDate(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput('DateTime must be an ISO-8601 string', 'DateTime');
    return parseDate(ast.value);
  },
});

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime()))
    throw badInput(`"${String(value)}" is not an ISO-8601 date-time`, 'DateTime');
  return date;
}

function literalToJson(ast: ValueNode): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map(literalToJson);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((field) => [field.name.value, literalToJson(field.value)]));
    default:
      throw badInput('variables are not allowed inside a JSON literal', 'JSON');
  }
}

export const JSONScalar = new GraphQLScalarType<unknown, unknown>({
  name: 'JSON',
  description: 'Any JSON value. Where a field documents a shape, the server validates it.',
  serialize: (value) => value,
  parseValue: (value) => value,
  parseLiteral: literalToJson,
});

/** A targeting rule as a JSON tree; the resolver that receives one parses it with the rule module. */
export const TargetingRuleScalar = new GraphQLScalarType<unknown, unknown>({
  ...JSONScalar.toConfig(),
  name: 'TargetingRule',
  description: 'A targeting rule as a JSON tree; validated by the resolver that receives it.',
});
