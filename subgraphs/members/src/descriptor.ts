// The members subgraph as the rest of the hub sees it; subgraphs/registry.ts lists it.
import { schemaBeside, type SubgraphDescriptor } from '@bank-hub/shared';
import { openRepositories, type MembersRepositories } from './models';
import { isSeeded, seedMembers } from './seed';
import { buildMembersServer } from './server';

const members: SubgraphDescriptor<MembersRepositories> = {
  name: 'members',
  defaultPort: 4001,
  schemaPath: schemaBeside(__dirname),
  openRepositories,
  seed: seedMembers,
  isSeeded,
  buildServer: buildMembersServer,
};

export default members;
