// npm start: the whole hub on one machine — MongoDB (MONGODB_URI, else embedded), demo data on first run,
// every subgraph of the registry and the gateway — then prints where to open Apollo Sandbox.
import { runProcess, startMongo, subgraphPort } from '@bank-hub/shared';
import { startHub } from './hub';

runProcess('hub', async (config, logger) => {
  const mongo = await startMongo(logger, config.MONGODB_URI);
  const hub = await startHub({
    config,
    logger,
    mongoUri: mongo.uri,
    dbPrefix: config.MONGODB_DB_PREFIX,
    seed: 'if-empty',
    gatewayPort: config.GATEWAY_PORT,
    subgraphPort: (name, descriptor) => subgraphPort(name, descriptor.defaultPort),
  });
  // The gateway binds to loopback by default; localhost is the address a browser expects.
  const sandbox = hub.gatewayUrl.replace('127.0.0.1', 'localhost').replace(/\/graphql$/, '');
  logger.info({ gateway: hub.gatewayUrl, mongo: mongo.kind }, 'bank operations hub is up');
  console.log(
    `\n  Apollo Sandbox: ${sandbox}\n  GraphQL endpoint: ${sandbox}/graphql\n  Token: npm run -s token -- M0001\n`,
  );
  return async () => {
    await hub.stop();
    await mongo.stop();
  };
});
