// npm start: the whole hub on one machine — MongoDB (MONGODB_URI, else embedded), demo data on first run,
// every subgraph and the gateway — then prints where to open Apollo Sandbox.
import { createLogger, loadConfig, startMongo } from '@bank-hub/shared';
import { startHub } from './hub';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('hub', config.LOG_LEVEL);
  const mongo = await startMongo(logger, config.MONGODB_URI);
  const hub = await startHub({
    config,
    logger,
    mongoUri: mongo.uri,
    dbPrefix: config.MONGODB_DB_PREFIX,
    seed: 'if-empty',
    gatewayPort: config.GATEWAY_PORT,
    subgraphPorts: { members: config.MEMBERS_PORT },
  });
  // The gateway binds to loopback by default; localhost is the address a browser expects.
  const sandbox = hub.gatewayUrl.replace('127.0.0.1', 'localhost').replace(/\/graphql$/, '');
  logger.info({ gateway: hub.gatewayUrl, mongo: mongo.kind }, 'bank operations hub is up');
  console.log(
    `\n  Apollo Sandbox: ${sandbox}\n  GraphQL endpoint: ${sandbox}/graphql\n  Token: npm run -s token -- M0001\n`,
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await hub.stop();
    await mongo.stop();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
