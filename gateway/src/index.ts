// Runs the gateway as its own process over the checked-in supergraph (subgraph URLs from the environment).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createLogger, loadConfig } from '@bank-hub/shared';
import { buildGateway } from './server';
import { SUBGRAPHS } from './subgraphs';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const supergraphSdl = readFileSync(path.resolve(__dirname, '../../schema/supergraph.graphql'), 'utf8');
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((subgraph) => [subgraph.name, subgraph.url(config)]));
  const gateway = buildGateway({ config, logger, supergraphSdl, subgraphUrls });
  const running = await gateway.listen(config.GATEWAY_PORT, config.HOST);
  logger.info({ url: running.url }, 'gateway listening');
  const shutdown = async () => {
    await running.stop();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
