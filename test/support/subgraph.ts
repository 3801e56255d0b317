// Starts one subgraph alone on a free port over a seeded database of the test file's own, and counts the
// MongoDB reads a request makes.
import type { CommandStartedEvent } from 'mongodb';
import type { Connection } from 'mongoose';
import { GraphClient, type HubConfig, type RunningServer, type SubgraphDescriptor } from '@bank-hub/shared';
import {
  type GraphQLResponse,
  dropAndClose,
  graphql,
  internalIdentity,
  testConfig,
  testDatabase,
  testLogger,
} from './env';

export type SendAs = (query: string, variables?: Record<string, unknown>) => Promise<GraphQLResponse>;

export interface SubgraphUnderTest<TRepos> {
  server: RunningServer;
  connection: Connection;
  repos: TRepos;
  /** Sends a document as the given caller, with the identity header the gateway would forward. */
  as(subject: string, scopes: string[]): SendAs;
  stop(): Promise<void>;
}

/** Alone, a subgraph has no gateway to ask: what it would ask the graph fails as unavailable. */
const NO_GATEWAY = 'http://127.0.0.1:1/graphql';

export async function startSubgraph<TRepos>(
  label: string,
  descriptor: SubgraphDescriptor<TRepos>,
  options: { config?: Partial<HubConfig> } = {},
): Promise<SubgraphUnderTest<TRepos>> {
  const connection = await testDatabase(label);
  const repos = await descriptor.openRepositories(connection);
  await descriptor.seed(repos, {
    reset: false,
    config: { ...testConfig, ...options.config },
    // A subgraph alone is tested on fixtures of the test's own, not on the demo's history.
    history: 'short',
  });
  const graph = new GraphClient(() => NO_GATEWAY, testConfig.SUBGRAPH_SECRET);
  const server = await (
    await descriptor.buildServer({
      connection,
      config: { ...testConfig, ...options.config },
      logger: testLogger,
      graph,
    })
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

/**
 * Records the reads (find, aggregate) a connection sends (connectDatabase's connections monitor commands), except those
 * `ignore` picks out, such as a background job's.
 */
export function readRecorder(
  connection: Connection,
  ignore: (event: CommandStartedEvent) => boolean = () => false,
) {
  const commands: CommandStartedEvent[] = [];
  connection.getClient().on('commandStarted', (event: CommandStartedEvent) => commands.push(event));
  return {
    reset: () => void (commands.length = 0),
    /** Reads per collection since the last reset. */
    reads(): Record<string, number> {
      const reads: Record<string, number> = {};
      for (const event of commands) {
        if (event.commandName !== 'find' && event.commandName !== 'aggregate') continue;
        if (ignore(event)) continue;
        const collection = String(event.command[event.commandName]);
        reads[collection] = (reads[collection] ?? 0) + 1;
      }
      return reads;
    },
  };
}

/** Reads per collection while running `action`. */
export function readCounter(connection: Connection, ignore?: (event: CommandStartedEvent) => boolean) {
  const recorder = readRecorder(connection, ignore);
  return async function readsDuring(action: () => Promise<unknown>): Promise<Record<string, number>> {
    recorder.reset();
    await action();
    return recorder.reads();
  };
}
