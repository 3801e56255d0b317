// Every subgraph of the hub, one line each. `npm start`, the test hub, the benchmarks, `npm run compose` (the
// supergraph and docker-compose.yml) and `npm run codegen` are all built from this list.
//
// Adding a subgraph: a folder subgraphs/<name>/ with schema.graphql, codegen.ts, src/descriptor.ts (and the rest
// of its code), one line below, then `npm run compose && npm run codegen`.
import { SUBGRAPH_NAME, type SubgraphDescriptor } from '@bank-hub/shared';

export const SUBGRAPHS = {
  members: () => import('./members/src/descriptor'),
  content: () => import('./content/src/descriptor'),
  products: () => import('./products/src/descriptor'),
  analytics: () => import('./analytics/src/descriptor'),
  engagement: () => import('./engagement/src/descriptor'),
  messages: () => import('./messages/src/descriptor'),
} satisfies Record<string, () => Promise<{ default: SubgraphDescriptor }>>;

export type SubgraphName = keyof typeof SUBGRAPHS;
export const SUBGRAPH_NAMES = Object.keys(SUBGRAPHS) as SubgraphName[];

/** Every subgraph's descriptor, by name; a descriptor whose name disagrees with its registry line is an error. */
export async function loadSubgraphs(): Promise<Record<SubgraphName, SubgraphDescriptor>> {
  const entries = await Promise.all(
    SUBGRAPH_NAMES.map(async (name) => {
      const descriptor = (await SUBGRAPHS[name]()).default;
      if (descriptor.name !== name || !SUBGRAPH_NAME.test(name))
        throw new Error(`subgraph registry: "${name}" loads a descriptor named "${descriptor.name}"`);
      return [name, descriptor] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<SubgraphName, SubgraphDescriptor>;
}
