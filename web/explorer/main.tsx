// The hub's own explorer: GraphiQL bundled from npm and served by the gateway at /graphiql, so that developers on a
// network without a route to Apollo's CDN (a bank's intranet) can still explore and query the graph.
import './workers';
import 'graphiql/style.css';
import './explorer.css';
import { createRoot } from 'react-dom/client';
import { GraphiQL, HISTORY_PLUGIN } from 'graphiql';
import { createGraphiQLFetcher } from '@graphiql/toolkit';
import { TOKENS_PLUGIN } from './tokens';

const DEFAULT_QUERY = `# The bank operations hub. A member's id needs a member token: see the Tokens panel.
{
  viewer {
    id
  }
}
`;

// The header editor takes JSON with comments: nothing is sent until a token is pasted.
const DEFAULT_HEADERS = `{
  // "Authorization": "Bearer <token>"
}
`;

const fetcher = createGraphiQLFetcher({ url: '/graphql' });

createRoot(document.getElementById('explorer')!).render(
  <GraphiQL
    fetcher={fetcher}
    defaultQuery={DEFAULT_QUERY}
    defaultHeaders={DEFAULT_HEADERS}
    defaultEditorToolsVisibility="headers"
    plugins={[TOKENS_PLUGIN, HISTORY_PLUGIN]}
    // The history records every run's headers, bearer tokens included: kept for the tab only (as the console keeps its
    // session), never in localStorage, where they would outlive the browser and be read by the next person at it.
    storage={sessionStorage}
    visiblePlugin={TOKENS_PLUGIN}
  />,
);
