// The engagement subgraph as the rest of the hub sees it; subgraphs/registry.ts lists it.
import { schemaBeside, type SubgraphDescriptor } from '@bank-hub/shared';
import { openRepositories, type EngagementRepositories } from './models';
import { isSeeded, seedEngagement } from './seed';
import { buildEngagementServer } from './server';

const engagement: SubgraphDescriptor<EngagementRepositories> = {
  name: 'engagement',
  defaultPort: 4005,
  schemaPath: schemaBeside(__dirname),
  openRepositories,
  seed: seedEngagement,
  isSeeded,
  buildServer: buildEngagementServer,
};

export default engagement;
