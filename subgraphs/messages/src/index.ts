// Runs the messages subgraph as its own process (e.g. in docker-compose) against MONGODB_URI.
import { runSubgraph } from '@bank-hub/shared';
import descriptor from './descriptor';

runSubgraph(descriptor);
