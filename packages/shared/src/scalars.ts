// Custom scalars shared by every subgraph and, for input, by the gateway: what they accept is decided here once.
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { parseInstant } from '@bank-hub/targeting';
import { badInput } from './errors';

export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description:
    'An instant in time. Input: an RFC 3339 date-time with an offset (e.g. 2026-12-01T00:00:00+08:00 or ' +
    '2026-11-30T16:00:00Z). Output: always in UTC (e.g. 2026-11-30T16:00:00.000Z).',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    if (Number.isNaN(date.getTime())) throw new TypeError(`DateTime cannot represent ${String(value)}`);
    return date.toISOString();
  },
  parseValue(value) {
    return parseDate(value);
  },
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badInput('DateTime must be an RFC 3339 string', 'DateTime');
    return parseDate(ast.value);
  },
});

function parseDate(value: unknown): Date {
  const date = typeof value === 'string' ? parseInstant(value) : null;
  if (!date) {
    const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : typeof value;
    throw badInput(
      `${shown} is not an RFC 3339 date-time with an offset, e.g. 2026-12-01T00:00:00+08:00`,
      'DateTime',
    );
  }
  return date;
}

/**
 * JSON input is bounded: a value nested thousands of levels deep overflows the stack of whatever walks it next
 * (encoding it for a subgraph, storing it), and every value in it is work. No legitimate input comes near these.
 */
export const JSON_LIMITS = { depth: 32, values: 10_000 } as const;

/**
 * Why a JSON value (`what`, e.g. "the request body") is beyond JSON_LIMITS, or null. It walks the value without
 * recursion and stops as soon as it is too deep or holds too many values, so no input can make the walk itself costly
 * or overflow the stack (as JSON.stringify of a deep value would).
 */
export function jsonSizeProblem(value: unknown, what: string): string | null {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 1 }];
  let values = 0;
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (++values > JSON_LIMITS.values) return `${what} holds more than ${JSON_LIMITS.values} values`;
    if (next.depth > JSON_LIMITS.depth) return `${what} is nested deeper than ${JSON_LIMITS.depth} levels`;
    if (typeof next.value !== 'object' || next.value === null) continue;
    const children = Array.isArray(next.value) ? next.value : Object.values(next.value);
    for (const child of children) pending.push({ value: child, depth: next.depth + 1 });
  }
  return null;
}

/**
 * Object keys no JSON input of the graph needs, which the database would not store as given: a leading `$` reads as an
 * operator, a `.` as a path, a NUL ends a BSON key early, and `__proto__` is lost when the value is copied on its way
 * (a flow constant {"__proto__": {...}} came back as {}).
 */
const UNSTORABLE_KEY = /^\$|[.\0]|^__proto__$/;

/**
 * Why a JSON value (`what`) holds a key the database would not store as given, or null. The walk is not bounded by
 * itself: call it on a value jsonSizeProblem accepted.
 */
export function jsonKeyProblem(value: unknown, what: string): string | null {
  const pending: unknown[] = [value];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    if (typeof next !== 'object' || next === null) continue;
    if (Array.isArray(next)) {
      pending.push(...(next as unknown[]));
      continue;
    }
    for (const [key, child] of Object.entries(next)) {
      if (UNSTORABLE_KEY.test(key))
        return `${what} has the key ${JSON.stringify(key.slice(0, 40))}: keys may not start with $, hold . or NUL, or be __proto__`;
      pending.push(child);
    }
  }
  return null;
}

function checkJsonInput(value: unknown, type: string, checkKeys: boolean): void {
  const problem = jsonSizeProblem(value, type) ?? (checkKeys ? jsonKeyProblem(value, type) : null);
  if (problem) throw badInput(problem, type);
}

function literalToJson(ast: ValueNode, type: string, depth = 1): unknown {
  if (depth > JSON_LIMITS.depth)
    throw badInput(`${type} is nested deeper than ${JSON_LIMITS.depth} levels`, type);
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
      return ast.values.map((value) => literalToJson(value, type, depth + 1));
    case Kind.OBJECT:
      return Object.fromEntries(
        ast.fields.map((field) => [field.name.value, literalToJson(field.value, type, depth + 1)]),
      );
    default:
      throw badInput(`variables are not allowed inside a ${type} literal`, type);
  }
}

/**
 * A scalar holding any JSON value, bounded in depth and size on input, and unless `checkKeys` is false with keys the
 * database stores as given.
 */
function jsonScalar(
  name: string,
  description: string,
  checkKeys = true,
): GraphQLScalarType<unknown, unknown> {
  return new GraphQLScalarType<unknown, unknown>({
    name,
    description,
    serialize: (value) => value,
    parseValue(value) {
      checkJsonInput(value, name, checkKeys);
      return value;
    },
    parseLiteral(ast) {
      const value = literalToJson(ast, name);
      checkJsonInput(value, name, checkKeys);
      return value;
    },
  });
}

export const JSONScalar = jsonScalar(
  'JSON',
  'Any JSON value. Where a field documents a shape, the server validates it.',
);

/** A targeting rule as a JSON tree; the resolver that receives one parses it with the rule module. */
export const TargetingRuleScalar = jsonScalar(
  'TargetingRule',
  'A targeting rule as a JSON tree; validated by the resolver that receives it.',
);

/**
 * A tracked event's properties. Their keys are checked event by event against the tracking plan, which refuses that
 * one event (INVALID_PROPERTY) rather than the whole batch: SDKs add keys of their own (`$os`), and one such event must
 * not cost a device its other events.
 */
export const EventPropertiesScalar = jsonScalar(
  'EventProperties',
  "An event's properties as a JSON object; each is checked against the tracking plan.",
  false,
);

/** The scalars by name, for a schema built elsewhere (the gateway's) to read input exactly as subgraphs do. */
export const HUB_SCALARS: readonly GraphQLScalarType[] = [
  DateTimeScalar,
  JSONScalar,
  TargetingRuleScalar,
  EventPropertiesScalar,
];
