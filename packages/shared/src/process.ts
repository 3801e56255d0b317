// The one way a hub process starts and stops: validated config, a logger, graceful shutdown on SIGTERM/SIGINT,
// and a non-zero exit when start-up fails.
import { ConfigError, loadConfig, subgraphPort, type HubConfig } from './config';
import { GraphClient } from './graph-client';
import { createLogger, type Logger } from './logger';
import { connectDatabase } from './mongo';
import type { SubgraphDescriptor } from './subgraph';
import { startConfiguredTracing } from './tracing';

export function runProcess(
  component: string,
  start: (config: HubConfig, logger: Logger) => Promise<() => Promise<void>>,
): void {
  const main = async () => {
    const config = loadConfig();
    const logger = createLogger(component, config.LOG_LEVEL);
    const tracing = await startConfiguredTracing(config, component);
    const stop = await start(config, logger);
    let stopping = false;
    const shutdown = async () => {
      if (stopping) return;
      stopping = true;
      await stop();
      await tracing?.stop();
      process.exit(0);
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  };
  main().catch(exitOnStartFailure);
}

/** Ends a process that could not start: a setting it refuses by its message alone, anything else with its stack. */
export function exitOnStartFailure(error: unknown): never {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
}

/** Runs one subgraph as its own process over `<MONGODB_DB_PREFIX>_<name>` at MONGODB_URI, on `<NAME>_PORT`. */
export function runSubgraph(descriptor: SubgraphDescriptor): void {
  const { name } = descriptor;
  runProcess(name, async (config, logger) => {
    if (!config.MONGODB_URI)
      throw new ConfigError(`MONGODB_URI is required to run the ${name} subgraph on its own`);
    const connection = await connectDatabase(config.MONGODB_URI, `${config.MONGODB_DB_PREFIX}_${name}`);
    const graph = new GraphClient(() => config.GATEWAY_URL, config.SUBGRAPH_SECRET);
    const server = await descriptor.buildServer({ connection, config, logger, graph });
    const running = await server.listen(subgraphPort(name, descriptor.defaultPort), config.HOST);
    logger.info({ url: running.url }, `${name} subgraph listening`);
    return async () => {
      await running.stop();
      await connection.close();
    };
  });
}
