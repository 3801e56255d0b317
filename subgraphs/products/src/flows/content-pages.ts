// Which pages a flow may show, asked of the content subgraph through the graph on behalf of the builder (products
// never reads content's collections). Service flows run in mini-programs, so it is their pages that count.
import { ErrorCode, hubError, type GraphCaller, type GraphClient } from '@bank-hub/shared';

export interface PageDirectory {
  /** Keys of the mini-program pages that exist and have not been archived. */
  pageKeys(caller: GraphCaller): Promise<ReadonlySet<string>>;
}

const PAGES_QUERY = 'query PagesFlowsMayShow { pages(channel: MINI_PROGRAM) { key status } }';

export function graphPageDirectory(graph: GraphClient): PageDirectory {
  return {
    async pageKeys(caller) {
      const response = await graph.query<{ pages: { key: string; status: string }[] | null }>(
        caller,
        PAGES_QUERY,
      );
      if (response.errors.length > 0 || !response.data?.pages) {
        throw hubError(ErrorCode.SERVICE_UNAVAILABLE, 'could not list pages with the content subgraph', {
          reason: response.errors[0]?.message,
        });
      }
      return new Set(
        response.data.pages.filter((page) => page.status !== 'ARCHIVED').map((page) => page.key),
      );
    },
  };
}
