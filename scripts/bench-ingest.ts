// npm run bench:ingest: events through the collector (POST /collect, as beacons send them: text/plain batches of
// BENCH_BATCH events from many devices) next to the same events written with a raw insertMany into the same database,
// in one run: events/s of each, their ratio, p99 latency of one batch, and each process's peak memory. Loopback only.
// The two take turns, in rounds, and what a round wrote is deleted after it: the in-memory database slows down as it
// fills, which would otherwise favour whichever path runs first.
import { randomUUID } from 'node:crypto';
import { load, peakMemoryLine, startStack, summarize, type LoadResult } from './bench-stack';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 15);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BATCH = Number(process.env.BENCH_BATCH ?? 50);
const MAX_REQUESTS = Number(process.env.BENCH_MAX_REQUESTS ?? 100_000);
const ROUNDS = 3;

/** One batch as the snippet sends it: page views, impressions and clicks of a few creatives. */
function batch(): { deviceId: string; events: Record<string, unknown>[] } {
  const occurredAt = new Date().toISOString();
  return {
    deviceId: `bench-${randomUUID()}`,
    events: Array.from({ length: BATCH }, (_, i) => ({
      id: randomUUID(),
      name: i % 10 === 0 ? 'page_view' : i % 10 === 9 ? 'creative_click' : 'creative_impression',
      occurredAt,
      channel: 'WEB',
      properties:
        i % 10 === 0
          ? { page: '/demo/' }
          : { creativeId: `CR-APP-home-hero-${(i % 4) + 1}`, pageId: 'PG-APP-home' },
    })),
  };
}

async function main(): Promise<void> {
  // Every batch comes from loopback: the collector's own cost is measured here, not its budget per client address.
  process.env.EVENTS_PER_ADDRESS_PER_MINUTE ??= '10000000';
  const stack = await startStack();
  const collectUrl = stack.gateways.gateway!.replace(/\/graphql$/, '/collect');
  const raw = stack.connections.analytics.collection('bench_raw_events');
  const options = { concurrency: CONCURRENCY, seconds: DURATION_S, maxRequests: MAX_REQUESTS };
  try {
    console.log(
      `bench:ingest — ${CONCURRENCY} concurrent senders, batches of ${BATCH}, ${DURATION_S} s each, loopback`,
    );
    const collect = async () => {
      const response = await fetch(collectUrl, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: JSON.stringify(batch()),
      });
      const answer = (await response.json()) as { accepted?: number };
      return response.ok && answer.accepted === BATCH;
    };
    const insertMany = async () => {
      const { deviceId, events } = batch();
      const now = new Date();
      const docs = events.map((event) => ({
        ...event,
        _id: `${deviceId}:${String(event.id)}`,
        deviceId,
        memberId: null,
        occurredAt: now,
        receivedAt: now,
        day: now.toISOString().slice(0, 10),
      }));
      await raw.insertMany(docs as never[], { ordered: false });
      return true;
    };
    const events = stack.connections.analytics.collection('events');
    const cleanUp = () => Promise.all([raw.deleteMany({}), events.deleteMany({ deviceId: /^bench-/ })]);
    await load(collect, { ...options, seconds: 2 }); // warm-up
    await cleanUp();
    const results = { collector: [] as LoadResult[], raw: [] as LoadResult[] };
    const round = { ...options, seconds: DURATION_S / ROUNDS, maxRequests: MAX_REQUESTS / ROUNDS };
    for (let r = 0; r < ROUNDS; r++) {
      results.raw.push(await load(insertMany, round));
      await cleanUp();
      results.collector.push(await load(collect, round));
      await cleanUp();
    }
    const merged = (parts: LoadResult[]): LoadResult => ({
      requests: parts.reduce((sum, part) => sum + part.requests, 0),
      errors: parts.reduce((sum, part) => sum + part.errors, 0),
      seconds: parts.reduce((sum, part) => sum + part.seconds, 0),
      latenciesMs: parts.flatMap((part) => part.latenciesMs),
    });
    const viaCollector = summarize(merged(results.collector));
    const viaInsertMany = summarize(merged(results.raw));
    const row = (name: string, s: ReturnType<typeof summarize>) =>
      `${name.padEnd(24)} ${(s.rps * BATCH).toFixed(0).padStart(10)} ${s.rps.toFixed(0).padStart(10)} ${s.p50.toFixed(1).padStart(8)} ${s.p99.toFixed(1).padStart(8)} ${String(s.requests).padStart(9)} ${String(s.errors).padStart(7)}`;
    console.log(
      `\n${'path'.padEnd(24)} ${'events/s'.padStart(10)} ${'batches/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'batches'.padStart(9)} ${'errors'.padStart(7)}`,
    );
    console.log(row('POST /collect', viaCollector));
    console.log(row('raw insertMany', viaInsertMany));
    console.log(
      `${'collector / raw'.padEnd(24)} ${(viaCollector.rps / viaInsertMany.rps).toFixed(2).padStart(10)}`,
    );
    console.log(`\n${peakMemoryLine(stack)}`);
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
