// Rules of this graph that composition does not check. A field one subgraph adds to an entity another owns must be
// nullable: when the adding subgraph cannot answer, the gateway nulls that field alone, with its error, rather than
// the entity and everything asked with it (a member's activities must not cost the member their page).
import { Kind, parse, type ConstDirectiveNode, type ObjectTypeDefinitionNode } from 'graphql';

const argument = (directive: ConstDirectiveNode, name: string) => {
  const value = directive.arguments?.find((arg) => arg.name.value === name)?.value;
  return value?.kind === Kind.ENUM || value?.kind === Kind.STRING ? value.value : null;
};
const isTrue = (directive: ConstDirectiveNode, name: string) =>
  directive.arguments?.some(
    (arg) => arg.name.value === name && arg.value.kind === Kind.BOOLEAN && arg.value.value,
  ) ?? false;

/** The subgraphs that resolve a field: those its @join__field names (not as external), else every one of its type. */
function resolvedBy(type: ObjectTypeDefinitionNode, typeGraphs: string[], fieldIndex: number): string[] {
  const joins = (type.fields?.[fieldIndex]?.directives ?? []).filter(
    (directive) => directive.name.value === 'join__field',
  );
  if (joins.length === 0) return typeGraphs;
  return joins.flatMap((join) => {
    const graph = argument(join, 'graph');
    return graph && !isTrue(join, 'external') ? [graph] : [];
  });
}

/**
 * Non-null fields of an entity that only subgraphs other than its owner resolve, as `Type.field (graph)`. The owner is
 * the subgraph that resolves most of the entity's fields.
 */
export function nonNullContributedFields(supergraphSdl: string): string[] {
  const problems: string[] = [];
  for (const definition of parse(supergraphSdl).definitions) {
    if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) continue;
    const joins = (definition.directives ?? []).filter((directive) => directive.name.value === 'join__type');
    const typeGraphs = [...new Set(joins.flatMap((join) => argument(join, 'graph') ?? []))];
    const isEntity = joins.some((join) => argument(join, 'key') !== null);
    if (!isEntity || typeGraphs.length < 2) continue;
    const fields = definition.fields ?? [];
    const resolvers = fields.map((_field, index) => resolvedBy(definition, typeGraphs, index));
    const counts = new Map<string, number>();
    for (const graph of resolvers.flat()) counts.set(graph, (counts.get(graph) ?? 0) + 1);
    const owner = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
    fields.forEach((field, index) => {
      const graphs = resolvers[index]!;
      if (field.type.kind === Kind.NON_NULL_TYPE && owner !== undefined && !graphs.includes(owner))
        problems.push(`${definition.name.value}.${field.name.value} (${graphs.join(', ').toLowerCase()})`);
    });
  }
  return problems;
}
