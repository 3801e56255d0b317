// Starts the whole hub in one process — every subgraph and the gateway over one MongoDB server — for
// `npm start`, the benchmarks and the end-to-end tests. Production runs each as its own process instead.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { connectDatabase, type HubConfig, type Logger, type RunningServer } from '@bank-hub/shared';
import { buildGateway } from '../gateway/src/server';
import { openRepositories } from '../subgraphs/members/src/models';
import { isSeeded, seedMembers } from '../subgraphs/members/src/seed';
import { buildMembersServer } from '../subgraphs/members/src/server';

export type SeedMode = 'none' | 'if-empty' | 'reset';

export interface HubOptions {
  config: HubConfig;
  logger: Logger;
  mongoUri: string;
  /** Database names are `<dbPrefix>_<subgraph>`. */
  dbPrefix: string;
  seed: SeedMode;
  /** 0 picks free ports (tests). */
  gatewayPort: number;
  subgraphPorts: { members: number };
  monitorCommands?: boolean;
}

export interface RunningHub {
  gatewayUrl: string;
  subgraphs: Record<'members', RunningServer>;
  connections: Record<'members', Connection>;
  stop(): Promise<void>;
}

export const SUPERGRAPH_PATH = path.resolve(__dirname, '../schema/supergraph.graphql');

export async function seedHub(connections: Record<'members', Connection>, mode: SeedMode): Promise<boolean> {
  if (mode === 'none') return false;
  const members = await openRepositories(connections.members);
  if (mode === 'if-empty' && (await isSeeded(members))) return false;
  await seedMembers(members, { reset: mode === 'reset' });
  return true;
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const { config, logger } = options;
  const connections = {
    members: await connectDatabase(options.mongoUri, `${options.dbPrefix}_members`, {
      monitorCommands: options.monitorCommands ?? false,
    }),
  };
  if (await seedHub(connections, options.seed)) logger.info('seeded demo data');
  const members = await (
    await buildMembersServer({
      connection: connections.members,
      subgraphSecret: config.SUBGRAPH_SECRET,
      logger: logger.child({ component: 'members' }),
    })
  ).listen(options.subgraphPorts.members, config.HOST);
  const gateway = await buildGateway({
    config,
    logger: logger.child({ component: 'gateway' }),
    supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    subgraphUrls: { members: members.url },
  }).listen(options.gatewayPort, config.HOST);
  return {
    gatewayUrl: gateway.url,
    subgraphs: { members },
    connections,
    async stop() {
      await gateway.stop();
      await members.stop();
      await Promise.all(Object.values(connections).map((connection) => connection.close()));
    },
  };
}
