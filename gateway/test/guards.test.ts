import { Kind, parse, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';
import { measureOperation } from '../src/guards';

function measure(source: string) {
  const document = parse(source);
  const operation = document.definitions.find(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  )!;
  const fragments = Object.fromEntries(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );
  return measureOperation(operation, fragments);
}

describe('measureOperation', () => {
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
