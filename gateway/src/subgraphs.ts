// The subgraphs the gateway routes to are the graphs of the supergraph it serves (composed from the registry), each
// at the URL it was composed with unless `<NAME>_URL` says otherwise.
import { Kind, parse, type EnumTypeDefinitionNode } from 'graphql';
import { subgraphUrl } from '@bank-hub/shared';

export interface SubgraphRoute {
  name: string;
  url: string;
}

/** The `join__Graph` enum of a supergraph: one value per subgraph, with its name and composed URL. */
export function subgraphsOf(supergraphSdl: string): SubgraphRoute[] {
  const graphs = parse(supergraphSdl).definitions.find(
    (definition): definition is EnumTypeDefinitionNode =>
      definition.kind === Kind.ENUM_TYPE_DEFINITION && definition.name.value === 'join__Graph',
  );
  return (graphs?.values ?? []).map((value) => {
    const directive = value.directives?.find((candidate) => candidate.name.value === 'join__graph');
    const argument = (name: string) => {
      const found = directive?.arguments?.find((candidate) => candidate.name.value === name)?.value;
      if (found?.kind !== Kind.STRING)
        throw new Error(`supergraph: graph ${value.name.value} has no ${name}`);
      return found.value;
    };
    return { name: argument('name'), url: argument('url') };
  });
}

/** Where each subgraph of the supergraph is reached: `<NAME>_URL`, else the composed URL. */
export function subgraphUrls(
  supergraphSdl: string,
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  return Object.fromEntries(
    subgraphsOf(supergraphSdl).map(({ name, url }) => [name, subgraphUrl(name, url, env)]),
  );
}
