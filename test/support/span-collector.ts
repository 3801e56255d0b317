// A stand-in OTLP/HTTP collector for tracing tests: it keeps every span it is sent, as the exporter encoded it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tracing } from '@bank-hub/shared';

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: { stringValue?: string } }[];
  links?: { traceId: string; spanId: string }[];
}

export interface SpanCollector {
  /** Its base URL, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  /** Every span received so far. */
  spans: ExportedSpan[];
  stop(): Promise<void>;
}

export async function startSpanCollector(): Promise<SpanCollector> {
  const spans: ExportedSpan[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const batch = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: ExportedSpan[] }[] }[];
      };
      spans.push(
        ...batch.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)),
      );
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The string value of one of a span's attributes. */
export const attribute = (span: ExportedSpan, key: string) =>
  span.attributes.find((candidate) => candidate.key === key)?.value.stringValue;

/**
 * The spans of one request that reached the collector, once `ready` says all are there. A server span ends when its
 * response closes, which can be just after the client read the answer: so this flushes and looks again, for at most
 * `waitMs`, then answers what came (the test's assertions say what is missing).
 */
export async function requestSpans(
  collector: SpanCollector,
  tracing: Tracing,
  requestId: string,
  ready: (spans: ExportedSpan[]) => boolean,
  waitMs = 5_000,
): Promise<ExportedSpan[]> {
  const until = Date.now() + waitMs;
  for (;;) {
    await tracing.flush();
    const spans = collector.spans.filter((span) => attribute(span, 'hub.request_id') === requestId);
    if (ready(spans) || Date.now() > until) return spans;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether every one of these components' server spans is among `spans`. */
export const spansOfEvery =
  (components: string[]) =>
  (spans: ExportedSpan[]): boolean =>
    components.every((component) =>
      spans.some((span) => span.kind === SERVER_SPAN && attribute(span, 'hub.component') === component),
    );

/** OTLP's SPAN_KIND_SERVER. */
const SERVER_SPAN = 2;
