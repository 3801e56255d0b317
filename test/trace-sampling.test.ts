// Who decides whether a request is traced: the gateway, at TRACE_SAMPLE_RATIO, for every client, whatever sampled
// flag the client's traceparent carries (else anyone could have every request recorded and exported); the hub's own
// processes calling each other carry their decision on. Here the ratio is 0, so only a decision carried on records.
import { readFileSync } from 'node:fs';
import { signOnBehalfOf, startConfiguredTracing, type RunningServer, type Tracing } from '@bank-hub/shared';
import { buildGateway } from '../gateway/src/server';
import { SUPERGRAPH_PATH } from '../scripts/hub';
import { graphql, testConfig, testLogger } from './support/env';
import { requestSpans, spansOfEvery, startSpanCollector, type SpanCollector } from './support/span-collector';

let collector: SpanCollector;
let tracing: Tracing;
let gateway: RunningServer;

beforeAll(async () => {
  collector = await startSpanCollector();
  const config = { ...testConfig, OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint, TRACE_SAMPLE_RATIO: 0 };
  tracing = (await startConfiguredTracing(config, 'gateway'))!;
  // `{ __typename }` is answered by the gateway alone: no subgraph needs to run.
  gateway = await buildGateway({
    config,
    logger: testLogger,
    supergraphSdl: readFileSync(SUPERGRAPH_PATH, 'utf8'),
  }).listen(0, '127.0.0.1');
});

afterAll(async () => {
  await gateway.stop();
  await tracing.stop();
  await collector.stop();
});

const SAMPLED = { traceId: '5a3b1ed5a3b1ed5a3b1ed5a3b1ed5a3b', spanId: 'ca11e2ca11e2ca11' };
const sampledTraceparent = `00-${SAMPLED.traceId}-${SAMPLED.spanId}-01`;

/** The spans exported for the request with this id, after every span ended so far was sent. */
const spansOf = (requestId: string) => requestSpans(collector, tracing, requestId, () => true);

/** `{ __typename }` with a sampled traceparent and an on-behalf-of identity of M0001 signed with `secret`. */
const askOnBehalfOf = async (requestId: string, secret: string) =>
  graphql(
    gateway.url,
    '{ __typename }',
    {},
    {
      'x-request-id': requestId,
      traceparent: sampledTraceparent,
      'x-hub-on-behalf-of': await signOnBehalfOf({ subject: 'M0001', scopes: new Set(['member']) }, secret),
    },
  );

it('records nothing of a client request whose traceparent says sampled', async () => {
  const requestId = 'trace-sampling-client-0001';
  const response = await graphql(
    gateway.url,
    '{ __typename }',
    {},
    { 'x-request-id': requestId, traceparent: sampledTraceparent },
  );
  expect(response.data).toEqual({ __typename: 'Query' });
  expect(await spansOf(requestId)).toEqual([]);
});

it('continues the trace of a subgraph calling the graph back, its sampling decision included', async () => {
  const requestId = 'trace-sampling-hub-0001';
  const response = await askOnBehalfOf(requestId, testConfig.SUBGRAPH_SECRET);
  expect(response.data).toEqual({ __typename: 'Query' });
  expect(await requestSpans(collector, tracing, requestId, spansOfEvery(['gateway']))).toEqual([
    expect.objectContaining({ traceId: SAMPLED.traceId, parentSpanId: SAMPLED.spanId }),
  ]);
});

it('records nothing of a client that signs an on-behalf-of identity itself', async () => {
  const requestId = 'trace-sampling-forged-0001';
  const response = await askOnBehalfOf(requestId, 'a-secret-the-client-made-up-of-32-chars');
  expect(response.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  expect(await spansOf(requestId)).toEqual([]);
});
