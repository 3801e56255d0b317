// What a subgraph is to the rest of the hub: one descriptor, exported from the subgraph's folder and listed once in
// subgraphs/registry.ts. `npm start`, the test hub, the benchmarks, composition and the deployment files are all
// built from these descriptors, so adding a subgraph is a folder plus one registry line.
import path from 'node:path';
import type { Connection } from 'mongoose';
import type { HubConfig } from './config';
import type { GraphClient } from './graph-client';
import type { Logger } from './logger';
import type { HttpGraphQLServer } from './server';

/** What the hub hands a subgraph to build its server. */
export interface SubgraphDependencies {
  /** The subgraph's own database, `<MONGODB_DB_PREFIX>_<name>`. */
  connection: Connection;
  config: HubConfig;
  logger: Logger;
  /** Asks the graph (through the gateway) on behalf of a caller. */
  graph: GraphClient;
}

/**
 * How much recorded history (analytics' events, and all that is computed from them) a seed writes: `full` is the demo's
 * (`npm start`, `npm run seed`, the benchmarks); `short` a little, for test hubs that read no seeded figures.
 */
export type SeedHistory = 'full' | 'short';

export interface SubgraphDescriptor<TRepositories = unknown> {
  /** Lower case letters and digits; also names its database and its `<NAME>_PORT` / `<NAME>_URL` settings. */
  name: string;
  /** Where it listens unless `<NAME>_PORT` says otherwise. */
  defaultPort: number;
  /** Its SDL, the contract the supergraph is composed from. */
  schemaPath: string;
  /** Opens its repositories on its database (and makes sure their indexes exist). */
  openRepositories(connection: Connection): Promise<TRepositories>;
  /**
   * Writes the demo data; `reset` deletes what the seed owns first; `config` is the hub's (e.g. the bank's days);
   * `history`, how much recorded history.
   */
  seed(
    repositories: TRepositories,
    options: { reset: boolean; config: HubConfig; history: SeedHistory },
  ): Promise<unknown>;
  /** Whether the demo data is already there. */
  isSeeded(repositories: TRepositories): Promise<boolean>;
  buildServer(dependencies: SubgraphDependencies): Promise<HttpGraphQLServer>;
}

/** A subgraph's SDL sits beside its `src/` folder; `srcDir` is that folder (a descriptor's `__dirname`). */
export const schemaBeside = (srcDir: string): string => path.join(srcDir, '..', 'schema.graphql');
