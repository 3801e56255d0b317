// The content subgraph as the rest of the hub sees it; subgraphs/registry.ts lists it.
import { schemaBeside, type SubgraphDescriptor } from '@bank-hub/shared';
import { openRepositories, type ContentRepositories } from './models';
import { isSeeded, seedContent } from './seed';
import { buildContentServer } from './server';

const content: SubgraphDescriptor<ContentRepositories> = {
  name: 'content',
  defaultPort: 4002,
  schemaPath: schemaBeside(__dirname),
  openRepositories,
  seed: seedContent,
  isSeeded,
  buildServer: buildContentServer,
};

export default content;
