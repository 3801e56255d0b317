// Rules of this graph that composition does not enforce. A field one subgraph adds to an entity another owns must be
// nullable: when the adding subgraph cannot answer, the gateway nulls that field alone, with its error, rather than
// the entity and everything asked with it (a member's activities must not cost the member their page). Subgraphs
// declare each element alike, so that composition settles nothing by picking a side. And the supergraph, which is
// what Sandbox shows every client, describes every type, field, argument and enum value, each as its owner does.
import {
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isSpecifiedScalarType,
  Kind,
  parse,
  type ConstDirectiveNode,
  type GraphQLSchema,
  type ObjectTypeDefinitionNode,
} from 'graphql';

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

/**
 * Composition's hints, as `CODE coordinate`: each is a drift between what subgraphs declare of one element, which
 * composition settles by picking a side. A description that differs (INCONSISTENT_DESCRIPTION) leaves the supergraph
 * with one of them, not necessarily the owner's (Creative read "A creative, as analytics sees it"): a subgraph that
 * declares what another owns repeats its description word for word, or leaves it out (a `#` comment may say what this
 * subgraph uses it for). A type that is an entity in some subgraphs only (INCONSISTENT_ENTITY) gets a non-resolvable
 * key in the others.
 */
export const compositionHints = (
  hints: readonly { definition: { code: string }; message: string; coordinate?: string }[],
): string[] => hints.map((hint) => `${hint.definition.code} ${hint.coordinate ?? hint.message}`);

/** Types, fields, arguments, input fields and enum values a client can see without a description, by coordinate. */
export function undescribed(apiSchema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const roots = new Set<unknown>([
    apiSchema.getQueryType(),
    apiSchema.getMutationType(),
    apiSchema.getSubscriptionType(),
  ]);
  for (const type of Object.values(apiSchema.getTypeMap())) {
    if (type.name.startsWith('__') || isSpecifiedScalarType(type)) continue;
    // Query and Mutation are described by their fields.
    if (!type.description && !roots.has(type)) missing.push(type.name);
    const members =
      isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)
        ? Object.values(type.getFields())
        : isEnumType(type)
          ? type.getValues()
          : [];
    for (const member of members) {
      if (!member.description) missing.push(`${type.name}.${member.name}`);
      for (const argument of 'args' in member ? member.args : [])
        if (!argument.description) missing.push(`${type.name}.${member.name}(${argument.name}:)`);
    }
  }
  return missing;
}
