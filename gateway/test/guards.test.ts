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
    });
  });

  it('follows fragments and inline fragments at the depth they are used', () => {
    const size = measure(`
      query { viewer { ...M } }
      fragment M on Member { id level { ... on MembershipLevel { code } } }
    `);
    expect(size).toEqual({ depth: 3, fields: 4, aliases: 0 });
  });

  it('does not count introspection', () => {
    expect(measure('{ __schema { types { fields { type { ofType { ofType { name } } } } } } }')).toEqual({
      depth: 0,
      fields: 0,
      aliases: 0,
    });
  });
});
