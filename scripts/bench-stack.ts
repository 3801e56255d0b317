// What the benchmarks share: the hub as separate processes on free loopback ports (MongoDB, the seed, every subgraph
// of the registry, one gateway or more), bounded concurrent load, percentiles, and each process's peak memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import type { Connection } from 'mongoose';
import { createLogger, loadConfig, localSubgraphUrl, startMongo, type MongoHandle } from '@bank-hub/shared';
import { SUBGRAPH_NAMES, type SubgraphName } from '../subgraphs/registry';
import { connectHubDatabases, seedHub } from './hub';

// The hub runs as it ships (NODE_ENV=production, see startStack), which wants secrets of its own: fresh ones for each
// run unless the environment brings them. The benchmark's own tokens and graph calls use the same.
for (const secret of ['JWT_SECRET', 'SUBGRAPH_SECRET', 'MESSAGES_RECEIPT_SECRET', 'FLOW_ATTESTATION_SECRET'])
  process.env[secret] ??= randomBytes(32).toString('hex');
export const config = loadConfig();
export const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn');
const ROOT = path.resolve(__dirname, '..');
/** How the image runs every hub process (Dockerfile, docker-compose.yml): TypeScript through tsx's CommonJS hook. */
const PROCESS_ARGS = ['--require', 'tsx/cjs'];
/** BENCH_CPU_PROFILE_DIR: every hub process writes a V8 CPU profile (.cpuprofile) there when it stops. */
const PROFILE_ARGS = process.env.BENCH_CPU_PROFILE_DIR
  ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROFILE_DIR)}`]
  : [];

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  } catch {
    return false;
  }
}

async function waitFor(url: string, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await answers(url))) {
    if (Date.now() > deadline) throw new Error(`${what} did not become ready at ${url}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

export interface Stack {
  /** The gateway, and any further gateways asked for, by name. */
  gateways: Record<string, string>;
  /** Each subgraph's GraphQL URL (its process also answers /metrics). */
  subgraphs: Record<SubgraphName, string>;
  mongoUri: string;
  /** The database server's process, when the stack started it. */
  mongoPid: number | undefined;
  connections: Record<SubgraphName, Connection>;
  processes: { name: string; child: ChildProcess }[];
  stop(): Promise<void>;
}

/**
 * MongoDB, the seed, then each subgraph and the gateway as its own node process; `extraGateways` are further
 * gateways over the same subgraphs with their own settings (e.g. SUBGRAPH_DEDUPE=false).
 */
export async function startStack(extraGateways: Record<string, NodeJS.ProcessEnv> = {}): Promise<Stack> {
  const mongo: MongoHandle = await startMongo(logger, config.MONGODB_URI);
  const prefix = `bench_${Date.now()}`;
  const connections = await connectHubDatabases(mongo.uri, prefix);
  await seedHub(connections, 'reset', 'full', config);
  const gatewayPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // As the image runs it: libraries take their production paths (graphql-js, for one, checks types more cheaply).
    NODE_ENV: 'production',
    // The benchmarks read the gateway's figures where they read the subgraphs': on its own port.
    GATEWAY_PUBLIC_METRICS: 'true',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    MONGODB_URI: mongo.uri,
    MONGODB_DB_PREFIX: prefix,
    GATEWAY_PORT: String(gatewayPort),
    GATEWAY_URL: localSubgraphUrl(gatewayPort),
  };
  const ports: Record<string, number> = {};
  for (const name of SUBGRAPH_NAMES) {
    ports[name] = await freePort();
    env[`${name.toUpperCase()}_PORT`] = String(ports[name]);
    env[`${name.toUpperCase()}_URL`] = localSubgraphUrl(ports[name]);
  }
  const run = (name: string, entry: string, extra: NodeJS.ProcessEnv = {}) => ({
    name,
    child: spawn(process.execPath, [...PROFILE_ARGS, ...PROCESS_ARGS, entry], {
      cwd: ROOT,
      env: { ...env, ...extra },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  });
  const processes = SUBGRAPH_NAMES.map((name) => run(name, `subgraphs/${name}/src/index.ts`));
  await Promise.all(SUBGRAPH_NAMES.map((name) => waitFor(`http://127.0.0.1:${ports[name]}/ready`, name)));
  const gateways: Record<string, string> = { gateway: localSubgraphUrl(gatewayPort) };
  processes.push(run('gateway', 'gateway/src/index.ts'));
  for (const [name, extra] of Object.entries(extraGateways)) {
    const port = await freePort();
    gateways[name] = localSubgraphUrl(port);
    processes.push(run(name, 'gateway/src/index.ts', { ...extra, GATEWAY_PORT: String(port) }));
  }
  await Promise.all(
    Object.entries(gateways).map(([name, url]) => waitFor(url.replace(/\/graphql$/, '/ready'), name)),
  );
  return {
    gateways,
    subgraphs: Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [name, env[`${name.toUpperCase()}_URL`]!]),
    ) as Record<SubgraphName, string>,
    mongoUri: mongo.uri,
    mongoPid: mongo.pid,
    connections,
    processes,
    async stop() {
      await Promise.all(
        processes.map(
          ({ child }) =>
            new Promise<void>((resolve) =>
              child.exitCode !== null
                ? resolve()
                : (child.once('exit', () => resolve()), child.kill('SIGTERM')),
            ),
        ),
      );
      await Promise.all(
        Object.values(connections).map((connection) =>
          connection.dropDatabase().then(() => connection.close()),
        ),
      );
      await mongo.stop();
    },
  };
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

/** `concurrency` workers run `send` back to back until `seconds` pass or `maxRequests` were sent. */
export async function load(
  send: (worker: number, sequence: number) => Promise<boolean>,
  options: { concurrency: number; seconds: number; maxRequests: number },
): Promise<LoadResult> {
  const latenciesMs: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + options.seconds * 1_000;
  const worker = async (w: number) => {
    while (performance.now() < deadline && sent < options.maxRequests) {
      sent += 1;
      const t0 = performance.now();
      try {
        if (!(await send(w, sent))) errors += 1;
      } catch {
        errors += 1;
      }
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, w) => worker(w)));
  return {
    requests: latenciesMs.length,
    errors,
    seconds: (performance.now() - started) / 1_000,
    latenciesMs,
  };
}

export function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export function summarize(result: LoadResult) {
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  return {
    rps: result.requests / result.seconds,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    requests: result.requests,
    errors: result.errors,
  };
}

/** CPU time (user + system) a process has used so far, in seconds; NaN when it cannot be read. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    // Fields 14 and 15 of /proc/<pid>/stat, counted after the command name (which may hold spaces), in clock ticks.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS_PER_SECOND = 100;

/** The machine's CPU time so far, all cores (/proc/stat, in clock ticks): idle and in all; NaN when unreadable. */
export function machineCpu(): { idle: number; total: number } {
  try {
    const fields = readFileSync('/proc/stat', 'utf8')
      .split('\n', 1)[0]!
      .trim()
      .split(/\s+/)
      .slice(1, 9)
      .map(Number);
    // user nice system idle iowait irq softirq steal (guest time is counted in user already); idle and iowait are time
    // no process used.
    return { idle: fields[3]! + fields[4]!, total: fields.reduce((sum, value) => sum + value, 0) };
  } catch {
    return { idle: NaN, total: NaN };
  }
}

/** Peak resident set size of a process so far (VmHWM), in MiB. */
export function peakRssMiB(pid: number | undefined): string {
  if (!pid) return 'n/a';
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) / 1024).toFixed(0) : 'n/a';
  } catch {
    return 'n/a';
  }
}

export const peakMemoryLine = (stack: Stack) =>
  `peak resident memory (MiB): ${stack.processes.map(({ name, child }) => `${name} ${peakRssMiB(child.pid)}`).join(', ')}`;
