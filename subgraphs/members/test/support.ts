// Starts the members subgraph alone on a free port over a seeded database of the test file's own.
import type { Connection } from 'mongoose';
import type { RunningServer } from '@bank-hub/shared';
import {
  type GraphQLResponse,
  dropAndClose,
  graphql,
  internalIdentity,
  testConfig,
  testDatabase,
  testLogger,
} from '../../../test/support/env';
import { openRepositories, type MembersRepositories } from '../src/models';
import { seedMembers } from '../src/seed';
import { buildMembersServer } from '../src/server';

export type SendAs = (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

export interface MembersUnderTest {
  server: RunningServer;
  connection: Connection;
  repos: MembersRepositories;
  /** Sends a document as the given caller, with the identity header the gateway would forward. */
  as(
    subject: string,
    scopes: string[],
  ): (query: string, variables?: Record<string, unknown>) => ReturnType<typeof graphql>;
  stop(): Promise<void>;
}

export async function startMembers(
  label: string,
  options: { monitorCommands?: boolean } = {},
): Promise<MembersUnderTest> {
  const connection = await testDatabase(label, options);
  const repos = await openRepositories(connection);
  await seedMembers(repos);
  const server = await (
    await buildMembersServer({ connection, subgraphSecret: testConfig.SUBGRAPH_SECRET, logger: testLogger })
  ).listen(0, '127.0.0.1');
  return {
    server,
    connection,
    repos,
    as:
      (subject, scopes) =>
      async (query, variables = {}) =>
        graphql(server.url, query, variables, { 'x-hub-identity': await internalIdentity(subject, scopes) }),
    async stop() {
      await server.stop();
      await dropAndClose(connection);
    },
  };
}
