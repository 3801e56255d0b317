import {
  buildSchema,
  getIntrospectionQuery,
  parse,
  specifiedRules,
  validate,
  type OperationDefinitionNode,
} from 'graphql';
import { loadPersistedDocuments } from '../src/persisted-documents';
import { measureDocument, operationGuards, refusalOf } from '../src/guards';

/** The size of the document's first definition, an operation. */
const measure = (source: string) => measureDocument(parse(source)).definitions[0]!.size;

/** The limits the hub runs with unless configured otherwise (packages/shared/src/config.ts). */
const LIMITS = { maxDepth: 12, maxAliases: 30, maxFields: 500 };

describe('measureDocument', () => {
  it('counts depth, fields and aliases', () => {
    expect(measure('{ viewer { id level { code } } a: viewer { id } }')).toEqual({
      depth: 3,
      fields: 6,
      aliases: 1,
      nesting: 3,
    });
  });

  it('follows fragments and inline fragments at the depth they are used', () => {
    const size = measure(`
      query { viewer { ...M } }
      fragment M on Member { id level { ... on MembershipLevel { code } } }
    `);
    expect(size).toEqual({ depth: 3, fields: 4, aliases: 0, nesting: 5 });
  });

  it('counts introspection fields and aliases, but not its depth (a validation rule bounds that)', () => {
    expect(measure('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }')).toEqual({
      depth: 0,
      fields: 7,
      aliases: 0,
      nesting: 7,
    });
    expect(measure('{ a: __schema { description } b: __type(name: "Q") { name } }')).toEqual({
      depth: 0,
      fields: 4,
      aliases: 2,
      nesting: 2,
    });
  });

  it('leaves __typename free', () => {
    expect(measure('{ __typename viewer { __typename id } }')).toEqual({
      depth: 2,
      fields: 2,
      aliases: 0,
      nesting: 2,
    });
  });

  it('counts a fragment at every spread but measures it once: a doubling chain of 40 is counted, not walked', () => {
    const depth = 40;
    const chain = Array.from(
      { length: depth },
      (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    );
    const started = performance.now();
    const size = measure(`query { ...F0 } ${chain.join(' ')} fragment F${depth} on Query { viewer { id } }`);
    // Walking it would visit 2^41 fields (hours); measuring it takes well under a millisecond. The bound leaves room
    // for a machine busy with the rest of the suite.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(size).toEqual({ depth: 2, fields: 2 ** 41, aliases: 0, nesting: 43 });
  });

  it('counts fragments nested in one another towards nesting, though they add no depth', () => {
    const inline = measure(`{ ${'... { '.repeat(100)}viewer { id }${' }'.repeat(100)} }`);
    expect(inline).toEqual({ depth: 2, fields: 2, aliases: 0, nesting: 102 });
    const spreads = measure(
      `{ ...A } fragment A on Query { ... on Query { ...B } } fragment B on Query { __schema { description } }`,
    );
    expect(spreads).toEqual({ depth: 0, fields: 2, aliases: 0, nesting: 5 });
  });

  it('measures a fragment spread at different depths by the deepest use', () => {
    expect(
      measure('query { ...L viewer { level { ...L } } } fragment L on Query { a { b { c } } }'),
    ).toMatchObject({ depth: 5 });
  });
});

describe('measureDocument, over the whole document', () => {
  it('measures every operation and every fragment definition, used or not', () => {
    const { definitions } = measureDocument(
      parse(
        'query A { viewer { id } } query B { a: viewer { level { code } } } fragment U on Member { id b: id }',
      ),
    );
    expect(definitions.map(({ definition, size }) => [definition.name?.value, size])).toEqual([
      ['A', { depth: 2, fields: 2, aliases: 0, nesting: 2 }],
      ['B', { depth: 3, fields: 3, aliases: 1, nesting: 3 }],
      ['U', { depth: 1, fields: 2, aliases: 1, nesting: 1 }],
    ]);
  });

  it('measures a fragment on an introspection type as introspection: no depth', () => {
    const { definitions } = measureDocument(
      parse('fragment T on __Type { ofType { ofType { ofType { name } } } }'),
    );
    expect(definitions[0]!.size).toEqual({ depth: 0, fields: 4, aliases: 0, nesting: 4 });
  });

  it('counts the selections the document writes once each: fields, __typename, inline fragments and spreads', () => {
    const document = parse(
      '{ __typename ...F ... on Query { viewer { id } } } query B { __typename } fragment F on Query { ...G } fragment G on Query { viewer { id } }',
    );
    expect(measureDocument(document).selections).toBe(9);
  });
});

describe('refusalOf', () => {
  it('lets the standard introspection query and the channels’ documents through', () => {
    const introspection = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      inputValueDeprecation: true,
    });
    for (const body of [
      introspection,
      ...loadPersistedDocuments().operations.map((operation) => operation.body),
    ]) {
      expect(refusalOf(parse(body), LIMITS)).toBeNull();
    }
  });

  it('refuses an operation besides the one the request names, and a fragment no operation spreads', () => {
    const deep = `${'{ a '.repeat(12)}{ b }${' }'.repeat(12)}`;
    expect(refusalOf(parse(`query A { viewer { id } } query B ${deep}`), LIMITS)?.message).toBe(
      'operation depth 13 exceeds 12',
    );
    const aliases = Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(' ');
    expect(
      refusalOf(parse(`{ viewer { id } } fragment U on Member { ${aliases} }`), LIMITS)?.extensions,
    ).toEqual({
      code: 'OPERATION_TOO_COMPLEX',
      aliases: 31,
      limit: 30,
    });
  });

  it('refuses a document writing more selections than the field limit, however free each is', () => {
    const fragments = Array.from({ length: 300 }, (_, i) => `fragment F${i} on Query { __typename }`);
    const spreads = Array.from({ length: 300 }, (_, i) => `...F${i}`);
    const refusal = refusalOf(parse(`{ ${spreads.join(' ')} } ${fragments.join(' ')}`), LIMITS);
    expect(refusal?.extensions).toEqual({ code: 'OPERATION_TOO_COMPLEX', selections: 600, limit: 500 });
  });
});

describe('operationGuards, the validation rule', () => {
  const schema = buildSchema('type Query { viewer: Member } type Member { id: ID }');
  // Conflicting fields and a fragment nobody spreads: each is a validation error, if validation walks that far.
  const hostile = `{ x: viewer { id } x: __typename } fragment U on Query { ${'__typename '.repeat(600)} }`;

  it('leaves the other rules nothing to walk in a refused document: the refusal is the only error', () => {
    expect(validate(schema, parse(hostile), specifiedRules).map((error) => error.message)).toEqual([
      expect.stringContaining('Fields "x" conflict'),
      'Fragment "U" is never used.',
    ]);
    const errors = validate(schema, parse(hostile), [...specifiedRules, operationGuards(LIMITS)]);
    expect(errors.map((error) => error.extensions.code)).toEqual(['OPERATION_TOO_COMPLEX']);
  });

  it('lets the other rules validate a document within the limits', () => {
    const errors = validate(schema, parse('{ x: viewer { id } x: __typename }'), [
      ...specifiedRules,
      operationGuards(LIMITS),
    ]);
    expect(errors.map((error) => error.message)).toEqual([expect.stringContaining('Fields "x" conflict')]);
  });

  it('measures the document as sent, not a document another rule put in its place', () => {
    const document = parse('{ viewer { id } }');
    const [operation] = document.definitions as OperationDefinitionNode[];
    expect(validate(schema, document, [...specifiedRules, operationGuards(LIMITS)])).toEqual([]);
    expect(document.definitions).toEqual([operation]);
  });
});
