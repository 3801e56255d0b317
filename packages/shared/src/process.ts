// The one way a hub process starts and stops: validated config, a logger, graceful shutdown on SIGTERM/SIGINT,
// and a non-zero exit when start-up fails.
import net from 'node:net';
import { ConfigError, loadConfig, subgraphPort, type HubConfig } from './config';
import { GraphClient, jobCallTimeoutMs } from './graph-client';
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

/** A port a process is to listen on, with the setting that names it. */
export interface PlannedPort {
  setting: string;
  port: number;
}

/**
 * Refuses to start when a port this process is to listen on is taken or not its to take, naming the setting: checked
 * before anything else starts (the embedded database, the seed), and said in a sentence rather than a stack.
 */
export async function checkPortsFree(host: string, ports: readonly PlannedPort[]): Promise<void> {
  // Port 0 asks the system for any free port: nothing to check.
  for (const { setting, port } of ports.filter((planned) => planned.port !== 0)) {
    await new Promise<void>((resolve, reject) => {
      const probe = net.createServer();
      probe.once('error', (error: NodeJS.ErrnoException) => reject(portRefusal(error, host, setting, port)));
      probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve()));
    });
  }
}

/** The ports the gateway listens on: its own, and its private metrics port when one is set. */
export const gatewayPorts = (config: HubConfig): PlannedPort[] => [
  { setting: 'GATEWAY_PORT', port: config.GATEWAY_PORT },
  ...(config.GATEWAY_METRICS_PORT === undefined
    ? []
    : [{ setting: 'GATEWAY_METRICS_PORT', port: config.GATEWAY_METRICS_PORT }]),
];

function portRefusal(error: NodeJS.ErrnoException, host: string, setting: string, port: number): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new ConfigError(`${setting}: port ${port} on ${host} is in use; set ${setting} to a free port`);
    case 'EACCES':
      return new ConfigError(
        `${setting}: port ${port} on ${host} may not be taken by this user; set ${setting}`,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError(`HOST: ${host} is not an address of this machine`);
    default:
      return error;
  }
}

/** Runs one subgraph as its own process over `<MONGODB_DB_PREFIX>_<name>` at MONGODB_URI, on `<NAME>_PORT`. */
export function runSubgraph(descriptor: SubgraphDescriptor): void {
  const { name } = descriptor;
  runProcess(name, async (config, logger) => {
    if (!config.MONGODB_URI)
      throw new ConfigError(`MONGODB_URI is required to run the ${name} subgraph on its own`);
    const port = subgraphPort(name, descriptor.defaultPort);
    await checkPortsFree(config.HOST, [{ setting: `${name.toUpperCase()}_PORT`, port }]);
    const connection = await connectDatabase(config.MONGODB_URI, `${config.MONGODB_DB_PREFIX}_${name}`);
    const graph = new GraphClient(
      () => config.GATEWAY_URL,
      config.SUBGRAPH_SECRET,
      jobCallTimeoutMs(config.SUBGRAPH_TIMEOUT_MS),
    );
    const server = await descriptor.buildServer({ connection, config, logger, graph });
    const running = await server.listen(port, config.HOST);
    logger.info({ url: running.url }, `${name} subgraph listening`);
    return async () => {
      await running.stop();
      await connection.close();
    };
  });
}
