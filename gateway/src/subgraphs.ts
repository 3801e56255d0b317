// The subgraphs the gateway routes to are the graphs of the supergraph it serves (composed from the registry), each
// at the URL it was composed with unless `<NAME>_URL` says otherwise.
import {
  Kind,
  parse,
  type DirectiveNode,
  type DocumentNode,
  type EnumTypeDefinitionNode,
  type ObjectTypeDefinitionNode,
} from 'graphql';
import { subgraphUrl } from '@bank-hub/shared';

export interface SubgraphRoute {
  name: string;
  url: string;
}

/** A directive argument's literal: a string or an enum value's name. */
function argumentOf(directive: DirectiveNode | undefined, name: string): string | null {
  const value = directive?.arguments?.find((candidate) => candidate.name.value === name)?.value;
  return value?.kind === Kind.STRING || value?.kind === Kind.ENUM ? value.value : null;
}

/** Each graph of a supergraph: its `join__Graph` enum value, name and composed URL. */
function graphsOf(document: DocumentNode): (SubgraphRoute & { value: string })[] {
  const graphs = document.definitions.find(
    (definition): definition is EnumTypeDefinitionNode =>
      definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph',
  );
  return (graphs?.values ?? []).map((value) => {
    const directive = value.directives?.find((candidate) => candidate.name.value === 'join__graph');
    const name = argumentOf(directive, 'name');
    const url = argumentOf(directive, 'url');
    if (!name || !url) throw new Error(`supergraph: graph ${value.name.value} has no name or url`);
    return { value: value.name.value, name, url };
  });
}

/** The `join__Graph` enum of a supergraph: one value per subgraph, with its name and composed URL. */
export function subgraphsOf(supergraph: DocumentNode): SubgraphRoute[] {
  return graphsOf(supergraph).map(({ name, url }) => ({ name, url }));
}

/** The subgraph that resolves a root field (e.g. Mutation.trackEvents), or null when none does. */
export function ownerOf(supergraph: DocumentNode, type: string, field: string): string | null {
  const definition = supergraph.definitions.find(
    (candidate): candidate is ObjectTypeDefinitionNode =>
      candidate.kind === Kind.OBJECT_TYPE_DEFINITION && candidate.name.value === type,
  );
  const join = definition?.fields
    ?.find((candidate) => candidate.name.value === field)
    ?.directives?.find((directive) => directive.name.value === 'join__field');
  const graph = argumentOf(join, 'graph');
  return graphsOf(supergraph).find(({ value }) => value === graph)?.name ?? null;
}

/** Where each subgraph of the supergraph is reached: `<NAME>_URL`, else the composed URL. */
export function subgraphUrls(
  supergraphSdl: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return Object.fromEntries(
    subgraphsOf(parse(supergraphSdl)).map(({ name, url }) => [name, subgraphUrl(name, url, env)]),
  );
}
