// npm run bench:page: a bounded load of the headline page query through the gateway, next to a single-subgraph
// baseline (`viewer { id }`), with the peak resident memory of the gateway and each subgraph. Loopback only.
// When nothing answers at BENCH_GATEWAY_URL it starts MongoDB, seeds it and runs every subgraph and the gateway as
// their own processes on free ports, so the memory figures are per process.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { SignJWT } from 'jose';
import { createLogger, loadConfig, startMongo, type MongoHandle } from '@bank-hub/shared';
import { connectHubDatabases, seedHub, SUBGRAPH_NAMES } from './hub';

const config = loadConfig();
const logger = createLogger('bench', process.env.LOG_LEVEL ?? 'warn');
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const MAX_REQUESTS = Number(process.env.BENCH_MAX_REQUESTS ?? 200_000);
const ROOT = path.resolve(__dirname, '..');

const HEADLINE = `query Home {
  viewer {
    id
    level { name }
    page(channel: APP, key: "home") {
      slots {
        code
        template
        items {
          __typename
          ... on Banner { title imageUrl link }
          ... on ActivityCard { activity { title endsAt } }
          ... on ProductCard { product { name riskLevel annualRate } }
          ... on TopicCard { topic { title heat } }
        }
      }
    }
  }
}`;
const BASELINE = '{ viewer { id } }';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<boolean> {
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

interface Stack {
  gatewayUrl: string;
  processes: { name: string; child: ChildProcess }[];
  stop(): Promise<void>;
}

/** MongoDB, the seed, then each subgraph and the gateway as its own node process. */
async function startStack(): Promise<Stack> {
  const mongo: MongoHandle = await startMongo(logger, config.MONGODB_URI);
  const prefix = `bench_${Date.now()}`;
  const connections = await connectHubDatabases(mongo.uri, prefix);
  await seedHub(connections, 'reset');
  const ports = {
    gateway: await freePort(),
    members: await freePort(),
    content: await freePort(),
    products: await freePort(),
  };
  const url = (port: number) => `http://127.0.0.1:${port}/graphql`;
  const env = {
    ...process.env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    MONGODB_URI: mongo.uri,
    MONGODB_DB_PREFIX: prefix,
    GATEWAY_PORT: String(ports.gateway),
    GATEWAY_URL: url(ports.gateway),
    MEMBERS_PORT: String(ports.members),
    MEMBERS_URL: url(ports.members),
    CONTENT_PORT: String(ports.content),
    CONTENT_URL: url(ports.content),
    PRODUCTS_PORT: String(ports.products),
    PRODUCTS_URL: url(ports.products),
  };
  const run = (name: string, entry: string) => ({
    name,
    child: spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  });
  const processes = SUBGRAPH_NAMES.map((name) => run(name, `subgraphs/${name}/src/index.ts`));
  await Promise.all(SUBGRAPH_NAMES.map((name) => waitFor(`http://127.0.0.1:${ports[name]}/ready`, name)));
  processes.push(run('gateway', 'gateway/src/index.ts'));
  await waitFor(`http://127.0.0.1:${ports.gateway}/ready`, 'gateway');
  return {
    gatewayUrl: url(ports.gateway),
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

function token(subject: string): Promise<string> {
  return new SignJWT({ scope: 'member' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuer(config.JWT_ISSUER)
    .setAudience(config.JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(config.JWT_SECRET));
}

interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  latenciesMs: number[];
}

/** CONCURRENCY workers send the query back to back until the duration or the request cap is reached. */
async function load(url: string, query: string, tokens: string[], seconds: number): Promise<LoadResult> {
  const body = JSON.stringify({ query });
  const latenciesMs: number[] = [];
  let errors = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + seconds * 1_000;
  const worker = async (w: number) => {
    while (performance.now() < deadline && sent < MAX_REQUESTS) {
      sent += 1;
      const t0 = performance.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Bearer ${tokens[(sent + w) % tokens.length]}`,
          },
          body,
        });
        const json = (await response.json()) as { errors?: unknown[] };
        if (!response.ok || json.errors) errors += 1;
      } catch {
        errors += 1;
      }
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, (_, w) => worker(w)));
  return {
    requests: latenciesMs.length,
    errors,
    seconds: (performance.now() - started) / 1_000,
    latenciesMs,
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summarize(result: LoadResult) {
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

/** Peak resident set size of a process so far (VmHWM), in MiB. */
function peakRssMiB(pid: number | undefined): string {
  if (!pid) return 'n/a';
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? (Number(match[1]) / 1024).toFixed(0) : 'n/a';
  } catch {
    return 'n/a';
  }
}

async function main(): Promise<void> {
  const external = process.env.BENCH_GATEWAY_URL;
  const stack =
    external && (await answers(external.replace(/\/graphql$/, '/health'))) ? null : await startStack();
  const gatewayUrl = stack?.gatewayUrl ?? external!;
  try {
    const tokens = await Promise.all(['M0001', 'M0002', 'M0003', 'M0004'].map(token));
    console.log(
      `bench:page — ${CONCURRENCY} concurrent clients, ${DURATION_S} s per query, loopback ${gatewayUrl}`,
    );
    await load(gatewayUrl, HEADLINE, tokens, 2); // warm-up: JIT, connection pools, query plans
    const headline = summarize(await load(gatewayUrl, HEADLINE, tokens, DURATION_S));
    const baseline = summarize(await load(gatewayUrl, BASELINE, tokens, DURATION_S));
    const row = (name: string, s: ReturnType<typeof summarize>) =>
      `${name.padEnd(28)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.requests).padStart(9)} ${String(s.errors).padStart(7)}`;
    console.log(
      `\n${'query'.padEnd(28)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'requests'.padStart(9)} ${'errors'.padStart(7)}`,
    );
    console.log(row('headline page (3 subgraphs)', headline));
    console.log(row('viewer { id } (members)', baseline));
    console.log(
      `${'headline / baseline'.padEnd(28)} ${(headline.rps / baseline.rps).toFixed(2).padStart(8)} ${(headline.p50 / baseline.p50).toFixed(2).padStart(8)} ${(headline.p95 / baseline.p95).toFixed(2).padStart(8)} ${(headline.p99 / baseline.p99).toFixed(2).padStart(8)}`,
    );
    if (stack) {
      console.log(
        `\npeak resident memory (MiB): ${stack.processes.map(({ name, child }) => `${name} ${peakRssMiB(child.pid)}`).join(', ')}`,
      );
    } else {
      console.log('\npeak resident memory: n/a (benchmarked an already running hub)');
    }
  } finally {
    await stack?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
