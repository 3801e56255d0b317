// Starts the whole hub in one process — every subgraph of the registry and the gateway over one MongoDB server — for
// `npm start`, the benchmarks and the end-to-end tests. Production runs each as its own process instead.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import {
  GraphClient,
  jobCallTimeoutMs,
  componentLogger,
  connectDatabase,
  type HubConfig,
  type Logger,
  type RunningServer,
  type SeedHistory,
  type SubgraphDescriptor,
} from '@bank-hub/shared';
import { buildGateway, type Gateway } from '../gateway/src/server';
import { loadSubgraphs, SUBGRAPH_NAMES, type SubgraphName } from '../subgraphs/registry';

export type SeedMode = 'none' | 'if-empty' | 'reset';
export type { SeedHistory, SubgraphName };

export interface HubOptions {
  config: HubConfig;
  logger: Logger;
  mongoUri: string;
  /** Database names are `<dbPrefix>_<subgraph>`. */
  dbPrefix: string;
  seed: SeedMode;
  history: SeedHistory;
  /** 0 picks a free port (tests). */
  gatewayPort: number;
  /** The port of each subgraph; 0 picks a free one. */
  subgraphPort: (name: SubgraphName, descriptor: SubgraphDescriptor) => number;
  /** Where the gateway reaches a subgraph listening at `url` (tests put a proxy in between). */
  routeSubgraph?: (name: SubgraphName, url: string) => string;
}

export interface RunningHub {
  gatewayUrl: string;
  /** The gateway's client of each subgraph (what it sent and shared). */
  gatewaySubgraphs: Gateway['subgraphs'];
  subgraphs: Record<SubgraphName, RunningServer>;
  connections: Record<SubgraphName, Connection>;
  /** Stops one subgraph, as if its process had died; the gateway keeps running. */
  stopSubgraph(name: SubgraphName): Promise<void>;
  /** Starts a stopped subgraph again on the port it had. */
  restartSubgraph(name: SubgraphName): Promise<void>;
  stop(): Promise<void>;
}

export const SUPERGRAPH_PATH = path.resolve(__dirname, '../schema/supergraph.graphql');

/** Seeds each subgraph's own database through that subgraph's own repositories. */
export async function seedHub(
  connections: Record<SubgraphName, Connection>,
  mode: SeedMode,
  history: SeedHistory,
  config: HubConfig,
  descriptors?: Record<SubgraphName, SubgraphDescriptor>,
): Promise<SubgraphName[]> {
  if (mode === 'none') return [];
  const subgraphs = descriptors ?? (await loadSubgraphs());
  const seeded = await Promise.all(
    SUBGRAPH_NAMES.map(async (name) => {
      const descriptor = subgraphs[name];
      const repositories = await descriptor.openRepositories(connections[name]);
      // Each subgraph seeds itself only when its own database is empty, so a subgraph added to a running
      // deployment gets its demo data without touching the others'.
      if (mode === 'if-empty' && (await descriptor.isSeeded(repositories))) return null;
      await descriptor.seed(repositories, { reset: mode === 'reset', config, history });
      return name;
    }),
  );
  return seeded.filter((name): name is SubgraphName => name !== null);
}

export async function connectHubDatabases(
  mongoUri: string,
  dbPrefix: string,
): Promise<Record<SubgraphName, Connection>> {
  const entries = await Promise.all(
    SUBGRAPH_NAMES.map(
      async (name) => [name, await connectDatabase(mongoUri, `${dbPrefix}_${name}`)] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<SubgraphName, Connection>;
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const { config, logger } = options;
  const descriptors = await loadSubgraphs();
  const connections = await connectHubDatabases(options.mongoUri, options.dbPrefix);
  const seeded = await seedHub(connections, options.seed, options.history, config, descriptors);
  if (seeded.length > 0) logger.info({ subgraphs: seeded }, 'seeded demo data');
  let gatewayUrl = '';
  const graph = new GraphClient(
    () => gatewayUrl,
    config.SUBGRAPH_SECRET,
    jobCallTimeoutMs(config.SUBGRAPH_TIMEOUT_MS),
  );
  const startSubgraph = async (name: SubgraphName, port: number) => {
    const server = await descriptors[name].buildServer({
      connection: connections[name],
      config,
      logger: componentLogger(logger, name),
      graph,
    });
    return server.listen(port, config.HOST);
  };
  const subgraphs = Object.fromEntries(
    await Promise.all(
      SUBGRAPH_NAMES.map(
        async (name) =>
          [name, await startSubgraph(name, options.subgraphPort(name, descriptors[name]))] as const,
      ),
    ),
  ) as Record<SubgraphName, RunningServer>;
  const route = options.routeSubgraph ?? ((_name: SubgraphName, url: string) => url);
  const built = buildGateway({
    config,
    logger: componentLogger(logger, 'gateway'),
    supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, route(name, subgraphs[name].url)])),
  });
  const gateway = await built.listen(options.gatewayPort, config.HOST);
  gatewayUrl = gateway.url;
  const stopped = new Set<SubgraphName>();
  return {
    gatewayUrl: gateway.url,
    gatewaySubgraphs: built.subgraphs,
    subgraphs,
    connections,
    async stopSubgraph(name) {
      stopped.add(name);
      await subgraphs[name].stop();
    },
    async restartSubgraph(name) {
      subgraphs[name] = await startSubgraph(name, subgraphs[name].port);
      stopped.delete(name);
    },
    async stop() {
      await gateway.stop();
      await Promise.all(
        SUBGRAPH_NAMES.filter((name) => !stopped.has(name)).map((name) => subgraphs[name].stop()),
      );
      await Promise.all(Object.values(connections).map((connection) => connection.close()));
    },
  };
}
