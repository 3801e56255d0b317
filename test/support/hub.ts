// A whole hub on free ports over a seeded database of the test file's own.
import {
  startHub,
  type HubOptions,
  type RunningHub,
  type SeedHistory,
  type SeedMode,
} from '../../scripts/hub';
import { mongoUri, testConfig, testLogger, uniquePrefix } from './env';
import type { HubConfig, Logger } from '@bank-hub/shared';

export async function startTestHub(
  label: string,
  options: {
    config?: Partial<HubConfig>;
    logger?: Logger;
    seed?: SeedMode;
    /** `full` for a test that reads figures of the demo's seeded history; a short one by default (quicker to seed). */
    history?: SeedHistory;
    routeSubgraph?: HubOptions['routeSubgraph'];
    /** Another way to the test run's MongoDB-wire server (a proxy in front of it). */
    mongoUri?: string;
  } = {},
): Promise<RunningHub> {
  return startHub({
    config: { ...testConfig, ...options.config },
    logger: options.logger ?? testLogger,
    mongoUri: options.mongoUri ?? mongoUri(),
    dbPrefix: uniquePrefix(label),
    // Its databases are new (a random prefix): seeding them needs no reset, which would empty every collection first.
    seed: options.seed ?? 'if-empty',
    history: options.history ?? 'short',
    gatewayPort: 0,
    subgraphPort: () => 0,
    routeSubgraph: options.routeSubgraph,
  });
}

export async function stopTestHub(hub: RunningHub): Promise<void> {
  await Promise.all(Object.values(hub.connections).map((connection) => connection.dropDatabase()));
  await hub.stop();
}
