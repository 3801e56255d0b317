// Starts the members subgraph alone on a free port over a seeded database of the test file's own.
import type { HubConfig } from '@bank-hub/shared';
import { startSubgraph, type SubgraphUnderTest } from '../../../test/support/subgraph';
import members from '../src/descriptor';
import type { MembersRepositories } from '../src/models';

export type { SendAs } from '../../../test/support/subgraph';
export type MembersUnderTest = SubgraphUnderTest<MembersRepositories>;

export const startMembers = (
  label: string,
  options: { config?: Partial<HubConfig> } = {},
): Promise<MembersUnderTest> => startSubgraph(label, members, options);
