// The messages subgraph as the rest of the hub sees it; subgraphs/registry.ts lists it.
import { schemaBeside, type SubgraphDescriptor } from '@bank-hub/shared';
import { openRepositories, type MessagesRepositories } from './models';
import { isSeeded, seedMessages } from './seed';
import { buildMessagesServer } from './server';

const messages: SubgraphDescriptor<MessagesRepositories> = {
  name: 'messages',
  defaultPort: 4006,
  schemaPath: schemaBeside(__dirname),
  openRepositories,
  seed: seedMessages,
  isSeeded,
  buildServer: buildMessagesServer,
};

export default messages;
