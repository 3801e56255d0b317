// npm run bench:page: bounded loads of the headline page (the channels' persisted `Home` document) through the
// gateway, next to a single-subgraph baseline (`viewer { id }`): 50 distinct members in turn, sent as text and by
// document id; identical traffic (one member) through a gateway that shares identical in-flight subgraph requests and
// one that does not; and a guest page. For the baseline and the page loads it tells where the time goes, per subgraph,
// from every process's /metrics: the gateway's fetches, the database commands and the time spent there, per request,
// and the CPU of every process; for every load, how much of the machine stayed idle. The loads take turns in rounds
// after a warm-up. Then the peak resident memory of each process.
// Loopback only; every process is started here, on free ports.
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { loadPersistedDocuments } from '../gateway/src/persisted-documents';
import { SUBGRAPH_NAMES } from '../subgraphs/registry';
import {
  config,
  cpuSeconds,
  load,
  machineCpu,
  peakMemoryLine,
  startStack,
  summarize,
  type LoadResult,
  type Stack,
} from './bench-stack';

type Summary = ReturnType<typeof summarize>;

// Longer than the other benchmarks: in 15 s per load (3 rounds) the ratios moved from 0.32 to 0.40 between runs.
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 30);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const MAX_REQUESTS = Number(process.env.BENCH_MAX_REQUESTS ?? 200_000);
const DISTINCT_MEMBERS = 50;
/** Every load shape runs for a quarter of this before anything is measured (JIT, pools, query plans, snapshots). */
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 20);
/** Each load runs BENCH_DURATION_S in all, in this many turns. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 6));

const HOME = loadPersistedDocuments().operations.find((operation) => operation.name === 'Home')!;
const BASELINE = '{ viewer { id } }';

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

/**
 * The clients' keep-alive connections, one per client. undici's request rather than fetch: the load generator shares
 * the cores with the hub, and with fetch's web streams it took about three times the CPU per request (0.33 ms against
 * 0.10 for `viewer { id }`), cores the hub then lacked, which flattered the page's ratio.
 */
const clients = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 4_000 });

/** Sends `body` with each caller's headers in turn (request n as caller n mod count); a response with errors counts as an error. */
function bodyLoad(url: string, body: object, callers: Record<string, string>[], seconds: number) {
  const text = JSON.stringify(body);
  return load(
    async (_worker, sequence) => {
      const response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...callers[sequence % callers.length] },
        body: text,
        dispatcher: clients,
      });
      const json = (await response.body.json()) as { errors?: unknown[] };
      return response.statusCode === 200 && !json.errors;
    },
    { concurrency: CONCURRENCY, seconds, maxRequests: MAX_REQUESTS },
  );
}

/** Sums the samples of a Prometheus metric whose labels include `labels`. */
function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const wanted = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (wanted) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Every process's /metrics, and the CPU seconds of the database server and of this load generator. */
interface Scrape {
  metrics: Record<string, string>;
  databaseCpu: number;
  loadCpu: number;
}

async function scrape(stack: Stack): Promise<Scrape> {
  const metricsOf = (graphqlUrl: string) =>
    fetch(graphqlUrl.replace(/\/graphql$/, '/metrics')).then((r) => r.text());
  const entries = await Promise.all(
    [['gateway', stack.gateways.gateway!], ...Object.entries(stack.subgraphs)].map(
      async ([name, url]) => [name, await metricsOf(url!)] as const,
    ),
  );
  const { user, system } = process.cpuUsage();
  return {
    metrics: Object.fromEntries(entries),
    databaseCpu: cpuSeconds(stack.mongoPid),
    loadCpu: (user + system) / 1e6,
  };
}

/**
 * Per request, by subgraph: the gateway's fetches, the subgraph's database commands, and time spent in each, summed
 * over the stretches (scrapes before and after) a load ran; and the CPU of every process together.
 */
function breakdown(
  stretches: readonly [Scrape, Scrape][],
  pages: number,
): { lines: string[]; cpuMs: number; hubCpuMs: number } {
  const sum = (of: (before: Scrape, after: Scrape) => number) =>
    stretches.reduce((total, [before, after]) => total + of(before, after), 0);
  const delta = (process: string, name: string, labels: Record<string, string> = {}) =>
    sum(
      (before, after) =>
        sampleSum(after.metrics[process]!, name, labels) - sampleSum(before.metrics[process]!, name, labels),
    );
  const cell = (value: number) => value.toFixed(2).padStart(10);
  const perPage = (value: number) => cell(value / pages);
  const lines = [
    `  ${'per request'.padEnd(12)} ${'fetches'.padStart(10)} ${'fetch ms'.padStart(10)} ${'served ms'.padStart(10)} ${'db cmds'.padStart(10)} ${'db ms'.padStart(10)} ${'cpu ms'.padStart(10)}`,
  ];
  const cpuMs = (process: string) => (delta(process, 'process_cpu_seconds_total') * 1_000) / pages;
  const cpu = (process: string) => cell(cpuMs(process));
  lines.push(
    `  ${'gateway'.padEnd(12)} ${perPage(delta('gateway', 'hub_graphql_requests_total'))} ${''.padStart(10)} ${perPage(delta('gateway', 'hub_graphql_request_duration_seconds_sum') * 1_000)} ${''.padStart(21)} ${cpu('gateway')}`,
  );
  for (const name of SUBGRAPH_NAMES) {
    lines.push(
      `  ${name.padEnd(12)} ${perPage(delta('gateway', 'hub_subgraph_fetch_duration_seconds_count', { subgraph: name }))} ${perPage(delta('gateway', 'hub_subgraph_fetch_duration_seconds_sum', { subgraph: name }) * 1_000)} ${perPage(delta(name, 'hub_graphql_request_duration_seconds_sum') * 1_000)} ${perPage(delta(name, 'hub_db_command_duration_seconds_count'))} ${perPage(delta(name, 'hub_db_command_duration_seconds_sum') * 1_000)} ${cpu(name)}`,
    );
  }
  const processCpuMs = (who: 'databaseCpu' | 'loadCpu') =>
    (sum((before, after) => after[who] - before[who]) * 1_000) / pages;
  lines.push(`  ${'database'.padEnd(12)} ${''.padStart(54)} ${cell(processCpuMs('databaseCpu'))}`);
  lines.push(`  ${'load'.padEnd(12)} ${''.padStart(54)} ${cell(processCpuMs('loadCpu'))}`);
  const hub =
    cpuMs('gateway') + SUBGRAPH_NAMES.reduce((ms, name) => ms + cpuMs(name), 0) + processCpuMs('databaseCpu');
  const total = hub + processCpuMs('loadCpu');
  lines.push(`  ${'all'.padEnd(12)} ${''.padStart(54)} ${cell(total)}`);
  return { lines, cpuMs: total, hubCpuMs: hub };
}

async function main(): Promise<void> {
  const stack = await startStack({ 'gateway without dedupe': { SUBGRAPH_DEDUPE: 'false' } });
  const gatewayUrl = stack.gateways.gateway!;
  try {
    const members = await Promise.all(
      Array.from({ length: DISTINCT_MEMBERS }, (_, i) => token(`M${String(i + 1).padStart(4, '0')}`)),
    );
    const distinct = members.map((member) => ({ authorization: `Bearer ${member}` }));
    const guests = Array.from({ length: DISTINCT_MEMBERS }, (_, i) => ({
      'x-device-id': `bench-device-${i}`,
    }));
    console.log(
      `bench:page — ${CONCURRENCY} concurrent clients, ${DURATION_S} s per load, loopback ${gatewayUrl}\n` +
        `headline page: the persisted document ${HOME.name} (${HOME.id.slice(0, 12)}…)`,
    );
    // Eight processes share two cores, so each one's JIT takes tens of seconds of load to settle: without this, the
    // loads measured first ran slower only for coming first.
    for (const [body, callers] of [
      [{ query: HOME.body }, distinct],
      [{ documentId: HOME.id }, distinct],
      [{ query: BASELINE }, distinct],
      [{ documentId: HOME.id }, guests],
    ] as const)
      await bodyLoad(gatewayUrl, body, callers, WARMUP_S / 4);

    const WIDTH = 40;
    interface Load {
      name: string;
      url: string;
      body: object;
      callers: Record<string, string>[];
      explain: boolean;
      results: LoadResult[];
      stretches: [Scrape, Scrape][];
      /** The machine's CPU ticks while this load ran: idle, and in all. */
      machine: { idle: number; total: number };
    }
    const planned = (
      name: string,
      url: string,
      body: object,
      callers: Record<string, string>[],
      explain: boolean,
    ): Load => ({
      name,
      url,
      body,
      callers,
      explain,
      results: [],
      stretches: [],
      machine: { idle: 0, total: 0 },
    });
    const loads = [
      planned('viewer { id } (50 members)', gatewayUrl, { query: BASELINE }, distinct, true),
      planned('headline, 50 members, text', gatewayUrl, { query: HOME.body }, distinct, true),
      planned(
        'headline, 50 members, document id',
        gatewayUrl,
        { documentId: `sha256:${HOME.id}` },
        distinct,
        false,
      ),
      planned(
        'headline, one member, dedupe',
        gatewayUrl,
        { documentId: HOME.id },
        distinct.slice(0, 1),
        true,
      ),
      planned(
        'headline, one member, no dedupe',
        stack.gateways['gateway without dedupe']!,
        { documentId: HOME.id },
        distinct.slice(0, 1),
        false,
      ),
      planned('guest page (50 devices)', gatewayUrl, { documentId: HOME.id }, guests, true),
    ];
    // The loads take turns in rounds, so that the machine's pace drifting over minutes (shared virtual cores) weighs
    // on each of them alike and the ratios compare like with like.
    for (let round = 0; round < ROUNDS; round += 1)
      for (const load of loads) {
        const before = load.explain ? await scrape(stack) : null;
        const machine = machineCpu();
        load.results.push(await bodyLoad(load.url, load.body, load.callers, DURATION_S / ROUNDS));
        const machineAfter = machineCpu();
        load.machine.idle += machineAfter.idle - machine.idle;
        load.machine.total += machineAfter.total - machine.total;
        if (before) load.stretches.push([before, await scrape(stack)]);
      }
    const results = loads.map((load) => {
      const merged = summarize({
        requests: load.results.reduce((n, result) => n + result.requests, 0),
        errors: load.results.reduce((n, result) => n + result.errors, 0),
        seconds: load.results.reduce((n, result) => n + result.seconds, 0),
        latenciesMs: load.results.flatMap((result) => result.latenciesMs),
      });
      const idle = (100 * load.machine.idle) / load.machine.total;
      return [
        load.name,
        merged,
        load.explain ? breakdown(load.stretches, merged.requests) : null,
        Number.isFinite(idle) ? idle.toFixed(0) : 'n/a',
      ] as const;
    });
    const [baseline, text, byId, shared, plain] = results.map(([, result]) => result) as [
      Summary,
      Summary,
      Summary,
      Summary,
      Summary,
    ];

    const row = (name: string, s: Summary, idle: string) =>
      `${name.padEnd(WIDTH)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.requests).padStart(9)} ${String(s.errors).padStart(7)} ${idle.padStart(7)}`;
    const ratio = (name: string, a: Summary, b: Summary) =>
      `${name.padEnd(WIDTH)} ${(a.rps / b.rps).toFixed(2).padStart(8)} ${(a.p50 / b.p50).toFixed(2).padStart(8)} ${(a.p95 / b.p95).toFixed(2).padStart(8)} ${(a.p99 / b.p99).toFixed(2).padStart(8)}`;
    console.log(
      `\n${'load'.padEnd(WIDTH)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'requests'.padStart(9)} ${'errors'.padStart(7)} ${'idle %'.padStart(7)}`,
    );
    for (const [name, result, , idle] of results) console.log(row(name, result, idle));
    console.log(ratio('headline (text) / viewer { id }', text, baseline));
    console.log(ratio('headline (document id) / viewer { id }', byId, baseline));
    console.log(ratio('document id / text', byId, text));
    console.log(ratio('one member: dedupe / no dedupe', shared, plain));

    console.log(
      '\nWhere a request goes, per request (the baseline and the page loads): fetches the gateway made (content ' +
        'asks products, analytics and engagement in one graph request of its own, counted as a second gateway ' +
        'request), their time as the gateway saw it, the time each process spent serving its requests, each ' +
        "subgraph's database commands and their time, and the CPU time each process used.",
    );
    for (const [name, , explained] of results)
      if (explained) console.log(`\n${name}\n${explained.lines.join('\n')}`);
    // Throughput follows the inverse of the CPU a request takes while the machine has no idle time (idle % above). The
    // load generator shares the cores and costs about the same per request whatever the answer, which flatters the
    // page's ratio: the hub's own processes say what a page costs the hub.
    const cpuRatio = (index: number, of: 'cpuMs' | 'hubCpuMs') =>
      (results[index]![2]![of] / results[0]![2]![of]).toFixed(2);
    console.log(
      `\nCPU per request against viewer { id }: headline (text) ${cpuRatio(1, 'cpuMs')}× with the load generator, ` +
        `${cpuRatio(1, 'hubCpuMs')}× in the hub's processes alone; guest page ${cpuRatio(5, 'cpuMs')}× and ` +
        `${cpuRatio(5, 'hubCpuMs')}×.`,
    );
    console.log(`\n${peakMemoryLine(stack)}`);
  } finally {
    await clients.close();
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
