// npm run bench:page: a bounded load of the headline page query through the gateway, next to a single-subgraph
// baseline (`viewer { id }`), and identical traffic through a gateway that shares identical in-flight subgraph requests
// and one that does not; with the peak resident memory of the gateways and each subgraph. Loopback only.
// When nothing answers at BENCH_GATEWAY_URL it starts MongoDB, seeds it and runs every subgraph and the gateways as
// their own processes on free ports, so the memory figures are per process.
import { SignJWT } from 'jose';
import { answers, config, load, peakMemoryLine, startStack, summarize, type Stack } from './bench-stack';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const MAX_REQUESTS = Number(process.env.BENCH_MAX_REQUESTS ?? 200_000);

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

/** Sends `query` with the tokens in turn; a response with errors counts as an error. */
function queryLoad(url: string, query: string, tokens: string[], seconds: number) {
  const body = JSON.stringify({ query });
  return load(
    async (worker, sequence) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${tokens[(sequence + worker) % tokens.length]}`,
        },
        body,
      });
      const json = (await response.json()) as { errors?: unknown[] };
      return response.ok && !json.errors;
    },
    { concurrency: CONCURRENCY, seconds, maxRequests: MAX_REQUESTS },
  );
}

async function main(): Promise<void> {
  const external = process.env.BENCH_GATEWAY_URL;
  const stack: Stack | null =
    external && (await answers(external.replace(/\/graphql$/, '/health')))
      ? null
      : await startStack({ 'gateway without dedupe': { SUBGRAPH_DEDUPE: 'false' } });
  const gatewayUrl = stack?.gateways.gateway ?? external!;
  try {
    const tokens = await Promise.all(['M0001', 'M0002', 'M0003', 'M0004'].map(token));
    console.log(
      `bench:page — ${CONCURRENCY} concurrent clients, ${DURATION_S} s per query, loopback ${gatewayUrl}`,
    );
    await queryLoad(gatewayUrl, HEADLINE, tokens, 2); // warm-up: JIT, connection pools, query plans
    const headline = summarize(await queryLoad(gatewayUrl, HEADLINE, tokens, DURATION_S));
    const baseline = summarize(await queryLoad(gatewayUrl, BASELINE, tokens, DURATION_S));
    // Identical traffic (one member): what sharing identical subgraph requests in flight saves.
    const identical = stack && {
      shared: summarize(await queryLoad(gatewayUrl, HEADLINE, tokens.slice(0, 1), DURATION_S)),
      plain: summarize(
        await queryLoad(stack.gateways['gateway without dedupe']!, HEADLINE, tokens.slice(0, 1), DURATION_S),
      ),
    };
    const WIDTH = 34;
    const row = (name: string, s: ReturnType<typeof summarize>) =>
      `${name.padEnd(WIDTH)} ${s.rps.toFixed(0).padStart(8)} ${s.p50.toFixed(1).padStart(8)} ${s.p95.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.requests).padStart(9)} ${String(s.errors).padStart(7)}`;
    const ratio = (name: string, a: ReturnType<typeof summarize>, b: ReturnType<typeof summarize>) =>
      `${name.padEnd(WIDTH)} ${(a.rps / b.rps).toFixed(2).padStart(8)} ${(a.p50 / b.p50).toFixed(2).padStart(8)} ${(a.p95 / b.p95).toFixed(2).padStart(8)} ${(a.p99 / b.p99).toFixed(2).padStart(8)}`;
    console.log(
      `\n${'query'.padEnd(WIDTH)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'requests'.padStart(9)} ${'errors'.padStart(7)}`,
    );
    console.log(row('headline page (4 members in turn)', headline));
    console.log(row('viewer { id } (members)', baseline));
    console.log(ratio('headline / baseline', headline, baseline));
    if (identical) {
      console.log(row('headline, one member, dedupe', identical.shared));
      console.log(row('headline, one member, no dedupe', identical.plain));
      console.log(ratio('dedupe / no dedupe', identical.shared, identical.plain));
    }
    console.log(
      stack
        ? `\n${peakMemoryLine(stack)}`
        : '\npeak resident memory: n/a (benchmarked an already running hub)',
    );
  } finally {
    await stack?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
