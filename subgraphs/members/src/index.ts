// Runs the members subgraph as its own process (e.g. in docker-compose) against MONGODB_URI.
import { connectDatabase, createLogger, loadConfig } from '@bank-hub/shared';
import { buildMembersServer } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger('members', config.LOG_LEVEL);
  if (!config.MONGODB_URI) throw new Error('MONGODB_URI is required to run the members subgraph on its own');
  const connection = await connectDatabase(config.MONGODB_URI, `${config.MONGODB_DB_PREFIX}_members`);
  const server = await buildMembersServer({ connection, subgraphSecret: config.SUBGRAPH_SECRET, logger });
  const running = await server.listen(config.MEMBERS_PORT, config.HOST);
  logger.info({ url: running.url }, 'members subgraph listening');
  const shutdown = async () => {
    await running.stop();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
