// npm run seed: replaces the demo data in MONGODB_URI's databases with the deterministic seed.
import { ConfigError, createLogger, exitOnStartFailure, loadConfig } from '@bank-hub/shared';
import { connectHubDatabases, seedHub } from './hub';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('seed', config.LOG_LEVEL);
  if (!config.MONGODB_URI) {
    throw new ConfigError(
      'set MONGODB_URI to seed a database (npm start seeds its embedded database by itself)',
    );
  }
  const connections = await connectHubDatabases(config.MONGODB_URI, config.MONGODB_DB_PREFIX);
  await seedHub(connections, 'reset', 'full', config);
  logger.info({ prefix: config.MONGODB_DB_PREFIX }, 'seeded demo data');
  await Promise.all(Object.values(connections).map((connection) => connection.close()));
}

main().catch(exitOnStartFailure);
