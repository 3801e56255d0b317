// The console's GraphQL client: Apollo Client over the gateway's /graphql, with the operator's token on every request.
// A token the gateway refuses ends the session, and the login screen says why.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from '@apollo/client';
import { ErrorLink } from '@apollo/client/link/error';
import { SetContextLink } from '@apollo/client/link/context';
import { hubErrors, UNAUTHENTICATED_NOTICE } from './errors';
import { session } from './session';

const withToken = new SetContextLink(({ headers }) => {
  const token = session.current()?.token;
  return { headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) } };
});

const endSessionWhenRefused = new ErrorLink(({ error }) => {
  if (hubErrors(error)?.some((hubError) => hubError.extensions?.code === 'UNAUTHENTICATED'))
    session.end(UNAUTHENTICATED_NOTICE);
});

export const client = new ApolloClient({
  link: ApolloLink.from([endSessionWhenRefused, withToken, new HttpLink({ uri: '/graphql' })]),
  cache: new InMemoryCache({
    typePolicies: {
      // Step ids are unique within one flow version only; segments, models and candidates have no id of their own.
      FlowStep: { keyFields: false },
      Segment: { keyFields: ['code'] },
      Model: { keyFields: ['name'] },
    },
  }),
  // Several operators work at once: show what is cached, then what the hub says now.
  defaultOptions: { watchQuery: { fetchPolicy: 'cache-and-network' } },
});

// However a session ends (Log out, or a token the hub refuses), what its operator was shown goes with it: the next
// operator in this tab must not see their lists, not even from the cache while their own are fetched.
session.subscribe(() => {
  if (!session.current()) void client.clearStore();
});
