// Starts the whole hub in one process — every subgraph and the gateway over one MongoDB server — for
// `npm start`, the benchmarks and the end-to-end tests. Production runs each as its own process instead.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import {
  GraphClient,
  connectDatabase,
  type HttpGraphQLServer,
  type HubConfig,
  type Logger,
  type RunningServer,
} from '@bank-hub/shared';
import { buildGateway } from '../gateway/src/server';
import * as contentModels from '../subgraphs/content/src/models';
import { graphProductCatalog } from '../subgraphs/content/src/product-catalog';
import * as contentSeed from '../subgraphs/content/src/seed';
import { buildContentServer } from '../subgraphs/content/src/server';
import * as membersModels from '../subgraphs/members/src/models';
import * as membersSeed from '../subgraphs/members/src/seed';
import { buildMembersServer } from '../subgraphs/members/src/server';
import { graphPageDirectory } from '../subgraphs/products/src/flows/content-pages';
import { graphMemberRisk } from '../subgraphs/products/src/flows/member-risk';
import * as productsModels from '../subgraphs/products/src/models';
import * as productsSeed from '../subgraphs/products/src/seed';
import { buildProductsServer } from '../subgraphs/products/src/server';

export type SeedMode = 'none' | 'if-empty' | 'reset';
export const SUBGRAPH_NAMES = ['members', 'content', 'products'] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

export interface HubOptions {
  config: HubConfig;
  logger: Logger;
  mongoUri: string;
  /** Database names are `<dbPrefix>_<subgraph>`. */
  dbPrefix: string;
  seed: SeedMode;
  /** 0 picks free ports (tests). */
  gatewayPort: number;
  subgraphPorts: Record<SubgraphName, number>;
  monitorCommands?: boolean;
}

export interface RunningHub {
  gatewayUrl: string;
  subgraphs: Record<SubgraphName, RunningServer>;
  connections: Record<SubgraphName, Connection>;
  stop(): Promise<void>;
}

export const SUPERGRAPH_PATH = path.resolve(__dirname, '../schema/supergraph.graphql');

/** Seeds each subgraph's own database, through that subgraph's own repositories. */
export async function seedHub(
  connections: Record<SubgraphName, Connection>,
  mode: SeedMode,
): Promise<boolean> {
  if (mode === 'none') return false;
  const reset = mode === 'reset';
  const [members, content, products] = await Promise.all([
    membersModels.openRepositories(connections.members),
    contentModels.openRepositories(connections.content),
    productsModels.openRepositories(connections.products),
  ]);
  if (mode === 'if-empty' && (await membersSeed.isSeeded(members))) return false;
  await Promise.all([
    membersSeed.seedMembers(members, { reset }),
    contentSeed.seedContent(content, { reset }),
    productsSeed.seedProducts(products, { reset }),
  ]);
  return true;
}

export async function connectHubDatabases(
  mongoUri: string,
  dbPrefix: string,
  monitorCommands = false,
): Promise<Record<SubgraphName, Connection>> {
  const entries = await Promise.all(
    SUBGRAPH_NAMES.map(
      async (name) =>
        [name, await connectDatabase(mongoUri, `${dbPrefix}_${name}`, { monitorCommands })] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<SubgraphName, Connection>;
}

export async function startHub(options: HubOptions): Promise<RunningHub> {
  const { config, logger } = options;
  const connections = await connectHubDatabases(options.mongoUri, options.dbPrefix, options.monitorCommands);
  if (await seedHub(connections, options.seed)) logger.info('seeded demo data');
  let gatewayUrl = '';
  const secret = config.SUBGRAPH_SECRET;
  const builders: Record<SubgraphName, () => Promise<HttpGraphQLServer>> = {
    members: () =>
      buildMembersServer({
        connection: connections.members,
        subgraphSecret: secret,
        logger: logger.child({ component: 'members' }),
      }),
    content: () =>
      buildContentServer({
        connection: connections.content,
        subgraphSecret: secret,
        logger: logger.child({ component: 'content' }),
        catalog: graphProductCatalog(new GraphClient(() => gatewayUrl, secret)),
        creativeLinkHosts: config.CREATIVE_LINK_HOSTS,
      }),
    products: () =>
      buildProductsServer({
        connection: connections.products,
        subgraphSecret: secret,
        logger: logger.child({ component: 'products' }),
        memberRisk: graphMemberRisk(new GraphClient(() => gatewayUrl, secret)),
        pages: graphPageDirectory(new GraphClient(() => gatewayUrl, secret)),
        flowSessionTtlMinutes: config.FLOW_SESSION_TTL_MINUTES,
      }),
  };
  const subgraphs = Object.fromEntries(
    await Promise.all(
      SUBGRAPH_NAMES.map(
        async (name) =>
          [name, await (await builders[name]()).listen(options.subgraphPorts[name], config.HOST)] as const,
      ),
    ),
  ) as Record<SubgraphName, RunningServer>;
  const gateway = await buildGateway({
    config,
    logger: logger.child({ component: 'gateway' }),
    supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, subgraphs[name].url])),
  }).listen(options.gatewayPort, config.HOST);
  gatewayUrl = gateway.url;
  return {
    gatewayUrl: gateway.url,
    subgraphs,
    connections,
    async stop() {
      await gateway.stop();
      await Promise.all(Object.values(subgraphs).map((server) => server.stop()));
      await Promise.all(Object.values(connections).map((connection) => connection.close()));
    },
  };
}
