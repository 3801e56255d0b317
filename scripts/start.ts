// npm start: the whole hub on one machine — MongoDB (MONGODB_URI, else embedded), demo data on first run,
// every subgraph of the registry and the gateway, the explorer and the console built if their sources changed — then
// prints where to open them.
import { checkPortsFree, gatewayPorts, runProcess, startMongo, subgraphPort } from '@bank-hub/shared';
import { loadSubgraphs, SUBGRAPH_NAMES } from '../subgraphs/registry';
import { ensureWebBuilt } from '../web/build';
import { startHub } from './hub';

runProcess('hub', async (config, logger) => {
  // A port taken is said at once, before the database starts and the seed loads.
  const descriptors = await loadSubgraphs();
  await checkPortsFree(config.HOST, [
    ...gatewayPorts(config),
    ...SUBGRAPH_NAMES.map((name) => ({
      setting: `${name.toUpperCase()}_PORT`,
      port: subgraphPort(name, descriptors[name].defaultPort),
    })),
  ]);
  const [mongo] = await Promise.all([startMongo(logger, config.MONGODB_URI), ensureWebBuilt()]);
  const hub = await startHub({
    config,
    logger,
    mongoUri: mongo.uri,
    dbPrefix: config.MONGODB_DB_PREFIX,
    seed: 'if-empty',
    history: 'full',
    gatewayPort: config.GATEWAY_PORT,
    subgraphPort: (name, descriptor) => subgraphPort(name, descriptor.defaultPort),
  });
  // The gateway binds to loopback by default; localhost is the address a browser expects.
  const base = hub.gatewayUrl.replace('127.0.0.1', 'localhost').replace(/\/graphql$/, '');
  logger.info({ gateway: hub.gatewayUrl, mongo: mongo.kind }, 'bank operations hub is up');
  console.log(
    [
      '',
      `  Apollo Sandbox (needs Apollo's CDN): ${base}`,
      `  Explorer (works offline):           ${base}/graphiql`,
      `  Operations console:                 ${base}/console`,
      `  GraphQL endpoint:                   ${base}/graphql`,
      `  Metrics (Prometheus):               ${base}/metrics`,
      '  Token: npm run -s token -- M0001',
      '',
    ].join('\n'),
  );
  return async () => {
    await hub.stop();
    await mongo.stop();
  };
});
