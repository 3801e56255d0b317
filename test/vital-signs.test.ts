// The hub's vital signs: one OpenTelemetry trace per request across the gateway and the subgraphs it asks, sent to the
// configured OTLP endpoint and bound to the request id, and the hub's own whatever trace context the client sends;
// Prometheus metrics at /metrics on each process that move with the requests; and a gateway in production that keeps
// /metrics off its public port unless told otherwise.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { loadConfig, startConfiguredTracing, type Tracing } from '@bank-hub/shared';
import { buildGateway } from '../gateway/src/server';
import { SUPERGRAPH_PATH, type RunningHub } from '../scripts/hub';
import { bearer, capturingLogger, clientToken, graphql, testConfig, testLogger } from './support/env';
import { startTestHub, stopTestHub } from './support/hub';
import {
  attribute,
  requestSpans,
  spansOfEvery,
  startSpanCollector,
  type SpanCollector,
} from './support/span-collector';

let collector: SpanCollector;
let tracing: Tracing;
let hub: RunningHub;
const log = capturingLogger('hub', 'debug');

const HOME = `query Home { viewer { id page(channel: APP, key: "home") { slots { code items { __typename } } } } }`;

beforeAll(async () => {
  collector = await startSpanCollector();
  tracing = (await startConfiguredTracing(
    { ...testConfig, OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint },
    'hub',
  ))!;
  hub = await startTestHub('vital_signs', { logger: log.logger });
});

afterAll(async () => {
  await stopTestHub(hub);
  await tracing.stop();
  await collector.stop();
});

it('traces a page query as one trace across the gateway and the subgraphs, bound to its request id', async () => {
  const requestId = 'vital-signs-page-0001';
  const response = await graphql(
    hub.gatewayUrl,
    HOME,
    {},
    {
      ...bearer(await clientToken('M0001', 'member')),
      'x-request-id': requestId,
    },
  );
  expect(response.errors).toBeUndefined();
  const components = ['gateway', 'members', 'content', 'products', 'engagement'];
  const spans = await requestSpans(collector, tracing, requestId, spansOfEvery(components));
  const gateway = spans.find((span) => attribute(span, 'hub.component') === 'gateway');
  expect(gateway).toBeDefined();
  const traceId = gateway!.traceId;
  expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
  // Content asks products (and engagement) back through the gateway: those calls join the same trace too.
  expect([...new Set(spans.map((span) => attribute(span, 'hub.component')))]).toEqual(
    expect.arrayContaining(components),
  );
  // The gateway's fetches are spans of the same trace, one per subgraph it asked.
  const fetches = collector.spans.filter(
    (span) => span.traceId === traceId && span.name.startsWith('subgraph '),
  );
  expect([...new Set(fetches.map((span) => attribute(span, 'hub.subgraph')))]).toEqual(
    expect.arrayContaining(['members', 'content', 'products']),
  );
  // Every log line of the request, in every component, carries the trace id.
  const lines = log.lines().filter((line) => line.requestId === requestId);
  expect(lines.length).toBeGreaterThan(0);
  expect(new Set(lines.map((line) => line.traceId))).toEqual(new Set([traceId]));
});

it('starts a trace of its own for a client that sends a traceparent, linked to the client’s, and records it', async () => {
  const requestId = 'vital-signs-client-trace-0001';
  const clientTrace = { traceId: 'c1e47c1e47c1e47c1e47c1e47c1e47c1', spanId: '5a11e5a11e5a11e5' };
  // The client says "not sampled": that is not for a client to decide, either way.
  const response = await graphql(
    hub.gatewayUrl,
    HOME,
    {},
    {
      ...bearer(await clientToken('M0001', 'member')),
      'x-request-id': requestId,
      traceparent: `00-${clientTrace.traceId}-${clientTrace.spanId}-00`,
    },
  );
  expect(response.errors).toBeUndefined();
  const spans = await requestSpans(
    collector,
    tracing,
    requestId,
    spansOfEvery(['gateway', 'members', 'content']),
  );
  const gateway = spans.find((span) => attribute(span, 'hub.component') === 'gateway' && !span.parentSpanId);
  expect(gateway).toBeDefined();
  expect(gateway!.traceId).not.toBe(clientTrace.traceId);
  expect(gateway!.links).toEqual([expect.objectContaining(clientTrace)]);
  // The hub's own calls (and any content makes back through the gateway) continue the gateway's trace.
  expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([gateway!.traceId]));
  expect(spans.map((span) => attribute(span, 'hub.component'))).toEqual(
    expect.arrayContaining(['members', 'content']),
  );
  expect(collector.spans.filter((span) => span.traceId === clientTrace.traceId)).toEqual([]);
});

/** The value of one sample of a metric in Prometheus's text format; 0 when it has not been counted yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const line = text
    .split('\n')
    .find(
      (candidate) =>
        candidate.startsWith(`${name}{`) &&
        Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`)),
    );
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

const metricsOf = async (graphqlUrl: string) => {
  const response = await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'));
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
};

it('counts requests, subgraph fetches and database commands at /metrics on each process', async () => {
  const token = await clientToken('M0001', 'member');
  const before = await metricsOf(hub.gatewayUrl);
  const requests = { component: 'gateway', operation: 'Home', outcome: 'ok' };
  await graphql(hub.gatewayUrl, HOME, {}, bearer(token));
  await graphql(hub.gatewayUrl, HOME, {}, bearer(token));
  const after = await metricsOf(hub.gatewayUrl);
  expect(sample(after, 'hub_graphql_requests_total', requests)).toBe(
    sample(before, 'hub_graphql_requests_total', requests) + 2,
  );
  expect(sample(after, 'hub_graphql_request_duration_seconds_count', requests)).toBeGreaterThanOrEqual(2);
  expect(
    sample(after, 'hub_subgraph_fetch_duration_seconds_count', { subgraph: 'content', outcome: 'ok' }),
  ).toBeGreaterThanOrEqual(2);

  const forbidden = await graphql(
    hub.gatewayUrl,
    `
      query Segments {
        segments {
          code
        }
      }
    `,
    {},
    bearer(token),
  );
  expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const refused = await metricsOf(hub.gatewayUrl);
  expect(sample(refused, 'hub_graphql_requests_total', { operation: 'Segments', outcome: 'error' })).toBe(1);
  expect(sample(refused, 'hub_graphql_errors_total', { code: 'FORBIDDEN' })).toBeGreaterThanOrEqual(1);

  const members = await metricsOf(hub.subgraphs.members.url);
  expect(members).toContain('component="members"');
  expect(
    sample(members, 'hub_db_command_duration_seconds_count', { command: 'find', collection: 'members' }),
  ).toBeGreaterThan(0);
  expect(members).toContain('process_resident_memory_bytes');

  // Messages counts its outbox by state when scraped: what the database holds, not a running tally.
  const outbox = hub.connections.messages.collection('outbox');
  await outbox.insertMany(
    ['PENDING', 'PENDING', 'SENDING', 'DEAD'].map((state, i) => ({ _id: `vital-${i}` as never, state })),
  );
  const messages = await metricsOf(hub.subgraphs.messages.url);
  for (const state of ['PENDING', 'SENDING', 'SENT', 'SKIPPED', 'DEAD'])
    expect(sample(messages, 'hub_outbox_entries', { state })).toBe(await outbox.countDocuments({ state }));
  expect(sample(messages, 'hub_outbox_entries', { state: 'PENDING' })).toBeGreaterThanOrEqual(2);
  await outbox.deleteMany({ _id: { $in: [0, 1, 2, 3].map((i) => `vital-${i}`) as never[] } });
});

describe('the gateway in production', () => {
  const production = (env: Record<string, string>) =>
    loadConfig({
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      JWT_SECRET: 'a-production-secret-of-at-least-32-chars',
      SUBGRAPH_SECRET: 'another-production-secret-32-chars-long',
      MESSAGES_RECEIPT_SECRET: 'a-third-production-secret-32-chars-long',
      FLOW_ATTESTATION_SECRET: 'a-fourth-production-secret-32-chars-long',
      ...env,
    });

  async function metricsStatus(env: Record<string, string>, port = 0): Promise<number> {
    const gateway = await buildGateway({
      config: production(env),
      logger: testLogger,
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    }).listen(port, '127.0.0.1');
    try {
      return (await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).status;
    } finally {
      await gateway.stop();
    }
  }

  it('keeps /metrics off its public port unless configured to serve it there', async () => {
    expect(await metricsStatus({})).toBe(404);
    expect(await metricsStatus({ GATEWAY_PUBLIC_METRICS: 'true' })).toBe(200);
  });

  it('serves /metrics on its private metrics port when one is configured', async () => {
    const free = http.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve));
    const gateway = await buildGateway({
      config: production({ GATEWAY_METRICS_PORT: String(port) }),
      logger: testLogger,
      supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
    }).listen(0, '127.0.0.1');
    try {
      const response = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('hub_graphql_requests_total');
      expect((await fetch(gateway.url.replace(/\/graphql$/, '/metrics'))).status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});
