// The operations console: a small app served by the gateway at /console that talks only GraphQL to the gateway.
import './console.css';
import { createRoot } from 'react-dom/client';
import { ApolloProvider } from '@apollo/client/react';
import { App } from './app/App';
import { client } from './app/client';

createRoot(document.getElementById('console')!).render(
  <ApolloProvider client={client}>
    <App />
  </ApolloProvider>,
);
