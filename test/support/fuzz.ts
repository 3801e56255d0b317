// Hostile documents made from the schema itself: for every root field, one document that selects what the field
// returns, a plain value for each argument, and hostile values to put in one argument at a time. New fields and
// arguments are covered the day they are added, without anyone writing their cases.
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  isUnionType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLInputType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

/** How many hostile values per argument: a few of the sharpest on every run, all of them when asked. */
export type FuzzDepth = 'lean' | 'full';

/** Stands for a JSON value 5,000 objects deep, which JSON.stringify cannot write: `bodyOf` splices it in as text. */
const DEEP = '\u0000deeply nested JSON\u0000';
const DEEP_JSON = '{"a":'.repeat(5_000) + '1' + '}'.repeat(5_000);

/** The request body for a document and its variables, the deep JSON value spliced in where a case put it. */
export function bodyOf(query: string, variables: Record<string, unknown>): string {
  return JSON.stringify({ query, variables }).replaceAll(JSON.stringify(DEEP), DEEP_JSON);
}

/** A value of `type` any resolver could receive from a well-behaved client. */
export function plainValue(type: GraphQLInputType, depth = 0): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) return [plainValue(nullable.ofType, depth + 1)];
  if (isEnumType(nullable)) return nullable.getValues()[0]!.value;
  if (isInputObjectType(nullable)) {
    const fields = Object.values(nullable.getFields()).filter(
      (field) => isNonNullType(field.type) && field.defaultValue === undefined && depth < 6,
    );
    return Object.fromEntries(fields.map((field) => [field.name, plainValue(field.type, depth + 1)]));
  }
  switch (nullable.name) {
    case 'Int':
      return 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'DateTime':
      return '2026-11-28T00:00:00Z';
    case 'JSON':
    case 'EventProperties':
      return { a: 1 };
    case 'TargetingRule':
      return { attr: 'level', op: 'eq', value: 'GOLD' };
    default:
      return 'fuzz-value-01';
  }
}

/** Hostile values of a scalar, sharpest first (a lean run takes the first few). */
function hostileScalars(name: string): unknown[] {
  switch (name) {
    case 'String':
    case 'ID':
      return [
        'a'.repeat(200_000),
        '\uD800',
        '__proto__',
        '',
        '\u0000',
        ' ',
        '𝕏'.repeat(300),
        'constructor',
        '$where',
        '(a+)+$',
        '../../x',
        'M0001',
        '1e400',
      ];
    case 'Int':
      return [2147483647, -2147483648, -1, 0];
    case 'Float':
      return [1e308, -1e308, 5e-324, 0];
    case 'Boolean':
      return [];
    case 'DateTime':
      return ['275760-09-13T00:00:00Z', '2026-02-30T00:00:00Z', '0000-01-01T00:00:00Z', 'nope', 0];
    default:
      // JSON-like scalars: rules, properties, parameters.
      return [
        DEEP,
        JSON.parse('{"__proto__":{"polluted":1}}'),
        Array.from({ length: 50_000 }, (_, i) => i),
        { constructor: { prototype: { polluted: 1 } } },
        { $where: '1', $gt: '' },
        'x'.repeat(300_000),
        { 'a.b': 1, '': 2, $x: 3 },
        1e308,
        [],
        '',
      ];
  }
}

/** Hostile values of `type`, each to put in place of one argument's plain value. */
export function hostileValues(type: GraphQLInputType, depth: FuzzDepth): unknown[] {
  const take = <T>(values: T[], lean: number) => (depth === 'lean' ? values.slice(0, lean) : values);
  const nullable = getNullableType(type) as GraphQLInputType;
  const values: unknown[] = isNonNullType(type) ? [] : [null];
  if (isListType(nullable)) {
    const item = plainValue(nullable.ofType);
    values.push(
      Array.from({ length: 5_000 }, () => item),
      [],
      ...take(hostileValues(nullable.ofType, depth), 2).map((value) => [value]),
    );
  } else if (isInputObjectType(nullable)) {
    const plain = plainValue(nullable) as Record<string, unknown>;
    for (const field of Object.values(nullable.getFields())) {
      if (!(field.name in plain)) values.push({ ...plain, [field.name]: plainValue(field.type) });
      for (const value of take(hostileValues(field.type, depth), 2))
        values.push({ ...plain, [field.name]: value });
    }
  } else if (isScalarType(nullable)) {
    values.push(...take(hostileScalars(nullable.name), 2));
  }
  return take(values, depth === 'lean' ? 12 : Infinity);
}

const required = (arg: GraphQLArgument) => isNonNullType(arg.type) && arg.defaultValue === undefined;
/** Whether a field cannot be selected without arguments. */
export const needsArguments = (field: GraphQLField<unknown, unknown>) => field.args.some(required);

/** A selection of what `type` holds: its scalar fields, and those of the objects under it to `depth` levels. */
export function selectionOf(type: GraphQLOutputType, depth: number): string {
  const named = getNamedType(type);
  if (isUnionType(named) || isInterfaceType(named)) return '{ __typename }';
  if (!isObjectType(named)) return '';
  const fields = Object.values(named.getFields()).filter((field) => !needsArguments(field));
  const selected = fields.flatMap((field) => {
    const inner = getNamedType(field.type);
    if (isScalarType(inner) || isEnumType(inner)) return [field.name];
    const nested = depth > 0 ? selectionOf(field.type, depth - 1) : '';
    return nested ? [`${field.name} ${nested}`] : [];
  });
  return `{ __typename ${selected.join(' ')} }`;
}

export interface FuzzCase {
  /** `query pages` or `mutation createCreative`. */
  operation: string;
  /** The argument made hostile, or `(plain)`. */
  argument: string;
  document: string;
  variables: Record<string, unknown>;
}

const takesAnId = (name: string) => /(id|Id|code|Code|key|Key)$/.test(name);

/** Every case for every root field (see casesOf). */
export function fuzzCases(schema: GraphQLSchema, depth: FuzzDepth, knownIds: string[]): FuzzCase[] {
  const roots = [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const;
  return roots.flatMap(([kind, root]) =>
    Object.values(root?.getFields() ?? {}).flatMap((field) =>
      casesOf(`${kind} ${field.name}`, kind, { opening: '', closing: '' }, field, depth, knownIds),
    ),
  );
}

/** Where a field is selected: the selections around it, from the root. */
interface Place {
  opening: string;
  closing: string;
}

/**
 * Cases for the arguments of fields below the root (a member's `inbox(first:)`, a campaign's `messages(first:)`): each
 * field reached by the shortest path from the root through fields that need no arguments (inside fragments on the
 * types a union or interface may be), its arguments plain and then each in turn hostile.
 */
export function nestedFuzzCases(schema: GraphQLSchema, depth: FuzzDepth): FuzzCase[] {
  const query = schema.getQueryType()!;
  const reached = new Map<GraphQLObjectType, Place>([[query, { opening: '', closing: '' }]]);
  const queue: GraphQLObjectType[] = [query];
  const cases: FuzzCase[] = [];
  for (let type = queue.shift(); type; type = queue.shift()) {
    const place = reached.get(type)!;
    for (const field of Object.values(type.getFields())) {
      if (type !== query && field.args.length > 0)
        cases.push(...casesOf(`${type.name}.${field.name}`, 'query', place, field, depth, []));
      if (needsArguments(field)) continue;
      const named = getNamedType(field.type);
      const next: [GraphQLObjectType, Place][] = isObjectType(named)
        ? [[named, { opening: `${place.opening} ${field.name} {`, closing: `} ${place.closing}` }]]
        : isUnionType(named) || isInterfaceType(named)
          ? schema.getPossibleTypes(named).map((possible) => [
              possible,
              {
                opening: `${place.opening} ${field.name} { ... on ${possible.name} {`,
                closing: `} } ${place.closing}`,
              },
            ])
          : [];
      for (const [target, at] of next) {
        if (reached.has(target)) continue;
        reached.set(target, at);
        queue.push(target);
      }
    }
  }
  return cases;
}

/**
 * The cases of one field selected at `place`: the plain call, then each argument in turn hostile, and each argument
 * that names something (`…Id`, `code`, `key`) in turn set to each of `knownIds`, so that resolvers run past NOT_FOUND.
 */
function casesOf(
  operation: string,
  kind: 'query' | 'mutation',
  place: Place,
  field: GraphQLField<unknown, unknown>,
  depth: FuzzDepth,
  knownIds: string[],
): FuzzCase[] {
  const definitions = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const document = `${kind} Fuzz${definitions ? `(${definitions})` : ''} {${place.opening} ${field.name}${
    passed ? `(${passed})` : ''
  } ${selectionOf(field.type, 1)} ${place.closing}}`;
  const plain = Object.fromEntries(field.args.map((arg) => [arg.name, plainValue(arg.type)]));
  const named = (argument: string, value: unknown): FuzzCase => ({
    operation,
    argument,
    document,
    variables: { ...plain, [argument]: value },
  });
  return [
    { operation, argument: '(plain)', document, variables: plain },
    ...field.args.flatMap((arg) => hostileValues(arg.type, depth).map((value) => named(arg.name, value))),
    ...field.args
      .filter((arg) => takesAnId(arg.name) && isScalarType(getNullableType(arg.type)))
      .flatMap((arg) => knownIds.map((id) => named(arg.name, id))),
  ];
}

/** Ids, codes and keys found anywhere in `value` (a query's data): what the seeded hub holds. */
export function idsIn(value: unknown, found = new Set<string>(), key = ''): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => idsIn(item, found, key));
  else if (value !== null && typeof value === 'object')
    for (const [name, inner] of Object.entries(value)) idsIn(inner, found, name);
  else if (typeof value === 'string' && takesAnId(key) && value.length < 80) found.add(value);
  return found;
}
