// npm run seed: replaces the demo data in MONGODB_URI's databases with the deterministic seed.
import { connectDatabase, createLogger, loadConfig } from '@bank-hub/shared';
import { seedHub } from './hub';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('seed', config.LOG_LEVEL);
  if (!config.MONGODB_URI) {
    throw new Error('set MONGODB_URI to seed a database (npm start seeds its embedded database by itself)');
  }
  const members = await connectDatabase(config.MONGODB_URI, `${config.MONGODB_DB_PREFIX}_members`);
  await seedHub({ members }, 'reset');
  logger.info({ prefix: config.MONGODB_DB_PREFIX }, 'seeded demo data');
  await members.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
