// Runs the gateway as its own process over the checked-in supergraph (subgraph URLs from the environment).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkPortsFree, gatewayPorts, runProcess } from '@bank-hub/shared';
import { buildGateway } from './server';
import { subgraphUrls } from './subgraphs';

runProcess('gateway', async (config, logger) => {
  await checkPortsFree(config.HOST, gatewayPorts(config));
  const supergraphSdl = readFileSync(path.resolve(__dirname, '../../schema/supergraph.graphql'), 'utf8');
  const running = await buildGateway({
    config,
    logger,
    supergraphSdl,
    subgraphUrls: subgraphUrls(supergraphSdl),
  }).listen(config.GATEWAY_PORT, config.HOST);
  logger.info({ url: running.url }, 'gateway listening');
  return () => running.stop();
});
