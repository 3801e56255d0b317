// Which pages a flow may show, asked of the content subgraph through the graph on behalf of the builder (products
// never reads content's collections). Service flows run in mini-programs, so it is their pages that count.
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';

export interface PageDirectory {
  /** Of these keys (at most 100: a flow has at most 50 steps), those of mini-program pages not archived. */
  pageKeys(caller: GraphCaller, keys: readonly string[]): Promise<ReadonlySet<string>>;
}

// Content lists pages not archived unless asked otherwise, at most one per channel and key: one page of 100 holds all.
const PAGES_QUERY = `query PagesFlowsMayShow($keys: [String!]!) {
  pages(channel: MINI_PROGRAM, keys: $keys, first: 100) { edges { node { key } } }
}`;

export function graphPageDirectory(graph: GraphClient): PageDirectory {
  return {
    async pageKeys(caller, keys) {
      const response = await graph.query<{ pages: { edges: { node: { key: string } }[] } | null }>(
        caller,
        PAGES_QUERY,
        { keys },
      );
      if (response.errors.length > 0 || !response.data?.pages) {
        throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'could not list pages with the content subgraph', {
          reason: response.errors[0]?.message,
        });
      }
      return new Set(response.data.pages.edges.map((edge) => edge.node.key));
    },
  };
}
